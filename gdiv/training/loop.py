"""The scan loop (K steps per host call) and the host-side guard against non-finite metrics."""

from __future__ import annotations

from typing import Callable

import jax
import numpy as np

from gdiv.training import streams
from gdiv.training.state import TrainState


def make_train_loop(step: Callable, sample_batch: Callable[[jax.Array], jax.Array],
                    steps_per_call: int) -> Callable[[TrainState], tuple[TrainState, dict]]:
  """run(state) -> (state, metrics): `steps_per_call` steps in one `lax.scan`.

  `sample_batch(key) -> batch` produces each step's data on device (a known
  sampler, or an index into a dataset already on device), so a call makes no
  host round trip. Metrics come back stacked, shape (steps_per_call,).
  """
  def run(state: TrainState):
    def body(state, _):
      key, data_key = streams.loop_keys(state.key)
      return step(state._replace(key=key), sample_batch(data_key))
    return jax.lax.scan(body, state, length=steps_per_call)

  return run


_SLOW_CONJUGATES = ("js", "gan", "total_variation", "reverse_kl")  # f*(g_f(v)) at most linear in v


def check_finite(metrics: dict, divergence_name: str, first_step: int, *,
                 last_checkpoint: str = "") -> None:
  """Host-side guard after a call of the loop: stop on the first non-finite metric.

  `metrics` are stacked per step (as `make_train_loop` returns them);
  `first_step` is the global index of their first entry. `last_checkpoint`
  (a sentence) is appended to the error.
  """
  for name, values in metrics.items():
    values = np.asarray(values).reshape(-1)
    bad = np.flatnonzero(~np.isfinite(values))
    if bad.size:
      raise FloatingPointError(
          f"Training with divergence {divergence_name!r} produced a non-finite {name} "
          f"({values[bad[0]]}) at step {first_step + int(bad[0])}. Lower the learning rates, "
          "stabilise the critic (roth_gamma, r1_penalty / r2_penalty, critic_bound)"
          + ("" if divergence_name in _SLOW_CONJUGATES else
             ", or pick a divergence whose f*(g_f(v)) grows linearly ('js', 'gan')") + "."
          + (f" {last_checkpoint}" if last_checkpoint else ""))
