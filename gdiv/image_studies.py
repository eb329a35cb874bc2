"""The image studies' shared science: their data, feature network, NDA negatives, sample scores and
the memorising baseline (Theis et al. 2016), from a study config's fields, and their shorthand flags."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from absl import flags, logging

from gdiv import training
from gdiv.data import IMAGE_DATASETS, ImageData, dequantise, load_images, nda
from gdiv.evaluation import features, parzen_log_likelihood

FLAGS = flags.FLAGS


def define_image_flags():
  """--dataset, --data_path, --seeds, --steps, --adv_divergence: shorthands for the image studies'
  config fields (unset: the config file's value)."""
  flags.DEFINE_enum("dataset", None, IMAGE_DATASETS, "Images: digits and mnist_sample ship with packages; "
                    "mnist (or Fashion-MNIST) and cifar10 are read from --data_path.")
  flags.DEFINE_string("data_path", None, "mnist: a folder of the IDX files or an .npz; cifar10: the folder "
                      "of its python version.")
  flags.DEFINE_integer("seeds", None, "Seeds 0..N-1.")
  flags.DEFINE_integer("steps", None, "Training steps per run.")
  flags.DEFINE_string("adv_divergence", None, "Critic-based divergence of adv / hybrid (wasserstein_gp, js, ...).")


def image_flag_values(*names: str) -> dict:
  return {name: FLAGS[name].value for name in ("dataset", "data_path", "seeds", "steps", "adv_divergence", *names)}


@functools.cache
def _image_data(dataset: str, data_path: str, validation: int) -> ImageData:
  return load_images(dataset, data_path, validation)


def image_data(config) -> ImageData:
  """config.dataset's images (gdiv.data.load_images: config.data_path, config.validation), read once."""
  return _image_data(config.dataset, config.data_path, config.validation)


@functools.cache
def _feature_network(dataset: str, data_path: str, validation: int, saved: str, steps: int) -> features.FeatureNetwork:
  beside = features.beside_data(dataset, data_path)
  if not saved and beside is not None and beside.is_file():
    saved = str(beside)
  network = features.for_images(_image_data(dataset, data_path, validation), saved, steps)
  logging.info("Feature network for %s: %s, test accuracy %.4f.", dataset, saved or "trained here",
               network.test_accuracy)
  return network


def feature_network(config) -> features.FeatureNetwork:
  """The network that scores config.dataset's images: the one saved at config.feature_network,
  else one `experiments.train_classifier` saved beside the data, else the shipped digits
  classifier, else one trained now for config.classifier_steps steps (gdiv.evaluation.features)."""
  return _feature_network(config.dataset, config.data_path, config.validation, config.feature_network,
                          config.classifier_steps)


MEMORISER_SIGMAS = np.logspace(-2.5, -0.5, 17)


def validate_images(config: ml_collections.ConfigDict) -> None:
  """config.dataset and config.data_path (the files are read: a missing one is an error naming
  the files expected), config.feature_network and config.nda."""
  image_data(config)
  if config.feature_network:
    feature_network(config)
  if config.nda != "none":
    nda.get(config.nda)  # an unknown name lists the known ones


def image_negatives(config):
  """negatives(key, x): the transform `config.nda` of a batch of flattened images; None for
  nda=none."""
  if config.nda == "none":
    return None
  transform, shape = nda.get(config.nda), image_data(config).shape
  return lambda key, x: transform(key, x, shape)


def image_negative_data(config) -> training.NegativeData | None:
  """make_trainer's `negatives`: `image_negatives` with λ = config.nda_model_share; None for nda=none."""
  sample = image_negatives(config)
  return None if sample is None else training.NegativeData(sample, config.nda_model_share)


def image_sample_scores(samples: np.ndarray, config) -> dict:
  """gdiv.evaluation.features.sample_scores on config's images and feature network."""
  return features.sample_scores(samples, image_data(config), feature_network(config))


def memoriser(config) -> dict:
  """One isotropic Gaussian per training image, at its dequantisation bin centre, σ chosen on the
  validation split; scored as the flows are (its NLL: the dequantisation bound, data space)."""
  data_set = image_data(config)
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
          **image_sample_scores(samples, config)}


def memoriser_report(points, rows) -> str:
  """The memorising baseline, scored like the rows."""
  baseline = memoriser(points[0].config)
  metrics = [m for m in baseline if m != "sigma"]
  return "\n".join([
      "", "## Memorising baseline (Theis et al. 2016)", "",
      f"One isotropic Gaussian per training image, σ = {baseline['sigma']:.4g} chosen on the "
      "validation split; samples are training images plus that noise.", "",
      "| " + " | ".join(metrics) + " |", "|" + "---|" * len(metrics),
      "| " + " | ".join(f"{baseline[m]:.4g}" for m in metrics) + " |", ""])
