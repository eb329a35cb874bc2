"""Distances between batches (sinkhorn, energy, sliced_wasserstein, wasserstein_1d, mmd) and the
exact 1-D transport oracles: against closed forms, scipy on large samples, and a float64 Sinkhorn."""

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
import scipy.stats

from gdiv import divergences, training
from gdiv.data import GaussianMixture
from gdiv.divergences import checks, transport
from gdiv.evaluation import exact
from gdiv.fitting import IsotropicGaussian

DISTANCES = ("sinkhorn", "energy", "sliced_wasserstein", "wasserstein_1d", "mmd")
MIXTURE = GaussianMixture.create([0.7, 0.3], [-1.0, 1.2], [0.5, 1.0])  # the main job's


@pytest.mark.parametrize("name", DISTANCES)
@pytest.mark.parametrize("prop", checks.SAMPLE_DISTANCE_PROPERTIES, ids=lambda p: p.__name__)
def test_every_distance_between_batches_has_each_property(prop, name):
  prop(divergences.get(name))


@dataclasses.dataclass(frozen=True)
class _VStatisticEnergy(transport.Energy):
  """The biased (V-statistic) energy distance, wrongly declared unbiased."""
  name: str = "mutant_v_energy"

  def distance(self, x, y, key=None):
    d = transport.distances
    return 2 * jnp.mean(d(x, y)) - jnp.mean(d(x, x)) - jnp.mean(d(y, y))


@dataclasses.dataclass(frozen=True)
class _OneSided(transport.Energy):
  """Only the cross term and x's spread: not symmetric."""
  name: str = "mutant_one_sided"
  unbiased = False

  def distance(self, x, y, key=None):
    return 2 * jnp.mean(transport.distances(x, y)) - 2 * jnp.mean(transport.distances(x, x))


@pytest.mark.parametrize("mutant, prop", [(_VStatisticEnergy(), "zero_between_equals"),
                                          (_OneSided(), "symmetric_in_batches")])
def test_check_names_the_property_a_wrong_distance_breaks(mutant, prop):
  with pytest.raises(divergences.DivergenceCheckError, match=f"'{mutant.name}' fails {prop}: .* Fix: "):
    divergences.check(mutant)


def _mixture_sample(n, seed):
  rng = np.random.default_rng(seed)
  first = rng.random(n) < 0.7
  return np.where(first, rng.normal(-1.0, 0.5, n), rng.normal(1.2, 1.0, n))


def test_oracles_agree_with_scipy_on_large_samples():
  xs, ys = _mixture_sample(400_000, 0), np.random.default_rng(1).normal(0.2, 1.1, 400_000)
  w1 = exact.transport_to_gaussian("wasserstein_1", MIXTURE, 0.2, 1.1)
  energy = exact.transport_to_gaussian("energy", MIXTURE, 0.2, 1.1)
  assert w1 == pytest.approx(scipy.stats.wasserstein_distance(xs, ys), rel=5e-3)
  assert energy == pytest.approx(scipy.stats.energy_distance(xs, ys) ** 2, rel=5e-3)  # scipy's is √E


def test_w2_oracle_agrees_with_interpolated_quantiles():
  """W2² = ∫₀¹ (F⁻¹(u) − G⁻¹(u))² du, midpoint rule on 10⁶ u with F⁻¹ interpolated from scipy's
  CDF on a fine grid (sample W2² is too noisy in the tails for a sharp check)."""
  x = np.linspace(-12.0, 14.0, 2_000_001)
  cdf = 0.7 * scipy.stats.norm.cdf(x, -1.0, 0.5) + 0.3 * scipy.stats.norm.cdf(x, 1.2, 1.0)
  u = (np.arange(1_000_000) + 0.5) / 1_000_000
  expected = np.mean((np.interp(u, cdf, x) - scipy.stats.norm.ppf(u, 0.2, 1.1)) ** 2)
  w2 = exact.transport_to_gaussian("wasserstein_2_squared", MIXTURE, 0.2, 1.1)
  assert w2 == pytest.approx(expected, rel=1e-4)


def test_oracles_between_gaussians_have_their_closed_forms():
  """W1 = |Δμ| for equal σ; W2² = Δμ² + Δσ²; E = 2E|X − Y| − E|X − X′| − E|Y − Y′| with
  E|N(m, s²)| = s√(2/π) e^{−m²/2s²} + m(1 − 2Φ(−m/s))."""
  gaussian = GaussianMixture.create([1.0], [0.3], [0.8])

  def abs_mean(m, s):
    return s * math.sqrt(2 / math.pi) * math.exp(-m**2 / (2 * s**2)) + m * (1 - 2 * scipy.stats.norm.cdf(-m / s))

  energy = (2 * abs_mean(0.3 - 1.0, math.hypot(0.8, 1.5)) - abs_mean(0, 0.8 * math.sqrt(2))
            - abs_mean(0, 1.5 * math.sqrt(2)))
  assert exact.transport_to_gaussian("wasserstein_1", gaussian, 1.0, 0.8) == pytest.approx(0.7, rel=1e-6)
  assert exact.transport_to_gaussian("wasserstein_2_squared", gaussian, 1.0, 1.5) == pytest.approx(
      0.7**2 + 0.7**2, rel=1e-6)
  assert exact.transport_to_gaussian("energy", gaussian, 1.0, 1.5) == pytest.approx(energy, rel=1e-6)


def test_best_w2_fit_is_the_quantile_regression_of_the_data_on_the_normal_scores():
  """argmin W2²(P, N(μ, σ²)) = (E_P X, ∫ F⁻¹(u) Φ⁻¹(u) du), from a large sorted sample."""
  mu, sigma, _ = exact.best_transport_fit("wasserstein_2_squared", MIXTURE)
  xs = np.sort(_mixture_sample(400_000, 2))
  scores = scipy.stats.norm.ppf((np.arange(len(xs)) + 0.5) / len(xs))
  assert mu == pytest.approx(float(MIXTURE.mean()[0]), abs=1e-5)
  assert sigma == pytest.approx(np.mean(xs * scores), abs=5e-3)


@pytest.mark.parametrize("epsilon", [0.1, 1.0])
@pytest.mark.parametrize("power", [1, 2])
def test_ott_sinkhorn_in_float32_matches_the_float64_reference(epsilon, power):
  rng = np.random.default_rng(0)
  x, y = rng.normal(0, 1, (32, 2)), rng.normal(0.5, 1.3, (32, 2))
  value, converged = transport.sinkhorn(jnp.asarray(x, jnp.float32), jnp.asarray(y, jnp.float32), epsilon, power)
  assert bool(converged)
  assert float(value) == pytest.approx(exact.sinkhorn_reference(x, y, epsilon, power), rel=1e-3)


def test_energy_on_batches_is_unbiased_for_the_exact_distance():
  """The mean of the U-statistic over 400 pairs of batches of 64 is the quadrature value."""
  key_p, key_q = jax.random.split(jax.random.key(0))
  x = MIXTURE.sample(key_p, 400 * 64).reshape(400, 64, 1)
  y = 0.2 + 1.1 * jax.random.normal(key_q, (400, 64, 1))
  values = np.asarray(jax.vmap(transport.energy_distance)(x, y))
  expected = exact.transport_to_gaussian("energy", MIXTURE, 0.2, 1.1)
  assert abs(values.mean() - expected) < 4 * values.std(ddof=1) / math.sqrt(len(values))


def test_bad_settings_are_refused_before_anything_compiles():
  with pytest.raises(ValueError, match="sinkhorn_epsilon must be a finite ε > 0"):
    divergences.configured(divergences.get("sinkhorn"), {"sinkhorn_epsilon": 0.0})
  with pytest.raises(ValueError, match="transport_power must be 1 or 2"):
    divergences.configured(divergences.get("sliced_wasserstein"), {"transport_power": 3})
  with pytest.raises(ValueError, match="projections must be an integer ≥ 1"):
    divergences.configured(divergences.get("sliced_wasserstein"), {"projections": 0})
  trainer = training.make_trainer(IsotropicGaussian(dim=2), "wasserstein_1d", model_optimizer=optax.sgd(0.1))
  with pytest.raises(ValueError, match="wasserstein_1d compares 1-D data .*got dimension 2: use sliced_wasserstein or sinkhorn"):
    trainer.init(jax.random.key(0), jnp.zeros((8, 2)))


def test_sinkhorn_epsilon_is_traced_and_its_convergence_reported():
  """One vmapped program over ε: each run's metrics are the lone run's, with sinkhorn_converged."""
  batch = MIXTURE.sample(jax.random.key(1), 64)

  def one_step(epsilon):
    trainer = training.make_trainer(IsotropicGaussian(dim=1), divergences.Sinkhorn(epsilon=epsilon),
                                    model_optimizer=optax.sgd(0.1))
    return trainer.step(trainer.init(jax.random.key(0), batch), batch)[1]

  epsilons = jnp.asarray([0.05, 2.0])
  swept = jax.jit(jax.vmap(one_step))(epsilons)
  lone = [jax.jit(one_step)(e) for e in epsilons]
  assert set(swept) >= {"sinkhorn_divergence", "sinkhorn_converged", "model_loss"}
  np.testing.assert_allclose(swept["sinkhorn_divergence"], [m["sinkhorn_divergence"] for m in lone], rtol=1e-5)
  np.testing.assert_array_equal(swept["sinkhorn_converged"], [1.0, 1.0])
  assert swept["sinkhorn_divergence"][0] > swept["sinkhorn_divergence"][1]  # S_ε decreases in ε


def test_energy_training_reaches_the_exact_best_fit():
  """An unbiased distance: a Gaussian trained on the main job's mixture lands on argmin E(P, Q)."""
  best_mu, best_sigma, _ = exact.best_transport_fit("energy", MIXTURE)
  trainer = training.make_trainer(IsotropicGaussian(dim=1), "energy", model_optimizer=optax.adam(0.01))
  run = training.make_train_loop(trainer.step, lambda key: MIXTURE.sample(key, 256), steps_per_call=1500)
  state, _ = jax.jit(run)(trainer.init(jax.random.key(0), jnp.zeros((256, 1))))
  params = state.model_params["params"]
  mu, sigma = float(params["mean"][0]), float(jnp.exp(params["log_scale"][0]))
  assert abs(mu - best_mu) < 0.05 and abs(sigma - best_sigma) < 0.05
  assert abs(mu - float(MIXTURE.mean()[0])) > 0.1  # not the moment fit: energy's own optimum


def test_bellemare_bernoulli_fixed_points():
  """Sample Wasserstein with m = 1 settles at θ = 1 (the median of p̂), Cramér at p; learned agrees."""
  from experiments import cramer_bias

  assert cramer_bias.exact_fixed_point(0.6, 1, 1) == 1.0
  assert cramer_bias.exact_fixed_point(0.6, 2, 1) == pytest.approx(0.5)
  assert cramer_bias.exact_fixed_point(0.6, 1, 2) == pytest.approx(0.6)
  assert cramer_bias.learned_fixed_point(0.6, 1, 1, seed=0) > 0.9
  assert cramer_bias.learned_fixed_point(0.6, 1, 2, seed=0) == pytest.approx(0.6, abs=0.02)
