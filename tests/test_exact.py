"""Exact f-divergences by quadrature and the exact best Gaussian fit."""

import math

import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

from gdiv import divergences
from gdiv.data import GaussianMixture
from gdiv.evaluation import best_gaussian_fit, exact_f_divergence, gaussian_log_density


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
