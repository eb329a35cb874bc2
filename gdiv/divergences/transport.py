"""Distances between the batches themselves: optimal transport and the energy distance (no critic).

  sinkhorn            S_ε(P, Q) = OT_ε(P, Q) − ½ OT_ε(P, P) − ½ OT_ε(Q, Q),
                      OT_ε(P, Q) = min_π ∫ c dπ + ε KL(π ‖ P⊗Q),  c(x, y) = ‖x − y‖^p
                      (Genevay, Peyré & Cuturi 2018; debiased: Feydy et al. 2019), solved by ott-jax
                      in the log domain, ε absolute. ε → 0: W_p^p; ε → ∞: ½ E(P, Q) for p = 1.
  energy              E(P, Q) = 2 E‖X − Y‖ − E‖X − X′‖ − E‖Y − Y′‖ (Székely & Rizzo 2013; in 1-D
                      2∫(F − G)², the Cramér distance of Bellemare et al. 2017), unbiased U-statistic.
  sliced_wasserstein  SW_p^p(P, Q) = E_θ W_p^p(θᵀP, θᵀQ), θ uniform on the sphere, K directions per
                      batch (Rabin et al. 2011; Deshpande et al. 2018), each a sorted 1-D transport.
  wasserstein_1d      W_p^p(P, Q) = ∫₀¹ |F⁻¹ − G⁻¹|^p of two 1-D batches: the sorted batches matched.

Minibatch OT losses are biased: E W_p^p(batch, batch) is not W_p^p(P, Q) and its minimiser over Q
is not P's best fit (Bellemare et al. 2017); the energy distance (and MMD) are unbiased.
Config fields (`config_fields`): sinkhorn_epsilon (ε, may be traced), transport_power (p),
projections (K).
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp
from ott.geometry import costs, pointcloud
from ott.tools import sinkhorn_divergence as ott_sinkhorn

from gdiv.divergences.base import Evaluations, SampleDistance
from gdiv.divergences.mmd import squared_distances

POWERS = (1, 2)  # transport costs ‖x − y‖ and ‖x − y‖²
DIRECT_DIFFERENCES_UP_TO = 16  # dimensions where distances come from differences, not ‖a‖² + ‖b‖² − 2ab


def _is_concrete(value) -> bool:
  return not isinstance(value, jax.core.Tracer)


def _check_power(name: str, power) -> None:
  if power not in POWERS:
    raise ValueError(f"{name}: transport_power must be 1 or 2 (the cost ‖x − y‖^p); got {power!r}.")


def distances(a: jax.Array, b: jax.Array) -> jax.Array:
  """‖a_i − b_j‖, shape (len(a), len(b)); the gradient at a zero distance is 0 (not NaN).

  Few dimensions: from the differences themselves (exact near 0); many: from squared_distances
  (a matrix product; no (len(a), len(b), D) array)."""
  if a.shape[1] <= DIRECT_DIFFERENCES_UP_TO:
    d2 = jnp.sum((a[:, None, :] - b[None, :, :]) ** 2, -1)
  else:
    d2 = squared_distances(a, b)
  positive = d2 > 0
  return jnp.where(positive, jnp.sqrt(jnp.where(positive, d2, 1.0)), 0.0)


def energy_distance(x: jax.Array, y: jax.Array) -> jax.Array:
  """Unbiased 2 E‖X − Y‖ − E‖X − X′‖ − E‖Y − Y′‖ (X′ ≠ X: the diagonals are left out)."""
  m, n = x.shape[0], y.shape[0]
  xx = jnp.sum(distances(x, x)) / (m * (m - 1))
  yy = jnp.sum(distances(y, y)) / (n * (n - 1))
  return 2 * jnp.mean(distances(x, y)) - xx - yy


def sorted_transport(x: jax.Array, y: jax.Array, power: int) -> jax.Array:
  """W_p^p between two 1-D empirical measures of equal size (last axis): mean |x_(i) − y_(i)|^p."""
  gap = jnp.abs(jnp.sort(x, axis=-1) - jnp.sort(y, axis=-1))
  return jnp.mean(gap if power == 1 else gap**2, axis=-1)


def random_directions(key: jax.Array, count: int, dim: int) -> jax.Array:
  """`count` directions uniform on the unit sphere in ℝ^dim, shape (count, dim)."""
  theta = jax.random.normal(key, (count, dim))
  return theta / jnp.linalg.norm(theta, axis=1, keepdims=True)


def sinkhorn(x: jax.Array, y: jax.Array, epsilon, power: int, threshold: float | None = None
             ) -> tuple[jax.Array, jax.Array]:
  """(S_ε(x, y), whether all three Sinkhorn solves converged) with uniform weights (ott-jax:
  log-domain iterations, implicit differentiation, the symmetric updates for OT_ε(x, x)).
  threshold: ott's marginal tolerance (None: ott's default, 1e-3)."""
  cost = costs.Euclidean() if power == 1 else costs.SqEuclidean()
  solve = {} if threshold is None else {"threshold": threshold, "max_iterations": 100_000}
  value, out = ott_sinkhorn.sinkhorn_divergence(pointcloud.PointCloud, x, y, cost_fn=cost, epsilon=epsilon,
                                                solve_kwargs=solve)
  return value, jnp.all(jnp.stack(out.converged))


@dataclasses.dataclass(frozen=True)
class Sinkhorn(SampleDistance):
  """The debiased Sinkhorn divergence S_ε at absolute ε (a traced scalar in a sweep), cost ‖x − y‖^p.
  The step's metrics report `sinkhorn_converged` (1: all three solves met ott's threshold)."""

  epsilon: float = 0.1
  power: int = 2
  name: str = "sinkhorn"
  estimate_name = "sinkhorn_divergence"
  config_fields = {"sinkhorn_epsilon": "epsilon", "transport_power": "power"}

  def __post_init__(self):
    _check_power(self.name, self.power)
    if _is_concrete(self.epsilon) and not 0 < self.epsilon < float("inf"):
      raise ValueError(f"{self.name}: sinkhorn_epsilon must be a finite ε > 0 (absolute, in units of the "
                       f"cost ‖x − y‖^{self.power}); got {self.epsilon!r}.")

  def distance(self, x, y, key=None):
    return sinkhorn(x, y, self.epsilon, self.power)[0]

  def model_loss_and_metrics(self, ev: Evaluations) -> tuple[jax.Array, dict]:
    value, converged = sinkhorn(ev.real, ev.fake, self.epsilon, self.power)
    return value, {"estimate": value, "sinkhorn_converged": converged.astype(jnp.float32)}


@dataclasses.dataclass(frozen=True)
class Energy(SampleDistance):
  """The energy distance, unbiased on each pair of batches."""

  name: str = "energy"
  estimate_name = "energy_distance"
  unbiased = True

  def distance(self, x, y, key=None):
    return energy_distance(x, y)


@dataclasses.dataclass(frozen=True)
class SlicedWasserstein(SampleDistance):
  """SW_p^p over `projections` fresh random directions per batch (the batches of equal size)."""

  projections: int = 64
  power: int = 2
  name: str = "sliced_wasserstein"
  estimate_name = "sliced_wasserstein"
  needs_key = True
  config_fields = {"projections": "projections", "transport_power": "power"}

  def __post_init__(self):
    _check_power(self.name, self.power)
    if not isinstance(self.projections, int) or self.projections < 1:
      raise ValueError(f"{self.name}: projections must be an integer ≥ 1; got {self.projections!r}.")

  def distance(self, x, y, key):
    theta = random_directions(key, self.projections, x.shape[1])
    return jnp.mean(sorted_transport(theta @ x.T, theta @ y.T, self.power))


@dataclasses.dataclass(frozen=True)
class Wasserstein1D(SampleDistance):
  """W_p^p of two 1-D batches of equal size (shape (B, 1)), exact for the empirical measures; other
  dimensions are refused when the trainer is initialised (gdiv.training.check_divergence_data)."""

  power: int = 2
  name: str = "wasserstein_1d"
  estimate_name = "wasserstein_1d"
  data_dim = 1
  config_fields = {"transport_power": "power"}

  def __post_init__(self):
    _check_power(self.name, self.power)

  def distance(self, x, y, key=None):
    return sorted_transport(x[:, 0], y[:, 0], self.power)


TRANSPORT = (Sinkhorn(), Energy(), SlicedWasserstein(), Wasserstein1D())


def cdf_distance(cdf_p: jax.Array, cdf_q: jax.Array, widths: jax.Array, power: int) -> jax.Array:
  """∫ |F − G|^k dx for distributions whose CDFs are constant on the gaps between their atoms:
  F, G on each gap and the gaps' widths. k = 1: W1; k = 2: ℓ2², Bellemare et al.'s squared Cramér
  distance (half the energy distance)."""
  _check_power("cdf_distance", power)
  gap = jnp.abs(cdf_p - cdf_q)
  return jnp.sum(widths * (gap if power == 1 else gap**2), axis=-1)
