"""Every metric against an independent computation (numpy, scipy or closed form)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg
import scipy.special
import scipy.stats

from gdiv import divergences
from gdiv.data import GaussianMixture
from gdiv.evaluation import (exact_f_divergence, frechet_distance, median_bandwidths,
                             mmd2, mmd_test, mode_metrics, nll, parzen_log_likelihood, prd,
                             precision_recall, variational_divergence)
from gdiv.data import load_digits
from gdiv.evaluation.digits import DigitsClassifier, load_params
from gdiv.evaluation.features import digits_network
from gdiv.models import Gaussian

RNG = np.random.default_rng(0)


def _numpy_mmd2(x, y, bandwidths):
  k = lambda a, b: sum(math.exp(-np.sum((a - b) ** 2) / (2 * h**2)) for h in bandwidths)
  m, n = len(x), len(y)
  xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j) / (m * (m - 1))
  yy = sum(k(y[i], y[j]) for i in range(n) for j in range(n) if i != j) / (n * (n - 1))
  xy = sum(k(x[i], y[j]) for i in range(m) for j in range(n)) / (m * n)
  return xx + yy - 2 * xy


def test_mmd2_matches_a_numpy_double_loop():
  x, y = RNG.normal(size=(30, 3)), RNG.normal(0.5, 1.2, size=(25, 3))
  np.testing.assert_allclose(mmd2(x, y, bandwidths=[0.5, 2.0]), _numpy_mmd2(x, y, [0.5, 2.0]), rtol=1e-4)
  h = median_bandwidths(jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32))
  np.testing.assert_allclose(mmd2(x, y), _numpy_mmd2(x, y, h), rtol=1e-4)


def test_mmd_test_separates_different_distributions_and_not_equal_ones():
  x = RNG.normal(size=(200, 2))
  different = mmd_test(x, RNG.normal(0.4, 1.0, size=(200, 2)), permutations=200, key=jax.random.key(1))
  same = mmd_test(x, RNG.normal(size=(200, 2)), permutations=200, key=jax.random.key(1))
  assert different["p_value"] < 0.01 < same["p_value"]
  assert different["mmd2"] > 10 * abs(same["mmd2"])


def test_mmd_test_statistic_is_the_unbiased_mmd2():
  x, y = RNG.normal(size=(40, 2)), RNG.normal(0.3, 1.0, size=(50, 2))
  np.testing.assert_allclose(mmd_test(x, y, permutations=10)["mmd2"], mmd2(x, y), rtol=1e-4, atol=1e-6)


def _numpy_precision_recall(real, fake, k):
  def radii(a):
    d = np.linalg.norm(a[:, None] - a[None], axis=-1)
    return np.sort(d, axis=1)[:, k]
  def inside(q, c, r):
    return np.mean([np.any(np.linalg.norm(c - p, axis=1) <= r) for p in q])
  return inside(fake, real, radii(real)), inside(real, fake, radii(fake))


def test_precision_recall_matches_brute_force():
  real = RNG.normal(size=(300, 4))
  fake = np.concatenate([RNG.normal(size=(150, 4)), RNG.normal(3.0, 1.0, size=(100, 4))])
  result = precision_recall(real, fake, k=3)
  expected = _numpy_precision_recall(real, fake, 3)
  np.testing.assert_allclose([result["precision"], result["recall"]], expected, atol=1e-9)
  assert 0.4 < result["precision"] < 0.75  # the 100 far-away points lower precision


def test_precision_recall_over_several_row_blocks_matches_brute_force():
  real, fake = RNG.normal(size=(1100, 2)), RNG.normal(0.3, 1.0, size=(1300, 2))  # > one 1024-row block
  result = precision_recall(real, fake)
  np.testing.assert_allclose([result["precision"], result["recall"]],
                             _numpy_precision_recall(real, fake, 3), atol=1e-9)


def test_parzen_matches_scipy_logsumexp():
  samples, valid, test = RNG.normal(size=(50, 3)), RNG.normal(size=(20, 3)), RNG.normal(size=(30, 3))
  sigmas = [0.3, 0.7, 1.5]

  def log_p(x, s):
    d2 = np.sum((x[:, None] - samples[None]) ** 2, -1)
    return scipy.special.logsumexp(-d2 / (2 * s**2), axis=1) - math.log(len(samples)) - 3 * math.log(s * math.sqrt(2 * math.pi))

  best = max(sigmas, key=lambda s: log_p(valid, s).mean())
  result = parzen_log_likelihood(samples, valid, test, sigmas=sigmas)
  assert result["sigma"] == pytest.approx(best)
  np.testing.assert_allclose(result["mean"], log_p(test, best).mean(), rtol=1e-5)
  np.testing.assert_allclose(result["stderr"], log_p(test, best).std() / math.sqrt(30), rtol=1e-4)


def test_exact_f_divergence_in_two_dimensions_matches_closed_form_kl():
  p = GaussianMixture.create([1.0], [[0.0, 1.0]], [[1.0, 0.5]])
  q = GaussianMixture.create([1.0], [[0.5, 0.0]], [[1.5, 1.0]])
  closed = sum(math.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - 0.5
               for m1, s1, m2, s2 in [(0.0, 1.0, 0.5, 1.5), (1.0, 0.5, 0.0, 1.0)])
  axis = np.linspace(-12, 12, 1201)
  np.testing.assert_allclose(exact_f_divergence(divergences.get("kl"), p.log_prob, q.log_prob, (axis, axis)),
                             closed, rtol=1e-6)


def test_mode_metrics_on_hand_built_samples():
  means, stds = np.array([[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 10.0]]), 0.1
  samples = np.array([[0.0, 0.05], [0.1, 0.0], [0.0, 0.0], [10.0, 0.1],   # modes 0 (×3) and 1
                      [5.0, 5.0], [0.0, 0.5]])                             # two low-quality samples
  result = mode_metrics(samples, means, stds)
  assert result["modes"] == 2
  assert result["high_quality"] == pytest.approx(4 / 6)
  q = np.array([0.75, 0.25])
  assert result["reverse_kl"] == pytest.approx(np.sum(q * np.log(4 * q)))
  perfect = mode_metrics(means, means, stds)
  assert perfect == {"modes": 4, "high_quality": 1.0, "reverse_kl": pytest.approx(0.0)}
  assert mode_metrics(np.array([[50.0, 50.0]]), means, stds)["reverse_kl"] == math.inf


def test_frechet_distance_matches_scipy_sqrtm_and_closed_form():
  a, b = RNG.normal(size=(500, 3)), RNG.normal(size=(400, 3)) @ np.diag([1.0, 2.0, 0.5]) + 1.0
  mu_a, mu_b, ca, cb = a.mean(0), b.mean(0), np.cov(a, rowvar=False), np.cov(b, rowvar=False)
  expected = np.sum((mu_a - mu_b) ** 2) + np.trace(ca + cb - 2 * scipy.linalg.sqrtm(ca @ cb).real)
  np.testing.assert_allclose(frechet_distance(a, b), expected, rtol=1e-5)
  big_a, big_b = RNG.normal(size=(200_000, 1)), RNG.normal(2.0, 3.0, size=(200_000, 1))
  np.testing.assert_allclose(frechet_distance(big_a, big_b), 2.0**2 + (3.0 - 1.0) ** 2, rtol=0.02)


def test_nll_matches_scipy_and_dequantised_nll_bounds_the_discrete_one():
  model = Gaussian(dim=2, init_mean=0.4, init_scale=0.3)
  params = model.init(jax.random.key(0), jax.random.key(1), 1, method=model.sample)
  x = np.random.default_rng(3).normal(0.4, 0.3, size=(500, 2))
  result = nll(model, params, x)
  np.testing.assert_allclose(result["nll"], -scipy.stats.norm(0.4, 0.3).logpdf(x).sum(1).mean(), rtol=1e-5)
  np.testing.assert_allclose(result["bits_per_dim"], result["nll"] / (2 * math.log(2)))

  levels = 16
  ints = np.repeat(np.clip(np.round(x * levels), 0, levels - 1), 100, axis=0)  # 100 draws of u each
  cdf = lambda v: scipy.stats.norm(0.4, 0.3).cdf(v)  # P(k) = Π_d ∫_bin q(y) dy
  discrete = -np.log(cdf((ints + 1) / levels) - cdf(ints / levels)).sum(1).mean()
  deq = nll(model, params, ints / (levels - 1), levels=levels, key=jax.random.key(2))
  # Jensen: the dequantised value bounds -log P(x) in expectation over u; 0.003 allows its MC noise
  assert discrete - 0.003 <= deq["nll"] <= discrete + 0.05
  assert "dequantisation" in deq["convention"]


def test_variational_divergence_is_a_tight_lower_bound_for_kl():
  p = lambda key, n: jax.random.normal(key, (n, 1))
  q = lambda key, n: 0.5 + 1.5 * jax.random.normal(key, (n, 1))
  true_kl = math.log(1.5) + (1 + 0.25) / (2 * 1.5**2) - 0.5
  bound = variational_divergence("kl", p, q, key=jax.random.key(0), steps=3000)
  assert true_kl - 0.03 < bound < true_kl + 0.01


def test_prd_separates_precision_from_recall():
  real = np.concatenate([RNG.normal(-5, 0.5, size=(500, 2)), RNG.normal(5, 0.5, size=(500, 2))])
  same = prd(real, RNG.permutation(real)[:800] + RNG.normal(0, 0.05, size=(800, 2)), num_runs=3)
  half = prd(real, RNG.normal(-5, 0.5, size=(800, 2)), num_runs=3)  # covers one of two modes
  assert same["f_8"] > 0.9 and same["f_1_8"] > 0.9
  assert half["f_1_8"] > 0.9 and half["f_8"] < 0.6
  assert same["precision"].shape == same["recall"].shape == (1001,)


def test_shipped_digits_classifier_is_accurate_and_its_features_tell_digits_from_noise():
  digits = load_digits()
  x_train, (x_test, y_test) = digits.train.x, digits.test
  logits = DigitsClassifier().apply(load_params(), x_test)
  assert np.mean(np.argmax(logits, -1) == y_test) > 0.95  # held-out split, never trained on
  network = digits_network()
  assert network.test_accuracy == pytest.approx(float(np.mean(np.argmax(logits, -1) == y_test)), abs=1e-6)
  test_features = network.features(x_test)
  assert test_features.shape == (len(x_test), 64)
  noise = network.features(RNG.uniform(size=(len(x_test), 64)))
  assert frechet_distance(test_features, network.features(x_train)) < 0.1 * frechet_distance(test_features, noise)


@pytest.mark.parametrize("call, message", [
    (lambda: mmd2(np.zeros((0, 2)), np.zeros((3, 2))), "x is empty"),
    (lambda: mmd2(np.zeros((3, 2)), np.zeros((3, 3))), "dimension 3, expected 2"),
    (lambda: precision_recall(np.full((5, 2), np.nan), np.zeros((5, 2))), "NaN or Inf"),
    (lambda: precision_recall(np.zeros((3, 2)), np.zeros((9, 2))), "real has 3 points; this metric needs at least 4"),
    (lambda: parzen_log_likelihood(np.zeros((4, 2)), np.zeros((4, 2)), np.zeros((4, 2)), sigmas=[0.0]), "positive"),
    (lambda: mode_metrics(np.zeros((4, 2)), np.zeros((2, 3)), 1.0), "dimension 3, expected 2"),
    (lambda: frechet_distance(np.zeros((4, 2, 2)), np.zeros((4, 2))), "2-D array of points"),
    (lambda: digits_network().features(np.zeros((4, 28, 28))), "reads 8×8 images"),
])
def test_bad_inputs_are_clear_errors(call, message):
  with pytest.raises(ValueError, match=message):
    call()
