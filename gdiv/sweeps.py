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
r-th hyper-parameters, as long as it stays finite. A step whose metrics or
new state are not all finite is not applied: that run is frozen at its last
finite state from then on (only its step counter advances with its siblings')
and `diverged_at[r]` records the step, while the other runs go on. With a
mesh, `place` splits the run axis over its devices (one device per CPU core,
or per accelerator): runs are independent, so XLA needs no communication.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
from jax.sharding import Mesh, PartitionSpec

from gdiv import sharding
from gdiv.training import Trainer, TrainState

Hparams = dict[str, jax.Array]

HEALTHY = -1  # diverged_at of a run that has stayed finite


class SweepState(NamedTuple):
  """R runs: stacked TrainStates, and for each the step its first non-finite update came at."""

  runs: TrainState
  diverged_at: jax.Array  # (R,) int32, HEALTHY while finite

  @property
  def step(self) -> jax.Array:
    return self.runs.step


class Sweep(NamedTuple):
  """init(keys, hparams) -> SweepState; run(state, hparams) -> (state, metrics (R, steps))."""

  init: Callable[[jax.Array, Hparams], SweepState]
  run: Callable[[SweepState, Hparams], tuple[SweepState, dict]]


def _all_finite(tree) -> jax.Array:
  leaves = [x for x in jax.tree.leaves(tree) if jnp.issubdtype(x.dtype, jnp.inexact)]
  return jnp.all(jnp.stack([jnp.all(jnp.isfinite(x)) for x in leaves]))


def masked_step(step: Callable) -> Callable:
  """step(state, batch) on (state, diverged_at): a non-finite update freezes the run."""
  def guarded(carry, batch):
    state, diverged_at = carry
    new_state, metrics = step(state, batch)
    healthy = diverged_at == HEALTHY
    apply = healthy & _all_finite((new_state, metrics))
    kept = jax.tree.map(lambda new, old: jnp.where(apply, new, old), new_state, state)
    diverged_at = jnp.where(healthy & ~apply, state.step, diverged_at)
    return (kept._replace(step=new_state.step), diverged_at), metrics
  return guarded


def make_sweep(build: Callable[..., Trainer], sample_batch: Callable[[jax.Array], jax.Array],
               example_batch: jax.Array, steps_per_call: int, *, in_turn: bool = False,
               mesh: Mesh | None = None) -> Sweep:
  """`init` and `steps_per_call`-step loop of the trainers `build(**hparams)`, over R runs.

  The runs are vectorised (vmap), or with in_turn=True trained one after another
  (lax.map): vmapping a lax convolution's kernel makes it a grouped convolution,
  which XLA's CPU backend runs several times slower than R separate ones (small
  convolutions run as matmuls, gdiv.models.convolution, and vmap well). With
  a mesh each device trains its own share of the runs (shard_map).
  """
  def init(key, hparams):
    return SweepState(build(**hparams).init(key, example_batch), jnp.int32(HEALTHY))

  def run(state: SweepState, hparams):
    step = masked_step(build(**hparams).step)

    def body(carry, _):
      (train_state, diverged_at) = carry
      key, data_key = jax.random.split(train_state.key)
      return step((train_state._replace(key=key), diverged_at), sample_batch(data_key))

    (runs, diverged_at), metrics = jax.lax.scan(body, tuple(state), length=steps_per_call)
    return SweepState(runs, diverged_at), metrics

  over_runs = (lambda f: lambda *args: jax.lax.map(lambda a: f(*a), args)) if in_turn else jax.vmap
  run_all = over_runs(run)
  if mesh is not None:
    runs_axis = PartitionSpec(*mesh.axis_names)
    # check_vma=False: the runs use no collectives, so the varying-axes check guards nothing here, and
    # ott-jax's Sinkhorn loop (a lax.cond whose branches differ in varying axes) fails it.
    run_all = jax.shard_map(run_all, mesh=mesh, in_specs=runs_axis, out_specs=runs_axis, check_vma=False)
  return Sweep(init=jax.vmap(init), run=run_all)


def place(state: SweepState, hparams: Hparams, mesh: Mesh) -> tuple[SweepState, Hparams]:
  """Split the run axis of the states and hyper-parameters over the mesh's devices."""
  return (sharding.split_leading_axis(state, mesh, "sweep"),
          sharding.split_leading_axis(hparams, mesh, "sweep"))
