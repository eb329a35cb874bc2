"""The pytree a run carries from step to step, the functions a trainer returns, and stateful apply."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import flax.linen as nn
import jax

from gdiv.divergences import Divergence


class TrainState(NamedTuple):
  """Everything a run carries from step to step; one pytree.

  model_params / critic_params hold {"params": ...} only; model_state /
  critic_state hold the other Flax collections (e.g. {"batch_stats": ...}),
  {} for a module that has none (and for no critic).
  """

  step: jax.Array
  key: jax.Array
  model_params: Any
  model_opt_state: Any
  critic_params: Any
  critic_opt_state: Any
  model_state: Any
  critic_state: Any


class Trainer(NamedTuple):
  """Pure functions built by `make_trainer`; jit them where they are called.

  init(key, example_batch) -> state; step(state, batch) -> (state, metrics);
  estimate(state, batch, key) -> the divergence's estimate, no update;
  sample(state, key, n) -> n model samples in evaluation mode (jitted).
  """

  init: Callable[[jax.Array, jax.Array], TrainState]
  step: Callable[[TrainState, jax.Array], tuple[TrainState, dict]]
  estimate: Callable[[TrainState, jax.Array, jax.Array], jax.Array]
  divergence: Divergence
  sample: Callable[[TrainState, jax.Array, int], jax.Array]


def split_variables(variables: dict) -> tuple[dict, dict]:
  """What `module.init` returns → ({"params": ...}, the other collections)."""
  return ({"params": variables["params"]},
          {name: value for name, value in variables.items() if name != "params"})


def apply_with_state(module: nn.Module, params, state, *args, train: bool, method=None):
  """module.apply on params and state; returns (output, new state).

  A module with state is called with `train`: train=True makes its state
  collections mutable and returns their updated values, train=False only reads
  them. A module without state (state == {}) is applied as a plain Flax module,
  with no `train` argument and nothing mutable, and its state stays {}.
  """
  if not state:
    return module.apply(params, *args, method=method), state
  variables = {**params, **state}
  if train:
    return module.apply(variables, *args, train=True, method=method, mutable=list(state))
  return module.apply(variables, *args, train=False, method=method), state
