r"""Where the f-GAN terms blow up on separated modes: every f-divergence's optimal critic, measured.

  python -m experiments.critic_terms --workdir=/tmp/critic_terms

P = ½N(−3, 0.3²) + ½N(3, 0.3²) against a covering model Q = N(0, 1). For each registered
f-divergence the optimal raw critic v* = g_f⁻¹(f'(p/q)) (by bisection, float64) is evaluated on
--samples points from each, and the table gives its range on P and on Q and the largest value
of each term training touches: g_f(v*) on the data side, f*(g_f(v*)) on the model side, the
non-saturating generator loss −g_f(v*) on Q, and Roth et al.'s weight w(v*) = g_f'² f*''(g_f).
Expected (docs/stabilisers.md): reverse_kl's non-saturating loss
reaches 1.6e21, neyman's 2.4e42, squared_hellinger's 3.9e10; pearson's model side 5.5e4;
js and gan stay below 50; total_variation's v* sits at the bisection's ends (±∞).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from absl import flags

from gdiv import cli, divergences
from gdiv.data import GaussianMixture
from gdiv.divergences.checks import inverse_activation
from gdiv.workdir import Workdir

FLAGS = flags.FLAGS

SMOKE_FLAGS = ("--samples=1000", "--workdir={workdir}")
BAD_FLAGS = (("--samples=0", "--samples"),)

P = GaussianMixture.create([0.5, 0.5], [-3.0, 3.0], [0.3, 0.3])
Q = GaussianMixture.create([1.0], [0.0], [1.0])
COLUMNS = ("v* on P", "v* on Q", "max ∣g_f(v*)∣ on P", "max f*(g_f(v*)) on Q", "max NS loss on Q",
           "max w(v*) on Q")


def define_flags():
  flags.DEFINE_integer("samples", 100_000, "Points drawn from P and from Q.", lower_bound=1)
  flags.DEFINE_string("workdir", None, "Where results.json and results.md go.")
  flags.mark_flag_as_required("workdir")


def terms(divergence, x_p, x_q) -> dict:
  """The optimal critic's range on P and Q and the largest value of each term (float64)."""
  f_prime = jax.vmap(jax.grad(divergence.f))
  v_star = lambda x: inverse_activation(divergence, f_prime(jnp.exp(jnp.clip(P.log_prob(x) - Q.log_prob(x),
                                                                             -700, 700))))
  v_p, v_q = v_star(x_p), v_star(x_q)
  values = (jnp.abs(divergence.activation(v_p)), divergence.conjugate_activation(v_q),
            -divergence.activation(v_q), divergence.regulariser_weight(v_q))
  return {COLUMNS[0]: [float(v_p.min()), float(v_p.max())], COLUMNS[1]: [float(v_q.min()), float(v_q.max())],
          **{name: float(jnp.max(v)) for name, v in zip(COLUMNS[2:], values)}}


def main(argv):
  del argv
  with jax.enable_x64(True):
    x_p = P.sample(jax.random.key(0), FLAGS.samples).astype(jnp.float64)
    x_q = Q.sample(jax.random.key(1), FLAGS.samples).astype(jnp.float64)
    rows = {name: terms(divergences.get(name), x_p, x_q) for name in divergences.names()
            if isinstance(divergences.get(name), divergences.FDivergence)}
  cell = lambda v: f"[{v[0]:.3g}, {v[1]:.3g}]" if isinstance(v, list) else f"{v:.3g}"
  table = "\n".join([f"| divergence | {' | '.join(COLUMNS)} |", "|---" * (len(COLUMNS) + 1) + "|",
                     *[f"| `{name}` | {' | '.join(cell(row[c]) for c in COLUMNS)} |" for name, row in rows.items()],
                     "", f"P = ½N(−3, 0.3²) + ½N(3, 0.3²), Q = N(0, 1), {FLAGS.samples} points from each; "
                     "v* = g_f⁻¹(f'(p/q)) by bisection on [−10⁴, 10⁴]; NS loss = −g_f(v*)."])
  Workdir(FLAGS.workdir).write_results(rows, table + "\n")


if __name__ == "__main__":
  cli.run(define_flags, main)
