r"""Stacked MNIST (Metz et al. 2017; VEEGAN; PacGAN Tables 2–3): how many of 1,000 modes a GAN covers.

  python -m experiments.sweep --config=experiments/configs/stacked_mnist.py:cpu \
      --workdir=runs/stacked_mnist_cpu

configs/stacked_mnist.py has the protocols and rows. Data: three digits of the training split
drawn independently and stacked as the channels of one 28×28×3 image (gdiv.data.stack_channels;
fresh triples every batch, or `train_triples` fixed ones as VEEGAN). Model: gdiv's ConvGenerator
(latent `latent_dim`, dense to 7×7, two 4×4 stride-2 transposed convolutions, sigmoid) against a
ConvCritic (two 3×3 stride-2 convolutions, leaky ReLU, linear read-out) or, where the row says
`critic=sngan`, SNGAN's standard CNN (StandardCNNCritic), packed (`critic_pack`, PacGAN) or
spectrally normalised as the row says; Adam for both. Neither has
batch normalisation (DCGAN's generator does): see gdiv.models.ConvGenerator.

Scores: `eval_samples` samples, each channel classified by the MNIST feature network trained
here on the same digits (gdiv.evaluation.features; its test accuracy in results.md); modes =
distinct label triples, kl = Σ p ln(p · 1000) of their histogram (0 for uniform). The same
scores of as many stacked *test* digits are the data's own row: the ceiling the classifier
allows. results.md adds the published rows; samples.png shows 16 samples per row.
"""

from __future__ import annotations

import math
import pathlib

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from absl import flags, logging

from gdiv import cli, divergences, figures, image_studies, study, training
from gdiv.data import MNIST_SHAPE, stack_channels
from gdiv.evaluation import features
from gdiv.models import ConvCritic, ConvGenerator, StandardCNNCritic
from gdiv.runner import check_schedule

NUM_CLASSES = 10
SAMPLE_CHUNK = 2000  # samples drawn per call when scoring (bounds the generator's activations)
TRIPLES_KEY = 2**20  # the fixed training triples (train_triples > 0): one draw no run seed uses
REFERENCE_KEY = 2**20 + 1  # the stacked test digits of the data's own row
CRITICS = ("dcgan", "sngan")  # config.critic: ConvCritic or SNGAN's standard CNN


def digits(config):
  """config.dataset's digits (image_studies.image_data), which must be single-channel 28×28."""
  data = image_studies.image_data(config)
  if tuple(data.shape) != MNIST_SHAPE:
    raise ValueError(f"Stacked MNIST stacks single-channel 28×28 digits; config.dataset={config.dataset!r} has "
                     f"{'×'.join(map(str, data.shape))} images: use mnist_sample or mnist.")
  return data


def image_shape(config) -> tuple[int, int, int]:
  return (*MNIST_SHAPE, config.channels)


def validate(config: ml_collections.ConfigDict) -> None:
  """Raise ValueError naming the field and the fix, before anything is built or compiled."""
  digits(config)  # unknown data sets, missing files and wrong shapes are named here
  if not isinstance(config.channels, int) or config.channels < 1:
    raise ValueError(f"config.channels must be a positive integer (3 for Stacked MNIST); got {config.channels!r}.")
  if divergences.get(config.divergence).needs_log_prob:
    raise ValueError(f"config.divergence={config.divergence!r} needs the model's density, and Stacked MNIST "
                     "trains an implicit generator: choose a critic-based divergence (js, hinge, "
                     "wasserstein_gp, ...) or a distance between batches (energy, sinkhorn, mmd).")
  if config.critic not in CRITICS:
    raise ValueError(f"config.critic={config.critic!r}: choose dcgan (ConvCritic) or sngan (SNGAN's standard CNN).")
  if not config.sngan_width > 0:
    raise ValueError(f"config.sngan_width must be > 0 (it scales SNGAN's channels); got {config.sngan_width}.")
  for field in ("batch_size", "eval_samples", "critic_pack"):
    if not isinstance(config[field], int) or config[field] < 1:
      raise ValueError(f"config.{field} must be a positive integer; got {config[field]!r}.")
  if not config.learning_rate > 0:
    raise ValueError(f"config.learning_rate must be > 0; got {config.learning_rate}.")
  check_schedule(config.steps, config.log_every, config.checkpoint_every)
  make_trainer(config)  # the pairing, packing and options; compiles nothing


def critic(config):
  """The row's critic, packed and spectrally normalised as it says: DCGAN's (ConvCritic,
  `critic_channels`) or SNGAN's standard CNN (`sngan_width` of its channels)."""
  shape = image_shape(config)
  if config.critic == "sngan":
    return StandardCNNCritic(shape, width=config.sngan_width, spectral_norm=config.spectral_norm,
                             pack=config.critic_pack)
  return ConvCritic(shape, channels=tuple(config.critic_channels), spectral_norm=config.spectral_norm,
                    pack=config.critic_pack)


def make_trainer(config, **hparams) -> training.Trainer:
  """ConvGenerator against the row's critic; Adam for both."""
  shape = image_shape(config)
  generator = ConvGenerator(dim=math.prod(shape), image_shape=shape, latent_dim=config.latent_dim,
                            channels=tuple(config.generator_channels))
  return training.trainer_from_config(config, generator, critic(config),
                                      hparams=hparams)


def data(config):
  """(sample_batch(key): a batch of stacked training digits, example batch). batch_size counts the
  critic's inputs, as PacGAN's: with packing m each is m images, so a batch holds batch_size·m."""
  train, n = digits(config).train, config.batch_size * config.critic_pack
  x, y = jnp.asarray(train.x), jnp.asarray(train.y)
  if config.train_triples:
    fixed, _ = stack_channels(jax.random.key(TRIPLES_KEY), x, y, config.train_triples, config.channels)
    sample_batch = lambda key: fixed[jax.random.randint(key, (n,), 0, fixed.shape[0])]
  else:
    sample_batch = lambda key: stack_channels(key, x, y, n, config.channels)[0]
  return sample_batch, jnp.zeros((n, math.prod(image_shape(config))), jnp.float32)


def modes_of(images: np.ndarray, config) -> np.ndarray:
  """Each image's mode: Σ_c 10^c · (the feature network's label of channel c)."""
  channels = np.asarray(images).reshape(len(images), -1, config.channels)
  network = image_studies.feature_network(config)
  labels = [network.labels(channels[:, :, c]) for c in range(config.channels)]
  return sum(label * NUM_CLASSES**c for c, label in enumerate(labels))


def mode_scores(images: np.ndarray, config) -> dict:
  """modes (distinct label tuples) and kl (their histogram's KL to uniform over 10^channels)."""
  scores = features.histogram_scores(modes_of(images, config), NUM_CLASSES**config.channels)
  return {"modes": scores["covered"], "kl": scores["kl"]}


def evaluate(config, trainer: training.Trainer, state: training.TrainState):
  """Modes and KL of `eval_samples` samples; the samples (the first SAMPLE_CHUNK are saved)."""
  keys = jax.random.split(jax.random.key(config.seed + 1), -(-config.eval_samples // SAMPLE_CHUNK))
  samples = np.concatenate([np.asarray(trainer.sample(state, key, SAMPLE_CHUNK)) for key in keys])
  return mode_scores(samples[:config.eval_samples], config), samples[:SAMPLE_CHUNK]


def data_row(config) -> dict:
  """The scores of `eval_samples` stacked test digits, and the classifier's test accuracy."""
  test = digits(config).test
  images, _ = stack_channels(jax.random.key(REFERENCE_KEY), jnp.asarray(test.x), jnp.asarray(test.y),
                             config.eval_samples, config.channels)
  return {**mode_scores(np.asarray(images), config), "accuracy": image_studies.feature_network(config).test_accuracy}


def report(points, rows) -> str:
  """The data's own row (the ceiling the classifier allows) and the classifier's accuracy."""
  config = points[0].config
  reference = data_row(config)
  logging.info("Stacked MNIST: the data's own row %s", reference)
  return "\n".join([
      "", "## The data's own row", "",
      f"{config.eval_samples:,} stacks of three test digits, scored as the samples: "
      f"{reference['modes']} modes, KL {reference['kl']:.3f}. Each channel is labelled by the MNIST "
      f"feature network trained here on the {config.dataset} training digits (test accuracy "
      f"{reference['accuracy']:.4f}); with accuracy a, about a³ of the stacks get their true mode.", ""])


def row_label(config) -> str:
  return config.label or config.divergence


EXPERIMENT = study.Experiment(sweepable=("learning_rate",), validate=validate, make_trainer=make_trainer,
                              data=data, evaluate=evaluate, figure=figures.sample_grid(row_label, image_shape), report=report,
                              runs_in_turn=lambda config: True, recipe=training.recipe_fields)

CONFIG = str(pathlib.Path(__file__).parent / "configs" / "stacked_mnist.py")
FLAGS = flags.FLAGS
# The smallest run ({workdir}: where it writes; only the first group, no tables) and flags it
# must refuse, with the words the error must contain: tests/test_experiments.py runs both.
SMOKE_FLAGS = ("--seeds=1", "--steps=2", "--config.log_every=1", "--config.checkpoint_every=2",
               "--config.eval_samples=100", "--config.classifier_steps=2", "--config.generator_channels=4,4",
               "--config.critic_channels=4,4", "--groups=0", "--workdir={workdir}")
BAD_FLAGS = (("--dataset=digits", "Stacked MNIST stacks single-channel 28×28 digits"),)


def define_flags():
  """Define the command-line flags (only when run as a program, so tests can import this module)."""
  cli.define_study_flags(CONFIG)
  image_studies.define_image_flags()


def main(argv):
  del argv
  cli.run_study_from_flags(**image_studies.image_flag_values())


if __name__ == "__main__":
  cli.run(define_flags, main)
