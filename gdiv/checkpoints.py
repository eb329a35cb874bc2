"""Checkpoints of the whole training state with orbax: save every N steps, keep k, resume.

orbax writes each step to a temporary directory and renames it when complete,
so a run killed mid-save leaves the previous checkpoints intact. Ctrl-C during a save or a
restore takes effect once it is complete (orbax's threads, cut short, hang the process or
print tracebacks at exit), so the one-line interruption names a checkpoint that is whole. A checkpoint
holds only arrays, restored into the shapes and shardings of a freshly
initialised state: one saved on any device count restores on another. The
state is a TrainState, or any pytree holding them (a sweep's runs); its
step is `state.step` (runs of a sweep share it).
"""

from __future__ import annotations

import contextlib
import pathlib
import signal
import threading
import warnings

import jax
import numpy as np
import orbax.checkpoint as ocp

from gdiv.sharding import is_key, to_host


class CheckpointError(RuntimeError):
  """No checkpoint in a directory could be restored into the expected state."""


def _to_arrays(state):
  """Typed PRNG keys become their raw uint32 data (orbax stores plain arrays)."""
  return jax.tree.map(lambda x: jax.random.key_data(x) if is_key(x) else x, state)


def _from_arrays(restored, template):
  """The inverse of `_to_arrays`, guided by where `template` holds keys."""
  return jax.tree.map(lambda r, t: jax.random.wrap_key_data(r) if is_key(t) else r,
                      restored, template)


@contextlib.contextmanager
def interrupts_deferred():
  """Hold Ctrl-C (SIGINT) until the block is done, then raise KeyboardInterrupt; a no-op outside the
  main thread and where SIGINT is not Python's default handler (ignored, or a user's own)."""
  if (threading.current_thread() is not threading.main_thread()
      or signal.getsignal(signal.SIGINT) is not signal.default_int_handler):
    yield
    return
  received = []
  signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
  try:
    yield
  finally:
    signal.signal(signal.SIGINT, signal.default_int_handler)
  if received:
    raise KeyboardInterrupt


def step_of(state) -> int:
  """`state.step`: a TrainState's, or the first run's of a sweep (runs share their step)."""
  return int(np.ravel(to_host(state.step))[0])


class Checkpointer:
  """Saves and restores training states under `directory` (one subdirectory per step)."""

  def __init__(self, directory: str | pathlib.Path, keep: int = 3):
    if keep < 1:
      raise ValueError(f"keep must be ≥ 1 checkpoint; got {keep}.")
    self.directory = pathlib.Path(directory).absolute()
    self._manager = ocp.CheckpointManager(
        self.directory, options=ocp.CheckpointManagerOptions(max_to_keep=keep, create=True))

  def steps(self) -> list[int]:
    return sorted(self._manager.all_steps())

  def save(self, state) -> int:
    """Save `state` under its step number and wait until it is on disk; returns the step."""
    step = step_of(state)
    if step in self.steps():
      return step  # never overwrite a checkpoint that is already there
    with interrupts_deferred():
      self._manager.save(step, args=ocp.args.StandardSave(_to_arrays(state)))
      self._manager.wait_until_finished()
    return step

  def restore_latest(self, template):
    """The newest checkpoint that restores into `template`'s structure, or None if there is none.

    A newest checkpoint that fails to restore (corrupted, or from another
    configuration) is skipped with a warning and the previous one is tried;
    nothing is deleted.
    """
    steps = self.steps()
    if not steps:
      return None
    target = jax.tree.map(ocp.utils.to_shape_dtype_struct, _to_arrays(template))
    failures = []
    for step in reversed(steps):
      try:
        with interrupts_deferred():
          restored = self._manager.restore(step, args=ocp.args.StandardRestore(target))
      except Exception as e:  # orbax raises many types for unreadable or mismatched data
        failures.append(f"step {step}: {type(e).__name__}: {str(e).splitlines()[0][:80]}")
        warnings.warn(f"Checkpoint at step {step} in {self.directory} could not be restored "
                      f"({failures[-1]}); trying the previous one.", stacklevel=2)
        continue
      return _from_arrays(restored, template)
    raise CheckpointError(
        f"No checkpoint in {self.directory} matches this run's state ({'; '.join(failures)}). "
        "Resume with the configuration that wrote them, or start in a new --workdir.")

  def close(self) -> None:
    with interrupts_deferred():
      self._manager.close()
