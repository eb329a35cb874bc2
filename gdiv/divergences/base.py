"""What every divergence receives and promises.

A divergence never calls a network. The training step evaluates the model and
the critic on a batch and hands the resulting arrays to the divergence as an
`Evaluations`; the divergence turns them into scalar losses. A divergence
declares which arrays it needs, so the step computes only those and an
impossible model pairing is caught before anything compiles.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

import jax


class Evaluations(NamedTuple):
  """Arrays a divergence is computed from; fields it does not need are None.

  real: the data batch x ~ P, shape (B, D).
  fake: model samples x ~ Q, shape (B, D) (present when samples are drawn).
  critic_real: raw critic output V(x) on data x ~ P, shape (B,).
  critic_fake: raw critic output V(x) on model samples x ~ Q, shape (B,).
  log_q_real: model log-density log q(x) on data x ~ P, shape (B,).
  """

  real: jax.Array | None = None
  fake: jax.Array | None = None
  critic_real: jax.Array | None = None
  critic_fake: jax.Array | None = None
  log_q_real: jax.Array | None = None


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

  def critic_loss(self, ev: Evaluations) -> jax.Array:
    raise TypeError(f"{self.name!r} has no critic")

  def model_loss(self, ev: Evaluations) -> jax.Array:
    raise NotImplementedError

  def estimate(self, ev: Evaluations) -> jax.Array:
    return self.model_loss(ev)
