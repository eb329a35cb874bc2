"""An explicit mixture of diagonal Gaussians with learnable weights, means and scales."""

from __future__ import annotations

from typing import ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp

from gdiv.models.base import Model, diagonal_normal_log_density


class MixtureOfGaussians(Model):
  """q(x) = Σ_k π_k N(x; μ_k, diag σ_k²), π = softmax(logits).

  log_prob is exact (log-sum-exp over components). Sampling picks a component
  k ~ Categorical(π), then x = μ_k + σ_k ⊙ ε: gradients reach the means and
  scales through samples, but not the weights (the categorical choice is not
  differentiable, and no relaxation is used). Adversarial objectives therefore
  leave π at its initial value; 'mle' and 'hybrid' train it through log_prob.
  """

  num_components: int = 8
  init_spread: float = 1.0
  has_log_prob: ClassVar[bool] = True
  differentiable_samples: ClassVar[bool] = True

  def setup(self):
    self.logits = self.param("logits", nn.initializers.zeros, (self.num_components,))
    self.means = self.param("means", nn.initializers.normal(self.init_spread),
                            (self.num_components, self.dim))
    self.log_scales = self.param("log_scales", nn.initializers.zeros, (self.num_components, self.dim))

  def sample(self, key, n: int):
    component_key, noise_key = jax.random.split(key)
    k = jax.random.categorical(component_key, jax.lax.stop_gradient(self.logits), shape=(n,))
    eps = jax.random.normal(noise_key, (n, self.dim))
    return self.means[k] + jnp.exp(self.log_scales[k]) * eps

  def log_prob(self, x):
    log_components = diagonal_normal_log_density(x[:, None, :], self.means, self.log_scales)
    return jax.nn.logsumexp(log_components + jax.nn.log_softmax(self.logits), axis=-1)
