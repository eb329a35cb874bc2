"""Critics V_ω(x) ∈ ℝ (the divergence applies g_f), with the stabilisers the literature uses.

  spectral_norm: every weight matrix W is divided by its largest singular
    value σ(W), estimated by power iteration (Miyato et al., ICLR 2018), which
    makes each layer 1-Lipschitz. The iteration restarts from a fixed vector
    at every call (no state to carry), so it uses more iterations than the
    paper's one-per-step.
  pack: the critic judges m samples at once, concatenated (PacGAN, Lin et al.
    2018): a batch of B points becomes B/m packed inputs and V has B/m entries.
"""

from __future__ import annotations

from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from gdiv.models.mlp import activation_fn

POWER_ITERATIONS = 30


def spectral_normalise(kernel: jax.Array, iterations: int = POWER_ITERATIONS) -> jax.Array:
  """kernel / σ_max(kernel), with kernel viewed as a (fan_in, fan_out) matrix."""
  w = kernel.reshape(-1, kernel.shape[-1])
  v = jnp.ones((w.shape[1],), w.dtype) / jnp.sqrt(w.shape[1])
  for _ in range(iterations):
    u = w @ v
    u = u / (jnp.linalg.norm(u) + 1e-12)
    v = w.T @ u
    v = v / (jnp.linalg.norm(v) + 1e-12)
  u, v = jax.lax.stop_gradient(u), jax.lax.stop_gradient(v)
  return kernel / (u @ w @ v)


def pack(x: jax.Array, m: int) -> jax.Array:
  """(B, ..., C) → (B/m, ..., m·C): m consecutive samples side by side in the last axis."""
  if m == 1:
    return x
  if x.shape[0] % m:
    raise ValueError(f"Packing m={m} samples per critic input needs a batch size divisible by {m}; "
                     f"got {x.shape[0]}.")
  grouped = x.reshape(x.shape[0] // m, m, *x.shape[1:])
  return jnp.moveaxis(grouped, 1, -2).reshape(x.shape[0] // m, *x.shape[1:-1], m * x.shape[-1])


class NormalisedDense(nn.Module):
  features: int
  spectral_norm: bool = False

  @nn.compact
  def __call__(self, x):
    kernel = self.param("kernel", nn.linear.default_kernel_init, (x.shape[-1], self.features))
    bias = self.param("bias", nn.initializers.zeros, (self.features,))
    return x @ (spectral_normalise(kernel) if self.spectral_norm else kernel) + bias


class NormalisedConv(nn.Module):
  """3×3 'SAME' convolution, NHWC, with optional spectral normalisation."""

  features: int
  strides: int = 1
  spectral_norm: bool = False

  @nn.compact
  def __call__(self, x):
    kernel = self.param("kernel", nn.linear.default_kernel_init, (3, 3, x.shape[-1], self.features))
    bias = self.param("bias", nn.initializers.zeros, (self.features,))
    kernel = spectral_normalise(kernel) if self.spectral_norm else kernel
    y = jax.lax.conv_general_dilated(x, kernel, (self.strides, self.strides), "SAME",
                                     dimension_numbers=("NHWC", "HWIO", "NHWC"))
    return y + bias


class MLPCritic(nn.Module):
  """V(x) for points of shape (batch, dim): an MLP, optionally spectrally normalised and packed."""

  hidden: Sequence[int] = (64, 64)
  activation: str = "tanh"
  spectral_norm: bool = False
  pack: int = 1

  @nn.compact
  def __call__(self, x):
    act = activation_fn(self.activation)
    x = pack(x, self.pack)
    for width in self.hidden:
      x = act(NormalisedDense(width, self.spectral_norm)(x))
    return NormalisedDense(1, self.spectral_norm)(x)[..., 0]


class ConvCritic(nn.Module):
  """DCGAN-style critic for flattened single-channel images (batch, H·W).

  Two stride-2 3×3 convolutions (32, 64 channels, leaky ReLU) and a linear
  read-out; packing stacks m images as channels.
  """

  image_shape: tuple[int, int] = (8, 8)
  channels: Sequence[int] = (32, 64)
  spectral_norm: bool = False
  pack: int = 1

  @nn.compact
  def __call__(self, x):
    height, width = self.image_shape
    if x.ndim != 2 or x.shape[1] != height * width:
      raise ValueError(f"ConvCritic for {height}×{width} images expects flattened images of shape "
                       f"(batch, {height * width}); got {tuple(x.shape)}.")
    x = pack(x.reshape(x.shape[0], height, width, 1), self.pack)
    for channels in self.channels:
      x = nn.leaky_relu(NormalisedConv(channels, 2, self.spectral_norm)(x), 0.2)
    return NormalisedDense(1, self.spectral_norm)(x.reshape(x.shape[0], -1))[..., 0]
