"""Iterate averaging: the model's parameters averaged over its updates, as a wrapper of its optimizer.

  model_optimizer = training.averaged(optax.adam(1e-3), decay=0.999, start=1000)

After update t (t = 1, 2, ...) with parameters θ_t the average is

  θ̄_t = θ_t                                for t ≤ start,
  θ̄_t = θ̄_{t-1} + w_t (θ_t − θ̄_{t-1}),     w_t = max(1 − β, 1 / (t − start)) after.

β = 1 is the uniform (Polyak–Ruppert) average of θ_{start+1}, ..., θ_t; β < 1 an exponential
moving average whose first terms are uniform (w_{start+1} = 1: no weight on the initial value or on
the iterates before start); β = 0 the iterate itself. β and start may be traced scalars (a sweep varies them in one program). Averaging
removes the oscillation of simultaneous gradient play around the game's fixed point without
moving the point (Yazıcı et al. 2019, "The unusual effectiveness of averaging in GAN training").

The average lives in the model's optimizer state (AveragedState), so a run without averaging keeps
its checkpoint structure. The critic trains against the iterates θ_t; `evaluated_params(state)` —
θ̄ when the model optimizer is averaged (the outermost transform), θ otherwise — is what a trainer
evaluates, samples and reports. Any critic gives a lower bound of D_f(P‖Q_θ̄) there, as at any Q.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax


class AveragedState(NamedTuple):
  inner: Any  # the wrapped optimizer's state
  count: jax.Array  # updates done, t
  average: Any  # θ̄_t, the parameters' structure


def averaged(inner: optax.GradientTransformation, decay, start=0) -> optax.GradientTransformation:
  """`inner`, whose state also keeps the average θ̄ of the parameters it produced (see the module)."""
  def init(params):
    return AveragedState(inner.init(params), jnp.zeros((), jnp.int32), params)

  def update(updates, state, params=None):
    if params is None:
      raise ValueError("training.averaged needs the parameters: call update(grads, state, params).")
    updates, inner_state = inner.update(updates, state.inner, params)
    count = state.count + 1
    weight = jnp.where(count <= start, 1.0, jnp.maximum(1.0 - decay, 1.0 / (count - start)))
    new_params = optax.apply_updates(params, updates)
    average = optax.incremental_update(new_params, state.average, weight)
    return updates, AveragedState(inner_state, count, average)

  return optax.GradientTransformation(init, update)


def evaluated_params(state):
  """The model parameters a trainer evaluates and reports: the average if the model optimizer keeps
  one (AveragedState), the current parameters otherwise."""
  opt_state = state.model_opt_state
  return opt_state.average if isinstance(opt_state, AveragedState) else state.model_params
