r"""The quality matrix: every registered model family trained with every registered divergence.

  python -m experiments.sweep --config=experiments/configs/quality_matrix.py \
      --workdir=runs/quality_matrix

Each possible pair is one point of a study (gdiv.study), its seeds one vmapped
program, all under one budget: vector families on the 2-D ring (8 modes,
radius 1, std 0.05) against an MLP 2×64 critic, both with Adam (config
`learning_rate`, `beta1`); image families (conv_generator) on scikit-learn's
8×8 digits against a ConvCritic, with DCGAN's Adam (`image_learning_rate`,
`image_beta1`). Every run is scored twice, at initialisation and after
training, on held-out data: MMD² (unbiased, Gaussian kernels with bandwidths
fixed per dataset by the median heuristic on held-out data), modes and
high-quality % on the ring (3σ rule), and the test NLL for explicit families.
A pair is impossible only in principle (maximum likelihood, or the hybrid
objective, needs log q(x), which an implicit generator lacks): such pairs are
not trained, and results.md lists them with the trainer's reason. The matrix
in results.md marks cells whose trained MMD² is not below the untrained one.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np

from gdiv import divergences, models, study, training
from gdiv.data import load_digits, ring
from gdiv.evaluation import median_bandwidths, mmd2, mode_metrics, nll
from gdiv.pairings import is_image_family, make_critic, make_model, unsupported_reason
from gdiv.runner import check_schedule

HELD_OUT_KEY = 2**20  # the ring's held-out draw: a key no training seed uses
RING = dict(radius=1.0, std=0.05)


def validate(config: ml_collections.ConfigDict) -> None:
  """Raise ValueError naming the field and the fix, before anything is built or compiled."""
  models.get(config.model)  # unknown names list the known ones
  divergences.get(config.divergence)
  reason = unsupported_reason(config.model, config.divergence)
  if reason is not None:
    raise ValueError(f"config.model={config.model!r} with config.divergence={config.divergence!r} "
                     f"is impossible: {reason}")
  for field in ("learning_rate", "image_learning_rate"):
    if not config[field] > 0:
      raise ValueError(f"config.{field} must be > 0; got {config[field]}.")
  for field in ("beta1", "image_beta1", "beta2"):
    if not 0 <= config[field] < 1:
      raise ValueError(f"config.{field} must be in [0, 1); got {config[field]}.")
  for field in ("batch_size", "eval_samples"):
    if not isinstance(config[field], int) or config[field] < 1:
      raise ValueError(f"config.{field} must be a positive integer; got {config[field]!r}.")
  check_schedule(config.steps, config.log_every, config.checkpoint_every)


IMAGE_ADAM = ("learning_rate", "beta1")  # an image family's own: image_learning_rate, image_beta1


def recipe_values(config) -> dict:
  """The divergence's recipe (config.use_recipe); an image family's Adam β1 is `image_beta1`."""
  image = is_image_family(config.model)
  return {(f"image_{k}" if image and k in IMAGE_ADAM else k): v for k, v in training.recipe_fields(config).items()}


def make_trainer(config) -> training.Trainer:
  """Adam for both players: an image family's step and β1 are `image_learning_rate`, `image_beta1`."""
  image = {field: config[f"image_{field}"] for field in IMAGE_ADAM} if is_image_family(config.model) else {}
  return training.trainer_from_config(config, make_model(config), make_critic(config), hparams=image)


@functools.cache
def _digits() -> tuple[np.ndarray, np.ndarray]:
  """(training images, test images): no model selection here, so validation images train too."""
  digits = load_digits()
  return np.concatenate([digits.validation.x, digits.train.x]), digits.test.x


def data(config):
  """(sample_batch(key) -> a training batch, example batch): ring draws, or digits' train split."""
  if is_image_family(config.model):
    images = jnp.asarray(_digits()[0])
    sample = lambda key: images[jax.random.randint(key, (config.batch_size,), 0, images.shape[0])]
  else:
    mixture = ring(**RING)
    sample = lambda key: mixture.sample(key, config.batch_size)
  return sample, jnp.zeros((config.batch_size, make_model(config).dim), jnp.float32)


def held_out(config) -> np.ndarray:
  """Data no run trains on: digits' test split, or a fixed draw of eval_samples ring points."""
  return _digits()[1] if is_image_family(config.model) else _ring_held_out(config.eval_samples)


@functools.cache
def _ring_held_out(n: int) -> np.ndarray:
  return np.asarray(ring(**RING).sample(jax.random.key(HELD_OUT_KEY), n))


def scores(config, model: models.Model, trainer: training.Trainer, state: training.TrainState,
           test: np.ndarray, bandwidths: np.ndarray) -> tuple[dict, np.ndarray]:
  """MMD² to `test`, ring mode metrics, test NLL (explicit families) of one state; and its samples."""
  samples = np.asarray(trainer.sample(state, jax.random.key(config.seed + 1), test.shape[0]))
  out = {"mmd2": mmd2(samples, test, bandwidths)}
  if not is_image_family(config.model):
    mixture = ring(**RING)
    modes = mode_metrics(samples, mixture.means, mixture.stds)
    out |= {"modes": modes["modes"], "high_quality_pct": 100 * modes["high_quality"]}
  if model.has_log_prob:
    out["test_nll"] = nll(model, training.evaluated_params(state), test, key=jax.random.key(config.seed + 2))["nll"]
  return out, samples


def evaluate(config, trainer: training.Trainer, state: training.TrainState):
  """Every score after training and at initialisation (`*_init`, the same run's step-0 state)."""
  test = held_out(config)
  half = test.shape[0] // 2
  bandwidths = median_bandwidths(test[:half], test[half:])
  model = make_model(config)
  initial = trainer.init(study.run_key(config.seed), data(config)[1])  # the run's step-0 state
  trained, samples = scores(config, model, trainer, state, test, bandwidths)
  untrained, _ = scores(config, model, trainer, initial, test, bandwidths)
  return trained | {f"{k}_init": v for k, v in untrained.items()}, samples


def learned(summary: dict) -> bool | None:
  """Whether a point's mean MMD² after training is below its mean at initialisation."""
  after, before = summary.get("mmd2", {}).get("mean"), summary.get("mmd2_init", {}).get("mean")
  return None if after is None or before is None else after < before


def _mmd_cell(row: dict, seeds: int) -> str:
  s = row["summary"]
  text = f"{s['mmd2']['mean']:.2g} ← {s['mmd2_init']['mean']:.2g}"
  if "modes" in s:
    text += f", {s['modes']['mean']:.1f} modes"
  if row["diverged"]:
    text += f" ({row['diverged']}/{seeds} diverged)"
  return text if learned(s) else f"✗ {text}"


def _nll_cell(row: dict, seeds: int) -> str:
  s = row["summary"]
  return f"{s['test_nll']['mean']:.3g} ← {s['test_nll_init']['mean']:.3g}" if "test_nll" in s else ""


def _table(by_pair: dict, model_names, divergence_names, cell, seeds: int) -> list[str]:
  def entry(model_name: str, divergence_name: str) -> str:
    row = by_pair.get((model_name, divergence_name))
    if row is None:
      return "—"
    return "! diverged" if row["diverged"] == seeds else cell(row, seeds)

  lines = ["| divergence | " + " | ".join(model_names) + " |", "|---|" + "---|" * len(model_names)]
  for d in divergence_names:
    lines.append(f"| {d} | " + " | ".join(entry(m, d) for m in model_names) + " |")
  return lines


def matrix(points, rows) -> str:
  """Model × divergence views of the rows: MMD² and test NLL after ← before training, and the
  reasons of the impossible pairs."""
  seeds = max(len(r["runs"]) for r in rows)
  by_pair = {(p.config.model, p.config.divergence): r for p, r in zip(points, rows)}
  model_names = list(dict.fromkeys(m for m, _ in by_pair))
  divergence_names = list(dict.fromkeys(d for _, d in by_pair))
  explicit = [m for m in model_names if models.get(m).has_log_prob]
  impossible = {(m, d): unsupported_reason(m, d) or "not in this study"
                for d in divergence_names for m in model_names if (m, d) not in by_pair}
  failing = [f"{m} × {d}" for (m, d), r in by_pair.items() if not learned(r["summary"])]
  lines = ["", "## The matrix", "",
           f"Mean MMD² to held-out data after ← before training over seeds 0..{seeds - 1} (and "
           "ring modes of 8 after training). ✗: MMD² did not fall below its value at "
           "initialisation. —: impossible in principle (reasons below).", "",
           *_table(by_pair, model_names, divergence_names, _mmd_cell, seeds), "",
           "Test NLL (nats) after ← before training, explicit families (a VAE's by the "
           "importance-weighted bound):", "",
           *_table(by_pair, explicit, divergence_names, _nll_cell, seeds), "",
           "Did not improve on initialisation: " + (", ".join(failing) or "none") + ".", ""]
  lines += [f"- {m} × {d}: {reason}" for (m, d), reason in impossible.items()]
  return "\n".join(lines) + "\n"


EXPERIMENT = study.Experiment(sweepable=(), validate=validate, make_trainer=make_trainer, data=data,
                              evaluate=evaluate, report=matrix, runs_in_turn=lambda config: is_image_family(config.model),
                              recipe=recipe_values)
