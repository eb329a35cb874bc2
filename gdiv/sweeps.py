"""Seeds and hyper-parameter sweeps as one program: R runs vmapped, optionally over devices.

The R runs of a sweep share one configuration and differ only in their PRNG
key and in hyper-parameters that do not change shapes: learning rates, penalty
weights λ, the α of `alpha_divergence`. `build(**hparams) -> Trainer` is called
inside the vmapped functions, so each hyper-parameter arrives as a traced
scalar, one value per run:

  sweep = make_sweep(lambda lr, alpha: make_trainer(
      model, alpha_divergence(alpha), critic=critic,
      model_optimizer=optax.adam(lr), critic_optimizer=optax.adam(lr)),
      sample_batch, example_batch, steps_per_call=100)
  hparams = {"lr": jnp.array([1e-3, 3e-4]), "alpha": jnp.array([0.5, 2.0])}
  states = sweep.init(jax.random.split(key, 2), hparams)
  states, metrics = jax.jit(sweep.run)(states, hparams)   # metrics: (runs, steps)

Run r of the sweep is the same computation as a lone run with key r and the
r-th hyper-parameters. With a mesh, `place` splits the run axis over its
devices (one device per CPU core, or per accelerator): runs are independent,
so XLA needs no communication.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
from jax.sharding import Mesh

from gdiv import sharding
from gdiv.training import Trainer, TrainState, make_train_loop

Hparams = dict[str, jax.Array]


class Sweep(NamedTuple):
  """init(keys, hparams) -> states; run(states, hparams) -> (states, metrics); all leading axis R."""

  init: Callable[[jax.Array, Hparams], TrainState]
  run: Callable[[TrainState, Hparams], tuple[TrainState, dict]]


def make_sweep(build: Callable[..., Trainer], sample_batch: Callable[[jax.Array], jax.Array],
               example_batch: jax.Array, steps_per_call: int) -> Sweep:
  """Vmapped `init` and `steps_per_call`-step loop of the trainers `build(**hparams)`."""
  def init(key, hparams):
    return build(**hparams).init(key, example_batch)

  def run(state, hparams):
    return make_train_loop(build(**hparams).step, sample_batch, steps_per_call)(state)

  return Sweep(init=jax.vmap(init), run=jax.vmap(run))


def place(states: TrainState, hparams: Hparams, mesh: Mesh) -> tuple[TrainState, Hparams]:
  """Split the run axis of states and hyper-parameters over the mesh's devices."""
  return (sharding.split_leading_axis(states, mesh, "sweep"),
          sharding.split_leading_axis(hparams, mesh, "sweep"))
