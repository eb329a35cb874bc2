"""Multilayer perceptrons, maxout units and the MLP implicit generator."""

from __future__ import annotations

from typing import Callable, ClassVar, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from gdiv.models.base import Model

ACTIVATIONS: dict[str, Callable] = {"tanh": nn.tanh, "relu": nn.relu, "leaky_relu": nn.leaky_relu,
                                    "elu": nn.elu}
BATCH_NORM_MOMENTUM = 0.9  # running statistics r ← 0.9·r + 0.1·batch's, as PyTorch's and DCGAN's


def kernel_init(init_std: float | None) -> Callable:
  """Weights ~ N(0, init_std²) (DCGAN / PacGAN: 0.02), or Flax's default (LeCun normal) if None."""
  return nn.linear.default_kernel_init if init_std is None else nn.initializers.normal(init_std)


def activation_fn(name: str) -> Callable:
  if name not in ACTIVATIONS:
    raise ValueError(f"Unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}.")
  return ACTIVATIONS[name]


def maxout(h: jax.Array, pieces: int) -> jax.Array:
  """Maxout units (Goodfellow et al., ICML 2013): y_i = max_k h_{i·pieces + k}, k < pieces.

  h is a layer's pre-activation x W + b of width·pieces features (last axis);
  each unit takes the max over its `pieces` consecutive features, so y has
  `width` features.
  """
  if pieces < 1 or h.shape[-1] % pieces:
    raise ValueError(f"Maxout needs pieces ≥ 1 dividing the feature count; got pieces={pieces} "
                     f"for {h.shape[-1]} features.")
  return jnp.max(h.reshape(*h.shape[:-1], h.shape[-1] // pieces, pieces), axis=-1)


class MLP(nn.Module):
  """Dense layers of the given widths with an activation between them.

  zero_init_last: start the output layer at zero (a flow layer then starts as
  the identity).
  batch_norm: batch normalisation after each hidden Dense, before the
  activation; `train` normalises with the batch's statistics and updates the
  running ones (collection `batch_stats`), otherwise the running ones are used.
  Those Dense layers then have no bias: batch norm's own shift β replaces it
  (a bias before it has zero gradient, and Adam would turn rounding noise in
  that gradient into steps).
  init_std: weights ~ N(0, init_std²) instead of Flax's default (`kernel_init`).
  """

  widths: Sequence[int]
  activation: str = "relu"
  zero_init_last: bool = False
  batch_norm: bool = False
  init_std: float | None = None

  @nn.compact
  def __call__(self, x, train: bool = False):
    act = activation_fn(self.activation)
    for width in self.widths[:-1]:
      x = nn.Dense(width, use_bias=not self.batch_norm, kernel_init=kernel_init(self.init_std))(x)
      if self.batch_norm:
        x = nn.BatchNorm(use_running_average=not train, momentum=BATCH_NORM_MOMENTUM)(x)
      x = act(x)
    init = nn.initializers.zeros if self.zero_init_last else kernel_init(self.init_std)
    return nn.Dense(self.widths[-1], kernel_init=init)(x)


class MLPGenerator(Model):
  """Implicit generator x = G_θ(z), z ~ N(0, I_latent_dim); no log_prob.

  batch_norm: as PacGAN's generator (4×400 ReLU with batch norm); the model
  then has state, and `sample(key, n, train)` uses the batch's statistics when
  train, the running ones otherwise. init_std: as in `MLP`.
  """

  hidden: Sequence[int] = (64, 64)
  latent_dim: int = 2
  activation: str = "relu"
  batch_norm: bool = False
  init_std: float | None = None
  has_log_prob: ClassVar[bool] = False
  differentiable_samples: ClassVar[bool] = True

  @nn.compact
  def sample(self, key, n: int, train: bool = False):
    z = jax.random.normal(key, (n, self.latent_dim))
    return MLP((*self.hidden, self.dim), self.activation, batch_norm=self.batch_norm,
               init_std=self.init_std)(z, train)
