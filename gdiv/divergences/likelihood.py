"""Maximum likelihood: KL(P||Q) through the model's log-density.

  KL(P||Q) = E_P[log p(x)] - E_P[log q(x)] = -H(P) + NLL(Q),

so minimising the negative log-likelihood NLL = -E_P[log q(x)] minimises
KL(P||Q) without a critic; H(P) is a constant the model cannot change. For
latent-variable models log q(x) is replaced by a lower bound (the ELBO), and
the NLL reported is then an upper bound.
"""

from __future__ import annotations

import dataclasses

import jax
import jax.numpy as jnp

from gdiv.divergences.base import CriticFreeObjective, Evaluations, Recipe, recipe_of


@dataclasses.dataclass(frozen=True)
class MaximumLikelihood(CriticFreeObjective):
  """Minimise -E_P[log q(x)]; needs `log_prob`, no critic, no sample gradients."""

  name: str = "mle"
  needs_log_prob = True
  needs_sample_gradients = False
  estimate_name = "nll"

  def model_loss(self, ev: Evaluations) -> jax.Array:
    return -jnp.mean(ev.log_q_real)


MLE = MaximumLikelihood()


@dataclasses.dataclass(frozen=True)
class Hybrid:
  """Adversarial objective plus λ·NLL (Flow-GAN, Grover, Dhar, Ermon 2018).

    model loss = adversarial model loss + λ·(-E_P[log q(x)]); the critic is the adversarial one's.
  Needs an explicit model with differentiable samples (a flow, for instance).
  """

  name: str
  adversarial: object
  weight: float

  needs_critic = True
  needs_log_prob = True
  needs_sample_gradients = True

  @property
  def estimate_name(self) -> str:
    return self.adversarial.estimate_name

  @property
  def gradient_penalty(self) -> float:
    return self.adversarial.gradient_penalty

  @property
  def recipe(self) -> Recipe:
    return recipe_of(self.adversarial)

  @property
  def critic_loss_is_linear_in_fakes(self) -> bool:
    return self.adversarial.critic_loss_is_linear_in_fakes

  def critic_loss(self, ev: Evaluations) -> jax.Array:
    return self.adversarial.critic_loss(ev)

  def model_loss(self, ev: Evaluations) -> jax.Array:
    return self.adversarial.model_loss(ev) - self.weight * jnp.mean(ev.log_q_real)

  def estimate(self, ev: Evaluations) -> jax.Array:
    return self.adversarial.estimate(ev)
