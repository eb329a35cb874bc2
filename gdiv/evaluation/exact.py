"""Exact divergences for studies that know both densities.

f-divergences by quadrature on 1-D and 2-D grids (gdiv.divergences.quadrature), +inf where the
tails make them infinite, and the best isotropic Gaussian fit N(μ, σ² I) under each; MMD² between Gaussian mixtures in closed
form, the population value of the training's median-heuristic bandwidths, and
the best isotropic Gaussian fit under MMD.
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from gdiv.data import GaussianMixture
from gdiv.divergences.f_divergences import FDivergence
from gdiv.divergences.mmd import BANDWIDTH_MULTIPLIERS, MEDIAN_POINTS
from gdiv.divergences.quadrature import (LogDensity, exact_f_divergence, grid_axes, grid_points, integrate_f,
                                        trapezoid)

_NELDER_MEAD = dict(xatol=1e-6, fatol=1e-10, maxiter=4000)
_GRID_MASS_TOLERANCE = 1e-6  # best_isotropic_fit's candidates Q must hold this much of their mass on the grid


# Per dimension: points per smallest component std, and the least and most points per axis.
_GRID_RESOLUTION = {1: (40, 2001, 400_001), 2: (4, 201, 1001)}


def integration_grid(mixture: GaussianMixture, width: float = 12.0, points_per_std: int | None = None):
  """Axes spanning every component ± width·(largest std), fine enough for the smallest std.

  1-D: one array (40 points per std, 2001 to 400,001 points). 2-D: a pair of
  axes for exact_f_divergence's tensor grid (4 points per std, 201 to 1001 per
  axis: the trapezoid rule on smooth, decaying integrands converges
  geometrically in the spacing; on Theis's mixture, 4, 8 and 16 points per std
  agree to 1e-15 relative, and to 3e-5 for total variation, whose integrand has a kink).
  """
  if mixture.dim not in _GRID_RESOLUTION:
    raise ValueError(f"integration_grid is for 1-D and 2-D mixtures; this one is {mixture.dim}-D.")
  default_per_std, min_points, max_points = _GRID_RESOLUTION[mixture.dim]
  per_std = default_per_std if points_per_std is None else points_per_std
  axes = []
  for means in mixture.means.T:
    lo = float(means.min() - width * mixture.stds.max())
    hi = float(means.max() + width * mixture.stds.max())
    num = int(min(max_points, max(min_points, (hi - lo) / mixture.stds.min() * per_std)))
    axes.append(np.linspace(lo, hi, num))
  return axes[0] if mixture.dim == 1 else tuple(axes)


def gaussian_log_density(mu, sigma) -> LogDensity:
  """log N(x; μ, σ² I) for x of shape (n, D); μ a scalar or shape (D,), σ a scalar."""
  def log_q(x):
    dim = x.shape[-1]
    return (-0.5 * jnp.sum(((x - mu) / sigma) ** 2, axis=-1) - dim * jnp.log(sigma)
            - 0.5 * dim * math.log(2 * math.pi))
  return log_q


def f_divergence_diverges(divergence: FDivergence, target: GaussianMixture, sigma):
  """Whether D_f(P‖N(μ, σ² I)) = +∞ for a Gaussian mixture P, decided by the tails (any μ).

  Far out, p ∝ exp(−‖x‖²/(2s²)) up to lower-order terms (s: P's widest component std) and
  q ∝ exp(−‖x‖²/(2σ²)), so u = p/q → 0 where σ > s and u → ∞ where σ < s. With the divergence's
  tail_orders (k, m): f(u) = O(u^-k) at 0 makes the integrand q f(u) ~ q^(1+k) p^(-k), whose
  exponent −‖x‖²((1+k)/σ² − k/s²)/2 is not negative iff σ² ≥ (1+k)/k · s²; f(u)/u = O(u^m) at
  ∞ makes it p f(u)/u ~ p^(1+m) q^(-m), infinite iff σ² ≤ m/(1+m) · s². (Neyman's χ², k = 1:
  infinite for σ² ≥ 2s²; Pearson's, m = 1: for σ² ≤ s²/2.) On the boundary the integrand tends
  to a constant or grows along one direction: infinite too. A finite grid cannot see either;
  its trapezoid sum is finite. σ may be traced; returns a bool array then.
  """
  if divergence.tail_orders is None:
    raise ValueError(f"{divergence.name!r} has a traced parameter, so its tails are unknown; "
                     "build it with a concrete value for an exact oracle.")
  k, m = divergence.tail_orders
  s2, v = float(np.max(target.stds)) ** 2, jnp.asarray(sigma) ** 2
  too_wide = (k > 0) & ((1 + k) * s2 <= k * v)
  too_narrow = (m > 0) & (m * s2 >= (1 + m) * v)
  return too_wide | too_narrow


def _tail_rate(divergence: FDivergence, target: GaussianMixture, sigma: float) -> float:
  """a > 0 with the integrand of D_f(P‖N(μ, σ² I)) ∝ exp(−a‖x‖²/2) far out (see
  `f_divergence_diverges`, where a ≤ 0): (1+k)/σ² − k/s² for σ > s, (1+m)/s² − m/σ² for σ < s."""
  k, m = divergence.tail_orders
  s2, v = float(np.max(target.stds)) ** 2, sigma**2
  return (1 + k) / v - k / s2 if v > s2 else (1 + m) / s2 - m / v


def f_divergence_to_gaussian(divergence: FDivergence, target: GaussianMixture, mu, sigma, grid=None) -> float:
  """D_f(P‖N(μ, σ² I)) for a Gaussian mixture P: +inf where the tails make it infinite
  (`f_divergence_diverges`), else by quadrature on `grid`. The default grid is
  `integration_grid(target)` widened until it holds the integrand down to e^-45 of its peak
  (its decay rate `_tail_rate` is known): a Q wider than P, or a slowly decaying χ² near its
  divergence, has mass beyond P's ± 12 stds."""
  if bool(f_divergence_diverges(divergence, target, sigma)):
    return math.inf
  if grid is None:
    s = float(np.max(target.stds))
    reach = math.sqrt(90 / _tail_rate(divergence, target, sigma)) + float(np.max(np.abs(target.means - mu)))
    grid = integration_grid(target, width=max(12.0, reach / s))
  return exact_f_divergence(divergence, target.log_prob, gaussian_log_density(np.asarray(mu), sigma), grid)


def moment_fit(mixture: GaussianMixture) -> tuple[np.ndarray, float]:
  """(μ, σ) of N(μ, σ² I) = argmin KL(P‖Q) over isotropic Q (maximum likelihood):

    μ = E_P[x],  σ² = E_P‖x − μ‖² / D = tr Cov_P / D.
  """
  return mixture.mean(), float(np.sqrt(np.mean(mixture.std() ** 2)))


def _starts(target: GaussianMixture) -> list[np.ndarray]:
  """θ = (μ, log σ) at the moment fit and at every component (its RMS std)."""
  mu, sigma = moment_fit(target)
  return [np.append(mu, math.log(sigma))] + [
      np.append(m, math.log(float(np.sqrt(np.mean(s**2))))) for m, s in zip(target.means, target.stds)]


def _nelder_mead(objective: Callable[[jax.Array], jax.Array], starts: Sequence[np.ndarray]):
  """The best of Nelder–Mead runs from every start (non-finite values count as 1e30); call under x64."""
  def safe_objective(theta):
    value = float(objective(jnp.asarray(theta)))
    return value if math.isfinite(value) else 1e30

  import scipy.optimize  # here, not at import: every entry point loads this module, few call it

  fits = [scipy.optimize.minimize(safe_objective, np.asarray(s, np.float64), method="Nelder-Mead",
                                  options=_NELDER_MEAD) for s in starts]
  return min(fits, key=lambda r: r.fun)


def best_isotropic_fit(divergence: FDivergence, target: GaussianMixture,
                       grid=None) -> tuple[np.ndarray, float, float]:
  """(μ*, σ*, D_f(P‖N(μ*, σ*² I))): the exact minimiser over isotropic Gaussians, 1-D or 2-D.

  Nelder–Mead over (μ, log σ) on the quadrature objective (log p computed once
  on the grid), started from the moment fit and from every component
  (mode-seeking divergences can have one local minimum per mode); the smallest
  value wins. μ* has shape (D,). A Q whose mass the grid does not hold (its
  trapezoid integral off 1 by more than 1e-6: too wide, or too narrow to
  resolve) counts as +inf; otherwise a bounded divergence such as total
  variation would find a spurious minimum at σ → ∞, where Q leaves the grid.
  So does a Q whose tails make the divergence infinite (`f_divergence_diverges`).
  """
  grid = integration_grid(target) if grid is None else grid

  @jax.jit
  def objective(theta, points, log_p, axes):
    log_q = gaussian_log_density(theta[:-1], jnp.exp(theta[-1]))(points)
    on_grid = jnp.abs(trapezoid(jnp.exp(log_q), axes) - 1) < _GRID_MASS_TOLERANCE
    finite = on_grid & ~f_divergence_diverges(divergence, target, jnp.exp(theta[-1]))
    return jnp.where(finite, integrate_f(divergence, log_p, log_q, axes), jnp.inf)

  with jax.enable_x64(True):
    axes = grid_axes(grid)
    points = grid_points(axes)
    log_p = target.log_prob(points)
    best = _nelder_mead(lambda theta: objective(theta, points, log_p, axes), _starts(target))
  return np.asarray(best.x[:-1]), float(math.exp(best.x[-1])), float(best.fun)


def best_gaussian_fit(divergence: FDivergence, target: GaussianMixture,
                      grid: np.ndarray | None = None) -> tuple[float, float, float]:
  """(μ*, σ*, D_f(P||N(μ*, σ*²))) for a 1-D target: `best_isotropic_fit` with μ* a float."""
  if target.dim != 1:
    raise ValueError(f"best_gaussian_fit is for 1-D mixtures; this one is {target.dim}-D: "
                     "use best_isotropic_fit.")
  mu, sigma, value = best_isotropic_fit(divergence, target, grid)
  return float(mu[0]), sigma, value


def _components(mixture: GaussianMixture) -> tuple[jax.Array, jax.Array, jax.Array]:
  """(weights, means, variances) as float64 arrays (call under x64)."""
  return (jnp.asarray(mixture.weights, jnp.float64), jnp.asarray(mixture.means, jnp.float64),
          jnp.asarray(mixture.stds, jnp.float64) ** 2)


def _kernel_mean(a, b, bandwidths: jax.Array) -> jax.Array:
  """E k(X, Y), X ~ mixture a, Y ~ mixture b independent (each (weights, means, variances)),
  k = Σ_h exp(−‖x − y‖²/(2h²)). For diagonal components N(m, diag A), N(n, diag B):

    E exp(−‖X − Y‖²/(2h²)) = Π_i h/√(h² + A_i + B_i) · exp(−(m_i − n_i)²/(2(h² + A_i + B_i)))
                           = h^D det(h² I + A + B)^(−½) exp(−½ (m − n)ᵀ(h² I + A + B)⁻¹(m − n)).
  """
  (wa, ma, va), (wb, mb, vb) = a, b
  h2 = bandwidths[:, None, None, None] ** 2
  s = h2 + va[:, None, :] + vb[None, :, :]  # (bandwidths, components of a, components of b, D)
  terms = jnp.prod(jnp.sqrt(h2 / s) * jnp.exp(-0.5 * (ma[:, None, :] - mb[None, :, :]) ** 2 / s), -1)
  return jnp.einsum("j,hjk,k->", wa, terms, wb)


def _mmd2(p, q, bandwidths: jax.Array) -> jax.Array:
  """MMD² = E k(X, X') + E k(Y, Y') − 2 E k(X, Y) from the components of P and Q."""
  return _kernel_mean(p, p, bandwidths) + _kernel_mean(q, q, bandwidths) - 2 * _kernel_mean(p, q, bandwidths)


def mmd2_gaussian_mixtures(p: GaussianMixture, q: GaussianMixture, bandwidths: Sequence[float]) -> float:
  """MMD²(P, Q) in closed form for Gaussian mixtures, with gdiv's kernel
  k(x, y) = Σ_h exp(−‖x − y‖²/(2h²)) (gdiv.divergences.mmd): every expectation
  E k is a finite sum over pairs of components and bandwidths (`_kernel_mean`).
  """
  with jax.enable_x64(True):
    return float(_mmd2(_components(p), _components(q), jnp.asarray(bandwidths, jnp.float64)))


def median_heuristic_bandwidths(p: GaussianMixture, q: GaussianMixture,
                                points: int = MEDIAN_POINTS) -> np.ndarray:
  """The population value of gdiv.divergences.mmd.median_heuristic: (½, 1, 2) × the median r of
  ‖x − y‖ over the pairs of a pooled batch of `points` draws from P and `points` from Q.

  Pairs within P, within Q and across occur in proportions C(m,2) : C(m,2) : m²
  (m = points); for isotropic components N(a, s² I), N(b, t² I),
  ‖X − Y‖²/(s² + t²) is noncentral χ² with D degrees of freedom and
  non-centrality ‖a − b‖²/(s² + t²). r solves Σ weight · P(‖X − Y‖ ≤ r) = ½.
  """
  if np.any(np.ptp(p.stds, axis=1) > 0) or np.any(np.ptp(q.stds, axis=1) > 0):
    raise ValueError("median_heuristic_bandwidths needs isotropic components (one std per component).")
  within, across = math.comb(points, 2), points**2
  total = 2 * within + across
  pairs = []  # (weight, s² + t², ‖a − b‖²/(s² + t²)) for every pair of components
  for a, b, share in ((p, p, within), (q, q, within), (p, q, across)):
    s2 = a.stds[:, None, 0] ** 2 + b.stds[None, :, 0] ** 2
    d2 = np.sum((a.means[:, None, :] - b.means[None, :, :]) ** 2, -1)
    pairs.append(np.stack([np.outer(a.weights, b.weights) * share / total, s2, d2 / s2]).reshape(3, -1))
  weights, scales, centralities = np.concatenate(pairs, axis=1)
  import scipy.optimize  # here, not at import (see _nelder_mead)
  import scipy.stats

  cdf = lambda r: weights @ scipy.stats.ncx2.cdf(r**2 / scales, p.dim, centralities) - 0.5
  hi = float(np.sqrt(np.max(scales * (centralities + p.dim)))) * 10
  return scipy.optimize.brentq(cdf, 0.0, hi, xtol=1e-12) * np.asarray(BANDWIDTH_MULTIPLIERS)


def best_mmd_fit(target: GaussianMixture, bandwidths: Sequence[float] | None = None, tolerance: float = 1e-6,
                 max_rounds: int = 50) -> tuple[np.ndarray, float, float, np.ndarray]:
  """(μ*, σ*, MMD²(P, Q*), bandwidths): the isotropic Q* = N(μ*, σ*² I) minimising the closed-form MMD².

  With fixed `bandwidths`, Nelder–Mead over (μ, log σ) from the moment fit and
  every component. With None, the bandwidths are those gdiv's mmd objective
  uses, the median heuristic (`median_heuristic_bandwidths`) of P and Q itself,
  held constant for the gradient; a trained model stops where
  ∇_θ MMD²_h(P, Q_θ) = 0 at h = h(Q_θ), the fixed point of
  h ← h(Q*(h)), found by iterating until the bandwidths move less than `tolerance`
  (the first round from every start, later ones from the previous fit).
  """
  with jax.enable_x64(True):
    p = _components(target)
    mmd2 = jax.jit(lambda theta, h: _mmd2(
        p, (jnp.ones(1), theta[None, :-1], jnp.full((1, target.dim), jnp.exp(2 * theta[-1]))), h))

    def fit(h, starts):
      best = _nelder_mead(lambda theta: mmd2(theta, jnp.asarray(h, jnp.float64)), starts)
      return np.asarray(best.x[:-1]), float(math.exp(best.x[-1])), float(best.fun)

    if bandwidths is not None:
      return (*fit(bandwidths, _starts(target)), np.asarray(bandwidths, np.float64))
    gaussian = lambda mu, sigma: GaussianMixture.create([1.0], [mu], [sigma])
    h, starts = median_heuristic_bandwidths(target, gaussian(*moment_fit(target))), _starts(target)
    for _ in range(max_rounds):
      mu, sigma, value = fit(h, starts)
      h, previous = median_heuristic_bandwidths(target, gaussian(mu, sigma)), h
      if np.max(np.abs(h - previous)) < tolerance:
        return mu, sigma, value, previous
      starts = [np.append(mu, math.log(sigma))]  # later rounds: the bandwidths barely move
  raise RuntimeError(f"The median-heuristic bandwidths did not settle in {max_rounds} rounds "
                     f"(last change {np.max(np.abs(h - previous)):.2g}).")


# ---- optimal transport and the energy distance, 1-D --------------------------------------------
# W1 = ∫|F − G| dx, E = 2∫(F − G)² dx on the integration grid; W2² = ∫₀¹ (F⁻¹ − G⁻¹)² du with
# u = Φ(z), z on a standard-normal grid (smooth in z, decaying as φ(z)).

TRANSPORT_ORACLES = ("wasserstein_1", "wasserstein_2_squared", "energy")
_QUANTILE_Z = np.linspace(-10.0, 10.0, 4001)
_BISECTIONS = 100


def _check_1d(mixture: GaussianMixture, what: str) -> None:
  if mixture.dim != 1:
    raise ValueError(f"{what} is for 1-D mixtures; this one is {mixture.dim}-D.")


def mixture_cdf(mixture: GaussianMixture, x: jax.Array) -> jax.Array:
  """F(x) = Σ_k w_k Φ((x − m_k)/s_k) of a 1-D mixture, for x of any shape."""
  z = (x[..., None] - jnp.asarray(mixture.means[:, 0])) / jnp.asarray(mixture.stds[:, 0])
  return jnp.sum(jnp.asarray(mixture.weights) * jax.scipy.stats.norm.cdf(z), axis=-1)


def mixture_quantile(mixture: GaussianMixture, u: jax.Array) -> jax.Array:
  """F⁻¹(u) of a 1-D mixture by bisection (100 halvings of a bracket 40 component stds wide)."""
  lo = jnp.full_like(u, float(mixture.means.min() - 40 * mixture.stds.max()))
  hi = jnp.full_like(u, float(mixture.means.max() + 40 * mixture.stds.max()))

  def halve(_, bracket):
    lo, hi = bracket
    mid = 0.5 * (lo + hi)
    below = mixture_cdf(mixture, mid) < u
    return jnp.where(below, mid, lo), jnp.where(below, hi, mid)
  return 0.5 * sum(jax.lax.fori_loop(0, _BISECTIONS, halve, (lo, hi)))


def _transport_objective(name: str, target: GaussianMixture, grid: np.ndarray):
  """theta = (μ, log σ) ↦ the oracle `name` between P = target and N(μ, σ²) (float64, jitted)."""
  if name not in TRANSPORT_ORACLES:
    raise ValueError(f"Unknown transport oracle {name!r}; choose one of {', '.join(TRANSPORT_ORACLES)}.")
  x = jnp.asarray(grid)
  if name == "wasserstein_2_squared":
    z = jnp.asarray(_QUANTILE_Z)
    quantiles = mixture_quantile(target, jax.scipy.stats.norm.cdf(z))  # F⁻¹(Φ(z)); G⁻¹(Φ(z)) = μ + σz
    weight = jax.scipy.stats.norm.pdf(z)
    return jax.jit(lambda theta: jnp.trapezoid(weight * (quantiles - theta[0] - jnp.exp(theta[1]) * z) ** 2, z))
  cdf_p = mixture_cdf(target, x)
  power = 1 if name == "wasserstein_1" else 2
  scale = 1.0 if name == "wasserstein_1" else 2.0

  def objective(theta):
    gap = jnp.abs(cdf_p - jax.scipy.stats.norm.cdf((x - theta[0]) / jnp.exp(theta[1])))
    return scale * jnp.trapezoid(gap**power, x)
  return jax.jit(objective)


def transport_to_gaussian(name: str, target: GaussianMixture, mu: float, sigma: float, grid=None) -> float:
  """W1, W2² or the energy distance (`name`, TRANSPORT_ORACLES) between the 1-D `target` and
  N(μ, σ²), by quadrature in float64 (grid: default integration_grid, widened to hold N(μ, σ²))."""
  _check_1d(target, "transport_to_gaussian")
  with jax.enable_x64(True):
    grid = _transport_grid(target, mu, sigma) if grid is None else grid
    return float(_transport_objective(name, target, grid)(jnp.asarray([mu, math.log(sigma)])))


def _transport_grid(target: GaussianMixture, mu: float, sigma: float) -> np.ndarray:
  """The target's integration grid, widened to μ ± 12σ and refined to σ/40 where N(μ, σ²) needs it."""
  base = integration_grid(target)
  lo, hi = min(base[0], mu - 12 * sigma), max(base[-1], mu + 12 * sigma)
  step = min(base[1] - base[0], sigma / 40)
  return np.linspace(lo, hi, int((hi - lo) / step) + 1)


def best_transport_fit(name: str, target: GaussianMixture) -> tuple[float, float, float]:
  """(μ*, σ*, value): the N(μ*, σ*²) minimising W1, W2² or the energy distance to the 1-D `target`
  (Nelder–Mead over (μ, log σ) from the moment fit and every component; grid 12 target stds wider
  than the mixture's own, so candidates up to a few times its spread are resolved)."""
  _check_1d(target, "best_transport_fit")
  with jax.enable_x64(True):
    grid = integration_grid(target, width=24.0)
    best = _nelder_mead(_transport_objective(name, target, grid), _starts(target))
  return float(best.x[0]), float(math.exp(best.x[1])), float(best.fun)


def sinkhorn_reference(x: np.ndarray, y: np.ndarray, epsilon: float, power: int, a=None, b=None,
                       tolerance: float = 1e-6, max_iterations: int = 100_000) -> float:
  """The debiased Sinkhorn divergence S_ε between weighted point sets in float64 (NumPy, log domain):

    OT_ε(a, b) = max_{f, g} ⟨f, a⟩ + ⟨g, b⟩ − ε⟨e^{(f ⊕ g − C)/ε} − 1, a⊗b⟩,  C = ‖x − y‖^p,

  by alternating f = −ε log Σ_j b_j e^{(g_j − C_ij)/ε} and the same for g (for OT_ε(a, a): the
  averaged f ← ½(f + T f)) until the row marginal is within `tolerance` (L1), with ε annealed by halves from max C down to ε (warm-started potentials:
  small ε converge in hundreds of iterations, not millions); S_ε = OT_ε(a, b) − ½ OT_ε(a, a) −
  ½ OT_ε(b, b). Independent of ott-jax: the reference its minibatch values are tested against."""
  from scipy.special import logsumexp

  x, y = np.asarray(x, np.float64).reshape(len(x), -1), np.asarray(y, np.float64).reshape(len(y), -1)
  a = np.full(len(x), 1 / len(x)) if a is None else np.asarray(a, np.float64)
  b = np.full(len(y), 1 / len(y)) if b is None else np.asarray(b, np.float64)

  def ot(u, v, wu, wv, symmetric=False):
    cost = np.linalg.norm(u[:, None, :] - v[None, :, :], axis=-1) ** power
    f, g = np.zeros(len(u)), np.zeros(len(v))
    halvings = int(max(0.0, np.log2(max(cost.max(), epsilon) / epsilon)))
    for eps in [epsilon * 2.0**k for k in range(halvings, 0, -1)] + [epsilon]:
      for _ in range(max_iterations):
        if symmetric:  # OT_ε(a, a): the averaged update of Feydy et al. (2019), f = g throughout
          f = g = 0.5 * (f - eps * logsumexp((f[None, :] - cost) / eps, b=wv[None, :], axis=1))
        else:
          f = -eps * logsumexp((g[None, :] - cost) / eps, b=wv[None, :], axis=1)
          g = -eps * logsumexp((f[:, None] - cost) / eps, b=wu[:, None], axis=0)
        row_mass = np.exp(logsumexp((f[:, None] + g[None, :] - cost) / eps, b=wv[None, :], axis=1))
        if np.sum(np.abs(wu * row_mass - wu)) < tolerance:
          break
      else:
        raise RuntimeError(f"sinkhorn_reference did not converge in {max_iterations} iterations (ε = {eps}).")
    return float(f @ wu + g @ wv)

  return ot(x, y, a, b) - 0.5 * ot(x, x, a, a, True) - 0.5 * ot(y, y, b, b, True)


def quantile_points(target: GaussianMixture, points: int) -> np.ndarray:
  """F⁻¹((i + ½)/n), i < n: n equally weighted points whose empirical measure converges to the 1-D
  target (the fine grid the Sinkhorn reference is computed on)."""
  _check_1d(target, "quantile_points")
  with jax.enable_x64(True):
    return np.asarray(mixture_quantile(target, (jnp.arange(points) + 0.5) / points))


SINKHORN_POINTS = 256  # quantile points of P and of Q in the Sinkhorn reference


def _sinkhorn_objective(target: GaussianMixture, epsilon: float, power: int, points: int):
  """theta = (μ, log σ) ↦ S_ε(P, N(μ, σ²)) on `points` quantile points of each (float64, jitted; call
  under x64): Q's points are μ + σ·Φ⁻¹((i + ½)/n); ott-jax to a marginal tolerance of 1e-9."""
  from gdiv.divergences.transport import sinkhorn

  x = jnp.asarray(quantile_points(target, points))[:, None]
  z = jax.scipy.special.ndtri((jnp.arange(points) + 0.5) / points)[:, None]
  return jax.jit(lambda theta: sinkhorn(x, theta[0] + jnp.exp(theta[1]) * z, epsilon, power, 1e-9)[0])


def sinkhorn_to_gaussian(target: GaussianMixture, mu: float, sigma: float, epsilon: float, power: int,
                         points: int = SINKHORN_POINTS) -> float:
  """S_ε(P, N(μ, σ²)) for the 1-D `target` on quantile points (`_sinkhorn_objective`;
  sinkhorn_reference, independent of ott, is what tests check it against)."""
  _check_1d(target, "sinkhorn_to_gaussian")
  with jax.enable_x64(True):
    return float(_sinkhorn_objective(target, epsilon, power, points)(jnp.asarray([mu, math.log(sigma)])))


def best_sinkhorn_fit(target: GaussianMixture, epsilon: float, power: int,
                      points: int = SINKHORN_POINTS) -> tuple[float, float, float]:
  """(μ*, σ*, S_ε(P, N(μ*, σ*²))) for the 1-D `target`: Nelder–Mead over (μ, log σ) from the moment
  fit and every component on `_sinkhorn_objective`."""
  _check_1d(target, "best_sinkhorn_fit")
  with jax.enable_x64(True):
    best = _nelder_mead(_sinkhorn_objective(target, epsilon, power, points), _starts(target))
  return float(best.x[0]), float(math.exp(best.x[1])), float(best.fun)
