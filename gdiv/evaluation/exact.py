"""Exact f-divergences by numerical integration, for studies that know both densities."""

from __future__ import annotations

import math
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
import scipy.optimize

from gdiv.data import GaussianMixture
from gdiv.divergences import FDivergence

LogDensity = Callable[[jax.Array], jax.Array]
_MAX_LOG_RATIO = 700.0  # exp stays finite in float64


def _f_integrand(divergence: FDivergence, log_p: jax.Array, log_q: jax.Array) -> jax.Array:
  """q f(p/q), written as p·f(u)/u where p > q so that neither factor overflows.

  The log-ratio is clipped at ±700; only where one density is below e^-700
  times the other does this matter, and there the divergence is already huge.
  """
  log_ratio = jnp.clip(log_p - log_q, -_MAX_LOG_RATIO, _MAX_LOG_RATIO)
  u = jnp.exp(log_ratio)
  p_larger = log_ratio > 0
  weight = jnp.exp(jnp.where(p_larger, log_p, log_q))
  value = jnp.where(p_larger, divergence.f(u) / u, divergence.f(u))
  return jnp.where(weight > 0, weight * value, 0.0)


def _integrate(divergence: FDivergence, log_p: LogDensity, log_q: LogDensity, axes) -> jax.Array:
  """∫ q f(p/q) by the trapezoid rule on the tensor grid spanned by `axes`."""
  mesh = jnp.meshgrid(*axes, indexing="ij")
  points = jnp.stack(mesh, axis=-1).reshape(-1, len(axes))
  values = _f_integrand(divergence, log_p(points), log_q(points)).reshape(mesh[0].shape)
  for axis in reversed(axes):
    values = jnp.trapezoid(values, axis, axis=-1)
  return values


def exact_f_divergence(divergence: FDivergence, log_p: LogDensity, log_q: LogDensity,
                       grid) -> float:
  """D_f(P||Q) = ∫ q(x) f(p(x)/q(x)) dx by the trapezoid rule, in float64.

  grid: a 1-D array of points (1-D densities) or a pair (xs, ys) of 1-D arrays
  spanning a 2-D tensor grid. log_p, log_q map points of shape (n, D) to
  log-densities of shape (n,). The grid must cover the mass of both densities
  (and, for Pearson and Neyman χ², their tails); +inf is returned where the
  divergence diverges on it.
  """
  axes = tuple(grid) if isinstance(grid, (tuple, list)) else (grid,)
  with jax.enable_x64(True):
    axes = tuple(jnp.asarray(a, jnp.float64) for a in axes)
    if len(axes) not in (1, 2) or any(a.ndim != 1 or a.size < 3 for a in axes):
      raise ValueError("exact_f_divergence integrates on a 1-D grid (an array of ≥ 3 points) or a "
                       "2-D one (a pair of such arrays); got shapes "
                       f"{[tuple(a.shape) for a in axes]}.")
    return float(_integrate(divergence, log_p, log_q, axes))


def integration_grid(mixture: GaussianMixture, width: float = 12.0, points_per_std: int = 40,
                     max_points: int = 400_001) -> np.ndarray:
  """A 1-D grid spanning every component ± width·(largest std), fine enough for the smallest."""
  if mixture.dim != 1:
    raise ValueError(f"integration_grid is for 1-D mixtures; this one is {mixture.dim}-D.")
  lo = float(mixture.means.min() - width * mixture.stds.max())
  hi = float(mixture.means.max() + width * mixture.stds.max())
  num = int(min(max_points, max(2001, (hi - lo) / mixture.stds.min() * points_per_std)))
  return np.linspace(lo, hi, num)


def gaussian_log_density(mu, sigma) -> LogDensity:
  """log N(x; mu, sigma²) for x of shape (n, 1)."""
  return lambda x: (-0.5 * ((x[:, 0] - mu) / sigma) ** 2 - jnp.log(sigma)
                    - 0.5 * math.log(2 * math.pi))


def best_gaussian_fit(divergence: FDivergence, target: GaussianMixture,
                      grid: np.ndarray | None = None) -> tuple[float, float, float]:
  """(μ*, σ*, D_f(P||N(μ*, σ*²))): the exact minimiser over 1-D Gaussians.

  Nelder–Mead over (μ, log σ) on the quadrature objective, started from the
  moment-matched fit and from every component (mode-seeking divergences can
  have one local minimum per mode); the smallest value wins.
  """
  grid = integration_grid(target) if grid is None else grid
  with jax.enable_x64(True):
    x = jnp.asarray(grid, jnp.float64)

    @jax.jit
    def objective(theta):
      return _integrate(divergence, target.log_prob,
                        gaussian_log_density(theta[0], jnp.exp(theta[1])), (x,))

    def safe_objective(theta):
      value = float(objective(jnp.asarray(theta)))
      return value if math.isfinite(value) else 1e30

    starts = [(float(target.mean()[0]), math.log(float(target.std()[0])))]
    starts += [(float(m), math.log(float(s))) for m, s in zip(target.means[:, 0], target.stds[:, 0])]
    fits = [scipy.optimize.minimize(safe_objective, np.asarray(s), method="Nelder-Mead",
                                    options=dict(xatol=1e-6, fatol=1e-10, maxiter=4000))
            for s in starts]
    best = min(fits, key=lambda r: r.fun)
    return float(best.x[0]), float(math.exp(best.x[1])), float(best.fun)
