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
  """k×k 'SAME' convolution, NHWC: the critics' convolution, which they may spectrally normalise;
  `form` as gdiv.models.convolution.conv."""

  features: int
  strides: int = 1
  form: str | None = None
  kernel_size: int = 3

  @nn.compact
  def __call__(self, x):
    kernel = self.param("kernel", convolution.conv_kernel_init,
                        (self.kernel_size, self.kernel_size, x.shape[-1], self.features))
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


def conv_critic(x: jax.Array, name: str, image_shape: tuple[int, ...], layers: Sequence[tuple[int, int, int]],
                slope: float, spectral_norm: bool, m: int, form: str | None, train: bool) -> jax.Array:
  """V(x) for flattened images x (batch, H·W·C): packed m at a time, the convolutions `layers`
  ((kernel, stride, channels) each, leaky ReLU `slope`), then a linear read-out; every layer
  spectrally normalised if `spectral_norm`. Called inside a module's compact method."""
  shape = hwc(image_shape)
  if x.ndim != 2 or x.shape[1] != math.prod(shape):
    raise ValueError(f"{name} for {'×'.join(map(str, shape))} images expects flattened images of shape "
                     f"(batch, {math.prod(shape)}); got {tuple(x.shape)}.")
  x = pack(x.reshape(x.shape[0], *shape), m)
  for kernel_size, strides, channels in layers:
    x = nn.leaky_relu(normalised(NormalisedConv(channels, strides, form, kernel_size), spectral_norm, train)(x), slope)
  return normalised(NormalisedDense(1), spectral_norm, train)(x.reshape(x.shape[0], -1))[..., 0]


class ConvCritic(nn.Module):
  """DCGAN-style critic for flattened images (batch, H·W·C), image_shape (H, W) or (H, W, C).

  Two stride-2 3×3 convolutions (32, 64 channels, leaky ReLU 0.2) and a linear
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
    return conv_critic(x, "ConvCritic", self.image_shape, [(3, 2, c) for c in self.channels], 0.2,
                       self.spectral_norm, self.pack, self.form, train)


# SNGAN's "standard CNN" discriminator (Miyato et al. 2018, Table 3): (kernel, stride, channels)
STANDARD_CNN = ((3, 1, 64), (4, 2, 64), (3, 1, 128), (4, 2, 128), (3, 1, 256), (4, 2, 256), (3, 1, 512))


class StandardCNNCritic(nn.Module):
  """SNGAN's "standard CNN" critic (Miyato et al. 2018) for flattened images (batch, H·W·C): seven
  convolutions, 3×3 stride 1 alternating with 4×4 stride 2 (64, 64, 128, 128, 256, 256, 512
  channels), leaky ReLU 0.1, a linear read-out; spectrally normalised by default. `width` scales
  every channel count (1: the paper's); pack and form as in ConvCritic."""

  image_shape: tuple[int, ...] = (32, 32, 3)
  width: float = 1.0
  spectral_norm: bool = True
  pack: int = 1
  form: str | None = None

  @nn.compact
  def __call__(self, x, train: bool = False):
    layers = [(k, s, max(1, round(c * self.width))) for k, s, c in STANDARD_CNN]
    return conv_critic(x, "StandardCNNCritic", self.image_shape, layers, 0.1, self.spectral_norm, self.pack,
                       self.form, train)
