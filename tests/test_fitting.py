"""gdiv.fitting: restarts as one program, the kept restart chosen by estimated divergence only."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from gdiv import divergences, fitting
from gdiv.data import GaussianMixture
from gdiv.evaluation import best_gaussian_fit, integration_grid

# Two separated modes, the left one heavier: reverse KL's best fit sits on it, and a run can stop on
# the right one instead (a local minimum 0.9 nats worse).
P = GaussianMixture.create([0.65, 0.35], [-2.5, 2.5], [0.5, 0.5])


@pytest.mark.slow
def test_restarts_keep_the_restart_with_the_smallest_estimated_divergence_and_reach_the_global_fit():
  fit = fitting.train_fit("reverse_kl", P, steps=1500, batch_size=256, restarts=4)
  best_mu, best_sigma, _ = best_gaussian_fit(divergences.get("reverse_kl"), P, integration_grid(P))
  restarts = fit["restarts"]
  assert [r["restart"] for r in restarts] == list(range(4))
  healthy = [r for r in restarts if r["diverged_at"] == -1]
  kept = [r for r in healthy if r["rejected"] is None]  # finite, in the data's scale, measured
  assert fit["chosen_restart"] == min(kept, key=lambda r: r["selection_estimate"])["restart"]
  assert {round(float(r["mu"][0]) / 2.5) for r in healthy} == {-1, 1}, restarts  # both minima were found
  assert abs(float(fit["mu"][0]) - best_mu) < 0.15 and abs(fit["sigma"] - best_sigma) < 0.1, (fit["mu"], fit["sigma"], best_mu, best_sigma)


def test_restarts_start_at_the_data_clusters_heaviest_first_with_their_spread():
  modes = GaussianMixture.create([0.5, 0.3, 0.2], [[-4.0, 0.0], [4.0, 0.0], [0.0, 5.0]], [0.5, 1.0, 0.3])
  sample = np.asarray(modes.sample(jax.random.key(0), 4096), np.float64)
  means, scales = fitting.restart_starts(sample, restarts=4, seed=0)
  np.testing.assert_allclose(means[1:], modes.means, atol=0.1)  # one restart per mode, by weight
  np.testing.assert_allclose(scales[1:], modes.stds[:, 0], rtol=0.1)  # at the mode's own spread
  again = fitting.restart_starts(sample, restarts=4, seed=0)
  np.testing.assert_array_equal(means, again[0])  # deterministic given the seed


def test_restart_zero_is_the_plain_initialisation_and_the_others_start_where_they_are_put():
  trainer = fitting.build_trainer("mle", 1, learning_rate=0.01, critic_learning_rate=0.01, critic_hidden=(8,),
                                  n_critic=1, scheme="simultaneous", generator_loss="saddle")
  key, example = jax.random.key(3), jnp.zeros((64, 1))
  means, scales = np.array([[0.0], [-2.5], [2.5]], np.float32), np.array([1.0, 0.5, 0.4], np.float32)
  assert fitting.started_at(trainer, means, scales, 0).init(key, example).model_params == \
      trainer.init(key, example).model_params
  started = fitting.started_at(trainer, means, scales, jnp.float32(2)).init(key, example).model_params["params"]
  np.testing.assert_allclose(started["mean"], [2.5])
  np.testing.assert_allclose(np.exp(started["log_scale"]), 0.4, rtol=1e-6)


def test_a_fit_orders_of_magnitude_off_the_datas_scale_or_non_finite_ran_off():
  sample = np.random.default_rng(0).normal(size=(1000, 2))  # scale ≈ 1
  mu = np.array([[0.1, 0.0], [0.0, 0.0], [0.0, 0.0], [500.0, 0.0], [np.nan, 0.0]])
  sigma = np.array([1.3, 4e9, 1e-4, 1.0, 1.0])
  np.testing.assert_array_equal(fitting.ran_off(mu, sigma, sample), [False, True, True, True, True])


def test_a_restart_whose_fresh_critic_stays_below_a_constant_critic_has_no_estimate():
  # F(T ≡ f'(1)) = f(1): 0 for kl, -log 4 for gan; critic-free estimates have no floor
  assert fitting._constant_critic_value(divergences.get("kl")) == 0.0
  np.testing.assert_allclose(fitting._constant_critic_value(divergences.get("gan")), -np.log(4.0), rtol=1e-6)
  assert fitting._constant_critic_value(divergences.get("mle")) == -np.inf
