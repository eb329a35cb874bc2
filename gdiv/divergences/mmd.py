"""Maximum mean discrepancy as a training objective (no critic network).

  MMD²(P, Q) = E k(x, x') + E k(y, y') - 2 E k(x, y),   k = Σ_b exp(-‖x - y‖²/(2 h_b²)),

estimated without bias on each batch (Gretton et al. 2012; as a generator loss:
Li, Swersky, Zemel 2015; Dziugaite, Roy, Ghahramani 2015). Bandwidths are the
batch's median pairwise distance times (½, 1, 2), held constant for the gradient.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from gdiv.divergences.base import SampleDistance

BANDWIDTH_MULTIPLIERS = (0.5, 1.0, 2.0)


def squared_distances(a: jax.Array, b: jax.Array) -> jax.Array:
  """‖a_i - b_j‖², shape (len(a), len(b)), clipped at 0 against rounding."""
  cross = a @ b.T
  return jnp.maximum(jnp.sum(a**2, 1)[:, None] + jnp.sum(b**2, 1)[None, :] - 2 * cross, 0.0)


def gaussian_kernel_sum(d2: jax.Array, bandwidths: jax.Array) -> jax.Array:
  """k = Σ_b exp(-d² / (2 h_b²)) for squared distances d2 (any shape)."""
  return jnp.sum(jnp.exp(-d2[..., None] / (2 * bandwidths**2)), axis=-1)


def mmd2_unbiased(x: jax.Array, y: jax.Array, bandwidths: jax.Array) -> jax.Array:
  """Unbiased MMD² of two batches (full pairwise matrices: for training-sized batches)."""
  m, n = x.shape[0], y.shape[0]
  self_k = bandwidths.shape[0]  # k(x, x) for a sum of Gaussian kernels
  xx = (jnp.sum(gaussian_kernel_sum(squared_distances(x, x), bandwidths)) - m * self_k) / (m * (m - 1))
  yy = (jnp.sum(gaussian_kernel_sum(squared_distances(y, y), bandwidths)) - n * self_k) / (n * (n - 1))
  xy = jnp.mean(gaussian_kernel_sum(squared_distances(x, y), bandwidths))
  return xx + yy - 2 * xy


MEDIAN_POINTS = 64  # points of each batch the median is taken over (a sort per step: keep it small)


def median_heuristic(x: jax.Array, y: jax.Array) -> jax.Array:
  """Median pairwise distance of (the first 64 points of each of) the batches × (½, 1, 2), no gradient."""
  pooled = jax.lax.stop_gradient(jnp.concatenate([x[:MEDIAN_POINTS], y[:MEDIAN_POINTS]]))
  d2 = squared_distances(pooled, pooled)
  upper = d2[jnp.triu_indices(pooled.shape[0], k=1)]
  return jnp.sqrt(jnp.median(upper)) * jnp.asarray(BANDWIDTH_MULTIPLIERS)


@dataclasses.dataclass(frozen=True)
class MMD(SampleDistance):
  """The model minimises the unbiased batch MMD²; there is no critic to train."""

  name: str = "mmd"
  estimate_name = "mmd2"
  unbiased = True

  def distance(self, x, y, key=None):
    return mmd2_unbiased(x, y, median_heuristic(x, y))


MMD_OBJECTIVE = MMD()
