"""make_trainer: validate a model / divergence / critic pairing and compose the step from its parts.

  evaluations (gdiv.training.evaluations)   the arrays the divergence declares
  critic transform (gdiv.training.critic)   e.g. bounded(c)
  penalties (gdiv.training.penalties)       gradient_penalty, r1, r2, roth, ...
  losses (gdiv.training.losses)             critic and model loss, the generator loss
  negatives (gdiv.training.negatives)       a transform of the critic's loss
  schemes (gdiv.training.schemes)           alternating(n_critic) | simultaneous()

Nothing in `step` touches the host, so it is jit-compiled once, vmapped over seeds or
hyper-parameters that keep shapes, and sharded over devices. Maximum likelihood is the same step
with an empty critic. Forward passes in `step` run in training mode and thread the modules'
state (batch-norm statistics, a spectral norm's u) in program order; `estimate` and `sample` run
in evaluation mode and change nothing.
"""

from __future__ import annotations

import functools
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import optax

from gdiv import divergences as divergences_lib
from gdiv.divergences import Divergence
from gdiv.models import Model, check_data_shape
from gdiv.training import losses, negatives as negatives_lib, penalties as penalties_lib, schemes, streams
from gdiv.training.averaging import evaluated_params
from gdiv.training.critic import CriticTransform, critic_fn
from gdiv.training.evaluations import make_evaluate
from gdiv.training.state import Trainer, TrainState, apply_with_state, split_variables


def check_pairing(model: Model, divergence: Divergence, critic: nn.Module | None) -> None:
  """Raise a clear error if `model`, `divergence` and `critic` cannot work together."""
  model_name, div_name = type(model).__name__, divergence.name
  if divergence.needs_log_prob and not model.has_log_prob:
    raise ValueError(f"Divergence {div_name!r} needs the model density log q(x), but {model_name} "
                     "is an implicit model with no log_prob. Train it with a critic-based divergence "
                     "(e.g. 'js', 'kl', 'gan'), or use an explicit model such as Gaussian.")
  if divergence.needs_sample_gradients and not model.differentiable_samples:
    raise ValueError(f"Divergence {div_name!r} trains the model through its samples, but "
                     f"{model_name}'s samples are not differentiable. Use 'mle' or a "
                     "reparameterised model.")
  if divergence.needs_critic and critic is None:
    raise ValueError(f"Divergence {div_name!r} is estimated by a critic: pass critic=..., "
                     "e.g. gdiv.models.MLPCritic().")
  if not divergence.needs_critic and critic is not None:
    raise ValueError(f"Divergence {div_name!r} uses no critic: drop the critic argument.")


def check_divergence_data(divergence: Divergence, batch) -> None:
  """Raise a clear error if the divergence is defined for data of another dimension (its data_dim)."""
  dim = getattr(divergence, "data_dim", None)
  if dim is not None and batch.shape[-1] != dim:
    raise ValueError(f"{divergence.name} compares {dim}-D data (batches of shape (B, {dim})); got dimension "
                     f"{batch.shape[-1]}: use sliced_wasserstein or sinkhorn.")


def _check_critic_side(divergence, scheme, critic_optimizer, critic_transform) -> None:
  if not isinstance(scheme, schemes.Scheme):
    raise ValueError(f"scheme must be gdiv.training.alternating(n_critic) or simultaneous(); got {scheme!r}.")
  if not divergence.needs_critic:
    if critic_transform is not None:
      raise ValueError(f"Gradient penalties and critic bounds act on a critic; {divergence.name!r} has none.")
    return
  if critic_optimizer is None:
    raise ValueError(f"Divergence {divergence.name!r} trains a critic: pass critic_optimizer=..., "
                     "e.g. optax.adam(1e-3).")


def default_penalties(divergence: Divergence) -> tuple[penalties_lib.Penalty, ...]:
  """The penalty the divergence's paper trains with (WGAN-GP's λ = 10), none for most."""
  return (penalties_lib.gradient_penalty(divergence.gradient_penalty),) if divergence.gradient_penalty else ()


def make_init(model: Model, critic, model_optimizer, critic_optimizer, divergence: Divergence):
  """init(key, example_batch) -> TrainState: parameters, their optimizer states, step 0, the run's key."""
  def init(key, example_batch) -> TrainState:
    check_data_shape(model, example_batch)
    check_divergence_data(divergence, example_batch)
    keys = streams.init_keys(key)
    model_params, model_state = split_variables(model.init(keys.model, keys.sample, 1, method=model.sample))
    critic_params, critic_state = (split_variables(critic.init(keys.critic, example_batch))
                                   if critic is not None else ({}, {}))
    return TrainState(step=jnp.zeros((), jnp.int32), key=keys.state, model_params=model_params,
                      model_opt_state=model_optimizer.init(model_params), critic_params=critic_params,
                      critic_opt_state=critic_optimizer.init(critic_params) if critic is not None else (),
                      model_state=model_state, critic_state=critic_state)
  return init


def make_estimate(model: Model, evaluate, divergence: Divergence):
  """estimate(state, batch, key): the divergence's estimate at the state's evaluated parameters (the
  average when the model optimizer keeps one) in evaluation mode, samples from key."""
  def estimate(state: TrainState, batch, key) -> jax.Array:
    check_data_shape(model, batch, "batch")
    ev, _ = evaluate(evaluated_params(state), state.critic_params, (state.model_state, state.critic_state),
                     batch, key, train=False)
    return divergence.estimate(ev)
  return estimate


def make_sample(model: Model):
  """sample(state, key, n): n samples of the evaluated parameters in evaluation mode; jitted, one
  program per n."""
  @functools.partial(jax.jit, static_argnums=2)
  def sample(state: TrainState, key, n: int) -> jax.Array:
    return apply_with_state(model, evaluated_params(state), state.model_state, key, n, train=False,
                            method=model.sample)[0]
  return sample


def estimate_metric(model: Model, divergence: Divergence) -> str:
  """The estimate's metric name; a latent-variable model's likelihood is a bound (the ELBO), so its NLL
  is reported as an upper bound."""
  bound = model.log_prob_is_bound and divergence.estimate_name == "nll"
  return "nll_upper_bound" if bound else divergence.estimate_name


def make_trainer(model: Model, divergence: str | Divergence, *,
                 model_optimizer: optax.GradientTransformation,
                 critic: nn.Module | None = None,
                 critic_optimizer: optax.GradientTransformation | None = None,
                 scheme: schemes.Scheme = schemes.alternating(), generator_loss: str = "saddle",
                 penalties: Sequence[penalties_lib.Penalty] | None = None,
                 critic_transform: CriticTransform | None = None,
                 negatives: negatives_lib.NegativeData | None = None) -> Trainer:
  """Build `init`, the one `step`, `estimate` and `sample` for this model, divergence and critic.

  penalties: None takes the divergence's own (`default_penalties`); critic_transform: e.g.
  bounded(c); negatives: NegativeData(sample, model_share) or None. Weights, learning rates and α
  may be traced scalars (gdiv.sweeps vmaps runs over them). The model draws as many samples per
  update as the batch has data points. Config fields reach these through gdiv.training.settings.
  """
  divergence = divergences_lib.get(divergence) if isinstance(divergence, str) else divergence
  penalties = default_penalties(divergence) if penalties is None else tuple(penalties)
  check_pairing(model, divergence, critic)
  _check_critic_side(divergence, scheme, critic_optimizer, critic_transform)
  losses.check_generator_loss(divergence, generator_loss)
  penalties_lib.check(divergence, penalties)
  negatives_lib.check(divergence, negatives)

  critic_of = critic_fn(critic, critic_transform) if critic is not None else None
  evaluate = make_evaluate(model, critic_of, divergence)
  side_loss = losses.make_side_loss(divergence, penalties_lib.make_total(penalties, critic_of, divergence))
  if negatives is not None:
    side_loss = negatives_lib.with_negatives(side_loss, negatives, critic_of)
  players = schemes.Players(losses.make_critic_loss(evaluate, side_loss),
                            losses.make_model_loss(evaluate, divergence, generator_loss),
                            critic_optimizer if critic is not None else None, model_optimizer)
  metric = estimate_metric(model, divergence)

  def step(state: TrainState, batch) -> tuple[TrainState, dict]:
    check_data_shape(model, batch, "batch")
    keys = streams.step_keys(state.key)
    critic_params, critic_opt_state, (model_state, critic_state), model_params, model_opt_state, metrics = (
        scheme.update(players, state, batch, keys))
    metrics[metric] = metrics.pop("estimate")
    return TrainState(state.step + 1, keys.next, model_params, model_opt_state, critic_params,
                      critic_opt_state, model_state, critic_state), metrics

  return Trainer(init=make_init(model, critic, model_optimizer, critic_optimizer, divergence), step=step,
                 estimate=make_estimate(model, evaluate, divergence), divergence=divergence,
                 sample=make_sample(model))
