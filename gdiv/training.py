"""The one training step shared by every divergence, and the scan loop.

`make_trainer` closes over the static choices (model, critic, divergence,
optimizers, n_critic, update scheme, generator loss) and returns pure
functions of one pytree `TrainState`:

  init(key, example_batch)   -> state
  step(state, batch)         -> (state, metrics)
  estimate(state, batch, key) -> the divergence's estimate, no update
  sample(state, key, n)      -> n model samples in evaluation mode

Nothing in `step` touches the host, so it can be jit-compiled once, `vmap`ped
over seeds or hyper-parameters that do not change shapes, and sharded over
devices. Maximum likelihood is the same step with an empty critic.

Update schemes (the critic maximises the divergence's bound, the model
minimises it):
  "alternating":  n_critic critic updates, then one model update on fresh
                  model samples (GAN / WGAN practice);
  "simultaneous": one gradient evaluation at the same samples updates both
                  (f-GAN, Algorithm 1, the single-step gradient method).
Generator losses: "saddle" minimises the critic's objective itself (its fixed
point is the divergence minimiser); "non_saturating" maximises E_Q[g_f(V(x))]
(f-GAN Sec. 3.2; stronger early gradients, but a different fixed point for
some divergences, reverse KL among them).

Negative data augmentation (Sinha et al. 2021): `negatives(key, real)` maps a
data batch to data known to be wrong (gdiv.data.nda); the critic's fake side
becomes the mixture λQ + (1 - λ)·NDA(P), λ = `model_share`, i.e. its loss is
λ·L(real, Q) + (1 - λ)·L(real, NDA(real)) for a loss linear in the fakes,
each with its gradient penalty (WGAN-GP's interpolates then join real data to
both kinds of fakes: a critic left unconstrained between P and NDA(P) grows
without bound). The model's loss is unchanged.

Model state: a module's Flax collections other than "params" (batch-norm
running statistics, a spectral norm's u vector) ride in the TrainState beside
its parameters. Every forward pass in `step` runs in training mode and hands
the updated state to the next pass, in program order (critic update(s), then
the model update; for the simultaneous scheme the model-loss pass, then the
critic-loss pass), as a PyTorch loop in train() mode would. `estimate` and
`sample` run in evaluation mode and change nothing. A module without state is
applied exactly as a plain Flax module (see `apply_with_state`).
"""

from __future__ import annotations

import functools
from typing import Any, Callable, NamedTuple

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax

from gdiv import divergences as divergences_lib
from gdiv.divergences import Divergence, Evaluations
from gdiv.models import Model, check_data_shape

SCHEMES = ("alternating", "simultaneous")
STABILISERS = ("r1_penalty", "r2_penalty", "roth_gamma", "critic_bound")  # make_trainer's scalar ones
GENERATOR_LOSSES = ("saddle", "non_saturating")


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
  """Pure functions built by `make_trainer`; jit them where they are called."""

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


def _check_options(divergence: Divergence, n_critic: int, scheme: str, generator_loss: str,
                   critic_optimizer) -> None:
  if scheme not in SCHEMES:
    raise ValueError(f"Unknown update scheme {scheme!r}; choose one of {', '.join(SCHEMES)}.")
  if generator_loss not in GENERATOR_LOSSES:
    raise ValueError(f"Unknown generator loss {generator_loss!r}; choose one of "
                     f"{', '.join(GENERATOR_LOSSES)}.")
  if not divergence.needs_critic:
    if generator_loss != "saddle":
      raise ValueError(f"generator_loss={generator_loss!r} applies to critic-based divergences "
                       f"only; {divergence.name!r} has no critic: use 'saddle'.")
    return
  if critic_optimizer is None:
    raise ValueError(f"Divergence {divergence.name!r} trains a critic: pass critic_optimizer=..., "
                     "e.g. optax.adam(1e-3).")
  if not isinstance(n_critic, int) or n_critic < 1:
    raise ValueError(f"n_critic must be an integer ≥ 1 for a critic-based divergence; got {n_critic!r}.")
  if scheme == "simultaneous" and n_critic != 1:
    raise ValueError(f"The simultaneous scheme updates critic and model once per step: "
                     f"use n_critic=1 (got {n_critic}) or scheme='alternating'.")
  if generator_loss == "non_saturating" and not hasattr(divergence, "non_saturating_model_loss"):
    raise ValueError(f"Divergence {divergence.name!r} defines no non-saturating generator loss; "
                     "use generator_loss='saddle'.")


def _is_set(weight) -> bool:
  """Whether a penalty term is computed: a nonzero weight, or a traced one (swept by vmap)."""
  return isinstance(weight, jax.core.Tracer) or weight != 0


def _check_penalties(divergence: Divergence, gp_weight, r1_penalty, r2_penalty, roth_gamma,
                     critic_bound) -> None:
  weights = (("gradient_penalty", gp_weight), ("r1_penalty", r1_penalty), ("r2_penalty", r2_penalty),
             ("roth_gamma", roth_gamma), ("critic_bound", critic_bound))
  if any(_is_set(w) for _, w in weights) and not divergence.needs_critic:
    raise ValueError(f"Gradient penalties and critic bounds act on a critic; {divergence.name!r} has none.")
  if _is_set(roth_gamma) and not hasattr(divergence, "regulariser_weight"):
    raise ValueError(f"Roth et al.'s regulariser weights ‖∇V‖² by f*'' of an f-divergence; "
                     f"{divergence.name!r} is not one: use r1_penalty or r2_penalty.")
  for name, weight in weights:
    if not isinstance(weight, jax.core.Tracer) and weight < 0:
      raise ValueError(f"Penalty weights and critic bounds must be ≥ 0; got {name}={weight}.")


def _check_negatives(divergence: Divergence, negatives, model_share) -> None:
  if negatives is None:
    return
  if not divergence.needs_critic:
    raise ValueError(f"Negative data augmentation adds fakes for a critic; {divergence.name!r} has "
                     "none: use a critic-based divergence or negatives=None.")
  if not getattr(divergence, "critic_loss_is_linear_in_fakes", False):
    raise ValueError(f"Negative data augmentation mixes two fake sides by weighting the critic loss, "
                     f"which needs a loss linear in the fakes; the critic loss of {divergence.name!r} is "
                     "not. Use an f-divergence, hinge, least_squares or wasserstein_gp.")
  if not isinstance(model_share, jax.core.Tracer) and not 0 < model_share <= 1:
    raise ValueError(f"model_share (λ, the model's share of the critic's fakes) must be in (0, 1]; "
                     f"got {model_share}.")


def make_trainer(model: Model, divergence: str | Divergence, *,
                 model_optimizer: optax.GradientTransformation,
                 critic: nn.Module | None = None,
                 critic_optimizer: optax.GradientTransformation | None = None,
                 n_critic: int = 1, scheme: str = "alternating",
                 generator_loss: str = "saddle", gradient_penalty: float | None = None,
                 r1_penalty: float = 0.0, r2_penalty: float = 0.0,
                 roth_gamma: float = 0.0, roth_anneal_steps: int = 0,
                 critic_bound: float = 0.0,
                 negatives: Callable[[jax.Array, jax.Array], jax.Array] | None = None,
                 model_share: float = 0.25) -> Trainer:
  """Build `init` and the one `step` for this model, divergence and critic.

  Args:
    model: a model family (gdiv.models), data of shape (batch, model.dim).
    divergence: a registered name or a divergence object.
    model_optimizer, critic_optimizer: optax transformations.
    critic: raw critic V(x) for critic-based divergences; None otherwise.
    n_critic: critic updates per model update (alternating scheme).
    scheme: "alternating" or "simultaneous" (see the module docstring).
    generator_loss: "saddle" or "non_saturating".
    gradient_penalty: weight λ of λ·E[(‖∇V(x̂)‖ - 1)²] on x̂ = εx_real + (1-ε)x_fake
      (Gulrajani et al. 2017); None takes the divergence's own (10 for
      wasserstein_gp, 0 otherwise).
    r1_penalty: weight γ of (γ/2)·E_P[‖∇V(x)‖²] (Mescheder et al. 2018).
    r2_penalty: weight γ of (γ/2)·E_Q[‖∇V(x)‖²], the same on model samples.
    roth_gamma: γ of Roth et al.'s regulariser (γ/2)·E_Q[w(V(x))·‖∇V(x)‖²],
      w = g_f'² f*''(g_f) (FDivergence.regulariser_weight; f-divergences only). γ is
      a noise variance, in units of x².
    roth_anneal_steps: T > 0 anneals γ_t = γ·0.01^{t/T} (Roth et al.'s schedule,
      γ_T = γ/100, and kept at that level after T); 0 keeps γ constant.
    critic_bound: c > 0 bounds the raw critic smoothly, V ↦ c·tanh(V/c), so the
      log density-ratio it can express is capped (|v| < c). The bound F(T) ≤ D_f
      holds for every critic, so it stays a lower bound; 0 leaves V unbounded.
    negatives: negatives(key, real batch) -> a batch of negative data
      (gdiv.data.nda); None for none.
    model_share: λ, the model's share of the critic's fake side when
      `negatives` is set (0.25 as Sinha et al.).
  Penalty weights, learning rates and α may be traced scalars: gdiv.sweeps
  vmaps runs over them.
  The model draws as many samples per update as the batch has data points.
  """
  if isinstance(divergence, str):
    divergence = divergences_lib.get(divergence)
  check_pairing(model, divergence, critic)
  _check_options(divergence, n_critic, scheme, generator_loss, critic_optimizer)
  gp_weight = divergence.gradient_penalty if gradient_penalty is None else gradient_penalty
  _check_penalties(divergence, gp_weight, r1_penalty, r2_penalty, roth_gamma, critic_bound)
  _check_negatives(divergence, negatives, model_share)
  model_loss_fn = (divergence.model_loss if generator_loss == "saddle"
                   else divergence.non_saturating_model_loss)

  def critic_output(critic_params, critic_state, x, train: bool):
    """(V(x), critic state), V bounded smoothly to (-c, c) when critic_bound = c is set."""
    v, critic_state = apply_with_state(critic, critic_params, critic_state, x, train=train)
    if not _is_set(critic_bound):
      return v, critic_state
    c = jnp.where(critic_bound > 0, critic_bound, 1.0)  # a traced c may be 0 in some runs: unbounded there
    return jnp.where(critic_bound > 0, c * jnp.tanh(v / c), v), critic_state

  def evaluate(model_params, critic_params, states, batch, key, train: bool):
    """The arrays `divergence` needs, and only those; `states` = (model_state, critic_state) are
    threaded through the passes in order and returned updated (unchanged unless train)."""
    model_state, critic_state = states
    fields = {"real": batch}
    if divergence.needs_critic or divergence.needs_sample_gradients:
      fields["fake"], model_state = apply_with_state(model, model_params, model_state, key,
                                                     batch.shape[0], train=train, method=model.sample)
    if divergence.needs_critic:
      fields["critic_real"], critic_state = critic_output(critic_params, critic_state, batch, train)
      fields["critic_fake"], critic_state = critic_output(critic_params, critic_state, fields["fake"], train)
    if divergence.needs_log_prob:
      fields["log_q_real"], model_state = apply_with_state(
          model, model_params, model_state, batch, jax.random.fold_in(key, 2), train=train,
          method=model.training_log_prob)
    return Evaluations(**fields), (model_state, critic_state)

  def init(key, example_batch) -> TrainState:
    check_data_shape(model, example_batch)
    model_key, critic_key, sample_key, state_key = jax.random.split(key, 4)
    model_params, model_state = split_variables(
        model.init(model_key, sample_key, 1, method=model.sample))
    critic_params, critic_state = (split_variables(critic.init(critic_key, example_batch))
                                   if critic is not None else ({}, {}))
    critic_opt_state = critic_optimizer.init(critic_params) if critic is not None else ()
    return TrainState(step=jnp.zeros((), jnp.int32), key=state_key,
                      model_params=model_params,
                      model_opt_state=model_optimizer.init(model_params),
                      critic_params=critic_params, critic_opt_state=critic_opt_state,
                      model_state=model_state, critic_state=critic_state)

  def critic_penalty(critic_params, critic_state, real, fake, key, step):
    """(penalty, critic state): gradient penalties on the critic (zero unless their weights are set)."""
    def total_v(x, state):
      v, state = critic_output(critic_params, state, x, train=True)
      return jnp.sum(v), (v, state)

    def values_and_squared_norms(x, state):
      (_, (v, state)), grads = jax.value_and_grad(total_v, has_aux=True)(x, state)
      return v, jnp.sum(grads.reshape(grads.shape[0], -1) ** 2, axis=1), state

    fake = jax.lax.stop_gradient(fake)
    penalty = 0.0
    if _is_set(gp_weight):
      eps = jax.random.uniform(key, (real.shape[0],) + (1,) * (real.ndim - 1))
      _, squared, critic_state = values_and_squared_norms(eps * real + (1 - eps) * fake, critic_state)
      penalty += gp_weight * jnp.mean((jnp.sqrt(squared + 1e-12) - 1.0) ** 2)
    if _is_set(r1_penalty):
      _, squared, critic_state = values_and_squared_norms(real, critic_state)
      penalty += 0.5 * r1_penalty * jnp.mean(squared)
    if _is_set(r2_penalty) or _is_set(roth_gamma):
      v, squared, critic_state = values_and_squared_norms(fake, critic_state)
      penalty += 0.5 * r2_penalty * jnp.mean(squared)
      if _is_set(roth_gamma):
        anneal = 0.01 ** jnp.minimum(step / roth_anneal_steps, 1.0) if roth_anneal_steps else 1.0
        penalty += 0.5 * roth_gamma * anneal * jnp.mean(divergence.regulariser_weight(v) * squared)
    return penalty, critic_state

  def critic_loss(critic_params, model_params, states, batch, key, step):
    """(loss, states): the critic's loss and the states after its passes (training mode)."""
    ev, (model_state, critic_state) = evaluate(model_params, critic_params, states, batch, key,
                                               train=True)  # same key, same samples as the model's
    penalty_key = jax.random.fold_in(key, 1)
    penalty, critic_state = critic_penalty(critic_params, critic_state, ev.real, ev.fake, penalty_key,
                                           step)
    loss = divergence.critic_loss(ev) + penalty
    if negatives is not None:  # the loss against the mixture of fakes, penalties included
      negative = negatives(jax.random.fold_in(key, 3), ev.real)
      critic_negative, critic_state = critic_output(critic_params, critic_state, negative, train=True)
      negative_penalty, critic_state = critic_penalty(critic_params, critic_state, ev.real, negative,
                                                      penalty_key, step)
      loss = model_share * loss + (1 - model_share) * (divergence.critic_loss(
          ev._replace(fake=negative, critic_fake=critic_negative)) + negative_penalty)
    return loss, (model_state, critic_state)

  def model_loss(model_params, critic_params, states, batch, key):
    """(loss, (estimate, states)): the model's loss, the estimate, the states after its passes."""
    ev, states = evaluate(model_params, critic_params, states, batch, key, train=True)
    return model_loss_fn(ev), (divergence.estimate(ev), states)

  def critic_update(params, opt_state, grads):
    updates, opt_state = critic_optimizer.update(grads, opt_state, params)
    return optax.apply_updates(params, updates), opt_state

  def step(state: TrainState, batch) -> tuple[TrainState, dict]:
    check_data_shape(model, batch, "batch")
    key, critic_key, model_key = jax.random.split(state.key, 3)
    critic_params, critic_opt_state = state.critic_params, state.critic_opt_state
    states = (state.model_state, state.critic_state)
    metrics = {}
    if divergence.needs_critic and scheme == "alternating":
      def one_critic_update(carry, k):
        params, opt_state, states = carry
        (loss, states), grads = jax.value_and_grad(critic_loss, has_aux=True)(
            params, state.model_params, states, batch, k, state.step)
        return (*critic_update(params, opt_state, grads), states), (loss, optax.tree.norm(grads))

      (critic_params, critic_opt_state, states), (losses, norms) = jax.lax.scan(
          one_critic_update, (critic_params, critic_opt_state, states),
          jax.random.split(critic_key, n_critic))
      metrics["critic_loss"], metrics["critic_grad_norm"] = losses[-1], norms[-1]

    (loss, (estimate, states)), model_grads = jax.value_and_grad(model_loss, has_aux=True)(
        state.model_params, critic_params, states, batch, model_key)
    updates, model_opt_state = model_optimizer.update(model_grads, state.model_opt_state,
                                                      state.model_params)
    model_params = optax.apply_updates(state.model_params, updates)

    if divergence.needs_critic and scheme == "simultaneous":  # same parameters, same samples
      (metrics["critic_loss"], states), critic_grads = jax.value_and_grad(critic_loss, has_aux=True)(
          critic_params, state.model_params, states, batch, model_key, state.step)
      metrics["critic_grad_norm"] = optax.tree.norm(critic_grads)
      critic_params, critic_opt_state = critic_update(critic_params, critic_opt_state, critic_grads)

    metrics["model_loss"] = loss
    metrics["model_grad_norm"] = optax.tree.norm(model_grads)
    # a latent-variable model's likelihood is a bound (the ELBO): its NLL is an upper bound
    bound = model.log_prob_is_bound and divergence.estimate_name == "nll"
    metrics["nll_upper_bound" if bound else divergence.estimate_name] = estimate
    model_state, critic_state = states
    return TrainState(step=state.step + 1, key=key, model_params=model_params,
                      model_opt_state=model_opt_state, critic_params=critic_params,
                      critic_opt_state=critic_opt_state, model_state=model_state,
                      critic_state=critic_state), metrics

  def estimate(state: TrainState, batch, key) -> jax.Array:
    """The divergence's estimate at the current parameters (no update, evaluation mode), model
    samples from `key`."""
    check_data_shape(model, batch, "batch")
    ev, _ = evaluate(state.model_params, state.critic_params, (state.model_state, state.critic_state),
                     batch, key, train=False)
    return divergence.estimate(ev)

  @functools.partial(jax.jit, static_argnums=2)
  def sample(state: TrainState, key, n: int) -> jax.Array:
    """n model samples in evaluation mode (running statistics; the state is not changed); jitted, so
    evaluation draws them in one program per n, not op by op."""
    return apply_with_state(model, state.model_params, state.model_state, key, n, train=False,
                            method=model.sample)[0]

  return Trainer(init=init, step=step, estimate=estimate, divergence=divergence, sample=sample)


def make_train_loop(step: Callable, sample_batch: Callable[[jax.Array], jax.Array],
                    steps_per_call: int) -> Callable[[TrainState], tuple[TrainState, dict]]:
  """run(state) -> (state, metrics): `steps_per_call` steps in one `lax.scan`.

  `sample_batch(key) -> batch` produces each step's data on device (a known
  sampler, or an index into a dataset already on device), so a call makes no
  host round trip. Metrics come back stacked, shape (steps_per_call,).
  """
  def run(state: TrainState):
    def body(state, _):
      key, data_key = jax.random.split(state.key)
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
