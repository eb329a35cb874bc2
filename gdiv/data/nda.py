"""Negative data augmentation (Sinha et al., ICLR 2021): transforms that make real images wrong.

Each transform is a pure jnp function `transform(key, x, image_shape) -> x'` of a batch of
flattened images (n, H·W·C), image_shape (H, W) or (H, W, C); it is jit-able and changes every image:
  jigsaw:  the 2×2 tiles in a random non-identity order,
  stitch:  the left half of one image beside the right half of another,
  cutout:  a random H/2 × W/2 square replaced by its own mean (per channel),
  mixup:   λ·x + (1 - λ)·x', λ ~ Beta(25, 25), x' another image of the batch,
  shift:   a cyclic shift by a random non-zero offset along each axis.
A critic-based divergence can then take NDA(P) on its "fake" side (λ·Q + (1 - λ)·NDA(P)).
"""

from __future__ import annotations

import itertools
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from gdiv.data.images import hwc

# the 23 orders of 4 tiles other than the identity
NON_IDENTITY_ORDERS = np.array([p for p in itertools.permutations(range(4)) if p != (0, 1, 2, 3)])
MIXUP_BETA = 25.0


def _images(x: jax.Array, image_shape: tuple[int, ...]) -> jax.Array:
  """Flattened images as (n, H, W, C)."""
  return x.reshape(x.shape[0], *hwc(image_shape))


def _partners(key: jax.Array, n: int) -> jax.Array:
  """For each image another one of the batch: its successor in a random cyclic order (never itself
  when n > 1)."""
  order = jax.random.permutation(key, n)
  return order[(jnp.argsort(order) + 1) % n]


def jigsaw(key: jax.Array, x: jax.Array, image_shape: tuple[int, ...]) -> jax.Array:
  height, width, channels = hwc(image_shape)
  h, w = height // 2, width // 2
  images = _images(x, image_shape)[:, :2 * h, :2 * w]
  tiles = images.reshape(len(x), 2, h, 2, w, channels).transpose(0, 1, 3, 2, 4, 5).reshape(len(x), 4, h, w, channels)
  orders = jnp.asarray(NON_IDENTITY_ORDERS)[jax.random.randint(key, (len(x),), 0, len(NON_IDENTITY_ORDERS))]
  shuffled = jnp.take_along_axis(tiles, orders[:, :, None, None, None], axis=1)
  out = shuffled.reshape(len(x), 2, 2, h, w, channels).transpose(0, 1, 3, 2, 4, 5).reshape(len(x), 2 * h, 2 * w, channels)
  full = _images(x, image_shape).at[:, :2 * h, :2 * w].set(out)
  return full.reshape(x.shape)


def stitch(key: jax.Array, x: jax.Array, image_shape: tuple[int, ...]) -> jax.Array:
  images = _images(x, image_shape)
  half = image_shape[1] // 2
  other = images[_partners(key, len(x))]
  return jnp.concatenate([images[:, :, :half], other[:, :, half:]], axis=2).reshape(x.shape)


def cutout(key: jax.Array, x: jax.Array, image_shape: tuple[int, ...]) -> jax.Array:
  height, width, _ = hwc(image_shape)
  h, w = height // 2, width // 2
  top_key, left_key = jax.random.split(key)
  tops = jax.random.randint(top_key, (len(x),), 0, height - h + 1)
  lefts = jax.random.randint(left_key, (len(x),), 0, width - w + 1)
  rows, cols = jnp.arange(height)[None, :, None, None], jnp.arange(width)[None, None, :, None]
  corner = lambda v: v[:, None, None, None]
  inside = ((rows >= corner(tops)) & (rows < corner(tops) + h) & (cols >= corner(lefts)) & (cols < corner(lefts) + w))
  images = _images(x, image_shape)
  means = jnp.sum(jnp.where(inside, images, 0.0), axis=(1, 2), keepdims=True) / (h * w)  # per channel
  return jnp.where(inside, means, images).reshape(x.shape)


def mixup(key: jax.Array, x: jax.Array, image_shape: tuple[int, ...]) -> jax.Array:
  del image_shape
  weight_key, partner_key = jax.random.split(key)
  lam = jax.random.beta(weight_key, MIXUP_BETA, MIXUP_BETA, (len(x), 1))
  return lam * x + (1 - lam) * x[_partners(partner_key, len(x))]


def shift(key: jax.Array, x: jax.Array, image_shape: tuple[int, ...]) -> jax.Array:
  height, width, _ = hwc(image_shape)
  row_key, col_key = jax.random.split(key)
  down = jax.random.randint(row_key, (len(x),), 1, height)
  right = jax.random.randint(col_key, (len(x),), 1, width)
  roll = jax.vmap(lambda image, a, b: jnp.roll(image, (a, b), axis=(0, 1)))
  return roll(_images(x, image_shape), down, right).reshape(x.shape)


TRANSFORMS: dict[str, Callable] = {"jigsaw": jigsaw, "stitch": stitch, "cutout": cutout,
                                   "mixup": mixup, "shift": shift}


def get(name: str) -> Callable:
  """The transform called `name`; unknown names list the known ones."""
  if name not in TRANSFORMS:
    raise ValueError(f"Unknown NDA transform {name!r}; known: {', '.join(TRANSFORMS)}.")
  return TRANSFORMS[name]
