"""Exact f-divergences by quadrature, exact best Gaussian fits, and MMD² in closed form."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

from gdiv import divergences
from gdiv.data import GaussianMixture
from gdiv.divergences.f_divergences import FDivergence, alpha_divergence
from gdiv.divergences.mmd import BANDWIDTH_MULTIPLIERS, MEDIAN_POINTS, median_heuristic
from gdiv.evaluation import (best_gaussian_fit, best_isotropic_fit, best_mmd_fit, exact_f_divergence,
                             f_divergence_to_gaussian, gaussian_log_density, median_heuristic_bandwidths, mmd2,
                             mmd2_gaussian_mixtures, moment_fit)


def _kl_gaussians(m1, s1, m2, s2):
  return math.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5


@pytest.mark.parametrize("m1, s1, m2, s2", [(0.0, 1.0, 1.0, 2.0), (0.5, 0.3, -0.5, 0.4)])
def test_kl_and_reverse_kl_match_closed_form(m1, s1, m2, s2):
  grid = np.linspace(-20, 20, 80_001)
  p, q = gaussian_log_density(m1, s1), gaussian_log_density(m2, s2)
  kl = exact_f_divergence(divergences.get("kl"), p, q, grid)
  reverse = exact_f_divergence(divergences.get("reverse_kl"), p, q, grid)
  np.testing.assert_allclose(kl, _kl_gaussians(m1, s1, m2, s2), rtol=1e-7)
  np.testing.assert_allclose(reverse, _kl_gaussians(m2, s2, m1, s1), rtol=1e-7)


def test_mixture_log_prob_matches_scipy():
  mixture = GaussianMixture.create([0.2, 0.8], [[-1.0, 0.0], [2.0, 1.0]], [[0.5, 1.0], [1.5, 0.7]])
  x = np.random.default_rng(0).normal(size=(50, 2)) * 2
  expected = np.log(sum(w * scipy.stats.multivariate_normal(m, np.diag(s**2)).pdf(x)
                        for w, m, s in zip(mixture.weights, mixture.means, mixture.stds)))
  np.testing.assert_allclose(np.asarray(mixture.log_prob(jnp.asarray(x))), expected, rtol=2e-5)


def test_best_kl_fit_is_moment_matching():
  mixture = GaussianMixture.create([0.3, 0.7], [-2.0, 1.0], [0.5, 0.8])
  mu, sigma, value = best_gaussian_fit(divergences.get("kl"), mixture)
  np.testing.assert_allclose([mu, sigma], [mixture.mean()[0], mixture.std()[0]], atol=1e-4)
  assert value > 0


def test_best_reverse_kl_fit_seeks_the_heavier_mode():
  mixture = GaussianMixture.create([0.7, 0.3], [-3.0, 3.0], [0.5, 0.5])  # well separated
  mu, sigma, _ = best_gaussian_fit(divergences.get("reverse_kl"), mixture)
  assert abs(mu + 3.0) < 0.05 and abs(sigma - 0.5) < 0.05


# A 2-D mixture of isotropic Gaussians and an isotropic Gaussian Q, for the MMD checks.
MIXTURE_2D = GaussianMixture.create([0.5, 0.3, 0.2], [[-1.0, 0.0], [1.0, 0.5], [0.0, -1.5]], [0.6, 0.8, 0.5])
Q_2D = GaussianMixture.create([1.0], [[0.2, -0.1]], [1.1])


def test_best_isotropic_kl_fit_in_2d_is_moment_matching():
  mu, sigma, _ = best_isotropic_fit(divergences.get("kl"), MIXTURE_2D)
  moments_mu, moments_sigma = moment_fit(MIXTURE_2D)
  np.testing.assert_allclose(moments_sigma**2, np.trace(np.cov(  # tr Cov / 2, by a large sample
      np.asarray(MIXTURE_2D.sample(jax.random.key(0), 400_000)), rowvar=False)) / 2, rtol=1e-2)
  np.testing.assert_allclose([*mu, sigma], [*moments_mu, moments_sigma], atol=1e-4)


def _mmd2_by_quadrature_1d(m1, s1, m2, s2, bandwidths):
  """∫∫ k(x, y) (p − q)(x) (p − q)(y) dx dy on a grid: no Gaussian algebra."""
  x = np.linspace(-15, 15, 3001)
  diff = scipy.stats.norm.pdf(x, m1, s1) - scipy.stats.norm.pdf(x, m2, s2)
  kernel = sum(np.exp(-((x[:, None] - x[None, :]) ** 2) / (2 * h**2)) for h in bandwidths)
  return diff @ kernel @ diff * (x[1] - x[0]) ** 2


@pytest.mark.parametrize("bandwidths", [(1.0,), (0.3, 0.6, 1.2)])
def test_mmd2_of_two_1d_gaussians_matches_quadrature(bandwidths):
  p, q = GaussianMixture.create([1.0], [0.3], [0.7]), GaussianMixture.create([1.0], [-0.5], [1.3])
  np.testing.assert_allclose(mmd2_gaussian_mixtures(p, q, bandwidths),
                             _mmd2_by_quadrature_1d(0.3, 0.7, -0.5, 1.3, bandwidths), rtol=1e-8)


def test_mmd2_of_two_2d_gaussians_matches_the_convolution_identity():
  # E exp(−‖X − Y‖²/(2h²)) = (2πh²)^(D/2) N(a − b; 0, h²I + A + B), computed by scipy.
  a, sa, h = np.array([0.3, -1.0]), np.array([0.7, 1.2]), 0.8
  b, sb = np.array([-0.4, 0.5]), np.array([1.5, 0.4])
  mean_k = lambda m1, s1, m2, s2: 2 * np.pi * h**2 * scipy.stats.multivariate_normal(
      np.zeros(2), np.diag(h**2 + s1**2 + s2**2)).pdf(m1 - m2)
  expected = mean_k(a, sa, a, sa) + mean_k(b, sb, b, sb) - 2 * mean_k(a, sa, b, sb)
  p, q = GaussianMixture.create([1.0], [a], [sa]), GaussianMixture.create([1.0], [b], [sb])
  np.testing.assert_allclose(mmd2_gaussian_mixtures(p, q, [h]), expected, rtol=1e-12)


def test_mmd2_closed_form_matches_gdiv_mmd2_on_large_samples():
  bandwidths = (0.5, 1.0, 2.0)
  exact = mmd2_gaussian_mixtures(MIXTURE_2D, Q_2D, bandwidths)
  estimates = [mmd2(MIXTURE_2D.sample(k, 3000), Q_2D.sample(jax.random.fold_in(k, 1), 3000), bandwidths)
               for k in jax.random.split(jax.random.key(0), 10)]
  se = np.std(estimates, ddof=1) / np.sqrt(len(estimates))
  assert abs(np.mean(estimates) - exact) < 4 * se, (np.mean(estimates), se, exact)
  assert se < 0.05 * exact  # the comparison has teeth


def test_median_heuristic_bandwidths_are_the_population_median_of_the_training_heuristic():
  keys = jax.random.split(jax.random.key(1), 500)
  sampled = jax.jit(jax.vmap(lambda k: median_heuristic(
      MIXTURE_2D.sample(k, MEDIAN_POINTS), Q_2D.sample(jax.random.fold_in(k, 1), MEDIAN_POINTS))))(keys)
  medians = np.asarray(sampled)[:, 1]  # multiplier 1
  population = median_heuristic_bandwidths(MIXTURE_2D, Q_2D)
  np.testing.assert_allclose(population / population[1], BANDWIDTH_MULTIPLIERS)
  assert abs(medians.mean() - population[1]) < 0.01 * population[1], (medians.mean(), population[1])


def test_best_mmd_fit_of_a_gaussian_is_itself():
  mu, sigma, value, _ = best_mmd_fit(Q_2D)
  np.testing.assert_allclose([*mu, sigma], [0.2, -0.1, 1.1], atol=1e-4)
  assert abs(value) < 1e-10


def test_best_mmd_fit_is_stationary_at_its_own_median_bandwidths():
  mu, sigma, value, bandwidths = best_mmd_fit(MIXTURE_2D)
  np.testing.assert_allclose(bandwidths, median_heuristic_bandwidths(
      MIXTURE_2D, GaussianMixture.create([1.0], [mu], [sigma])), atol=1e-5)
  objective = lambda theta: mmd2_gaussian_mixtures(
      MIXTURE_2D, GaussianMixture.create([1.0], [theta[:2]], [np.exp(theta[2])]), bandwidths)
  theta = np.array([*mu, np.log(sigma)])
  for i in range(3):  # a minimum at fixed bandwidths: no direction lowers MMD²
    step = np.eye(3)[i] * 1e-3
    assert objective(theta + step) > value and objective(theta - step) > value


def _f_divergences():
  return [d for d in map(divergences.get, divergences.names()) if isinstance(d, FDivergence)] + [
      alpha_divergence(a) for a in (-1.0, 0.5, 3.0)]


@pytest.mark.parametrize("divergence", _f_divergences(), ids=lambda d: d.name)
def test_declared_tail_orders_are_the_log_slopes_of_f(divergence):
  """tail_orders (k, m) against f itself: −d log|f|/d log u as u → 0⁺ and d log|f(u)/u|/d log u as
  u → ∞, in float64 between 10^-60 and 10^-30, and 10^8 and 10^14 (larger u lose `gan`'s f to
  cancellation); a log factor moves a slope by ~1/log u, below 0.05 there."""
  with jax.enable_x64(True):
    f = lambda u: float(jnp.abs(divergence.f(jnp.float64(u))))
    slope = lambda g, a, b: (math.log(g(b)) - math.log(g(a))) / (math.log(b) - math.log(a))
    at_zero = max(0.0, -slope(f, 1e-30, 1e-60))
    at_infinity = max(0.0, slope(lambda u: f(u) / u, 1e8, 1e14))
  np.testing.assert_allclose(divergence.tail_orders, (at_zero, at_infinity), atol=0.06)


MIXTURE = GaussianMixture.create([0.3, 0.7], [-1.0, 1.5], [0.5, 1.0])  # widest std s = 1


def _quadrature(divergence, sigma, half_width):
  grid = np.linspace(-half_width, half_width, 40 * int(2 * half_width / 0.5) + 1)
  return exact_f_divergence(divergence, MIXTURE.log_prob, gaussian_log_density(0.5, sigma), grid)


@pytest.mark.parametrize("name, infinite, finite, widths", [("neyman", 1.5, 1.3, (20.0, 40.0)),
                                                           ("pearson", 0.6, 0.8, (8.0, 12.0))])
def test_the_exact_oracle_is_infinite_where_the_tails_diverge(name, infinite, finite, widths):
  """Neyman's χ² = ∫(q − p)²/p is infinite for σ² ≥ 2s² (Q's tails heavier than P's), Pearson's
  for σ² ≤ s²/2: the oracle says +inf there, where quadrature on any finite grid is finite but
  grows without bound as the grid widens (half-widths `widths`); just inside, the oracle is finite
  and agrees with a much wider grid (its own grid reaches as far as the integrand's decay needs)."""
  divergence = divergences.get(name)
  assert f_divergence_to_gaussian(divergence, MIXTURE, 0.5, infinite) == math.inf
  assert _quadrature(divergence, infinite, widths[1]) > 1e3 * _quadrature(divergence, infinite, widths[0])
  value = f_divergence_to_gaussian(divergence, MIXTURE, 0.5, finite)
  assert math.isfinite(value)
  np.testing.assert_allclose(value, _quadrature(divergence, finite, 3 * widths[0]), rtol=1e-7)
  for other in ("kl", "reverse_kl", "js", "squared_hellinger", "total_variation", "jeffrey"):
    assert math.isfinite(f_divergence_to_gaussian(divergences.get(other), MIXTURE, 0.5, infinite))
