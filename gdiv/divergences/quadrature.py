"""Exact f-divergences by quadrature: D_f(P‖Q) = ∫ q f(p/q) on 1-D and 2-D grids, in float64.

It lives beside the divergences (their checks compare bounds with it) and gdiv.evaluation.exact
builds the best fits on it.
"""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp

from gdiv.divergences.f_divergences import FDivergence

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


def grid_points(axes) -> jax.Array:
  """The points of the tensor grid spanned by `axes`, shape (n, D), in C order."""
  return jnp.stack(jnp.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, len(axes))


def trapezoid(values: jax.Array, axes) -> jax.Array:
  """∫ by the trapezoid rule, from `values` at the `grid_points(axes)`."""
  values = values.reshape(tuple(a.size for a in axes))
  for axis in reversed(axes):
    values = jnp.trapezoid(values, axis, axis=-1)
  return values


def integrate_f(divergence: FDivergence, log_p: jax.Array, log_q: jax.Array, axes) -> jax.Array:
  """∫ q f(p/q) by the trapezoid rule, from log p and log q at the `grid_points(axes)`."""
  return trapezoid(_f_integrand(divergence, log_p, log_q), axes)


def grid_axes(grid) -> tuple[jax.Array, ...]:
  """A 1-D grid (an array) or a 2-D one (a pair of arrays) as float64 axes (call under x64)."""
  axes = tuple(grid) if isinstance(grid, (tuple, list)) else (grid,)
  axes = tuple(jnp.asarray(a, jnp.float64) for a in axes)
  if len(axes) not in (1, 2) or any(a.ndim != 1 or a.size < 3 for a in axes):
    raise ValueError("exact_f_divergence integrates on a 1-D grid (an array of ≥ 3 points) or a "
                     "2-D one (a pair of such arrays); got shapes "
                     f"{[tuple(a.shape) for a in axes]}.")
  return axes


def exact_f_divergence(divergence: FDivergence, log_p: LogDensity, log_q: LogDensity,
                       grid) -> float:
  """D_f(P||Q) = ∫ q(x) f(p(x)/q(x)) dx by the trapezoid rule, in float64.

  grid: a 1-D array of points (1-D densities) or a pair (xs, ys) of 1-D arrays
  spanning a 2-D tensor grid. log_p, log_q map points of shape (n, D) to
  log-densities of shape (n,). The grid must cover the mass of both densities
  (and, for Pearson and Neyman χ², their tails); +inf is returned where the
  divergence diverges on it.
  """
  with jax.enable_x64(True):
    axes = grid_axes(grid)
    points = grid_points(axes)
    return float(integrate_f(divergence, log_p(points), log_q(points), axes))
