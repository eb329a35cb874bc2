"""A Gaussian with learnable mean and diagonal scale."""

from __future__ import annotations

import math
from typing import ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp

from gdiv.models.base import Model, diagonal_normal_log_density


class Gaussian(Model):
  """Q_θ = N(μ, diag σ²), θ = (μ, log σ); explicit and reparameterised.

    sample:   x = μ + σ ⊙ ε,  ε ~ N(0, I)
    log_prob: log q(x) = -½ Σ_i ((x_i - μ_i)/σ_i)² - Σ_i log σ_i - (dim/2) log 2π
  """

  init_mean: float = 0.0
  init_scale: float = 1.0
  has_log_prob: ClassVar[bool] = True
  differentiable_samples: ClassVar[bool] = True

  def setup(self):
    self.mean = self.param("mean", nn.initializers.constant(self.init_mean), (self.dim,))
    self.log_scale = self.param("log_scale", nn.initializers.constant(math.log(self.init_scale)),
                                (self.dim,))

  def sample(self, key, n: int):
    return self.mean + jnp.exp(self.log_scale) * jax.random.normal(key, (n, self.dim))

  def log_prob(self, x):
    return diagonal_normal_log_density(x, self.mean, self.log_scale)
