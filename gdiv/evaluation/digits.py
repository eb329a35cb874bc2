"""A small classifier of scikit-learn's bundled 8×8 digits, for image features without Inception.

Its penultimate activations are the features for `frechet_distance` and
`precision_recall` on digit images (`gdiv.evaluation.features.digits_network()`). The numbers are comparable within this
project only: they are not FID. The parameters ship in
`digits_classifier.msgpack`, written by `python -m experiments.train_classifier`.
"""

from __future__ import annotations

import pathlib

import flax.linen as nn
import flax.serialization
import jax
import jax.numpy as jnp

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
