r"""Negative data augmentation (Sinha et al., ICLR 2021): a GAN on images, without NDA and with each transform.

  python -m experiments.nda --workdir=runs/nda
  python -m experiments.nda --seeds=5 --workdir=runs/nda_5_seeds
  python -m experiments.nda --config=experiments/configs/nda_flow.py --workdir=runs/nda_flow

The first two run the study configs/nda.py describes (a DCGAN-style conv GAN
on the pixels, its protocol there; any field with --config.FIELD=VALUE), the
third the same rows on Flow-GAN's adversarially trained flow. Transformed real
images join the critic's fake side, λ·Q + (1 - λ)·NDA(P) (λ =
`nda_model_share`, --model_share); the generator's loss is unchanged. Rows: no
NDA, then each transform of gdiv.data.nda. Scores as Flow-GAN's (Fréchet
distance, precision / recall on the digits classifier's features, Parzen; the
generator is implicit, so no NLL) and the memorising baseline; results.md,
samples.png (a grid per row), curves.png.
"""

from __future__ import annotations

import pathlib

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from absl import flags

from gdiv import cli, divergences, figures, image_studies, study, training
from gdiv.models import ConvCritic, ConvGenerator
from gdiv.runner import check_schedule


def validate(config: ml_collections.ConfigDict) -> None:
  """Raise ValueError naming the field, before anything is built or compiled."""
  image_studies.validate_images(config)
  if not divergences.get(config.adv_divergence).needs_critic:
    raise ValueError(f"config.adv_divergence={config.adv_divergence!r} has no critic; a GAN needs one "
                     "(hinge, js, wasserstein_gp, ...).")
  if not config.learning_rate > 0:
    raise ValueError(f"config.learning_rate must be > 0; got {config.learning_rate}.")
  check_schedule(config.steps, config.log_every, config.checkpoint_every)
  make_trainer(config)  # the pairing and the NDA options; compiles nothing


def make_trainer(config, **hparams) -> training.Trainer:
  """ConvGenerator against a ConvCritic (spectrally normalised if config.spectral_norm) under
  config.adv_divergence, with NDA's negatives; Adam for both."""
  shape = image_studies.image_data(config).shape
  return training.trainer_from_config(
      config, ConvGenerator(dim=int(np.prod(shape)), image_shape=shape),
      ConvCritic(shape, spectral_norm=config.spectral_norm), divergence=config.adv_divergence,
      hparams=hparams, negatives=image_studies.image_negative_data(config))


def data(config):
  """(sample_batch(key): training images, example batch)."""
  train = jnp.asarray(image_studies.image_data(config).train.x)
  sample_batch = lambda key: train[jax.random.randint(key, (config.batch_size,), 0, train.shape[0])]
  return sample_batch, jnp.zeros((config.batch_size, train.shape[1]), jnp.float32)


def evaluate(config, trainer: training.Trainer, state: training.TrainState):
  """Sample scores on as many samples as test images, and the samples."""
  samples = np.asarray(trainer.sample(state, jax.random.key(config.seed + 1), len(image_studies.image_data(config).test.x)))
  return image_studies.image_sample_scores(samples, config), samples


def row_label(config) -> str:
  """'hinge' or 'hinge, NDA jigsaw'."""
  return config.adv_divergence + (f", NDA {config.nda}" if config.nda != "none" else "")


EXPERIMENT = study.Experiment(sweepable=("learning_rate",), validate=validate, make_trainer=make_trainer,
                              data=data, evaluate=evaluate,
                              figure=figures.sample_grid(row_label, lambda config: image_studies.image_data(config).shape),
                              report=image_studies.memoriser_report)

NDA_CONFIG = str(pathlib.Path(__file__).parent / "configs" / "nda.py")
FLAGS = flags.FLAGS
# The smallest run ({workdir}: where it writes; only the first group, no tables) and flags it
# must refuse, with the words the error must contain: tests/test_experiments.py runs both.
SMOKE_FLAGS = ("--seeds=1", "--steps=4", "--config.log_every=2", "--config.checkpoint_every=4",
               "--groups=1", "--workdir={workdir}")
BAD_FLAGS = (("--adv_divergence=relativistic", "the critic loss of 'relativistic' is not"),)


def define_flags():
  """Define the command-line flags (only when run as a program, so tests can import this module)."""
  cli.define_study_flags(NDA_CONFIG)
  image_studies.define_image_flags()
  flags.DEFINE_float("model_share", None, "λ, the model's share of the critic's fakes (0.25 as Sinha et al.).")


def main(argv):
  del argv
  cli.run_study_from_flags(nda_model_share=FLAGS.model_share, **image_studies.image_flag_values())


if __name__ == "__main__":
  cli.run(define_flags, main)
