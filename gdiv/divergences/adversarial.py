"""Critic-based objectives beyond the f-family, as TF-GAN, compare_gan and StudioGAN offer them.

Each is a pair of losses of the raw critic outputs V on data (v_r) and model
samples (v_f); the critic minimises `critic`, the model minimises `model`.
`estimate` is what the run reports.

  wasserstein_gp (Gulrajani et al. 2017):  critic E_Q[V] - E_P[V] (+ 10·gradient penalty),
      model -E_Q[V]; estimate E_P[V] - E_Q[V] (the W1 estimate of a 1-Lipschitz critic).
  hinge (Lim & Ye 2017; Miyato et al. 2018):  critic E_P[relu(1 - V)] + E_Q[relu(1 + V)],
      model -E_Q[V].
  least_squares (LSGAN, Mao et al. 2017, a = 0, b = c = 1):  critic ½E_P[(V - 1)²] + ½E_Q[V²],
      model ½E_Q[(V - 1)²].
  relativistic (RaGAN, Jolicoeur-Martineau 2019), with D̃_r = v_r - E[v_f], D̃_f = v_f - E[v_r]:
      critic E_P[softplus(-D̃_r)] + E_Q[softplus(D̃_f)],
      model  E_Q[softplus(-D̃_f)] + E_P[softplus(D̃_r)].
For hinge, least_squares and relativistic the estimate is minus the critic loss.
Relativistic's critic loss is not linear in the fakes (E[v_f] sits inside a softplus).
"""

from __future__ import annotations

import dataclasses
from typing import Callable

import jax
import jax.numpy as jnp

from gdiv.divergences.base import NO_RECIPE, Evaluations, Recipe

LossFn = Callable[[jax.Array, jax.Array], jax.Array]


@dataclasses.dataclass(frozen=True)
class CriticObjective:
  """A critic-based objective given by its two losses of (v_real, v_fake)."""

  name: str
  critic: LossFn
  model: LossFn
  estimate_fn: LossFn
  estimate_name: str = "critic_objective"
  gradient_penalty: float = 0.0
  critic_loss_is_linear_in_fakes: bool = True
  recipe: Recipe = NO_RECIPE

  needs_critic = True
  needs_log_prob = False
  needs_sample_gradients = True

  def critic_loss(self, ev: Evaluations) -> jax.Array:
    return self.critic(ev.critic_real, ev.critic_fake)

  def model_loss(self, ev: Evaluations) -> jax.Array:
    return self.model(ev.critic_real, ev.critic_fake)

  def estimate(self, ev: Evaluations) -> jax.Array:
    return self.estimate_fn(ev.critic_real, ev.critic_fake)


def _mean_gap(v_r, v_f):
  return jnp.mean(v_r) - jnp.mean(v_f)


WASSERSTEIN_GP = CriticObjective(
    name="wasserstein_gp", critic=lambda v_r, v_f: -_mean_gap(v_r, v_f),
    model=lambda v_r, v_f: -jnp.mean(v_f), estimate_fn=_mean_gap,
    estimate_name="wasserstein_estimate", gradient_penalty=10.0,
    recipe=Recipe(n_critic=5, beta1=0.0, beta2=0.9, source="Gulrajani et al. 2017, Algorithm 1"))


def _hinge_critic(v_r, v_f):
  return jnp.mean(jax.nn.relu(1.0 - v_r)) + jnp.mean(jax.nn.relu(1.0 + v_f))


HINGE = CriticObjective(name="hinge", critic=_hinge_critic, model=lambda v_r, v_f: -jnp.mean(v_f),
                        estimate_fn=lambda v_r, v_f: -_hinge_critic(v_r, v_f))


def _least_squares_critic(v_r, v_f):
  return 0.5 * jnp.mean((v_r - 1.0) ** 2) + 0.5 * jnp.mean(v_f**2)


LEAST_SQUARES = CriticObjective(
    name="least_squares", critic=_least_squares_critic,
    model=lambda v_r, v_f: 0.5 * jnp.mean((v_f - 1.0) ** 2),
    estimate_fn=lambda v_r, v_f: -_least_squares_critic(v_r, v_f))


def _relativistic(v_r, v_f):
  """Relativistic-average losses of the side that calls V(real) 'real' and V(fake) 'fake'."""
  return (jnp.mean(jax.nn.softplus(-(v_r - jnp.mean(v_f))))
          + jnp.mean(jax.nn.softplus(v_f - jnp.mean(v_r))))


RELATIVISTIC = CriticObjective(
    name="relativistic", critic=_relativistic, model=lambda v_r, v_f: _relativistic(v_f, v_r),
    estimate_fn=lambda v_r, v_f: -_relativistic(v_r, v_f), critic_loss_is_linear_in_fakes=False)

ADVERSARIAL = (WASSERSTEIN_GP, HINGE, LEAST_SQUARES, RELATIVISTIC)
