"""The step's parts, each against what it must compute: named PRNG streams derive the keys they
always have; penalties against closed forms of critics whose input gradient is known; penalties at
the same points share one gradient pass; Roth's schedule; the critic bound; DRAGAN's points."""

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
import optax
import pytest

from gdiv import divergences, training
from gdiv.models import Gaussian, MLPCritic
from gdiv.training import penalties, streams

KEY = jax.random.key(42)


def _same(a, b):
  np.testing.assert_array_equal(jax.random.key_data(a), jax.random.key_data(b))


def test_named_streams_derive_the_keys_the_step_always_used():
  for got, want in zip(streams.init_keys(KEY), jax.random.split(KEY, 4)):
    _same(got, want)
  for got, want in zip(streams.step_keys(KEY), jax.random.split(KEY, 3)):
    _same(got, want)
  for got, want in zip(streams.loop_keys(KEY), jax.random.split(KEY)):
    _same(got, want)
  for stream, index in ((streams.penalty, 1), (streams.log_prob, 2), (streams.negatives, 3)):
    _same(stream(KEY), jax.random.fold_in(KEY, index))


def _critic(v_of_x, calls=None):
  """A CriticFn whose V is v_of_x, counting its applications in `calls`."""
  def apply(params, state, x, train):
    if calls is not None:
      calls.append(x.shape)
    return v_of_x(x), state
  return apply


REAL = jax.random.normal(jax.random.key(1), (64, 3))
FAKE = 2.0 + jax.random.normal(jax.random.key(2), (64, 3))
W = jnp.array([3.0, 0.0, 4.0])  # ‖w‖ = 5


def _total(chosen, v_of_x, divergence="js", step=0, calls=None):
  total = penalties.make_total(chosen, _critic(v_of_x, calls), divergences.get(divergence))
  return float(total({}, {}, REAL, FAKE, jax.random.key(3), step)[0])


@pytest.mark.parametrize("penalty", [penalties.gradient_penalty(10.0), penalties.dragan(10.0)],
                         ids=["wgan_gp", "dragan"])
def test_unit_gradient_penalties_of_a_linear_critic_are_lambda_times_norm_minus_one_squared(penalty):
  """V = w·x has ‖∇V‖ = ‖w‖ at every point, wherever the penalty puts its points."""
  np.testing.assert_allclose(_total((penalty,), lambda x: x @ W), 10.0 * (5.0 - 1.0) ** 2, rtol=1e-5)
  np.testing.assert_allclose(_total((penalty,), lambda x: x @ (W / 5.0)), 0.0, atol=1e-5)


def test_r1_and_r2_of_a_quadratic_critic_are_half_gamma_mean_squared_norm_of_their_points():
  """V = ½‖x‖² has ∇V = x: R1 = (γ/2)E_P‖x‖², R2 = (γ/2)E_Q‖x‖²."""
  quadratic = lambda x: 0.5 * jnp.sum(x**2, axis=1)
  np.testing.assert_allclose(_total((penalties.r1(0.4),), quadratic), 0.2 * np.mean(np.sum(REAL**2, 1)), rtol=1e-5)
  np.testing.assert_allclose(_total((penalties.r2(0.4),), quadratic), 0.2 * np.mean(np.sum(FAKE**2, 1)), rtol=1e-5)


def test_roth_weights_the_squared_gradient_by_the_divergences_curvature():
  """reverse_kl's w(v) = 1 and pearson's ½ (FDivergence.regulariser_weight), so on V = w·x Roth's term
  is (γ/2)·w·‖w‖²."""
  linear = lambda x: x @ W
  np.testing.assert_allclose(_total((penalties.roth(0.1),), linear, "reverse_kl"), 0.05 * 25.0, rtol=1e-5)
  np.testing.assert_allclose(_total((penalties.roth(0.1),), linear, "pearson"), 0.05 * 0.5 * 25.0, rtol=1e-5)


def test_penalties_at_the_same_points_share_one_gradient_pass_and_add_up():
  linear, calls = (lambda x: x @ W), []
  both = _total((penalties.r2(0.2), penalties.roth(0.1)), linear, "reverse_kl", calls=calls)
  assert len(calls) == 1  # one pass at the model samples for both
  np.testing.assert_allclose(both, _total((penalties.r2(0.2),), linear) + _total((penalties.roth(0.1),), linear,
                                                                                  "reverse_kl"), rtol=1e-6)
  calls.clear()
  _total((penalties.gradient_penalty(1.0), penalties.r1(1.0), penalties.r2(1.0), penalties.dragan(1.0)), linear,
         calls=calls)
  assert len(calls) == 4  # interpolates, data, samples, DRAGAN's points


def test_roth_annealed_is_gamma_times_a_hundredth_to_the_fraction_of_the_horizon_then_held():
  schedule = penalties.roth_annealed(0.1, 1000)
  np.testing.assert_allclose([float(schedule(t)) for t in (0, 500, 1000, 5000)],
                             [0.1, 0.01, 0.001, 0.001], rtol=1e-5)
  linear = lambda x: x @ W
  np.testing.assert_allclose(_total((penalties.roth(schedule),), linear, "reverse_kl", step=500),
                             0.5 * 0.01 * 25.0, rtol=1e-4)


def test_dragan_points_lie_in_the_box_above_the_data_up_to_half_its_standard_deviation():
  """x̂ = x + α·0.5·std(x)·u with α per example and u per coordinate, both in [0, 1]."""
  points = penalties.dragan(10.0).points.draw(jax.random.key(3), REAL, FAKE)
  offset = np.asarray(points - REAL)
  assert offset.shape == REAL.shape
  assert offset.min() >= 0 and offset.max() <= 0.5 * float(jnp.std(REAL)) + 1e-6
  assert offset.max() > 0.4 * 0.5 * float(jnp.std(REAL))  # the box is used, not a point
  assert len(np.unique(offset.round(6))) > 0.9 * offset.size  # noise per coordinate, not one shift


def test_the_bound_caps_the_critic_and_a_traced_zero_leaves_it_unbounded():
  v = jnp.linspace(-50.0, 50.0, 11)
  bounded = training.bounded(3.0)(v)
  assert float(jnp.max(jnp.abs(bounded))) <= 3.0  # tanh saturates to 1 in float32 at |v| ≳ 9c
  np.testing.assert_allclose(bounded, 3.0 * np.tanh(np.asarray(v) / 3.0), rtol=1e-6)
  np.testing.assert_array_equal(jax.jit(lambda c: training.bounded(c)(v))(0.0), v)


def test_flat_fields_name_the_penalties_in_the_order_of_their_passes():
  options = training.critic_options("reverse_kl", r2_penalty=0.1, roth_gamma=0.1, roth_anneal_steps=-1, steps=100,
                                    dragan_penalty=10.0, gradient_penalty=1.0, r1_penalty=0.0)
  assert [p.name for p in options["penalties"]] == ["gradient_penalty", "r2_penalty", "roth_gamma", "dragan_penalty"]
  assert training.critic_options("wasserstein_gp")["penalties"][0].name == "gradient_penalty"  # its own λ = 10
  assert training.critic_options("mle", r1_penalty=0.1) == {"scheme": training.alternating()}



def _config(**fields):
  return ml_collections.ConfigDict({"divergence": "js", "learning_rate": 0.1, "steps": 10, "n_critic": 1,
                                    "generator_loss": "saddle", **fields})


def _after_one_step(trainer, batch):
  state = trainer.init(jax.random.key(0), batch)
  return jax.jit(trainer.step)(state, batch)[0]


def _assert_same_state(a, b):
  for x, y in zip(jax.tree.leaves((a.model_params, a.critic_params)), jax.tree.leaves((b.model_params, b.critic_params))):
    np.testing.assert_array_equal(x, y)


def test_trainer_from_config_builds_what_its_fields_name():
  """The config path gives the step make_trainer gives with the same options spelled out (SGD, or
  Adam with the config's β; the critic at its own rate, a sweep's value over the config's); the
  critic is dropped for a divergence without one."""
  batch = jax.random.normal(KEY, (32, 2))
  model, critic = Gaussian(dim=2), MLPCritic((8,))
  for optimizer, spelled_optimizer in (("sgd", optax.sgd), ("adam", lambda rate: optax.adam(rate, b1=0.5, b2=0.9))):
    spelled = training.make_trainer(model, "js", model_optimizer=spelled_optimizer(0.1), critic=critic,
                                    critic_optimizer=spelled_optimizer(0.05))
    config = _config(optimizer=optimizer, critic_learning_rate=0.3, beta1=0.5, beta2=0.9)
    built = training.trainer_from_config(config, model, critic, hparams={"critic_learning_rate": 0.05})
    _assert_same_state(_after_one_step(spelled, batch), _after_one_step(built, batch))
    unswept = training.trainer_from_config(config, model, critic)  # the config's 0.3: another step
    with pytest.raises(AssertionError):
      _assert_same_state(_after_one_step(unswept, batch), _after_one_step(spelled, batch))
  mle = training.trainer_from_config(_config(divergence="mle"), model, critic)
  assert _after_one_step(mle, batch).critic_params == {}
  with pytest.raises(ValueError, match="config.optimizer must be one of adam, sgd; got 'rmsprop'"):
    training.trainer_from_config(_config(optimizer="rmsprop"), model, critic)
