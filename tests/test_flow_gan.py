"""Flow-GAN: a tiny study through the runner, and the memorising baseline against a direct density."""

import math

import jax
import numpy as np
import pytest

from experiments import flow_gan
from experiments.configs.flow_gan import get_config
from experiments.configs.nda import get_config as nda_config
from gdiv import image_studies, study
from gdiv.data import GaussianMixture, dequantise
from gdiv.workdir import Workdir
from image_files import write_cifar10, write_mnist_npz


def tiny_config():
  config = get_config()
  config.update({"seeds": 1, "steps": 20, "log_every": 10, "checkpoint_every": 20, "num_layers": 2,
                 "hidden": (16, 16), "critic_hidden": (16, 16), "n_critic": 2, "batch_size": 32})
  return config


@pytest.mark.slow
def test_a_tiny_study_scores_every_row_and_the_memoriser(tmp_path):
  points = [{"objective": "mle"}, {"objective": "hybrid", "hybrid_lambda": 0.1}]
  results = study.run_study(flow_gan.EXPERIMENT, tiny_config(), points, workdir=Workdir(tmp_path), title="t")
  for row in results["points"]:
    assert set(row["summary"]) == {"test_nll_nats", "test_bits_per_dim", "validation_nll_nats",
                                   "frechet_distance", "precision", "recall", "class_kl", "parzen_log_likelihood"}
    assert all(math.isfinite(s["mean"]) for s in row["summary"].values())
    assert 0 <= row["summary"]["precision"]["mean"] <= 1
  table = (tmp_path / "results.md").read_text()
  assert "## Memorising baseline" in table and (tmp_path / "samples.png").stat().st_size > 0


def test_memoriser_nll_is_the_mixture_density_of_the_dequantised_test_images():
  config = tiny_config()
  baseline = image_studies.memoriser(config)
  data = image_studies.image_data(config)
  centres = (np.round(data.train.x * 16) + 0.5) / 17
  mixture = GaussianMixture.create(np.full(len(centres), 1 / len(centres)), centres,
                                   np.full_like(centres, baseline["sigma"]))
  key_test = jax.random.split(jax.random.key(config.seed), 4)[1]
  y_test = np.asarray(dequantise(key_test, data.test.x, 17), np.float64)
  with jax.enable_x64(True):
    direct = -float(np.mean(mixture.log_prob(y_test))) + 64 * math.log(17)
  assert abs(baseline["test_nll_nats"] - direct) < 1e-3 * abs(direct)
  assert baseline["sigma"] in image_studies.MEMORISER_SIGMAS.astype(np.float32)


def test_the_mnist_validation_split_is_a_config_field(tmp_path):
  config = get_config()
  config.update({"dataset": "mnist", "data_path": write_mnist_npz(tmp_path)})
  with pytest.raises(ValueError, match="validation=5000 must be an integer that leaves some of the 12 training "
                                       "images for training: choose a smaller one"):
    flow_gan.validate(config)
  config.validation = 3
  flow_gan.validate(config)
  data = image_studies.image_data(config)
  assert (len(data.train.x), len(data.validation.x), len(data.test.x)) == (9, 3, 4)


def cifar10_folder(folder):
  write_cifar10(folder, per_batch=12)
  return str(folder)


@pytest.mark.parametrize("dataset, write, shape", [
    ("mnist", lambda folder: write_mnist_npz(folder, 60, 30), (28, 28)), ("cifar10", cifar10_folder, (32, 32, 3))])
def test_image_samples_are_scored_on_a_classifier_trained_on_them_and_nda_takes_them(tmp_path, dataset, write,
                                                                                     shape):
  from experiments import nda
  files = {"dataset": dataset, "data_path": write(tmp_path), "validation": 10}
  config = get_config()
  config.update({**files, "classifier_steps": 5})
  flow_gan.validate(config)  # builds the trainer: a Real NVP on these images and its critic
  data = image_studies.image_data(config)
  scores = image_studies.image_sample_scores(data.test.x, config)
  assert set(scores) == {"frechet_distance", "precision", "recall", "class_kl", "parzen_log_likelihood"}
  assert scores["frechet_distance"] < 1e-6 and scores["class_kl"] == pytest.approx(0.0, abs=1e-12)
  assert image_studies.feature_network(config).image_shape == shape
  config = nda_config()
  config.update({**files, "nda": "jigsaw"})
  nda.validate(config)  # builds the trainer: a conv GAN for these images with NDA's negatives
