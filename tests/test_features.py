"""Feature networks (gdiv.evaluation.features) and Stacked MNIST's modes."""

import math

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import pytest

from gdiv.data import ImageData, Split, load_mnist_sample, stack_channels
from gdiv.evaluation import features

RNG = np.random.default_rng(0)


def bars(n: int, shape=(12, 12), seed: int = 0) -> Split:
  """Images whose class k ∈ 0..9 is which column band is bright, plus noise: learnable in a few steps."""
  rng = np.random.default_rng(seed)
  height, width, *channels = shape
  y = rng.integers(0, 10, n)
  x = rng.uniform(0, 0.3, (n, height, width, *channels)).astype(np.float32)
  columns = np.arange(width) * 10 // width
  x[(columns[None, None, :] == y[:, None, None]).repeat(height, 1)] = 0.9
  return Split(x.reshape(n, -1), y)


def test_a_trained_classifier_reads_its_images_and_survives_saving(tmp_path):
  shape = (8, 12, 3)  # colour and not square (grey 28×28 images: test_the_mnist_classifier_reads_real_digits)
  splits = [bars(n, shape, seed) for seed, n in enumerate((600, 50, 200))]
  network = features.train_classifier(ImageData(*splits, shape, 256), steps=80)
  assert network.test_accuracy > 0.95  # held out, never trained on
  assert network.features(splits[2].x).shape == (200, 128)
  (tmp_path / "net.msgpack").write_bytes(features.save(network))
  loaded = features.load(tmp_path / "net.msgpack", shape)
  np.testing.assert_array_equal(loaded.features(splits[2].x[:7]), network.features(splits[2].x[:7]))
  assert loaded.test_accuracy == network.test_accuracy
  with pytest.raises(ValueError, match=r"reads \(.*\) images; these are \(28, 28\): train one"):
    features.load(tmp_path / "net.msgpack", (28, 28))
  with pytest.raises(ValueError, match="flattened"):
    network.features(np.zeros((3, 5)))


def test_histogram_scores_against_hand_computed_kl():
  uniform = features.histogram_scores(np.arange(1000) % 10, 10)
  assert uniform == {"covered": 10, "kl": pytest.approx(0.0, abs=1e-12)}
  one = features.histogram_scores(np.full(7, 3), 1000)
  assert one["covered"] == 1 and one["kl"] == pytest.approx(math.log(1000))
  p = np.array([0.5, 0.25, 0.25, 0.0])
  labels = np.repeat(np.arange(4), (p * 8).astype(int))
  assert features.histogram_scores(labels, 4)["kl"] == pytest.approx(float(np.sum(p[:3] * np.log(4 * p[:3]))))
  reference = np.array([0, 1, 1, 1])  # q = (1/4, 3/4), p = (1/2, 1/2)
  both = features.histogram_scores(np.array([0, 1]), 2, reference)["kl"]
  assert both == pytest.approx(0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75))


def test_stacked_channels_are_independent_digits_and_their_mode_is_the_label_triple():
  x = jnp.asarray(np.arange(20, dtype=np.float32)[:, None] * np.ones((1, 4), np.float32))  # image i: all i
  y = jnp.asarray(np.arange(20) % 10)
  images, modes = stack_channels(jax.random.key(0), x, y, 20_000, 3)
  assert images.shape == (20_000, 12)
  channels = np.asarray(images).reshape(20_000, 4, 3)  # pixel-major, channel last
  assert np.all(channels == channels[:, :1, :])  # each channel is one whole source image
  picks = channels[:, 0, :].astype(int)
  np.testing.assert_array_equal(modes, (picks % 10) @ np.array([1, 10, 100]))
  assert len(np.unique(modes)) == 1000  # P(some triple never drawn) ≤ 1000·e^-20
  assert abs(np.corrcoef(picks[:, 0], picks[:, 1])[0, 1]) < 0.05


def test_stacked_mnist_modes_unstack_the_channels_as_they_were_stacked(monkeypatch):
  from experiments import stacked_mnist
  from gdiv import image_studies

  class ReadsIntensity:  # labels a digit by its brightness, so the true mode is known
    def labels(self, images):
      return np.rint(np.asarray(images).mean(axis=1) * 10).astype(int) % 10

  monkeypatch.setattr(image_studies, "feature_network", lambda config: ReadsIntensity())
  x = jnp.asarray(np.repeat(np.arange(10, dtype=np.float32)[:, None] / 10, 784, axis=1))
  images, modes = stack_channels(jax.random.key(1), x, jnp.arange(10), 3000, 3)
  config = ml_collections.ConfigDict({"channels": 3})
  np.testing.assert_array_equal(stacked_mnist.modes_of(np.asarray(images), config), modes)
  scores = stacked_mnist.mode_scores(np.asarray(images), config)
  assert scores["modes"] == len(np.unique(modes)) and 0 < scores["kl"] < 0.5


@pytest.mark.slow
def test_the_mnist_classifier_reads_real_digits():
  data = load_mnist_sample()
  network = features.train_classifier(data, steps=400)
  assert network.test_accuracy > 0.9  # on 1,000 held-out real digits
  same = features.sample_scores(data.validation.x, data, network)
  noise = features.sample_scores(RNG.uniform(size=(500, 784)).astype(np.float32), data, network)
  assert same["frechet_distance"] < 0.1 * noise["frechet_distance"]
  assert same["class_kl"] < 0.05 < noise["class_kl"]
  assert same["recall"] > 0.5 > noise["recall"]


@pytest.mark.parametrize("protocol, widths", [("cpu", (8, 8, 16, 16, 32, 32, 64)),
                                              ("paper", (64, 64, 128, 128, 256, 256, 512))])
def test_stacked_mnist_rows_choose_dcgans_critic_or_sngans_at_the_protocols_width(protocol, widths):
  from experiments import stacked_mnist
  from experiments.configs.stacked_mnist import get_config
  config = get_config(protocol)
  x = jnp.zeros((2, 28 * 28 * 3))
  shapes = lambda critic: jax.eval_shape(critic.init, jax.random.key(0), x)["params"]
  dcgan = shapes(stacked_mnist.critic(config))
  assert [dcgan[f"NormalisedConv_{i}"]["kernel"].shape[-1] for i in range(2)] == list(config.critic_channels)
  config.update({"critic": "sngan", "spectral_norm": True})
  sngan = shapes(stacked_mnist.critic(config))
  assert [sngan[f"NormalisedConv_{i}"]["kernel"].shape[-1] for i in range(7)] == list(widths)
  config.update({"critic": "resnet", "dataset": "mnist_sample"})  # the paper's MNIST files are not here
  with pytest.raises(ValueError, match="config.critic='resnet': choose dcgan"):
    stacked_mnist.validate(config)


def test_stacked_mnist_trains_with_distances_between_batches_and_refuses_a_likelihood():
  from experiments import stacked_mnist
  from experiments.configs.stacked_mnist_transport import get_config
  config = get_config("cpu")
  config.update({"divergence": "sinkhorn", "sinkhorn_epsilon": 10.0})
  assert stacked_mnist.make_trainer(config).divergence.epsilon == 10.0  # the config's ε reaches the loss
  stacked_mnist.validate(config)
  config.divergence = "mle"
  with pytest.raises(ValueError, match="'mle' needs the model's density.*energy, sinkhorn, mmd"):
    stacked_mnist.validate(config)
