r"""The pairing matrix: every registered model family against every registered divergence.

  python -m experiments.pairings --workdir=runs/pairings

Each pair trains for --steps steps: vector families on the 2-D ring (radius 1,
std 0.05) against an MLP 2×64 critic with Adam 1e-3, image families
(conv_generator) on scikit-learn's 8×8 digits against a ConvCritic with
DCGAN's Adam (2e-4, β1 0.5), wherever the divergence has a critic. A pair that
fails numerically is reported as "failed" ("!"), never hidden. A pair is "unsupported" only where it is impossible in
principle, and then the reason is the error the trainer gives before
compiling (maximum likelihood, or the hybrid objective, needs log q(x), which
an implicit generator does not have); every other pair must train with finite
losses. Writes results.json as {model: {divergence: {"status": "ok",
"loss_start", "loss_end"} | {"status": "unsupported", "reason"}}} and
results.md as a ✓/✗ table with the reasons.

Expected: all cells ✓ except mle and hybrid on the implicit mlp_generator and
conv_generator (about 4 minutes on a 2-core CPU).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax
from absl import flags

from experiments import common
from gdiv import divergences, models, training
from gdiv.data import DIGITS_SHAPE, load_digits_split, ring
from gdiv.models import ConvCritic, MLPCritic
from gdiv.workdir import Workdir

FLAGS = flags.FLAGS
BATCH_SIZE = 256
LOSS_WINDOW = 10  # steps averaged for loss_start and loss_end
IMAGE_FAMILIES = ("conv_generator",)  # trained on 8×8 digits, flattened to 64 pixels


def _problem(model_name: str):
  """(model, critic factory, sample_batch, optimizer) for a family: the 2-D ring, or digits for
  image families (with DCGAN's Adam, lr 2e-4 and β1 0.5)."""
  if model_name in IMAGE_FAMILIES:
    images = jnp.asarray(load_digits_split()[0][0])
    return (models.get(model_name)(dim=images.shape[1], image_shape=DIGITS_SHAPE),
            lambda: ConvCritic(DIGITS_SHAPE),
            lambda key: images[jax.random.randint(key, (BATCH_SIZE,), 0, images.shape[0])],
            lambda: optax.adam(2e-4, b1=0.5))
  data = ring(std=0.05)
  return (models.get(model_name)(dim=2), lambda: MLPCritic((64, 64)),
          lambda key: data.sample(key, BATCH_SIZE), lambda: optax.adam(1e-3))


def define_flags():
  """Define the command-line flags (only when run as a program, so tests can import this module)."""
  flags.DEFINE_list("models", ["all"], "Model families (gdiv.models.names()), or 'all'.")
  flags.DEFINE_list("divergences", ["all"], "Divergences (gdiv.divergences.names()), or 'all'.")
  flags.DEFINE_integer("steps", 300, "Training steps per pair.", lower_bound=2 * LOSS_WINDOW)
  flags.DEFINE_integer("seed", 0, "PRNG seed.")
  flags.DEFINE_string("workdir", "runs/pairings", "Output directory.")


def _expand(requested, known) -> list[str]:
  return list(known) if list(requested) == ["all"] else list(requested)


def pair_result(model_name: str, divergence_name: str, steps: int, seed: int = 0) -> dict:
  """Train one pair briefly; {"status": "ok", ...} or {"status": "unsupported", "reason": ...}."""
  model, make_critic, sample_batch, optimizer = _problem(model_name)
  divergence = divergences.get(divergence_name)
  critic = make_critic() if divergence.needs_critic else None
  try:
    training.check_pairing(model, divergence, critic)
  except ValueError as e:  # impossible in principle: say why, train nothing
    return {"status": "unsupported", "reason": str(e)}
  trainer = training.make_trainer(model, divergence, model_optimizer=optimizer(), critic=critic,
                                  critic_optimizer=optimizer() if critic is not None else None)
  state = trainer.init(jax.random.key(seed), jnp.zeros((BATCH_SIZE, model.dim)))
  run = jax.jit(training.make_train_loop(trainer.step, sample_batch, steps))
  _, metrics = run(state)
  metrics = jax.device_get(metrics)
  try:
    training.check_finite(metrics, divergence_name, 0)
  except FloatingPointError as e:  # possible in principle, but it failed: report, never hide
    return {"status": "failed", "reason": str(e)}
  loss = np.asarray(metrics["model_loss"], np.float64)
  return {"status": "ok", "loss_start": float(loss[:LOSS_WINDOW].mean()),
          "loss_end": float(loss[-LOSS_WINDOW:].mean())}


def results_table(results: dict, steps: int) -> str:
  divs = sorted({d for row in results.values() for d in row})
  lines = [f"# Pairing matrix: model families × divergences ({steps} steps; vector families on the "
           "2-D ring, image families on 8×8 digits)", "",
           "| model | " + " | ".join(divs) + " |", "|---|" + "---|" * len(divs)]
  reasons = []
  for model_name, row in results.items():
    cells = []
    for d in divs:
      if row[d]["status"] == "ok":
        cells.append("✓")
      else:
        reasons.append(f"- {model_name} × {d} ({row[d]['status']}): {row[d]['reason']}")
        cells.append(f"{'✗' if row[d]['status'] == 'unsupported' else '!'} ({len(reasons)})")
    lines.append(f"| {model_name} | " + " | ".join(cells) + " |")
  lines += ["", "✓: trained with finite losses. ✗: impossible in principle; !: possible but training "
            "failed. The reasons:", ""]
  return "\n".join(lines + reasons) + "\n"


def main(argv):
  del argv
  model_names = _expand(FLAGS.models, models.names())
  divergence_names = _expand(FLAGS.divergences, divergences.names())
  for name in model_names:
    models.get(name)  # unknown names fail here, listing the known ones
  for name in divergence_names:
    divergences.get(name)
  workdir = Workdir(FLAGS.workdir)
  workdir.write_json("config.json", {"models": model_names, "divergences": divergence_names,
                                     "steps": FLAGS.steps, "seed": FLAGS.seed,
                                     "batch_size": BATCH_SIZE, "data": {
                                         "vector families": "ring(radius=1, std=0.05)",
                                         "image families": "scikit-learn digits 8×8 (train split)"}})
  results = {}
  for model_name in model_names:
    results[model_name] = {}
    for divergence_name in divergence_names:
      result = pair_result(model_name, divergence_name, FLAGS.steps, FLAGS.seed)
      results[model_name][divergence_name] = result
      workdir.log_metrics({"model": model_name, "divergence": divergence_name, **result})
  workdir.write_results(results, results_table(results, FLAGS.steps))


if __name__ == "__main__":
  common.run(define_flags, main)
