"""Convolutions as matmuls: one dense matrix for small images, image patches (im2col) for large ones.

Dense: a 'SAME' convolution (or transposed convolution) of an H×W×C_in image is a
linear map to H'×W'×C_out: y = x M, with M[(i, c), (o, d)] = K[t(i, o), c, d]
where tap t(i, o) of the kernel K takes input pixel i to output pixel o (and
M = 0 where none does). The placement t(i, o) depends on the shapes only; it
follows from lax's 'SAME' padding rule (`_axis_taps`, shared with the patches
form), and the tests check M against lax's own convolutions. On small
images (the 8×8 digits) M is small and mostly non-zero, and XLA's CPU backend
runs the matmul, and its gradients, far faster than the convolution.

Patches (`as_patches`): for larger images M is mostly zeros. A convolution is
then one matmul of the image's shifted copies by the taps (im2col); a
transposed one, its adjoint, one matmul of the image by every tap, whose
products are added at their shifted places (col2im, s² phases interleaved
depth-to-space). On a CPU both, with their gradients, beat XLA's own
convolutions and PyTorch's at 28×28 (docs/performance.md).

`conv` and `conv_transpose` take 'dense' where M has at most `MATMUL_ENTRIES`
entries and at least `MATMUL_DENSITY` of them non-zero, 'patches' otherwise;
`form` forces one ('lax': lax's own convolution).
"""

from __future__ import annotations

import functools
import itertools
import math
from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

MATMUL_ENTRIES = 2**20
MATMUL_DENSITY = 0.1
COL2IM_FLOATS = 2**20
DIMENSIONS = ("NHWC", "HWIO", "NHWC")


def conv_kernel_init(key, shape, dtype=jnp.float32) -> jax.Array:
  """Flax's default (LeCun normal, fan_in = k_h·k_w·C_in) for a k_h×k_w×C_in×C_out kernel, drawn as the
  (k_h·k_w·C_in, C_out) matrix and reshaped: the same values, which XLA's CPU backend compiles in a
  quarter of the time (0.4 against 1.6 s per kernel)."""
  return nn.linear.default_kernel_init(key, (math.prod(shape[:-1]), shape[-1]), dtype).reshape(shape)


def lax_conv(x, kernel, strides):
  return jax.lax.conv_general_dilated(x, kernel, strides, "SAME", dimension_numbers=DIMENSIONS)


def lax_conv_transpose(x, kernel, strides):
  """As Flax's nn.ConvTranspose (transpose_kernel=False)."""
  return jax.lax.conv_transpose(x, kernel, strides, "SAME", dimension_numbers=DIMENSIONS)


@functools.cache
def placement(op: Callable, image_shape: tuple[int, int], kernel_shape: tuple[int, int],
              strides: tuple[int, int]) -> tuple[np.ndarray, tuple[int, int]]:
  """(P, (H', W')): P[i, o, t] = 1 where `op` takes input pixel i to output pixel o through
  kernel tap t (pixels and taps in row-major order), from `_axis_taps` (numpy: nothing compiles)."""
  transposed = op is lax_conv_transpose
  per_axis = []
  for size, k, s in zip(image_shape, kernel_shape, strides):
    sigma, phases = _axis_taps(transposed, k, s, size)
    out = size * s if transposed else -(-size // s)
    a = np.zeros((size, out, k), np.float32)
    for o in range(out):
      p, phase = divmod(o, len(phases))
      for t, delta in phases[phase]:
        if 0 <= sigma * p + delta < size:
          a[sigma * p + delta, o, t] = 1.0
    per_axis.append(a)
  (ay, ax), (out_h, out_w) = per_axis, (per_axis[0].shape[1], per_axis[1].shape[1])
  p = np.einsum("iot,jpu->ijoptu", ay, ax).reshape(math.prod(image_shape), out_h * out_w, math.prod(kernel_shape))
  return p, (out_h, out_w)


def as_matmul(op: Callable, x: jax.Array, kernel: jax.Array, strides: tuple[int, int]) -> jax.Array:
  """op(x, kernel, strides) computed as x (flattened) times the dense matrix of the convolution."""
  (batch, height, width, channels), (kh, kw, _, features) = x.shape, kernel.shape
  p, (out_h, out_w) = placement(op, (height, width), (kh, kw), strides)
  matrix = jnp.einsum("iot,tcd->icod", p, kernel.reshape(kh * kw, channels, features))
  y = x.reshape(batch, -1) @ matrix.reshape(height * width * channels, -1)
  return y.reshape(batch, out_h, out_w, features)


def _axis_taps(transposed: bool, k: int, s: int, size: int) -> tuple[int, list[list[tuple[int, int]]]]:
  """Along one axis: (σ, pairs), where output pixel S·p + φ (S = s transposed, 1 otherwise) reads
  input pixel σ·p + δ through kernel tap t for each (t, δ) in pairs[φ] (inputs outside the image
  are zero).

  'SAME' convolution (lax's cross-correlation): output p reads s·p - pad + t, pad = ⌊total/2⌋,
  total = max((⌈size/s⌉ - 1)·s + k - size, 0); σ = s, one phase.
  'SAME' transposed convolution (lax.conv_transpose): the input dilated by s, padded by a below,
  then correlated with K, so output o reads input (o - a + t)/s where that is an integer; with
  o = s·p + φ: δ = (φ - a + t)/s; σ = 1, s phases (the sub-pixel, depth-to-space form).
  """
  if transposed:
    before = k - 1 if s > k - 1 else math.ceil((k + s - 2) / 2)
    return 1, [[(t, (phase - before + t) // s) for t in range(k) if (phase - before + t) % s == 0]
               for phase in range(s)]
  total = max((-(-size // s) - 1) * s + k - size, 0)
  return s, [[(t, t - total // 2) for t in range(k)]]


def as_patches(op: Callable, x: jax.Array, kernel: jax.Array, strides: tuple[int, int]) -> jax.Array:
  """op(x, kernel, strides) as matmuls: im2col for a convolution, col2im for a transposed one."""
  return (_col2im if op is lax_conv_transpose else _im2col)(x, kernel, strides)


def _im2col(x: jax.Array, kernel: jax.Array, strides: tuple[int, int]) -> jax.Array:
  """'SAME' convolution: y[p] = Σ_(t, δ) x[s·p + δ] K[t] over the (tap, offset) pairs of `_axis_taps`,
  one (pixels × k²C) by (k²C × F) matmul of the image's shifted copies, side by side, by the taps."""
  (batch, height, width, channels), (kh, kw, _, features) = x.shape, kernel.shape
  (sy, [pairs_y]), (sx, [pairs_x]) = [_axis_taps(False, k, s, size)
                                      for k, s, size in zip((kh, kw), strides, (height, width))]
  out_h, out_w = -(-height // sy), -(-width // sx)
  below_y, below_x = -pairs_y[0][1], -pairs_x[0][1]
  padded = jnp.pad(x, ((0, 0), (below_y, max(0, sy * (out_h - 1) + pairs_y[-1][1] - height + 1)),
                       (below_x, max(0, sx * (out_w - 1) + pairs_x[-1][1] - width + 1)), (0, 0)))
  shifted = [padded[:, below_y + dy:below_y + dy + sy * (out_h - 1) + 1:sy,
                    below_x + dx:below_x + dx + sx * (out_w - 1) + 1:sx] for _, dy in pairs_y for _, dx in pairs_x]
  patches = jnp.concatenate(shifted, axis=-1).reshape(-1, kh * kw * channels)
  return (patches @ kernel.reshape(kh * kw * channels, features)).reshape(batch, out_h, out_w, features)


def _col2im(x: jax.Array, kernel: jax.Array, strides: tuple[int, int]) -> jax.Array:
  """'SAME' transposed convolution, the adjoint of im2col: the image times the taps, Y_t = x K[t],
  as one (pixels × C) by (C × k²F) matmul; output phase φ of s² (depth-to-space) then sums the
  products of the taps that reach it, shifted: y[s·p + φ] = Σ_(t, δ) Y_t[p + δ] (`_axis_taps`).
  A product over `COL2IM_FLOATS` runs as one matmul per phase instead (measured faster on CPU:
  docs/performance.md). Products are split apart, never sliced: the gradient of a split is one
  concatenation, that of each slice a zero-padded copy of the whole product."""
  (batch, height, width, channels), (kh, kw, _, features) = x.shape, kernel.shape
  (_, phases_y), (_, phases_x) = [_axis_taps(True, k, s, size)
                                  for k, s, size in zip((kh, kw), strides, (height, width))]
  phases = [list(itertools.product(pairs_y, pairs_x)) for pairs_y in phases_y for pairs_x in phases_x]
  by_matmul = [phases] if x.size // channels * kh * kw * features <= COL2IM_FLOATS else [[taps] for taps in phases]
  products = []
  for group in by_matmul:
    taps = [tap for phase_taps in group for tap in phase_taps]
    if taps:  # a kernel smaller than the stride leaves some phases without taps
      weights = jnp.concatenate([kernel[ty, tx] for (ty, _), (tx, _) in taps], axis=1)
      products += jnp.split((x.reshape(-1, channels) @ weights).reshape(batch, height, width, -1), len(taps), -1)

  def shifted(y: jax.Array, dy: int, dx: int) -> jax.Array:  # z[p] = y[p + δ], zero outside
    y = jnp.pad(y, ((0, 0), (max(0, -dy), max(0, dy)), (max(0, -dx), max(0, dx)), (0, 0)))
    return y[:, max(0, dy):max(0, dy) + height, max(0, dx):max(0, dx) + width]

  products = iter(products)
  outputs = [sum((shifted(next(products), dy, dx) for (_, dy), (_, dx) in taps),
                 jnp.zeros((batch, height, width, features), x.dtype)) for taps in phases]
  y = jnp.stack(outputs, axis=3).reshape(batch, height, width, len(phases_y), len(phases_x), features)
  return y.transpose(0, 1, 3, 2, 4, 5).reshape(batch, height * len(phases_y), width * len(phases_x), features)


FORMS = {"dense": as_matmul, "patches": as_patches, "lax": lambda op, x, kernel, strides: op(x, kernel, strides)}


def default_form(op: Callable, x_shape, kernel_shape, strides) -> str:
  """'dense' where the convolution's dense matrix is small and dense enough to run as one
  matmul, 'patches' otherwise (both faster than lax's on CPU: docs/performance.md)."""
  image = tuple(x_shape[1:3])
  out = [n * s if op is lax_conv_transpose else -(-n // s) for n, s in zip(image, strides)]
  if math.prod(image) * math.prod(out) * kernel_shape[2] * kernel_shape[3] > MATMUL_ENTRIES:
    return "patches"
  p, _ = placement(op, image, tuple(kernel_shape[:2]), strides)
  return "dense" if np.count_nonzero(p) >= MATMUL_DENSITY * p.shape[0] * p.shape[1] else "patches"


def _dispatch(op: Callable, x, kernel, strides, form: str | None):
  strides = tuple(strides)
  if form is None:
    form = default_form(op, x.shape, kernel.shape, strides)
  if form not in FORMS:
    raise ValueError(f"Unknown convolution form {form!r}; choose among {', '.join(FORMS)} (or None: by size).")
  return FORMS[form](op, x, kernel, strides)


def conv(x, kernel, strides, form: str | None = None):
  """'SAME' convolution, NHWC × HWIO; form: 'dense', 'patches' or 'lax' (None: `default_form`)."""
  return _dispatch(lax_conv, x, kernel, strides, form)


def conv_transpose(x, kernel, strides, form: str | None = None):
  """'SAME' transposed convolution as Flax's nn.ConvTranspose; form as in `conv`."""
  return _dispatch(lax_conv_transpose, x, kernel, strides, form)


class ConvTranspose(nn.Module):
  """Flax's nn.ConvTranspose ('SAME', same parameters and initialisation), small ones as a matmul."""

  features: int
  kernel_size: tuple[int, int]
  strides: tuple[int, int]
  form: str | None = None

  @nn.compact
  def __call__(self, x):
    kernel = self.param("kernel", conv_kernel_init, (*self.kernel_size, x.shape[-1], self.features))
    bias = self.param("bias", nn.initializers.zeros, (self.features,))
    return conv_transpose(x, kernel, self.strides, self.form) + bias
