"""Applying the critic: raw outputs V(x) through an optional transform of V, such as a bound.

A critic transform maps raw critic outputs to the V the divergence sees; it is
applied to every critic evaluation (data, model samples, negatives, penalty
points), so a bounded critic is bounded everywhere.
"""

from __future__ import annotations

from typing import Callable

import flax.linen as nn
import jax
import jax.numpy as jnp

from gdiv.training.state import apply_with_state

CriticTransform = Callable[[jax.Array], jax.Array]
CriticFn = Callable[..., tuple[jax.Array, dict]]  # (params, state, x, train) -> (V(x), state)


def is_set(value) -> bool:
  """Whether an option takes part: a nonzero value, or a traced one (swept by vmap, maybe 0 in some runs)."""
  return isinstance(value, jax.core.Tracer) or value != 0


def bounded(c) -> CriticTransform:
  """V ↦ c·tanh(V/c): the log density-ratio the critic can express is capped, |V| < c. F(T) ≤ D_f
  holds for every critic, so the bound stays a lower bound. A traced c may be 0 in some runs of a
  sweep: V is left unbounded there."""
  def transform(v):
    safe_c = jnp.where(c > 0, c, 1.0)
    return jnp.where(c > 0, safe_c * jnp.tanh(v / safe_c), v)
  return transform


def critic_fn(critic: nn.Module, transform: CriticTransform | None = None) -> CriticFn:
  """(params, state, x, train) -> (V(x), state), V through `transform` when one is given."""
  def apply(params, state, x, train: bool):
    v, state = apply_with_state(critic, params, state, x, train=train)
    return (v if transform is None else transform(v)), state
  return apply
