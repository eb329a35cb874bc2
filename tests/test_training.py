"""The one training step: pairings, shapes, one compilation, and fits that theory predicts."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from gdiv.fitting import train_fit
from gdiv import divergences, training
from gdiv.data import GaussianMixture, ring
from gdiv.evaluation import best_gaussian_fit
from gdiv.models import Gaussian, MLPCritic, MLPGenerator

MIXTURE = GaussianMixture.create([0.7, 0.3], [-1.0, 1.2], [0.5, 1.0])


def test_mle_on_implicit_generator_fails_at_construction_with_alternative():
  with pytest.raises(ValueError, match="needs the model density.*implicit.*critic-based divergence"):
    training.make_trainer(MLPGenerator(dim=2), "mle", model_optimizer=optax.sgd(0.1))


def test_critic_divergence_without_critic_says_what_to_pass():
  with pytest.raises(ValueError, match="estimated by a critic: pass critic="):
    training.make_trainer(Gaussian(dim=1), "js", model_optimizer=optax.sgd(0.1))


def test_mle_with_a_critic_is_an_error():
  with pytest.raises(ValueError, match="uses no critic"):
    training.make_trainer(Gaussian(dim=1), "mle", model_optimizer=optax.sgd(0.1), critic=MLPCritic())


@pytest.mark.parametrize("kwargs, message", [
    (dict(scheme="alternating"), r"scheme must be gdiv.training.alternating\(n_critic\) or simultaneous\(\)"),
    (dict(generator_loss="minimax"), "Unknown generator loss"),
    (dict(critic_optimizer=None), "pass critic_optimizer"),
    (dict(penalties=(training.penalties.roth(0.1),), divergence="hinge"), "'hinge' is not one: use r1_penalty"),
    (dict(penalties=(training.penalties.r1(0.1),), divergence="mle", critic=None), "act on a critic; 'mle' has none"),
    (dict(critic_transform=training.bounded(3.0), divergence="mle", critic=None), "act on a critic; 'mle' has none"),
    (dict(generator_loss="non_saturating", divergence="hinge"), "'hinge' defines no non-saturating generator loss"),
])
def test_bad_step_options_are_clear_errors(kwargs, message):
  options = dict(divergence="js", model_optimizer=optax.sgd(0.1), critic=MLPCritic(), critic_optimizer=optax.sgd(0.1))
  options = {**options, **kwargs}
  with pytest.raises(ValueError, match=message):
    training.make_trainer(Gaussian(dim=1), options.pop("divergence"), **options)


@pytest.mark.parametrize("fields, message", [
    (dict(n_critic=0), "n_critic must be an integer ≥ 1"),
    (dict(scheme="sideways"), "Unknown update scheme 'sideways'; choose one of alternating, simultaneous"),
    (dict(scheme="simultaneous", n_critic=2), "use n_critic=1"),
    (dict(r1_penalty=-1.0), "must be ≥ 0; got r1_penalty=-1.0"),
    (dict(critic_bound=-1.0), "must be ≥ 0; got critic_bound=-1.0"),
    (dict(roth_gamma=0.1, roth_anneal_steps=-1), "anneals γ over the whole run: give the run's steps"),
    (dict(r3_penalty=0.1), "Unknown critic option.s. r3_penalty; the penalty fields are r1_penalty"),
])
def test_bad_flat_critic_fields_are_clear_errors(fields, message):
  with pytest.raises(ValueError, match=message):
    training.critic_options("js", **fields)


def test_unknown_divergence_name_is_an_error():
  with pytest.raises(ValueError, match="Unknown divergence 'jss'"):
    training.make_trainer(Gaussian(dim=1), "jss", model_optimizer=optax.sgd(0.1))


def test_wrong_data_shape_is_an_error_before_compiling():
  trainer = training.make_trainer(Gaussian(dim=1), "mle", model_optimizer=optax.sgd(0.1))
  with pytest.raises(ValueError, match=r"expects data of shape \(batch, 1\); got shape \(8, 2\)"):
    trainer.init(jax.random.key(0), jnp.zeros((8, 2)))
  state = trainer.init(jax.random.key(0), jnp.zeros((8, 1)))
  with pytest.raises(ValueError, match=r"expects batch of shape \(batch, 1\); got shape \(8,\)"):
    jax.jit(trainer.step)(state, jnp.zeros((8,)))


def test_mle_reaches_the_moment_matching_fit_in_two_dimensions():
  target = GaussianMixture.create([0.5, 0.5], [[-1.0, 2.0], [1.0, 0.0]], [[0.3, 0.5], [0.3, 0.5]])
  trainer = training.make_trainer(Gaussian(dim=2), "mle", model_optimizer=optax.adam(0.02))
  state = trainer.init(jax.random.key(0), jnp.zeros((1, 2)))
  assert state.critic_params == {}  # maximum likelihood is the same step with an empty critic
  run = jax.jit(training.make_train_loop(trainer.step, lambda k: target.sample(k, 4096), 2000))
  state, metrics = run(state)
  params = state.model_params["params"]
  np.testing.assert_allclose(params["mean"], target.mean(), atol=0.03)
  np.testing.assert_allclose(np.exp(params["log_scale"]), target.std(), atol=0.03)
  # cross-entropy of P under its moment-matched Gaussian: ½ Σ_i log(2πe σ_i²)
  expected_nll = 0.5 * np.sum(np.log(2 * np.pi * np.e * target.std() ** 2))
  np.testing.assert_allclose(metrics["nll"][-200:].mean(), expected_nll, atol=0.01)
  assert metrics["nll"][:10].mean() > expected_nll + 0.3


def _gan_trainer():
  return training.make_trainer(MLPGenerator(dim=2, hidden=(32, 32)), "js", critic=MLPCritic((32, 32)),
                               model_optimizer=optax.adam(1e-3), critic_optimizer=optax.adam(1e-3),
                               scheme=training.alternating(2))


def test_step_compiles_once_for_many_calls():
  trainer, data = _gan_trainer(), ring()
  run = jax.jit(training.make_train_loop(trainer.step, lambda k: data.sample(k, 64), 5))
  state = trainer.init(jax.random.key(0), jnp.zeros((64, 2)))
  for _ in range(3):
    state, _ = run(state)
  assert run._cache_size() == 1


def test_non_finite_metrics_stop_with_divergence_and_step():
  metrics = {"variational_bound": np.array([0.1, 0.2, np.inf]), "model_loss": np.zeros(3)}
  with pytest.raises(FloatingPointError, match="'pearson'.*non-finite variational_bound.*at step 12"):
    training.check_finite(metrics, "pearson", first_step=10)


@pytest.mark.parametrize("name", ["kl", "reverse_kl", "js", "jeffrey", "pearson", "squared_hellinger"])
def test_training_moves_gaussian_to_exact_best_fit(name):
  best_mu, best_sigma, _ = best_gaussian_fit(divergences.get(name), MIXTURE)
  start = (0.0, 1.0)  # Gaussian() initial (μ, σ)
  fit = train_fit(name, MIXTURE, steps=5_000)  # errors ≤ 0.09 measured
  assert abs(fit["mu"] - best_mu) < 0.15 and abs(fit["sigma"] - best_sigma) < 0.15, (fit, best_mu, best_sigma)
  # and it really moved there: the start was further away
  assert abs(start[0] - best_mu) + abs(start[1] - best_sigma) > 2 * (
      abs(fit["mu"] - best_mu) + abs(fit["sigma"] - best_sigma))


@pytest.mark.parametrize("name", ["neyman", "gan", "total_variation", "alpha"])
def test_other_divergences_train_without_non_finite_values(name):
  fit = train_fit(name, MIXTURE, steps=4_000)  # check_finite runs after every host call
  assert np.isfinite(fit["mu"]) and np.isfinite(fit["sigma"]) and np.isfinite(fit["estimate"])


@pytest.mark.slow
def test_benchmark_reports_positive_rates_and_flops_from_the_compiled_step():
  from experiments.benchmark import benchmark
  row = benchmark("toy", steps_per_call=5, calls=1, seeds=2)
  assert row["steps_per_sec"] > 0 and row["flops_per_step"] > 1e6 and row["compile_s"] > 0
  assert row["gflops"] == row["flops_per_step"] * row["steps_per_sec"] / 1e9
  assert row["peak_memory_mb"] > 0 and row["vmapped_seeds_speedup"] > 0


def test_negative_data_joins_the_fakes_at_the_optimal_critic():
  """P = Q = N(0, 1) (model frozen), negatives x + 3, so NDA(P) = N(3, 1): the GAN critic's optimum
  against the fake mixture M = λQ + (1 - λ)·NDA(P) is V*(x) = log p(x)/m(x) =
  -log(λ + (1 - λ)·exp(3x - 4.5)), which is log(1/λ) where the negatives are absent and 0 without them."""
  share = 0.25
  trainer = training.make_trainer(
      Gaussian(dim=1), "gan", model_optimizer=optax.sgd(0.0), critic=MLPCritic((32, 32)),
      critic_optimizer=optax.adam(3e-3), negatives=training.NegativeData(lambda key, x: x + 3.0, share))
  state = trainer.init(jax.random.key(0), jnp.zeros((1, 1)))
  run = jax.jit(training.make_train_loop(trainer.step, lambda k: jax.random.normal(k, (2048, 1)), 1500))
  state, _ = run(state)
  grid = np.linspace(-1.0, 2.5, 15)[:, None]
  critic = MLPCritic((32, 32)).apply(state.critic_params, jnp.asarray(grid, jnp.float32))
  expected = -np.log(share + (1 - share) * np.exp(3 * grid[:, 0] - 4.5))
  np.testing.assert_allclose(np.asarray(critic), expected, atol=0.15)


@pytest.mark.parametrize("divergence, kwargs, message", [
    ("mle", dict(), "'mle' has none"),
    ("relativistic", dict(critic=MLPCritic(), critic_optimizer=optax.sgd(0.1)), "critic loss of 'relativistic' is not"),
    ("js", dict(critic=MLPCritic(), critic_optimizer=optax.sgd(0.1), share=0.0), r"must be in \(0, 1\]"),
])
def test_bad_negative_data_options_are_clear_errors(divergence, kwargs, message):
  share = kwargs.pop("share", 0.25)
  with pytest.raises(ValueError, match=message):
    training.make_trainer(Gaussian(dim=1), divergence, model_optimizer=optax.sgd(0.1),
                          negatives=training.NegativeData(lambda key, x: -x, share), **kwargs)
