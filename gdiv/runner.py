"""The host loop every experiment shares: scan chunks, guard, log, checkpoint, resume.

  state = run_training(trainer, sample_batch, steps=..., example_batch=..., workdir=..., name=...)

Each host call runs `log_every` steps in one `lax.scan` (chunks aligned to
multiples of `log_every`, so a resumed run compiles and executes the very same
chunks as an uninterrupted one: bitwise-identical results on CPU). After each
call the metrics come to the host once and are checked: a non-finite loss,
gradient norm or parameter stops the run with an error naming the divergence,
the step, the quantity and the last good checkpoint, which is never touched.
Checkpoints are saved at the start, every `checkpoint_every` steps and at the
end, and a run started again in the same workdir resumes from the newest one.
"""

from __future__ import annotations

import time
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np
from absl import logging

from gdiv import sharding, sweeps, training
from gdiv.checkpoints import Checkpointer, step_of
from gdiv.workdir import Workdir

PROGRESS_EVERY_S = 5.0


def _all_finite(tree) -> bool:
  return bool(jax.tree.reduce(lambda a, b: a & b,
                              jax.tree.map(lambda x: jnp.all(jnp.isfinite(x)), tree), True))


def check_schedule(steps: int, log_every: int, checkpoint_every: int) -> None:
  """Raise ValueError unless the three are positive integers, checkpoints falling between host calls."""
  for name, value in (("steps", steps), ("log_every", log_every), ("checkpoint_every", checkpoint_every)):
    if not isinstance(value, (int, np.integer)) or value < 1:
      raise ValueError(f"{name} must be a positive integer; got {value!r}.")
  if checkpoint_every % log_every:
    raise ValueError(f"checkpoint_every ({checkpoint_every}) must be a multiple of log_every "
                     f"({log_every}): checkpoints are taken between host calls.")


def chunk_length(step: int, steps: int, log_every: int) -> int:
  """Steps of the next host call: up to the next multiple of log_every, never past `steps`."""
  return min(log_every - step % log_every, steps - step)


def run_training(trainer: training.Trainer, sample_batch: Callable[[jax.Array], jax.Array], *,
                 steps: int, example_batch, seed: int = 0, name: str = "",
                 workdir: Workdir | None = None, log_every: int = 500,
                 checkpoint_every: int | None = None, keep_checkpoints: int = 3,
                 allow_nonfinite_updates: bool = False,
                 on_metrics: Callable[[dict], None] | None = None,
                 on_state: Callable[[training.TrainState], None] | None = None,
                 mesh: jax.sharding.Mesh | None = None):
  """Train to `steps` total steps; returns (state, metrics of the last host call).

  name: labels metrics, TensorBoard tags and the checkpoint subdirectory
    (e.g. the divergence, when one experiment trains several).
  workdir: where metrics and checkpoints go; None keeps the run in memory.
  allow_nonfinite_updates: tolerate non-finite losses and gradients (the
    optimizers must then skip such updates, e.g. optax.apply_if_finite); a
    non-finite parameter still stops the run.
  on_metrics: receives the record logged after each host call.
  on_state: receives the state after each host call (e.g. to draw samples).
  mesh: train data-parallel over this device mesh (gdiv.sharding): the state
    is replicated and each batch split over the 'data' axis.
  """
  checkpoint_every = checkpoint_every or log_every * max(1, 5000 // log_every)
  check_schedule(steps, log_every, checkpoint_every)
  label = name or trainer.divergence.name
  if mesh is not None:
    sharding.check_divisible(example_batch.shape[0], mesh)
    sample_batch = sharding.shard_batches(sample_batch, mesh)
  state = trainer.init(jax.random.key(seed), example_batch)
  if mesh is not None:  # before a restore, which then lays the saved arrays out the same way
    state = sharding.replicate(state, mesh)
  checkpointer = None
  if workdir is not None:
    checkpointer = Checkpointer(workdir.checkpoint_dir(name), keep=keep_checkpoints)
    restored = checkpointer.restore_latest(state)
    if restored is not None:
      state = restored
      if int(state.step) == steps:
        logging.info("%s: the run in %s is complete (step %d of %d): nothing to train; pass more steps "
                     "to extend it.", label, workdir.path, steps, steps)
      else:
        logging.info("%s: resumed from the checkpoint at step %d", label, int(state.step))
    else:
      checkpointer.save(state)  # the initial state: a run always has a good checkpoint to go back to
  if int(state.step) > steps:
    raise ValueError(f"The checkpoint in {checkpointer.directory} is at step {int(state.step)}, past "
                     f"steps={steps}: train to that step or beyond, or use another workdir.")

  loops: dict[int, Callable] = {}
  metrics, start, last_print, start_step = {}, time.perf_counter(), 0.0, int(state.step)
  while int(state.step) < steps:
    step0 = int(state.step)
    n = chunk_length(step0, steps, log_every)
    if n not in loops:
      loops[n] = jax.jit(training.make_train_loop(trainer.step, sample_batch, n))
    state, metrics = loops[n](state)
    metrics = jax.device_get(metrics)
    _guard(metrics, state, label, step0, checkpointer, allow_nonfinite_updates)
    step = int(state.step)
    record = {"step": step, **({"name": name} if name else {}),
              **{k: float(np.nanmean(v)) for k, v in metrics.items()}}
    if workdir is not None:
      workdir.log_metrics(record)
      workdir.log_scalars(step, {k: v for k, v in record.items() if isinstance(v, float)}, name)
      if step % checkpoint_every == 0 or step == steps:
        checkpointer.save(state)
    if on_metrics is not None:
      on_metrics(record)
    if on_state is not None:
      on_state(state)
    now = time.perf_counter() - start
    if now - last_print >= PROGRESS_EVERY_S or step == steps:
      rate = (step - start_step) / max(now, 1e-9)
      logging.info("%s: step %d/%d, %.0f steps/s, ETA %.0f s, %s", label, step, steps, rate,
                   (steps - step) / max(rate, 1e-9),
                   ", ".join(f"{k}={v:.4g}" for k, v in record.items() if isinstance(v, float)))
      last_print = now
  if checkpointer is not None:
    checkpointer.close()
  return state, metrics


def _guard(metrics: dict, state: training.TrainState, label: str, first_step: int,
           checkpointer: Checkpointer | None, allow_nonfinite_updates: bool) -> None:
  if checkpointer is None:
    last = "This run keeps no checkpoints (no workdir)."
  else:
    last = (f"The last good checkpoint (step {checkpointer.steps()[-1]}) is intact in "
            f"{checkpointer.directory}.")
  if not allow_nonfinite_updates:
    training.check_finite(metrics, label, first_step, last_checkpoint=last)
  for part in ("model_params", "critic_params", "model_state", "critic_state"):
    if not _all_finite(getattr(state, part)):
      raise FloatingPointError(
          f"Training with divergence {label!r} produced non-finite {part.replace('_', ' ')} between "
          f"steps {first_step} and {int(state.step)}. {last} Lower the learning rates.")


def run_sweep(build: Callable[..., training.Trainer], sample_batch: Callable[[jax.Array], jax.Array],
              example_batch, keys: jax.Array, hparams: dict, *, steps: int, log_every: int,
              checkpoint_every: int, checkpointer: Checkpointer | None = None,
              mesh: jax.sharding.Mesh | None = None,
              on_chunk: Callable[[int, int, dict, np.ndarray], None] | None = None,
              on_resume: Callable[[int], None] | None = None,
              in_turn: bool = False) -> sweeps.SweepState:
  """Train the runs of `gdiv.sweeps.make_sweep(build, ...)` to `steps`, resuming a checkpoint.

  keys: one PRNG key per run; hparams: {name: (runs,) values} passed to
  `build` as traced scalars. A run whose update goes non-finite is frozen and
  its step recorded (SweepState.diverged_at) while the others go on. Chunks
  are aligned to `log_every` as in `run_training`, so a resumed sweep is
  bitwise the same as an uninterrupted one. on_chunk(step, steps_in_chunk,
  metrics (runs, steps), diverged_at) follows every host call; on_resume(step)
  is told the step a checkpoint resumed at. in_turn: train each device's runs
  one after another rather than vectorised (gdiv.sweeps.make_sweep).
  """
  check_schedule(steps, log_every, checkpoint_every)
  state = jax.jit(sweeps.make_sweep(build, sample_batch, example_batch, log_every).init)(keys, hparams)
  if mesh is not None:  # before a restore, which then lays the saved arrays out the same way
    state, hparams = sweeps.place(state, hparams, mesh)
  if checkpointer is not None:
    restored = checkpointer.restore_latest(state)
    if restored is None:
      checkpointer.save(state)
    else:
      state = restored
      if on_resume is not None:
        on_resume(step_of(state))
  loops: dict[int, Callable] = {}
  while (step0 := step_of(state)) < steps:
    n = chunk_length(step0, steps, log_every)
    if n not in loops:
      loops[n] = jax.jit(sweeps.make_sweep(build, sample_batch, example_batch, n, in_turn=in_turn,
                                           mesh=mesh).run)
    state, metrics = loops[n](state, hparams)
    metrics, diverged_at = sharding.to_host((metrics, state.diverged_at))
    step = step0 + n
    if on_chunk is not None:
      on_chunk(step, n, metrics, diverged_at)
    if checkpointer is not None and (step % checkpoint_every == 0 or step == steps):
      checkpointer.save(state)
  return state
