"""Stabilised critics still give lower bounds: F̂ ≤ D_f for every f-divergence and every stabiliser.

For any critic T with values in dom f*, F(T) = E_P[T] - E_Q[f*(T)] ≤ D_f(P‖Q).
A critic trained under R1, R2, Roth et al.'s regulariser or a bound c·tanh(v/c)
is still such a T, so its bound on fresh samples must not exceed D_f by more
than noise; and it must close at least half the gap between a constant critic's
F = f(1) and D_f, or the critic learned nothing and the check would be empty. P is the main job's mixture, Q = N(0.2, 1) frozen
(its samples carry no update: the model's optimizer is set to zero); D_f is by
quadrature. The five stabiliser settings of one divergence train as one
vmapped program (gdiv.sweeps), the weights traced.
"""

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from conftest import f_divergence_names
from gdiv import divergences, models, sweeps, training
from gdiv.data import GaussianMixture
from gdiv.evaluation import exact_f_divergence
from gdiv.models import MLPCritic

pytestmark = pytest.mark.slow  # many compiled programs or subprocesses

P = GaussianMixture.create([0.7, 0.3], [-1.0, 1.2], [0.5, 1.0])
Q_MEAN, Q_STD = 0.2, 1.0
UNBOUNDED = 1e3  # c·tanh(v/c) with c ≫ |v|: the identity, so every row shares one traced program
SETTINGS = {  # name: (r1, r2, roth γ, critic bound c); γ is a variance in x² (P's smallest std is 0.5)
    "none": (0.0, 0.0, 0.0, UNBOUNDED), "r1": (0.1, 0.0, 0.0, UNBOUNDED), "r2": (0.0, 0.1, 0.0, UNBOUNDED),
    "roth": (0.0, 0.0, 0.01, UNBOUNDED), "bounded": (0.0, 0.0, 0.0, 3.0)}
STEPS, BATCH, EVAL_BATCHES = 600, 256, 10


def _build(name):
  return lambda r1, r2, roth, bound: training.make_trainer(
      models.get("gaussian")(dim=1, init_mean=Q_MEAN, init_scale=Q_STD), name,
      model_optimizer=optax.set_to_zero(), critic=MLPCritic((64, 64), "tanh"),
      critic_optimizer=optax.adam(3e-3), **training.critic_options(
          name, r1_penalty=r1, r2_penalty=r2, roth_gamma=roth, critic_bound=bound))


@pytest.mark.parametrize("name", f_divergence_names())
def test_every_stabilised_critic_stays_below_the_divergence_and_comes_close(name):
  build = _build(name)
  hparams = {k: jnp.asarray(v, jnp.float32) for k, v in zip(("r1", "r2", "roth", "bound"), zip(*SETTINGS.values()))}
  sweep = sweeps.make_sweep(build, lambda k: P.sample(k, BATCH), jnp.zeros((BATCH, 1)), STEPS)
  state, _ = jax.jit(sweep.run)(sweep.init(jax.random.split(jax.random.key(0), len(SETTINGS)), hparams), hparams)
  assert np.all(np.asarray(state.diverged_at) == sweeps.HEALTHY)

  def bound_on_fresh_batches(runs, r1, r2, roth, bound):
    trainer = build(r1, r2, roth, bound)
    keys = jax.random.split(jax.random.key(1), EVAL_BATCHES)
    return jax.vmap(lambda k: trainer.estimate(runs, P.sample(jax.random.fold_in(k, 0), 10_000),
                                               jax.random.fold_in(k, 1)))(keys)

  estimates = np.asarray(jax.jit(jax.vmap(bound_on_fresh_batches))(state.runs, *hparams.values()))
  mean, se = estimates.mean(1), estimates.std(1) / np.sqrt(EVAL_BATCHES)
  exact = exact_f_divergence(divergences.get(name), P.log_prob,
                             GaussianMixture.create([1.0], [Q_MEAN], [Q_STD]).log_prob, np.linspace(-15, 15, 30_001))
  constant_critic = float(divergences.get(name).f(1.0))  # F at T ≡ f'(1): f(1) (0, or -log 4 for gan)
  for setting, m, s in zip(SETTINGS, mean, se):
    assert m <= exact + 4 * s + 1e-3, (setting, m, s, exact)  # a lower bound, within noise
    assert m - constant_critic >= 0.5 * (exact - constant_critic), (setting, m, exact)  # the critic learned
