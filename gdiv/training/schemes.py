"""Update schemes: how one step orders the critic's and the model's updates.

  alternating(n_critic)  n_critic critic updates (each on fresh model samples), then one model
                         update against the updated critic (GAN / WGAN practice);
  simultaneous()         one gradient evaluation at the same samples and parameters updates both
                         (f-GAN, Algorithm 1, the single-step gradient method).
A divergence without a critic takes only the model update under either.

scheme.update(players, state, batch, keys) -> (critic_params, critic_opt_state, states,
model_params, model_opt_state, metrics); `states` = (model_state, critic_state) are threaded
through the passes in program order (for simultaneous: the model-loss pass, then the critic's).
A scheme is a value (name, n_critic): two equal schemes build the same step.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import optax


class Players(NamedTuple):
  """The two losses (gdiv.training.losses) and optimizers; critic_optimizer None: no critic."""
  critic_loss: Callable
  model_loss: Callable
  critic_optimizer: optax.GradientTransformation | None
  model_optimizer: optax.GradientTransformation


class Scheme(NamedTuple):
  name: str
  n_critic: int

  def update(self, players, state, batch, keys):
    if self.name == "simultaneous":
      return _simultaneous_update(players, state, batch, keys)
    return _alternating_update(self.n_critic, players, state, batch, keys)


def _apply(optimizer, params, opt_state, grads):
  updates, opt_state = optimizer.update(grads, opt_state, params)
  return optax.apply_updates(params, updates), opt_state


def _model_update(players, model_params, model_opt_state, critic_params, states, batch, key):
  (loss, (metrics, states)), grads = jax.value_and_grad(players.model_loss, has_aux=True)(
      model_params, critic_params, states, batch, key)
  model_params, model_opt_state = _apply(players.model_optimizer, model_params, model_opt_state, grads)
  return model_params, model_opt_state, states, {"model_loss": loss, "model_grad_norm": optax.tree.norm(grads),
                                                 **metrics}


def _critic_grads(players, state, critic_params, states, batch, key):
  (loss, states), grads = jax.value_and_grad(players.critic_loss, has_aux=True)(
      critic_params, state.model_params, states, batch, key, state.step)
  return grads, states, {"critic_loss": loss, "critic_grad_norm": optax.tree.norm(grads)}


def alternating(n_critic: int = 1) -> Scheme:
  if not isinstance(n_critic, int) or n_critic < 1:
    raise ValueError(f"n_critic must be an integer ≥ 1 for a critic-based divergence; got {n_critic!r}.")
  return Scheme("alternating", n_critic)


def simultaneous() -> Scheme:
  return Scheme("simultaneous", 1)


def _alternating_update(n_critic, players, state, batch, keys):
  critic_params, critic_opt_state = state.critic_params, state.critic_opt_state
  states, metrics = (state.model_state, state.critic_state), {}
  if players.critic_optimizer is not None:
    def one_critic_update(carry, key):
      params, opt_state, states = carry
      grads, states, critic_metrics = _critic_grads(players, state, params, states, batch, key)
      return (*_apply(players.critic_optimizer, params, opt_state, grads), states), critic_metrics

    (critic_params, critic_opt_state, states), per_update = jax.lax.scan(
        one_critic_update, (critic_params, critic_opt_state, states), jax.random.split(keys.critic, n_critic))
    metrics = {name: values[-1] for name, values in per_update.items()}
  model_params, model_opt_state, states, model_metrics = _model_update(
      players, state.model_params, state.model_opt_state, critic_params, states, batch, keys.model)
  return critic_params, critic_opt_state, states, model_params, model_opt_state, {**metrics, **model_metrics}


def _simultaneous_update(players, state, batch, keys):
  critic_params, critic_opt_state = state.critic_params, state.critic_opt_state
  model_params, model_opt_state, states, metrics = _model_update(
      players, state.model_params, state.model_opt_state, critic_params,
      (state.model_state, state.critic_state), batch, keys.model)
  if players.critic_optimizer is not None:  # same parameters, same samples
    grads, states, critic_metrics = _critic_grads(players, state, critic_params, states, batch, keys.model)
    critic_params, critic_opt_state = _apply(players.critic_optimizer, critic_params, critic_opt_state, grads)
    metrics = {**critic_metrics, **metrics}
  return critic_params, critic_opt_state, states, model_params, model_opt_state, metrics


SCHEMES = ("alternating", "simultaneous")
