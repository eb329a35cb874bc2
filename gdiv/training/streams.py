"""The random streams of a run, by name. Each derives exactly the key it always has, so no number a
user measured moves when the step's parts change (tests/test_training_parts.py pins them).

From a run's key k:      init_keys(k)       model, critic, sample, state = split(k, 4)
From a state's key s:    step_keys(s)       next, critic, model = split(s, 3)
                         loop_keys(s)       next, data = split(s)    (make_train_loop's data stream)
From one evaluation's key e (its model samples are drawn from e itself):
                         penalty(e)   = fold_in(e, 1)   (a penalty's own draws fold in further)
                         log_prob(e)  = fold_in(e, 2)   (an ELBO's posterior draws)
                         negatives(e) = fold_in(e, 3)   (negative data augmentation)
                         objective(e) = fold_in(e, 4)   (the objective's own draws: sliced directions)
A new stream takes an unused fold_in index; never reuse one.
"""

from __future__ import annotations

from typing import NamedTuple

import jax

_PENALTY, _LOG_PROB, _NEGATIVES, _OBJECTIVE = 1, 2, 3, 4


class InitKeys(NamedTuple):
  model: jax.Array
  critic: jax.Array
  sample: jax.Array
  state: jax.Array


class StepKeys(NamedTuple):
  next: jax.Array
  critic: jax.Array
  model: jax.Array


def init_keys(key: jax.Array) -> InitKeys:
  return InitKeys(*jax.random.split(key, 4))


def step_keys(key: jax.Array) -> StepKeys:
  return StepKeys(*jax.random.split(key, 3))


def loop_keys(key: jax.Array) -> tuple[jax.Array, jax.Array]:
  """(the state's next key, this step's data key)."""
  next_key, data_key = jax.random.split(key)
  return next_key, data_key


def penalty(key: jax.Array) -> jax.Array:
  return jax.random.fold_in(key, _PENALTY)


def log_prob(key: jax.Array) -> jax.Array:
  return jax.random.fold_in(key, _LOG_PROB)


def negatives(key: jax.Array) -> jax.Array:
  return jax.random.fold_in(key, _NEGATIVES)


def objective(key: jax.Array) -> jax.Array:
  return jax.random.fold_in(key, _OBJECTIVE)
