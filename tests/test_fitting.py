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
  assert fit["chosen_restart"] == min(healthy, key=lambda r: r["selection_estimate"])["restart"]
  assert {round(float(r["mu"][0]) / 2.5) for r in healthy} == {-1, 1}, restarts  # both minima were found
  assert abs(float(fit["mu"][0]) - best_mu) < 0.15 and abs(fit["sigma"] - best_sigma) < 0.1, (fit["mu"], fit["sigma"], best_mu, best_sigma)


def test_restart_zero_is_the_plain_initialisation_and_the_others_start_on_data_points():
  trainer = fitting.build_trainer("mle", 1, learning_rate=0.01, critic_learning_rate=0.01, critic_hidden=(8,),
                                  n_critic=1, scheme="simultaneous", generator_loss="saddle")
  sample = lambda key: P.sample(key, 64)
  key, example = jax.random.key(3), jnp.zeros((64, 1))
  assert fitting.centred_on_data(trainer, sample, 0, 4).init(key, example).model_params == \
      trainer.init(key, example).model_params
  centred = fitting.centred_on_data(trainer, sample, 2, 4).init(key, example).model_params["params"]
  batch = sample(jax.random.fold_in(key, 7))
  np.testing.assert_allclose(centred["mean"], batch[0])
  np.testing.assert_allclose(np.exp(centred["log_scale"]), np.std(batch) / 4, rtol=1e-5)  # s·K^{-1/D}, D = 1


def test_a_restart_whose_fresh_critic_stays_below_a_constant_critic_has_no_estimate():
  # F(T ≡ f'(1)) = f(1): 0 for kl, -log 4 for gan; critic-free estimates have no floor
  assert fitting._constant_critic_value(divergences.get("kl")) == 0.0
  np.testing.assert_allclose(fitting._constant_critic_value(divergences.get("gan")), -np.log(4.0), rtol=1e-6)
  assert fitting._constant_critic_value(divergences.get("mle")) == -np.inf
