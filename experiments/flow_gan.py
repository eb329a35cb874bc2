r"""Flow-GAN (Grover, Dhar, Ermon 2018): one Real NVP trained for likelihood, adversarially, or both.

  python -m experiments.flow_gan --objective=hybrid --hybrid_lambda=0.1 --workdir=runs/flow_gan_hybrid
  python -m experiments.flow_gan --dataset=mnist --mnist_path=PATH --objective=adv \
      --adv_divergence=js --seeds=3 --workdir=runs/flow_gan_mnist_js
  python -m experiments.sweep --config=experiments/configs/flow_gan.py --workdir=runs/flow_gan

The first two run one row over seeds 0..N-1 (configs/flow_gan_row.py's
protocol; any field with --config.FIELD=VALUE); the third the whole table.

The flow models the dequantised images (y = (k + u)/levels) through Real NVP's
logit transform (z = logit(α + (1 - 2α)y)), so its test NLL is in data space:
the dequantisation bound in nats per image and bits per dimension. Objectives:
`mle`; `adv`, a critic-based divergence (`adv_divergence`, WGAN-GP by default,
with 5 critic steps per model step as the authors); `hybrid`, the adversarial
loss plus λ·NLL (`hybrid_lambda`). Sample quality on the digits classifier's
features (gdiv.evaluation.digit_features): Fréchet distance and precision /
recall against the test split, and the Parzen-window log-likelihood (σ chosen
on the validation split; unreliable, reported for comparison with the GAN
literature). results.md adds the memorising baseline of Theis et al.: one
isotropic Gaussian per training image, σ chosen on the validation split.

Negative data augmentation (`nda`: a gdiv.data.nda transform, or "none"): the
critic's fake side becomes λ·Q + (1 - λ)·NDA(P), λ = `nda_model_share`; the
transform acts on the dequantised images, before the logit.
"""

from __future__ import annotations

import functools
import pathlib
from typing import Callable

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
from absl import flags, logging

from experiments import common, sweep
from gdiv import divergences, study, training
from gdiv.data import (DIGITS_SHAPE, ImageData, dequantise, inverse_logit_transform, load_digits,
                       load_mnist, logit_transform, nda)
from gdiv.divergences.likelihood import Hybrid
from gdiv.evaluation import digit_features, frechet_distance, nll, parzen_log_likelihood, precision_recall
from gdiv.models import MLPCritic, RealNVP
from gdiv.runner import check_schedule

OBJECTIVES = ("mle", "adv", "hybrid")
DATASETS = ("digits", "mnist")
MEMORISER_SIGMAS = np.logspace(-2.5, -0.5, 17)


@functools.cache
def _images(dataset: str, mnist_path: str, validation: int) -> ImageData:
  return load_digits() if dataset == "digits" else load_mnist(mnist_path, validation)


def images(config) -> ImageData:
  """The digits, or MNIST with its last config.mnist_validation training images held out."""
  return _images(config.dataset, config.mnist_path, config.mnist_validation)


def validate_images(config: ml_collections.ConfigDict) -> None:
  """config.dataset, config.mnist_path (its files are read: a missing one is an error naming the
  files expected) and config.nda."""
  if config.dataset not in DATASETS:
    raise ValueError(f"config.dataset={config.dataset!r}: choose {' or '.join(DATASETS)}.")
  if config.dataset == "mnist" and not config.mnist_path:
    raise ValueError("config.dataset=mnist needs config.mnist_path: a folder of the MNIST IDX files or an .npz.")
  if config.dataset == "mnist":
    images(config)
  if config.nda != "none":
    nda.get(config.nda)  # an unknown name lists the known ones


def validate(config: ml_collections.ConfigDict) -> None:
  """Raise ValueError naming the field, before anything is built or compiled."""
  validate_images(config)
  if config.objective not in OBJECTIVES:
    raise ValueError(f"config.objective={config.objective!r}: choose among {', '.join(OBJECTIVES)}.")
  if config.objective != "mle" and not divergences.get(config.adv_divergence).needs_critic:
    raise ValueError(f"config.adv_divergence={config.adv_divergence!r} has no critic; the adversarial "
                     "objectives need one (wasserstein_gp, js, hinge, ...).")
  for field in ("learning_rate", "hybrid_lambda"):
    if not config[field] > 0:
      raise ValueError(f"config.{field} must be > 0; got {config[field]}.")
  if config.nda != "none" and config.objective == "mle":
    raise ValueError(f"config.nda={config.nda!r} feeds the critic, and objective 'mle' has none: "
                     "use adv or hybrid, or nda=none.")
  if not 0 < config.logit_alpha < 0.5:
    raise ValueError(f"config.logit_alpha must be in (0, 0.5); got {config.logit_alpha}.")
  check_schedule(config.steps, config.log_every, config.checkpoint_every)
  make_trainer(config)  # the pairing and the options; compiles nothing


def flow(config) -> RealNVP:
  data = images(config)
  return RealNVP(dim=int(np.prod(data.shape)), num_layers=config.num_layers,
                 hidden=tuple(config.hidden), image_shape=data.shape)


def objective(config, hybrid_lambda):
  if config.objective == "mle":
    return divergences.get("mle")
  adversarial = divergences.get(config.adv_divergence)
  if config.objective == "adv":
    return adversarial
  return Hybrid(name="hybrid", adversarial=adversarial, weight=hybrid_lambda)


def image_negatives(config):
  """negatives(key, x): the transform `config.nda` of a batch of flattened images; None for
  nda=none."""
  if config.nda == "none":
    return None
  transform, shape = nda.get(config.nda), images(config).shape
  return lambda key, x: transform(key, x, shape)


def negatives(config):
  """negatives(key, z): `image_negatives` of the images behind a batch of logits."""
  of_images, alpha = image_negatives(config), config.logit_alpha
  if of_images is None:
    return None
  return lambda key, z: logit_transform(of_images(key, inverse_logit_transform(z, alpha)), alpha)[0]


def make_trainer(config, **hparams) -> training.Trainer:
  """The flow, its objective and, for adv / hybrid, an MLP critic (and NDA's negatives); Adam
  (β1 0.5, β2 0.9)."""
  value = lambda field: hparams.get(field, config[field])
  divergence = objective(config, value("hybrid_lambda"))
  adam = lambda: optax.adam(value("learning_rate"), b1=config.beta1, b2=config.beta2)
  uses_critic = divergence.needs_critic
  return training.make_trainer(
      flow(config), divergence, model_optimizer=adam(),
      critic=MLPCritic(tuple(config.critic_hidden)) if uses_critic else None,
      critic_optimizer=adam() if uses_critic else None,
      n_critic=config.n_critic if uses_critic else 1, negatives=negatives(config),
      model_share=config.nda_model_share)


def data(config):
  """(sample_batch(key): training images dequantised and logit-transformed, example batch)."""
  data_set, alpha = images(config), config.logit_alpha
  train = jnp.asarray(data_set.train.x)

  def sample_batch(key):
    pick, noise = jax.random.split(key)
    x = train[jax.random.randint(pick, (config.batch_size,), 0, train.shape[0])]
    return logit_transform(dequantise(noise, x, data_set.levels), alpha)[0]

  return sample_batch, jnp.zeros((config.batch_size, train.shape[1]), jnp.float32)


def to_images(z: jax.Array, alpha: float) -> np.ndarray:
  """Flow samples (logit space) back to images in [0, 1]."""
  return np.clip(np.asarray(inverse_logit_transform(z, alpha)), 0.0, 1.0)


def sample_scores(samples: np.ndarray, data_set: ImageData) -> dict:
  """Fréchet distance, precision / recall (digits-classifier features) and Parzen log-likelihood;
  {} for images other than the 8×8 digits, which that classifier cannot read (MNIST has no
  feature network here yet: its runs report likelihoods only)."""
  if data_set.shape != DIGITS_SHAPE:
    logging.warning("No sample scores for %s images: the feature network reads 8×8 digits only.",
                    "×".join(map(str, data_set.shape)))
    return {}
  real, fake = digit_features(data_set.test.x), digit_features(samples)
  return {"frechet_distance": frechet_distance(fake, real), **precision_recall(real, fake),
          "parzen_log_likelihood": parzen_log_likelihood(samples, data_set.validation.x,
                                                         data_set.test.x)["mean"]}


def evaluate(config, trainer: training.Trainer, state: training.TrainState):
  """Test (and validation) NLL in data space, sample scores on as many samples as test images,
  and the samples."""
  data_set = images(config)
  nll_of = lambda x: nll(flow(config), state.model_params, x, levels=data_set.levels,
                         logit_alpha=config.logit_alpha, key=jax.random.key(config.seed + 2))
  likelihood = nll_of(data_set.test.x)
  samples = to_images(trainer.sample(state, jax.random.key(config.seed + 1), len(data_set.test.x)),
                      config.logit_alpha)
  return {"test_nll_nats": likelihood["nll"], "test_bits_per_dim": likelihood["bits_per_dim"],
          "validation_nll_nats": nll_of(data_set.validation.x)["nll"],
          **sample_scores(samples, data_set)}, samples


def memoriser(config) -> dict:
  """One isotropic Gaussian per training image, at its dequantisation bin centre, σ chosen on the
  validation split; scored as the flows are (its NLL: the dequantisation bound, data space)."""
  data_set = images(config)
  levels, dim = data_set.levels, data_set.train.x.shape[1]
  to_bins = lambda x: (np.round(x * (levels - 1)) + 0.5) / levels
  key_valid, key_test, key_picks, key_noise = jax.random.split(jax.random.key(config.seed), 4)
  y_valid = dequantise(key_valid, jnp.asarray(data_set.validation.x), levels)
  y_test = dequantise(key_test, jnp.asarray(data_set.test.x), levels)
  fit = parzen_log_likelihood(to_bins(data_set.train.x), y_valid, y_test, MEMORISER_SIGMAS)
  test_nll = -fit["mean"] + dim * np.log(levels)
  picks = jax.random.randint(key_picks, (len(data_set.test.x),), 0, len(data_set.train.x))
  noise = fit["sigma"] * np.asarray(jax.random.normal(key_noise, (len(picks), dim)))
  samples = np.clip(data_set.train.x[np.asarray(picks)] + noise, 0.0, 1.0)
  return {"sigma": fit["sigma"], "test_nll_nats": test_nll, "test_bits_per_dim": test_nll / (dim * np.log(2)),
          **sample_scores(samples, data_set)}


def report(points, rows) -> str:
  """The memorising baseline, scored like the rows."""
  baseline = memoriser(points[0].config)
  metrics = [m for m in baseline if m != "sigma"]
  return "\n".join([
      "", "## Memorising baseline (Theis et al. 2016)", "",
      f"One isotropic Gaussian per training image, σ = {baseline['sigma']:.4g} chosen on the "
      "validation split; samples are training images plus that noise.", "",
      "| " + " | ".join(metrics) + " |", "|" + "---|" * len(metrics),
      "| " + " | ".join(f"{baseline[m]:.4g}" for m in metrics) + " |", ""])


def row_label(config) -> str:
  """'mle', 'adv, wasserstein_gp', 'hybrid, wasserstein_gp, λ=0.1' or 'adv, js, NDA jigsaw'."""
  if config.objective == "mle":
    return "mle"
  label = f"{config.objective}, {config.adv_divergence}"
  label += f", λ={config.hybrid_lambda:g}" if config.objective == "hybrid" else ""
  return label + (f", NDA {config.nda}" if config.nda != "none" else "")


def sample_grid(label: Callable[[ml_collections.ConfigDict], str]) -> Callable:
  """figure(path, points, rows): per row (point), the first 16 samples of seed 0 as an image grid,
  labelled label(point.config)."""
  def figure(path, points, rows) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shape = images(points[0].config).shape
    fig, axes = plt.subplots(len(rows), 1, figsize=(8, 0.9 * len(rows) + 0.3), squeeze=False)
    for ax, point in zip(axes[:, 0], points):
      npz = path.parent / "runs" / point.label / "seed_0" / "samples.npz"
      if npz.exists():
        x = np.load(npz)["x"][:16].reshape(-1, *shape)
        ax.imshow(np.concatenate(list(x), axis=1), cmap="gray", vmin=0, vmax=1)
      ax.set(xticks=[], yticks=[])
      ax.set_ylabel(label(point.config), fontsize=6, rotation=0, ha="right", va="center")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)

  return figure


EXPERIMENT = study.Experiment(sweepable=("learning_rate", "hybrid_lambda"), validate=validate,
                              make_trainer=make_trainer, data=data, evaluate=evaluate,
                              figure=sample_grid(row_label), report=report)


ROW_CONFIG = str(pathlib.Path(__file__).parent / "configs" / "flow_gan_row.py")
FLAGS = flags.FLAGS
# The smallest run ({workdir}: where it writes) and flags it must refuse, with the words the
# error must contain: tests/test_experiments.py runs both.
SMOKE_FLAGS = ("--objective=mle", "--seeds=1", "--steps=4", "--config.log_every=2",
               "--config.checkpoint_every=4", "--config.num_layers=2", "--config.hidden=8,8",
               "--workdir={workdir}")
BAD_FLAGS = (("--nda=jigsaw", "config.nda='jigsaw' feeds the critic, and objective 'mle' has none"),
             ("--steps=8", "another configuration (config.steps: 4 → 8)"))


def define_image_flags():
  """--dataset, --mnist_path, --seeds, --steps, --adv_divergence: shorthands for config fields
  (unset: the config file's value)."""
  flags.DEFINE_enum("dataset", None, DATASETS, "Images: the bundled 8×8 digits or local MNIST.")
  flags.DEFINE_string("mnist_path", None, "Folder of the MNIST (or Fashion-MNIST) IDX files, or an .npz.")
  flags.DEFINE_integer("seeds", None, "Seeds 0..N-1.")
  flags.DEFINE_integer("steps", None, "Training steps per run.")
  flags.DEFINE_string("adv_divergence", None, "Critic-based divergence of adv / hybrid (wasserstein_gp, js, ...).")


def image_flag_values(*names: str) -> dict:
  return {name: FLAGS[name].value for name in ("dataset", "mnist_path", "seeds", "steps",
                                               "adv_divergence", *names)}


def define_flags():
  """Define the command-line flags (only when run as a program, so tests can import this module)."""
  sweep.define_study_flags(ROW_CONFIG)
  define_image_flags()
  flags.DEFINE_enum("objective", None, OBJECTIVES, "mle, adv (the critic's divergence) or hybrid.")
  flags.DEFINE_float("hybrid_lambda", None, "λ of hybrid: adversarial loss + λ·NLL.")
  flags.DEFINE_enum("nda", None, ("none", *nda.TRANSFORMS), "Negative data augmentation on the critic's fakes.")


def main(argv):
  del argv
  sweep.run_from_flags(**image_flag_values("objective", "hybrid_lambda", "nda"))


if __name__ == "__main__":
  common.run(define_flags, main)
