"""Critics V_ω(x) ∈ ℝ (the divergence applies g_f), with the stabilisers the literature uses.

  spectral_norm: every weight matrix W (a convolution kernel viewed as
    (fan_in, fan_out)) is divided by its largest singular value σ(W), which
    makes each layer 1-Lipschitz (Miyato et al., ICLR 2018). σ(W) ≈ uᵀWv is
    estimated by one power iteration per call from the vector u kept in the
    `batch_stats` collection (Flax's nn.SpectralNorm); a call with train=True
    stores the new u, so the estimate sharpens as training goes, as in the paper.
  pack: the critic judges m samples at once, concatenated (PacGAN, Lin et al.
    2018): a batch of B points becomes B/m packed inputs and V has B/m entries.
  activation="maxout": each hidden layer is width·pieces affine features and a
    max over each unit's pieces (PacGAN's critic: 3×200 maxout, 5 pieces).
"""

from __future__ import annotations

import functools
import math
from typing import Callable, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from gdiv.data.images import hwc
from gdiv.models import convolution
from gdiv.models.mlp import activation_fn, kernel_init, maxout


def pack(x: jax.Array, m: int) -> jax.Array:
  """(B, ..., C) → (B/m, ..., m·C): m consecutive samples side by side in the last axis."""
  if m == 1:
    return x
  if x.shape[0] % m:
    raise ValueError(f"Packing m={m} samples per critic input needs a batch size divisible by {m}; "
                     f"got {x.shape[0]}.")
  grouped = x.reshape(x.shape[0] // m, m, *x.shape[1:])
  return jnp.moveaxis(grouped, 1, -2).reshape(x.shape[0] // m, *x.shape[1:-1], m * x.shape[-1])


def normalised(layer: nn.Module, spectral_norm: bool, train: bool) -> Callable:
  """`layer`, or `layer` with its kernel W divided by σ(W) (nn.SpectralNorm; u stored if train)."""
  return functools.partial(nn.SpectralNorm(layer), update_stats=train) if spectral_norm else layer


class NormalisedDense(nn.Module):
  """x W + b: the critics' dense layer, which they may spectrally normalise (`normalised`)."""

  features: int
  init_std: float | None = None

  @nn.compact
  def __call__(self, x):
    kernel = self.param("kernel", kernel_init(self.init_std), (x.shape[-1], self.features))
    bias = self.param("bias", nn.initializers.zeros, (self.features,))
    return x @ kernel + bias


class NormalisedConv(nn.Module):
  """3×3 'SAME' convolution, NHWC: the critics' convolution, which they may spectrally normalise;
  `form` as gdiv.models.convolution.conv."""

  features: int
  strides: int = 1
  form: str | None = None

  @nn.compact
  def __call__(self, x):
    kernel = self.param("kernel", nn.linear.default_kernel_init, (3, 3, x.shape[-1], self.features))
    bias = self.param("bias", nn.initializers.zeros, (self.features,))
    return convolution.conv(x, kernel, (self.strides, self.strides), self.form) + bias


class MLPCritic(nn.Module):
  """V(x) for points of shape (batch, dim): an MLP, optionally spectrally normalised and packed.

  activation: a name in gdiv.models.mlp.ACTIVATIONS, or "maxout" with
  `maxout_pieces` pieces per unit (PacGAN: 5). init_std: weights ~ N(0, init_std²)
  instead of Flax's default (PacGAN: 0.02).
  """

  hidden: Sequence[int] = (64, 64)
  activation: str = "tanh"
  spectral_norm: bool = False
  pack: int = 1
  maxout_pieces: int = 5
  init_std: float | None = None

  @nn.compact
  def __call__(self, x, train: bool = False):
    pieces = self.maxout_pieces if self.activation == "maxout" else 1
    act = (functools.partial(maxout, pieces=pieces) if self.activation == "maxout"
           else activation_fn(self.activation))
    x = pack(x, self.pack)
    for width in self.hidden:
      x = act(normalised(NormalisedDense(width * pieces, self.init_std), self.spectral_norm, train)(x))
    return normalised(NormalisedDense(1, self.init_std), self.spectral_norm, train)(x)[..., 0]


class ConvCritic(nn.Module):
  """DCGAN-style critic for flattened images (batch, H·W·C), image_shape (H, W) or (H, W, C).

  Two stride-2 3×3 convolutions (32, 64 channels, leaky ReLU) and a linear
  read-out; packing stacks m images as channels. `form`: how the
  convolutions run (gdiv.models.convolution; None decides by size).
  """

  image_shape: tuple[int, ...] = (8, 8)
  channels: Sequence[int] = (32, 64)
  spectral_norm: bool = False
  pack: int = 1
  form: str | None = None

  @nn.compact
  def __call__(self, x, train: bool = False):
    shape = hwc(self.image_shape)
    if x.ndim != 2 or x.shape[1] != math.prod(shape):
      raise ValueError(f"ConvCritic for {'×'.join(map(str, shape))} images expects flattened images of shape "
                       f"(batch, {math.prod(shape)}); got {tuple(x.shape)}.")
    x = pack(x.reshape(x.shape[0], *shape), self.pack)
    for channels in self.channels:
      x = nn.leaky_relu(normalised(NormalisedConv(channels, 2, self.form), self.spectral_norm, train)(x), 0.2)
    return normalised(NormalisedDense(1), self.spectral_norm, train)(x.reshape(x.shape[0], -1))[..., 0]
