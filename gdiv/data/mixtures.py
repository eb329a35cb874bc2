"""Gaussian mixtures with known density: 1-D and n-D targets, the 2-D ring and grid.

  p(x) = Σ_k w_k N(x; μ_k, diag σ_k²)
"""

from __future__ import annotations

import dataclasses
import math
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np


@dataclasses.dataclass(frozen=True, eq=False)
class GaussianMixture:
  """Mixture of diagonal Gaussians; weights (K,), means (K, D), stds (K, D).

  Construct with `GaussianMixture.create(weights, means, stds)`, which checks
  the parameters and broadcasts scalars per component to (K, D).
  """

  weights: np.ndarray
  means: np.ndarray
  stds: np.ndarray

  @classmethod
  def create(cls, weights: Sequence[float], means, stds) -> "GaussianMixture":
    weights = np.asarray(weights, np.float64)
    means = np.asarray(means, np.float64)
    stds = np.asarray(stds, np.float64)
    if weights.ndim != 1 or weights.size == 0:
      raise ValueError(f"Mixture weights must be a non-empty list; got shape {weights.shape}.")
    k = weights.size
    if means.ndim == 1:
      means = means[:, None]
    if stds.ndim == 1:
      stds = stds[:, None]
    if means.shape[0] != k or stds.shape[0] != k:
      raise ValueError(f"Mixture lists differ in length: {k} weights, {means.shape[0]} means, "
                       f"{stds.shape[0]} stds; give one weight, mean and std per component.")
    stds = np.broadcast_to(stds, means.shape).copy()
    if np.any(weights < 0) or abs(weights.sum() - 1.0) > 1e-6:
      raise ValueError(f"Mixture weights must be non-negative and sum to 1; got {weights.tolist()} "
                       f"(sum {weights.sum():.6g}). Normalise them.")
    if not np.all(np.isfinite(means)):
      raise ValueError("Mixture means must be finite.")
    if not np.all(stds > 0) or not np.all(np.isfinite(stds)):
      raise ValueError(f"Mixture stds must be positive and finite; got {stds.ravel().tolist()}.")
    return cls(weights=weights, means=means, stds=stds)

  @property
  def dim(self) -> int:
    return self.means.shape[1]

  @property
  def num_components(self) -> int:
    return self.weights.size

  def sample(self, key: jax.Array, n: int) -> jax.Array:
    """n samples, shape (n, dim), float32."""
    component_key, noise_key = jax.random.split(key)
    k = jax.random.choice(component_key, self.num_components, (n,), p=jnp.asarray(self.weights, jnp.float32))
    eps = jax.random.normal(noise_key, (n, self.dim))
    return jnp.asarray(self.means, jnp.float32)[k] + jnp.asarray(self.stds, jnp.float32)[k] * eps

  def log_prob(self, x: jax.Array) -> jax.Array:
    """log p(x) for x of shape (n, dim), by log-sum-exp over components."""
    dtype = jnp.result_type(x, jnp.float32)
    means, stds = jnp.asarray(self.means, dtype), jnp.asarray(self.stds, dtype)
    z = (x[:, None, :] - means) / stds
    log_components = (-0.5 * jnp.sum(z**2, -1) - jnp.sum(jnp.log(stds), -1)
                      - 0.5 * self.dim * math.log(2 * math.pi))
    return jax.nn.logsumexp(log_components + jnp.log(jnp.asarray(self.weights, dtype)), axis=-1)

  def mean(self) -> np.ndarray:
    return self.weights @ self.means

  def std(self) -> np.ndarray:
    """Per-dimension standard deviation of the mixture (moment matching)."""
    second = self.weights @ (self.stds**2 + self.means**2)
    return np.sqrt(second - self.mean() ** 2)


def ring(num_modes: int = 8, radius: float = 1.0, std: float = 0.01) -> GaussianMixture:
  """Equal-weight modes at radius·(cos 2πk/K, sin 2πk/K), k = 0..K-1 (PacGAN/VEEGAN: 8, 1, 0.01)."""
  angles = 2 * np.pi * np.arange(num_modes) / num_modes
  means = radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)
  return GaussianMixture.create(np.full(num_modes, 1.0 / num_modes), means, np.full(num_modes, std))


def grid(points_per_side: int = 5, spacing: float = 2.0, std: float = 0.05) -> GaussianMixture:
  """Equal-weight modes on a centred square grid (PacGAN/VEEGAN: 5×5 at {-4,-2,0,2,4}², std 0.05)."""
  coords = spacing * (np.arange(points_per_side) - (points_per_side - 1) / 2)
  means = np.stack(np.meshgrid(coords, coords, indexing="ij"), axis=-1).reshape(-1, 2)
  k = means.shape[0]
  return GaussianMixture.create(np.full(k, 1.0 / k), means, np.full(k, std))
