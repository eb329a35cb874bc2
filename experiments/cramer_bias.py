r"""Bellemare et al. 2017, Section 3: sample Wasserstein gradients are biased, the Cramér distance's are not.

P = Bernoulli(p), Q_θ = Bernoulli(θ). Each step sees m samples of P, their empirical P̂_m (p̂ the
share of ones), and Q_θ exactly; both CDFs are constant on the one gap [0, 1) between the atoms,
so (gdiv.divergences.transport.cdf_distance)

  sample Wasserstein   W1(P̂_m, Q_θ)  = |θ − p̂|     E minimised at a median of p̂ ~ Binomial(m, p)/m
  sample Cramér        ℓ2²(P̂_m, Q_θ) = (θ − p̂)²    E minimised at E p̂ = p.

The exact fixed points come from E_p̂ of each loss on a grid of θ (0.0001 apart, the binomial
weights exact); the learned ones from projected SGD on θ ∈ [0, 1] (θ₀ = ½, step 0.01, one fresh
batch of m per step, 4,000 steps, the uniform average of the last half: the iterate average of
gdiv.training.averaged), seeds 0..N−1, mean ± standard error. This example has its own small
trainer: Q_θ is discrete (gdiv's one step trains implicit models through reparameterised samples,
which a Bernoulli has not) and the loss reads Q_θ's CDF, not a batch of it.

  python -m experiments.cramer_bias --workdir=/tmp/cramer_bias
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
from absl import app, flags
from scipy.stats import binom

from gdiv import cli
from gdiv.divergences.transport import cdf_distance
from gdiv.workdir import Workdir

FLAGS = flags.FLAGS
LOSSES = {"wasserstein": 1, "cramer": 2}  # the power of |F − G| in the loss
STEP, STEPS, THETA_GRID = 0.01, 4000, 10_001

# The smallest run and flags it must refuse, with the words the error must contain (tests/test_experiments.py).
SMOKE_FLAGS = ("--batch_sizes=1,10", "--seeds=2", "--workdir={workdir}")
BAD_FLAGS = (
    ("--p=1.5", "1.5 is not a number in the range [0.0, 1.0]"),
    ("--batch_sizes=1,0", "--batch_sizes must be a comma list of integers > 0"),
    ("--seeds=1", "1 is not integer >= 2"),
)


def batch_loss(theta: jax.Array, ones: jax.Array, m: int, power: int) -> jax.Array:
  """The loss between P̂_m (with `ones` ones of m) and Q_θ: F on [0, 1) is 1 − p̂ and 1 − θ."""
  return cdf_distance(jnp.atleast_1d(1 - ones / m), jnp.atleast_1d(1 - theta), jnp.ones(1), power)


def exact_fixed_point(p: float, m: int, power: int) -> float:
  """argmin_θ E_p̂ loss(θ, p̂) on a grid of θ in [0, 1] (the middle of the minimisers if several)."""
  theta = np.linspace(0.0, 1.0, THETA_GRID)
  k = np.arange(m + 1)
  expected = binom.pmf(k, m, p) @ np.abs(theta[None, :] - k[:, None] / m) ** power
  best = np.flatnonzero(expected <= expected.min() + 1e-12)
  return float(theta[best].mean())


def learned_fixed_point(p: float, m: int, power: int, seed: int) -> float:
  """Projected SGD on θ with fresh batches of m, the average of the last half of the iterates."""
  grad = jax.grad(lambda theta, ones: batch_loss(theta, ones, m, power))

  def step(theta, key):
    ones = jnp.sum(jax.random.bernoulli(key, p, (m,)))
    theta = jnp.clip(theta - STEP * grad(theta, ones), 0.0, 1.0)
    return theta, theta

  _, path = jax.lax.scan(step, jnp.asarray(0.5), jax.random.split(jax.random.key(seed), STEPS))
  return float(jnp.mean(path[STEPS // 2:]))


def results(p: float, batch_sizes, seeds: int) -> list[dict]:
  rows = []
  for loss, power in LOSSES.items():
    for m in batch_sizes:
      learned = np.asarray([learned_fixed_point(p, m, power, s) for s in range(seeds)])
      rows.append({"loss": loss, "m": m, "exact": exact_fixed_point(p, m, power), "learned": learned.mean(),
                   "learned_se": learned.std(ddof=1) / math.sqrt(seeds), "runs": learned.tolist()})
  return rows


def table(rows: list[dict], p: float, seeds: int) -> str:
  lines = [f"# Bellemare et al. 2017: the fixed point of each sample loss, P = Bernoulli({p:g})", "",
           f"Projected SGD on θ, step {STEP}, {STEPS} steps, the average of the last half; seeds 0..{seeds - 1} "
           "(mean ± s.e.). Exact: argmin_θ of the loss's expectation over p̂ ~ Binomial(m, p)/m.", "",
           "| sample loss | m | exact fixed point | learned θ | p |", "|---|---|---|---|---|"]
  lines += [f"| {r['loss']} | {r['m']} | {r['exact']:.4f} | {r['learned']:.4f} ± {r['learned_se']:.4f} | {p:g} |"
            for r in rows]
  return "\n".join(lines) + "\n"


def plot(path, rows: list[dict], p: float) -> None:
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  fig, ax = plt.subplots(figsize=(5.5, 3.5))
  for loss, marker in zip(LOSSES, "os"):
    mine = [r for r in rows if r["loss"] == loss]
    ax.plot([r["m"] for r in mine], [r["exact"] for r in mine], "-", marker=marker, label=f"{loss}: exact")
    ax.errorbar([r["m"] for r in mine], [r["learned"] for r in mine], [2 * r["learned_se"] for r in mine],
                fmt="none", capsize=3, color="k", label="learned (± 2 s.e.)" if loss == "cramer" else None)
  ax.axhline(p, color="0.5", ls=":", label="p")
  ax.set(xscale="log", xlabel="samples of P per step (m)", ylabel="fixed point θ")
  ax.legend(fontsize=7)
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  plt.close(fig)


def define_flags():
  flags.DEFINE_float("p", 0.6, "P = Bernoulli(p); any p ≠ ½ shows the bias.", lower_bound=0.0, upper_bound=1.0)
  flags.DEFINE_list("batch_sizes", ["1", "2", "4", "10", "100"], "Samples of P per step (m).")
  flags.DEFINE_integer("seeds", 5, "Seeds 0..N−1 per cell.", lower_bound=2)
  flags.DEFINE_string("workdir", "runs/cramer_bias", "Output directory.")
  cli.require_positive_list("batch_sizes", int)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
  batch_sizes = [int(m) for m in FLAGS.batch_sizes]
  rows = results(FLAGS.p, batch_sizes, FLAGS.seeds)
  workdir = Workdir(FLAGS.workdir)
  workdir.write_config({"p": FLAGS.p, "batch_sizes": batch_sizes, "seeds": FLAGS.seeds})
  plot(workdir.path / "fixed_points.png", rows, FLAGS.p)
  workdir.write_results(rows, table(rows, FLAGS.p, FLAGS.seeds))


if __name__ == "__main__":
  cli.run(define_flags, main)
