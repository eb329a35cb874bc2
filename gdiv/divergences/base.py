"""What every divergence receives and promises.

A divergence never calls a network. The training step evaluates the model and
the critic on a batch and hands the resulting arrays to the divergence as an
`Evaluations`; the divergence turns them into scalar losses. A divergence
declares which arrays it needs, so the step computes only those and an
impossible model pairing is caught before anything compiles.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple, Protocol

import jax


class Recipe(NamedTuple):
  """How a divergence is best trained: the values a study gives these config fields when it asks
  for recipes (`config.use_recipe`), unless the study's sweep sets them per point. None: no
  recommendation (the study's own value stands).

  n_critic: critic updates per model update (alternating scheme).
  beta1, beta2: Adam's moment decays, for the model and the critic.
  generator_loss: "saddle" or "non_saturating".
  r1_penalty, roth_gamma, critic_bound: stabilisers, as config fields name them (gdiv.training.settings).
  roth_anneal_steps: Roth et al.'s annealing horizon T; -1: the whole run.
  source: where the recipe comes from (a paper, or the measurement that chose it).
  """

  n_critic: int | None = None
  beta1: float | None = None
  beta2: float | None = None
  generator_loss: str | None = None
  r1_penalty: float | None = None
  roth_gamma: float | None = None
  roth_anneal_steps: int | None = None
  critic_bound: float | None = None
  source: str = ""

  def settings(self) -> dict:
    """The fields the recipe sets, {name: value}."""
    return {k: v for k, v in self._asdict().items() if k != "source" and v is not None}

  def describe(self) -> str:
    """One line for a protocol: `n_critic=5, beta1=0, beta2=0.9 (Gulrajani et al. 2017)`."""
    text = ", ".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in self.settings().items())
    return (text or "none") + (f" ({self.source})" if self.source else "")


NO_RECIPE = Recipe()


def recipe_of(divergence) -> Recipe:
  """The divergence's recipe; NO_RECIPE for one that declares none (a user's may not)."""
  return optional_member(divergence, "recipe") or NO_RECIPE


# Members a divergence may leave out (the Divergence protocol documents each); the step asks for
# them by name through `optional_member`, and a divergence without one is refused what needs it.
OPTIONAL_MEMBERS = ("recipe", "non_saturating_model_loss", "regulariser_weight", "model_loss_and_metrics",
                    "needs_key", "config_fields")


def optional_member(divergence, name: str):
  """The divergence's optional member `name` (one of OPTIONAL_MEMBERS), None where it has none."""
  if name not in OPTIONAL_MEMBERS:
    raise ValueError(f"{name!r} is not an optional divergence member; they are {', '.join(OPTIONAL_MEMBERS)}.")
  return getattr(divergence, name, None)


def configured(divergence, fields):
  """The divergence with the attributes its `config_fields` name set from `fields` (a config, or
  gdiv.training.Fields with a sweep's traced values) where they have them and are not None (None:
  the divergence's own default); itself when none."""
  names = optional_member(divergence, "config_fields") or {}
  chosen = {attribute: fields[field] for field, attribute in names.items()
            if field in fields and fields[field] is not None}
  return dataclasses.replace(divergence, **chosen) if chosen else divergence


class Evaluations(NamedTuple):
  """Arrays a divergence is computed from; fields it does not need are None.

  real: the data batch x ~ P, shape (B, D).
  fake: model samples x ~ Q, shape (B, D) (present when samples are drawn).
  critic_real: raw critic output V(x) on data x ~ P, shape (B,).
  critic_fake: raw critic output V(x) on model samples x ~ Q, shape (B,).
  log_q_real: model log-density log q(x) on data x ~ P, shape (B,).
  key: a PRNG key for the objective's own draws (sliced Wasserstein's directions), when it needs_key.
  """

  real: jax.Array | None = None
  fake: jax.Array | None = None
  critic_real: jax.Array | None = None
  critic_fake: jax.Array | None = None
  log_q_real: jax.Array | None = None
  key: jax.Array | None = None


class Divergence(Protocol):
  """The protocol the training step relies on.

  Attributes:
    name: registry key.
    needs_critic: the objective is estimated by a learned critic V(x).
    needs_log_prob: the objective uses log q(x) of the model on data.
    needs_sample_gradients: the model is trained through its samples, so they
      must be reparameterised (differentiable in the model parameters).
    estimate_name: what `estimate` returns, for logs and tables.
    gradient_penalty: the critic gradient-penalty weight the objective's paper
      uses (WGAN-GP: 10); the step applies it unless told otherwise.
    critic_loss_is_linear_in_fakes: (critic-based) the critic loss is an
      expectation over the fake batch plus a term of the real one, so the loss
      against a mixture λQ + (1 - λ)N of fake distributions is λ·loss(Q) +
      (1 - λ)·loss(N): negative data augmentation relies on it.

  Optional members (OPTIONAL_MEMBERS; absent: the capability is refused with its reason):
    recipe: the `Recipe` studies train it with when they ask for recipes.
    non_saturating_model_loss(ev): the generator loss generator_loss="non_saturating" uses.
    regulariser_weight(v): w(v) = g_f'(v)²·f*''(g_f(v)), the weight of Roth et al.'s regulariser.
    model_loss_and_metrics(ev): (model loss, {"estimate": ..., more metrics}) from one computation
      (Sinkhorn reports whether its iterations converged); without it: model_loss and estimate.
    needs_key: True if the objective draws its own randomness from `Evaluations.key`.
    config_fields: {config field: attribute}: flat config fields that set the objective's attributes
      (`configured` applies them; a sweep's traced values too), e.g. {"sinkhorn_epsilon": "epsilon"}.

  Objectives beyond the critic's two arrays read what they need from `Evaluations`: the raw
  batches `real` and `fake` (critic-free losses), batch-level reductions of the critic outputs
  (a log-mean-exp is a function of `critic_fake` like any other).
  """

  name: str
  needs_critic: bool
  needs_log_prob: bool
  needs_sample_gradients: bool
  estimate_name: str
  gradient_penalty: float
  critic_loss_is_linear_in_fakes: bool

  def critic_loss(self, ev: Evaluations) -> jax.Array:
    """Scalar the critic minimises."""

  def model_loss(self, ev: Evaluations) -> jax.Array:
    """Scalar the model minimises (the saddle objective for critic-based ones)."""

  def estimate(self, ev: Evaluations) -> jax.Array:
    """The divergence (or bound, or NLL) the run reports."""


class CriticFreeObjective:
  """Base of objectives the model minimises directly, with no critic: estimate = model loss."""

  name: str
  needs_critic = False
  gradient_penalty = 0.0
  critic_loss_is_linear_in_fakes = False
  recipe = NO_RECIPE

  def critic_loss(self, ev: Evaluations) -> jax.Array:
    raise TypeError(f"{self.name!r} has no critic")

  def model_loss(self, ev: Evaluations) -> jax.Array:
    raise NotImplementedError

  def estimate(self, ev: Evaluations) -> jax.Array:
    return self.model_loss(ev)


class SampleDistance(CriticFreeObjective):
  """A divergence the model minimises as a function of the two batches: distance(real, fake, key).

  unbiased: E distance(X, Y) over batches is the population value (so 0 for batches of one
  distribution); biased ones are 0 on two copies of a batch instead. needs_key: the distance draws
  its own randomness (Evaluations.key). config_fields: {config field: attribute} a config sets.
  """

  needs_log_prob = False
  needs_sample_gradients = True
  needs_key = False
  unbiased = False
  config_fields: dict = {}

  def distance(self, x: jax.Array, y: jax.Array, key: jax.Array | None) -> jax.Array:
    raise NotImplementedError

  def model_loss(self, ev: Evaluations) -> jax.Array:
    return self.distance(ev.real, ev.fake, ev.key)
