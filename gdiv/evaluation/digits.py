"""A small classifier of scikit-learn's bundled 8×8 digits, for image features without Inception.

Its penultimate activations are the features for `frechet_distance` and
`precision_recall` on digit images. The numbers are comparable within this
project only: they are not FID. The parameters ship in
`digits_classifier.msgpack`, written by `python -m experiments.train_classifier`.
"""

from __future__ import annotations

import pathlib

import flax.linen as nn
import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np

from gdiv.data.images import DIGITS_SHAPE

PARAMS_PATH = pathlib.Path(__file__).with_name("digits_classifier.msgpack")
IMAGE_SHAPE = DIGITS_SHAPE
NUM_CLASSES = 10


class DigitsClassifier(nn.Module):
  """MLP 64 → 128 → 64 → 10 on pixels scaled to [0, 1]; `features` is the 64-wide layer."""

  hidden: tuple[int, ...] = (128, 64)

  @nn.compact
  def __call__(self, x, return_features: bool = False):
    for width in self.hidden:
      x = nn.relu(nn.Dense(width)(x))
    return x if return_features else nn.Dense(NUM_CLASSES)(x)


def load_params(path: pathlib.Path = PARAMS_PATH):
  if not path.exists():
    raise FileNotFoundError(f"No digits classifier at {path}: run "
                            "`python -m experiments.train_classifier` to train and save it.")
  template = DigitsClassifier().init(jax.random.key(0), jnp.zeros((1, 64)))
  return flax.serialization.from_bytes(template, path.read_bytes())


def digit_features(images, params=None) -> np.ndarray:
  """Penultimate-layer features, shape (n, 64), of images in [0, 1] shaped (n, 64) or (n, 8, 8)."""
  x = np.asarray(images, np.float32)
  if x.ndim == 3 and x.shape[1:] == IMAGE_SHAPE:
    x = x.reshape(len(x), -1)
  if x.ndim != 2 or x.shape[1] != 64 or len(x) == 0:
    raise ValueError(f"digit_features expects a non-empty batch of 8×8 images as (n, 64) or (n, 8, 8) "
                     f"with pixels in [0, 1]; got shape {x.shape}.")
  params = load_params() if params is None else params
  return np.asarray(DigitsClassifier().apply(params, x, return_features=True))
