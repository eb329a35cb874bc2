"""Model state (batch norm, spectral norm) inside the one step: it trains, resumes bitwise,
vmaps over seeds, and evaluation uses the running statistics; maxout against numpy."""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from gdiv import sweeps, training
from gdiv.checkpoints import Checkpointer
from gdiv.data import ring
from gdiv.models import MLPCritic, MLPGenerator
from gdiv.models.mlp import maxout

BATCH, EPS = 32, 1e-5  # EPS: Flax BatchNorm's ε
DATA = ring()
GENERATOR = MLPGenerator(dim=2, hidden=(16, 16), batch_norm=True)
SN_CRITIC = MLPCritic((16, 16), "relu", spectral_norm=True)


def sample_batch(key):
  return DATA.sample(key, BATCH)


def make(critic=SN_CRITIC, divergence="js", **options):
  return training.make_trainer(GENERATOR, divergence, critic=critic, model_optimizer=optax.adam(1e-2),
                               critic_optimizer=optax.adam(1e-2), **options)


def init(trainer, key=None):
  return trainer.init(jax.random.key(0) if key is None else key, jnp.zeros((BATCH, 2)))


TRAINER = make()
RUN = jax.jit(training.make_train_loop(TRAINER.step, sample_batch, 10))  # compiled once, shared


def _moved(before, after, every=True):
  """Whether every (or some) array of `before` changed; False for an empty tree."""
  changed = [not np.allclose(a, b) for a, b in zip(jax.tree.leaves(before), jax.tree.leaves(after))]
  return bool(changed) and (all(changed) if every else any(changed))


@pytest.mark.parametrize("critic, options", [
    (SN_CRITIC, {"divergence": "wasserstein_gp", "scheme": training.alternating(2)}),
    (MLPCritic((16, 16), "maxout", spectral_norm=True, maxout_pieces=3),
     {"scheme": training.simultaneous()}),
], ids=["spectral_norm_wgan_gp", "maxout_simultaneous"])
def test_batch_norm_generator_and_spectral_norm_critic_train_inside_the_step(critic, options):
  trainer = make(critic, **options)
  start = init(trainer)
  state, metrics = jax.jit(training.make_train_loop(trainer.step, sample_batch, 20))(start)
  assert all(np.all(np.isfinite(v)) for v in metrics.values())
  assert set(state.model_state) == {"batch_stats"} and set(state.critic_state) == {"batch_stats"}
  assert _moved(start.model_state, state.model_state)  # running means and variances
  assert _moved(start.critic_state, state.critic_state)  # power-iteration vectors u and σ
  assert _moved(start.model_params, state.model_params)
  # not every: the Wasserstein critic loss E_Q[V] - E_P[V] ignores the output bias
  assert _moved(start.critic_params, state.critic_params, every=False)
  assert np.isfinite(trainer.estimate(state, sample_batch(jax.random.key(1)), jax.random.key(2)))


def test_stopped_and_resumed_training_with_state_is_bitwise_identical(tmp_path):
  half, _ = RUN(init(TRAINER))
  straight, _ = RUN(half)
  checkpointer = Checkpointer(tmp_path)
  checkpointer.save(half)
  restored = checkpointer.restore_latest(init(TRAINER, jax.random.key(1)))
  checkpointer.close()
  resumed, _ = RUN(restored)
  assert jax.tree.leaves(resumed.model_state) and jax.tree.leaves(resumed.critic_state)
  assert jax.tree.structure(resumed) == jax.tree.structure(straight)
  for a, b in zip(jax.tree.leaves(straight._replace(key=jax.random.key_data(straight.key))),
                  jax.tree.leaves(resumed._replace(key=jax.random.key_data(resumed.key)))):
    np.testing.assert_array_equal(a, b)


def test_each_seed_of_a_sweep_with_batch_norm_equals_its_lone_run():
  keys = jax.random.split(jax.random.key(0), 3)
  sweep = sweeps.make_sweep(make, sample_batch, jnp.zeros((BATCH, 2)), 10)
  swept, _ = jax.jit(sweep.run)(jax.jit(sweep.init)(keys, {}), {})
  runs = getattr(swept, "runs", swept)  # the stacked TrainStates (a SweepState holds them as .runs)
  parts = lambda s: (s.model_params, s.critic_params, s.model_state, s.critic_state)
  for r, key in enumerate(keys):
    state, _ = RUN(init(TRAINER, key))
    for a, b in zip(jax.tree.leaves(parts(state)), jax.tree.leaves(parts(runs))):
      np.testing.assert_allclose(a, b[r], rtol=1e-5, atol=1e-5)


def _numpy_generator(variables, z, stats=None):
  """The 2-hidden-layer batch-norm ReLU generator in numpy (hidden Dense layers have no bias);
  stats=None: the batch's own statistics."""
  params = jax.tree.map(np.asarray, variables["params"]["MLP_0"])
  h = np.asarray(z, np.float64)
  for i in range(2):
    h = h @ params[f"Dense_{i}"]["kernel"]
    mean, var = (h.mean(0), h.var(0)) if stats is None else (stats[f"BatchNorm_{i}"]["mean"],
                                                            stats[f"BatchNorm_{i}"]["var"])
    bn = params[f"BatchNorm_{i}"]
    h = np.maximum((h - mean) / np.sqrt(var + EPS) * bn["scale"] + bn["bias"], 0.0)
  return h @ params["Dense_2"]["kernel"] + params["Dense_2"]["bias"]


def test_evaluation_samples_use_the_running_statistics_and_training_samples_the_batch_ones():
  state, _ = RUN(init(TRAINER))
  key, n = jax.random.key(5), 64
  z = jax.random.normal(key, (n, GENERATOR.latent_dim))  # the generator's own latent draw
  evaluation = TRAINER.sample(state, key, n)
  np.testing.assert_array_equal(evaluation, TRAINER.sample(state, key, n))  # deterministic
  stats = jax.tree.map(np.asarray, state.model_state["batch_stats"]["MLP_0"])
  np.testing.assert_allclose(evaluation, _numpy_generator(state.model_params, z, stats),
                             rtol=1e-4, atol=1e-5)
  training_mode, new_state = training.apply_with_state(
      GENERATOR, state.model_params, state.model_state, key, n, train=True, method=GENERATOR.sample)
  np.testing.assert_allclose(training_mode, _numpy_generator(state.model_params, z),
                             rtol=1e-4, atol=1e-5)
  assert not np.allclose(evaluation, training_mode)
  assert _moved(state.model_state, new_state)  # only training mode updates the statistics


def test_maxout_critic_matches_numpy_max_over_pieces():
  pieces, width = 3, 4
  critic = MLPCritic((width,), "maxout", maxout_pieces=pieces)
  x = jax.random.normal(jax.random.key(0), (5, 2))
  variables = critic.init(jax.random.key(1), x)
  leaves, tree = jax.tree.flatten(variables)  # nonzero biases, so they are checked too
  variables = jax.tree.unflatten(tree, [v + jax.random.normal(jax.random.key(i), v.shape)
                                        for i, v in enumerate(leaves)])
  p = jax.tree.map(np.asarray, variables["params"])
  assert p["NormalisedDense_0"]["kernel"].shape == (2, width * pieces)
  h = np.asarray(x) @ p["NormalisedDense_0"]["kernel"] + p["NormalisedDense_0"]["bias"]
  units = np.stack([h[:, i * pieces:(i + 1) * pieces].max(axis=1) for i in range(width)], axis=1)
  expected = (units @ p["NormalisedDense_1"]["kernel"] + p["NormalisedDense_1"]["bias"])[:, 0]
  np.testing.assert_allclose(critic.apply(variables, x), expected, rtol=1e-5, atol=1e-5)
  with pytest.raises(ValueError, match="pieces ≥ 1 dividing the feature count; got pieces=3 for 4 "):
    maxout(jnp.zeros((2, 4)), 3)
