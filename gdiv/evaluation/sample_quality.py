"""Sample-quality metrics that need no likelihood: precision/recall, PRD, modes, Fréchet."""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from gdiv.evaluation.checks import as_point_sets, as_points
from gdiv.evaluation.pairwise import map_row_blocks, squared_distances


@functools.partial(jax.jit, static_argnames="k")
def _kth_neighbour_radius(points: jax.Array, k: int) -> jax.Array:
  """Distance from each point to its k-th nearest other point (itself excluded)."""
  def block(rows, _):
    smallest = -jax.lax.top_k(-squared_distances(rows, points), k + 1)[0]  # column 0: the point itself
    return jnp.sqrt(smallest[:, k])
  return map_row_blocks(block, points)


@jax.jit
def _share_inside(queries: jax.Array, centres: jax.Array, radii: jax.Array) -> jax.Array:
  """Share of queries within radius_i of some centre_i (the k-NN manifold)."""
  def block(rows, _):
    d2 = squared_distances(rows, centres)
    return jnp.any(d2 <= radii[None, :] ** 2, axis=1)
  return jnp.mean(map_row_blocks(block, queries).astype(jnp.float32))


def precision_recall(real, fake, k: int = 3) -> dict:
  """Improved precision and recall (Kynkäänniemi et al., NeurIPS 2019).

  The manifold of a set is the union of balls around its points, each with
  radius the distance to its k-th nearest neighbour in the same set.
    precision = share of fake points inside the manifold of the real ones,
    recall    = share of real points inside the manifold of the fake ones.
  """
  if not isinstance(k, int) or k < 1:
    raise ValueError(f"k must be a positive integer; got {k!r}.")
  real, fake = as_point_sets(real, fake, "real", "fake", min_points=k + 1)
  real_radii = _kth_neighbour_radius(real, k)
  fake_radii = _kth_neighbour_radius(fake, k)
  return {"precision": float(_share_inside(fake, real, real_radii)),
          "recall": float(_share_inside(real, fake, fake_radii))}


def _f_beta(precision: np.ndarray, recall: np.ndarray, beta: float) -> float:
  """max over the curve of F_β = (1 + β²) p r / (β² p + r)."""
  denominator = beta**2 * precision + recall
  scores = np.where(denominator > 0, (1 + beta**2) * precision * recall / np.maximum(denominator, 1e-30), 0.0)
  return float(scores.max())


def prd(real, fake, num_clusters: int = 20, num_angles: int = 1001, num_runs: int = 10,
        seed: int = 0) -> dict:
  """Precision–recall for distributions (Sajjadi et al., NeurIPS 2018).

  Both sets are quantised by k-means (`num_clusters`) on their union; with
  histograms P (real) and Q (fake) and λ = tan(angle) over `num_angles`
  angles in (0, π/2):  α(λ) = Σ_i min(λ P_i, Q_i)  (precision),  β(λ) = α(λ)/λ
  (recall). Curves are averaged over `num_runs` clusterings. Returns the curve
  and F_8 (recall-weighted) and F_1/8 (precision-weighted), each the maximum
  of F_β along the curve.
  """
  from sklearn.cluster import MiniBatchKMeans

  real, fake = as_point_sets(real, fake, "real", "fake", min_points=num_clusters)
  real, fake = np.asarray(real), np.asarray(fake)
  union = np.concatenate([real, fake])
  slopes = np.tan(np.linspace(1e-10, math.pi / 2 - 1e-10, num_angles))
  precisions, recalls = [], []
  for run in range(num_runs):
    kmeans = MiniBatchKMeans(n_clusters=num_clusters, n_init=10, random_state=seed + run)
    labels = kmeans.fit(union).labels_
    p = np.bincount(labels[: len(real)], minlength=num_clusters) / len(real)
    q = np.bincount(labels[len(real):], minlength=num_clusters) / len(fake)
    alpha = np.minimum(slopes[:, None] * p[None, :], q[None, :]).sum(axis=1)
    precisions.append(np.clip(alpha, 0, 1))
    recalls.append(np.clip(alpha / slopes, 0, 1))
  precision, recall = np.mean(precisions, axis=0), np.mean(recalls, axis=0)
  return {"precision": precision, "recall": recall, "f_8": _f_beta(precision, recall, 8.0),
          "f_1_8": _f_beta(precision, recall, 1.0 / 8.0)}


def mode_metrics(samples, means, stds, threshold: float = 3.0) -> dict:
  """Mode coverage on mixtures with known modes (VEEGAN / PacGAN protocol).

  distance(x, k) = sqrt(Σ_d (x_d - μ_kd)² / σ_kd²); a sample is high quality
  if its nearest mode is closer than `threshold`. Returns
    modes:        modes that are the nearest mode of ≥ 1 high-quality sample,
    high_quality: share of high-quality samples,
    reverse_kl:   Σ_k q_k log(K q_k), q = histogram of high-quality samples over
                  the K modes (missing modes contribute 0); +inf if no sample
                  is high quality.
  """
  samples = as_points(samples, "samples")
  means = as_points(means, "means", dim=samples.shape[1])
  stds = jnp.broadcast_to(jnp.asarray(stds, jnp.float32), means.shape)
  if not bool(jnp.all(stds > 0)):
    raise ValueError("mode stds must be positive.")
  z = (samples[:, None, :] - means[None]) / stds[None]
  distance = jnp.sqrt(jnp.sum(z**2, axis=-1))
  nearest = np.asarray(jnp.argmin(distance, axis=1))
  good = np.asarray(jnp.min(distance, axis=1) < threshold)
  counts = np.bincount(nearest[good], minlength=means.shape[0])
  k = means.shape[0]
  if counts.sum() == 0:
    reverse_kl = math.inf
  else:
    q = counts / counts.sum()
    reverse_kl = float(np.sum(np.where(q > 0, q * np.log(k * np.maximum(q, 1e-300)), 0.0)))
  return {"modes": int(np.sum(counts > 0)), "high_quality": float(good.mean()),
          "reverse_kl": reverse_kl}


def frechet_distance(features_a, features_b) -> float:
  """‖μ_a - μ_b‖² + Tr(Σ_a + Σ_b - 2 (Σ_a Σ_b)^{1/2}), the Fréchet distance of two Gaussians.

  Tr (Σ_a Σ_b)^{1/2} = Σ sqrt(eig(Σ_a^{1/2} Σ_b Σ_a^{1/2})), a symmetric PSD
  eigenproblem (stable, no complex square roots). Computed in float64 numpy.
  """
  a, b = as_point_sets(features_a, features_b, "features_a", "features_b", min_points=2)
  a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
  mu_a, mu_b = a.mean(0), b.mean(0)
  cov_a, cov_b = np.atleast_2d(np.cov(a, rowvar=False)), np.atleast_2d(np.cov(b, rowvar=False))
  eigval, eigvec = np.linalg.eigh(cov_a)
  sqrt_a = (eigvec * np.sqrt(np.clip(eigval, 0, None))) @ eigvec.T
  cross = np.linalg.eigvalsh(sqrt_a @ cov_b @ sqrt_a)
  trace_sqrt = np.sum(np.sqrt(np.clip(cross, 0, None)))
  return float(np.sum((mu_a - mu_b) ** 2) + np.trace(cov_a) + np.trace(cov_b) - 2 * trace_sqrt)
