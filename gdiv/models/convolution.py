"""Convolutions of small images as one matmul by the dense matrix they are.

A 'SAME' convolution (or transposed convolution) of an H×W×C_in image is a
linear map to H'×W'×C_out: y = x M, with M[(i, c), (o, d)] = K[t(i, o), c, d]
where tap t(i, o) of the kernel K takes input pixel i to output pixel o (and
M = 0 where none does). The placement t(i, o) depends on the shapes only; it
is found once, by applying the convolution itself to one-hot images and
one-tap kernels, so M is exactly the convolution lax computes.

On small images (the 8×8 digits) M is small and mostly non-zero, and XLA's CPU
backend runs the matmul, and its gradients, far faster than the convolution
(tiny spatial extents, strided and transposed kernels; see README
"Performance"). `conv` and `conv_transpose` take the matmul where M has at
most `MATMUL_ENTRIES` entries and at least `MATMUL_DENSITY` of them non-zero,
and lax's convolution otherwise.
"""

from __future__ import annotations

import functools
import math
from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

MATMUL_ENTRIES = 2**20
MATMUL_DENSITY = 0.1
DIMENSIONS = ("NHWC", "HWIO", "NHWC")


def lax_conv(x, kernel, strides):
  return jax.lax.conv_general_dilated(x, kernel, strides, "SAME", dimension_numbers=DIMENSIONS)


def lax_conv_transpose(x, kernel, strides):
  """As Flax's nn.ConvTranspose (transpose_kernel=False)."""
  return jax.lax.conv_transpose(x, kernel, strides, "SAME", dimension_numbers=DIMENSIONS)


@functools.cache
def placement(op: Callable, image_shape: tuple[int, int], kernel_shape: tuple[int, int],
              strides: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int]]:
  """(P, (H', W')): P[i, o, t] = 1 where `op` takes input pixel i to output pixel o through
  kernel tap t (pixels and taps in row-major order)."""
  pixels, taps = math.prod(image_shape), math.prod(kernel_shape)
  with jax.ensure_compile_time_eval():
    one_hot_images = jnp.eye(pixels, dtype=jnp.float32).reshape(pixels, *image_shape, 1)
    one_tap_kernels = jnp.eye(taps, dtype=jnp.float32).reshape(*kernel_shape, 1, taps)
    out = np.asarray(op(one_hot_images, one_tap_kernels, strides))
  return out.reshape(pixels, -1, taps), out.shape[1:3]


def as_matmul(op: Callable, x: jax.Array, kernel: jax.Array, strides: tuple[int, int]) -> jax.Array:
  """op(x, kernel, strides) computed as x (flattened) times the dense matrix of the convolution."""
  (batch, height, width, channels), (kh, kw, _, features) = x.shape, kernel.shape
  p, (out_h, out_w) = placement(op, (height, width), (kh, kw), strides)
  matrix = jnp.einsum("iot,tcd->icod", p, kernel.reshape(kh * kw, channels, features))
  y = x.reshape(batch, -1) @ matrix.reshape(height * width * channels, -1)
  return y.reshape(batch, out_h, out_w, features)


def takes_matmul(op: Callable, x_shape, kernel_shape, strides) -> bool:
  """Whether the convolution's dense matrix is small and dense enough to run as a matmul."""
  p, _ = placement(op, tuple(x_shape[1:3]), tuple(kernel_shape[:2]), strides)
  entries = p.shape[0] * p.shape[1] * kernel_shape[2] * kernel_shape[3]
  return entries <= MATMUL_ENTRIES and np.count_nonzero(p) >= MATMUL_DENSITY * p.shape[0] * p.shape[1]


def _dispatch(op: Callable, x, kernel, strides, matmul: bool | None):
  strides = tuple(strides)
  if matmul is None:
    matmul = takes_matmul(op, x.shape, kernel.shape, strides)
  return as_matmul(op, x, kernel, strides) if matmul else op(x, kernel, strides)


def conv(x, kernel, strides, matmul: bool | None = None):
  """'SAME' convolution, NHWC × HWIO; matmul: force (True) or forbid (False) the matmul form,
  None decides by size."""
  return _dispatch(lax_conv, x, kernel, strides, matmul)


def conv_transpose(x, kernel, strides, matmul: bool | None = None):
  """'SAME' transposed convolution as Flax's nn.ConvTranspose; matmul as in `conv`."""
  return _dispatch(lax_conv_transpose, x, kernel, strides, matmul)


class ConvTranspose(nn.Module):
  """Flax's nn.ConvTranspose ('SAME', same parameters and initialisation), small ones as a matmul."""

  features: int
  kernel_size: tuple[int, int]
  strides: tuple[int, int]
  matmul: bool | None = None

  @nn.compact
  def __call__(self, x):
    kernel = self.param("kernel", nn.linear.default_kernel_init,
                        (*self.kernel_size, x.shape[-1], self.features))
    bias = self.param("bias", nn.initializers.zeros, (self.features,))
    return conv_transpose(x, kernel, self.strides, self.matmul) + bias
