"""Iterate averaging (training.averaged) and step-size schedules, as config choices of the one step."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest

from gdiv import divergences, training
from gdiv.data import GaussianMixture
from gdiv.evaluation import f_divergence_to_gaussian
from gdiv.fitting import train_fit
from gdiv.models import Gaussian, MLPCritic

MIXTURE = GaussianMixture.create([0.7, 0.3], [-1.0, 1.2], [0.5, 1.0])


def _iterates_and_average(decay, start, updates=12):
  """The parameters after each of `updates` SGD steps on fixed gradients, and the kept average."""
  opt = training.averaged(optax.sgd(0.1), decay, start)
  params = {"w": jnp.array([1.0, -2.0])}
  state, iterates = opt.init(params), []
  for t in range(1, updates + 1):
    grads = {"w": jnp.array([np.sin(t), np.cos(3 * t)], jnp.float32)}
    updates_, state = opt.update(grads, state, params)
    params = optax.apply_updates(params, updates_)
    iterates.append(np.asarray(params["w"], np.float64))
  return np.array(iterates), np.asarray(state.average["w"], np.float64), params


def test_the_uniform_average_is_the_mean_of_the_iterates_after_start_and_the_moving_one_its_recursion():
  iterates, average, _ = _iterates_and_average(decay=1.0, start=4)
  np.testing.assert_allclose(average, iterates[4:].mean(0), rtol=1e-6)  # θ_5, ..., θ_12
  iterates, average, _ = _iterates_and_average(decay=0.8, start=2)
  expected = iterates[2]  # θ_3: the first term after start has weight 1
  for t in range(4, 13):
    expected = expected + max(0.2, 1 / (t - 2)) * (iterates[t - 1] - expected)
  np.testing.assert_allclose(average, expected, rtol=1e-6)
  iterates, average, params = _iterates_and_average(decay=0.0, start=0)
  np.testing.assert_array_equal(average, np.asarray(params["w"], np.float64))  # β = 0: the iterate, exactly


def _config(**fields):
  return ml_collections.ConfigDict({"divergence": "js", "learning_rate": 0.05, "optimizer": "sgd",
                                    "steps": 100, **fields})


def _trained(trainer, steps=30):
  batch_of = lambda k: MIXTURE.sample(k, 128)
  state = trainer.init(jax.random.key(0), jnp.zeros((128, 1)))
  return jax.jit(training.make_train_loop(trainer.step, batch_of, steps))(state)[0]


def test_the_trainer_evaluates_and_samples_the_average_and_the_critic_trains_against_the_iterates():
  model, critic = Gaussian(dim=1), MLPCritic((16,))
  averaged = training.trainer_from_config(_config(average_decay=1.0, average_start=10), model, critic)
  state = _trained(averaged)
  average, iterate = training.evaluated_params(state), state.model_params
  assert not np.allclose(average["params"]["mean"], iterate["params"]["mean"])
  plain = training.trainer_from_config(_config(), model, critic)  # same step, no average kept
  as_if_plain = state._replace(model_params=average, model_opt_state=state.model_opt_state.inner)
  batch, key = MIXTURE.sample(jax.random.key(1), 256), jax.random.key(2)
  assert averaged.estimate(state, batch, key) == plain.estimate(as_if_plain, batch, key)
  np.testing.assert_array_equal(averaged.sample(state, key, 64), plain.sample(as_if_plain, key, 64))
  np.testing.assert_array_equal(  # the iterates are those of the unaveraged run
      jax.tree.leaves(_trained(plain).model_params), jax.tree.leaves(iterate))


def test_a_traced_decay_of_zero_keeps_the_iterate_so_a_sweep_can_include_the_plain_run():
  model, critic = Gaussian(dim=1), MLPCritic((16,))
  swept = training.trainer_from_config(_config(), model, critic, hparams={"average_decay": jnp.float32(0.0)})
  state = _trained(swept)
  np.testing.assert_array_equal(jax.tree.leaves(training.evaluated_params(state)),
                                jax.tree.leaves(state.model_params))


@pytest.mark.parametrize("fields, message", [
    ({"average_decay": 1.5}, r"config.average_decay must be in \[0, 1\]"),
    ({"average_decay": 0.9, "average_start": -1}, "config.average_start must be ≥ 0"),
    ({"learning_rate_schedule": "step"}, "config.learning_rate_schedule must be one of constant, linear, cosine"),
])
def test_bad_averaging_and_schedule_fields_are_clear_errors(fields, message):
  with pytest.raises(ValueError, match=message):
    training.trainer_from_config(_config(**fields), Gaussian(dim=1), MLPCritic((16,)))


@pytest.mark.parametrize("name, schedule", [
    ("linear", optax.linear_schedule(0.05, 0.0, 100)), ("cosine", optax.cosine_decay_schedule(0.05, 100))])
def test_a_schedule_field_decays_both_steps_as_its_optax_schedule(name, schedule):
  model, critic = Gaussian(dim=1), MLPCritic((16,))
  built = training.trainer_from_config(_config(learning_rate_schedule=name), model, critic)
  spelled = training.make_trainer(model, "js", model_optimizer=optax.sgd(schedule), critic=critic,
                                  critic_optimizer=optax.sgd(schedule))
  np.testing.assert_array_equal(jax.tree.leaves(_trained(built).model_params),
                                jax.tree.leaves(_trained(spelled).model_params))


def test_a_critic_against_the_averaged_fit_still_bounds_its_divergence_from_below():
  """F(T) = E_P[T] − E_Q[f*(T)] ≤ D_f(P‖Q) for every critic T, so also at Q = the average's fit,
  which the critic never trained against; and the critic closes at least half the gap between a
  constant critic's F = f(1) = 0 and D_f (it measured something; as tests/test_stabilisers.py)."""
  for name in ("js", "kl"):
    fit = train_fit(name, MIXTURE, steps=2000, optimisation={"average_decay": 1.0, "average_start": 1000})
    exact = f_divergence_to_gaussian(divergences.get(name), MIXTURE, fit["mu"], fit["sigma"])
    assert fit["estimate"] <= exact + 4 * fit["estimate_se"] + 1e-3, (name, fit["estimate"], exact)
    assert fit["estimate"] >= 0.5 * exact, (name, fit["estimate"], exact)
