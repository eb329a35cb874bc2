"""Input checks shared by the metrics: clear errors instead of silent NaNs."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np


def as_points(x, name: str, dim: int | None = None) -> jnp.ndarray:
  """x as a float32 (n, d) array; raises on empty, non-finite or mis-shaped input."""
  arr = np.asarray(x)
  if arr.ndim == 1 and dim == 1:
    arr = arr[:, None]
  if arr.ndim != 2:
    raise ValueError(f"{name} must be a 2-D array of points (n, d); got shape {arr.shape}. "
                     "Flatten images to vectors first.")
  if arr.shape[0] == 0:
    raise ValueError(f"{name} is empty: give at least one point.")
  if dim is not None and arr.shape[1] != dim:
    raise ValueError(f"{name} has points of dimension {arr.shape[1]}, expected {dim}.")
  if not np.all(np.isfinite(arr)):
    raise ValueError(f"{name} contains NaN or Inf values.")
  return jnp.asarray(arr, jnp.float32)


def as_point_sets(a, b, name_a: str, name_b: str, min_points: int = 1):
  """Two point sets of the same dimension, each with at least `min_points` points."""
  a = as_points(a, name_a)
  b = as_points(b, name_b, dim=a.shape[1])
  for arr, name in ((a, name_a), (b, name_b)):
    if arr.shape[0] < min_points:
      raise ValueError(f"{name} has {arr.shape[0]} points; this metric needs at least {min_points}.")
  return a, b
