"""A variational autoencoder with Gaussian encoder and decoder (Kingma & Welling, ICLR 2014).

  p_θ(x) = ∫ N(x; μ_θ(z), diag σ_θ(z)²) N(z; 0, I) dz,   q_φ(z|x) = N(z; m_φ(x), diag s_φ(x)²).

log p(x) is intractable; training maximises the ELBO
  L(x) = E_q[log p_θ(x|z)] - KL(q_φ(z|x) || N(0, I)) ≤ log p(x)
(one reparameterised sample, the KL in closed form), and evaluation uses the
importance-weighted bound (Burda et al. 2016)
  L_K(x) = E[log (1/K) Σ_k p_θ(x, z_k)/q_φ(z_k|x)],  L = L_1 ≤ L_K ≤ log p(x), L_K → log p(x).
Samples x = μ_θ(z) + σ_θ(z)·ε are reparameterised. `linear_decoder` makes
p_θ(x) Gaussian with a closed form, for tests.
"""

from __future__ import annotations

import math
from typing import ClassVar, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
from jax.scipy.stats import norm

from gdiv.models.base import Model, diagonal_normal_log_density
from gdiv.models.mlp import MLP


class VAE(Model):
  latent_dim: int = 2
  hidden: Sequence[int] = (64, 64)
  linear_decoder: bool = False
  has_log_prob: ClassVar[bool] = True
  differentiable_samples: ClassVar[bool] = True
  log_prob_is_bound: ClassVar[bool] = True

  def setup(self):
    self.encoder = MLP((*self.hidden, 2 * self.latent_dim), "relu")
    if self.linear_decoder:  # x = Wz + b + σ⊙ε: p(x) = N(b, WWᵀ + diag σ²)
      self.decoder = nn.Dense(self.dim)
      self.decoder_log_scale = self.param("decoder_log_scale", nn.initializers.zeros, (self.dim,))
    else:
      self.decoder = MLP((*self.hidden, 2 * self.dim), "relu")

  def _decode(self, z):
    if self.linear_decoder:
      mean = self.decoder(z)
      return mean, jnp.broadcast_to(self.decoder_log_scale, mean.shape)
    out = self.decoder(z)
    return out[..., :self.dim], out[..., self.dim:]

  def _encode(self, x):
    out = self.encoder(x)
    return out[..., :self.latent_dim], out[..., self.latent_dim:]

  def sample(self, key, n: int):
    if self.is_initializing():  # models are initialised through `sample`: create the encoder too
      self._encode(jnp.zeros((1, self.dim)))
    z_key, x_key = jax.random.split(key)
    mean, log_scale = self._decode(jax.random.normal(z_key, (n, self.latent_dim)))
    return mean + jnp.exp(log_scale) * jax.random.normal(x_key, mean.shape)

  def _log_joint_over_q(self, x, z, z_mean, z_log_scale):
    """log p(x|z) + log p(z) - log q(z|x)."""
    x_mean, x_log_scale = self._decode(z)
    log_lik = diagonal_normal_log_density(x, x_mean, x_log_scale)
    log_prior = jnp.sum(norm.logpdf(z), -1)
    log_q = diagonal_normal_log_density(z, z_mean, z_log_scale)
    return log_lik + log_prior - log_q

  def elbo(self, x, key):
    """One-sample reparameterised ELBO with the Gaussian KL in closed form."""
    z_mean, z_log_scale = self._encode(x)
    z = z_mean + jnp.exp(z_log_scale) * jax.random.normal(key, z_mean.shape)
    x_mean, x_log_scale = self._decode(z)
    log_lik = diagonal_normal_log_density(x, x_mean, x_log_scale)
    kl = 0.5 * jnp.sum(jnp.exp(2 * z_log_scale) + z_mean**2 - 1.0 - 2 * z_log_scale, -1)
    return log_lik - kl

  def iwae(self, x, key, num_samples: int = 64):
    """Importance-weighted bound L_K with K = num_samples."""
    z_mean, z_log_scale = self._encode(x)
    eps = jax.random.normal(key, (num_samples,) + z_mean.shape)
    z = z_mean + jnp.exp(z_log_scale) * eps
    log_w = jax.vmap(lambda zk: self._log_joint_over_q(x, zk, z_mean, z_log_scale))(z)
    return jax.nn.logsumexp(log_w, axis=0) - math.log(num_samples)

  def training_log_prob(self, x, key):
    return self.elbo(x, key)

  def log_prob(self, x):
    raise NotImplementedError("A VAE's log p(x) is intractable: use iwae(x, key, K) (gdiv.evaluation.nll "
                              "does) or the ELBO.")
