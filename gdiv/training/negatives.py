"""Negative data augmentation (Sinha et al. 2021) as a transform of the critic's loss.

`sample(key, real)` maps a data batch to data known to be wrong (gdiv.data.nda). The critic's fake
side becomes the mixture λQ + (1 - λ)·NDA(P), λ = model_share, i.e. its loss is
λ·L(real, Q) + (1 - λ)·L(real, NDA(real)) for a loss linear in the fakes, each side with its own
penalties (WGAN-GP's interpolates then join real data to both kinds of fakes: a critic left
unconstrained between P and NDA(P) grows without bound). The model's loss is unchanged.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax

from gdiv.divergences import Divergence
from gdiv.training import streams
from gdiv.training.critic import CriticFn


class NegativeData(NamedTuple):
  """sample(key, real batch) -> a batch of negatives; model_share λ: the model's share of the fakes
  (0.25 as Sinha et al.); λ may be traced."""
  sample: Callable[[jax.Array, jax.Array], jax.Array]
  model_share: float = 0.25


def check(divergence: Divergence, negatives: NegativeData | None) -> None:
  if negatives is None:
    return
  if not divergence.needs_critic:
    raise ValueError(f"Negative data augmentation adds fakes for a critic; {divergence.name!r} has "
                     "none: use a critic-based divergence or negatives=None.")
  if not divergence.critic_loss_is_linear_in_fakes:
    raise ValueError(f"Negative data augmentation mixes two fake sides by weighting the critic loss, "
                     f"which needs a loss linear in the fakes; the critic loss of {divergence.name!r} is "
                     "not. Use an f-divergence, hinge, least_squares or wasserstein_gp.")
  share = negatives.model_share
  if not isinstance(share, jax.core.Tracer) and not 0 < share <= 1:
    raise ValueError(f"model_share (λ, the model's share of the critic's fakes) must be in (0, 1]; "
                     f"got {share}.")


def with_negatives(side_loss, negatives: NegativeData, critic: CriticFn):
  """side_loss(critic_params, critic_state, ev, key, step) -> (loss, state), against λQ + (1-λ)NDA(P)."""
  def loss(critic_params, critic_state, ev, key, step):
    own, critic_state = side_loss(critic_params, critic_state, ev, key, step)
    negative = negatives.sample(streams.negatives(key), ev.real)
    critic_negative, critic_state = critic(critic_params, critic_state, negative, True)
    against, critic_state = side_loss(critic_params, critic_state,
                                      ev._replace(fake=negative, critic_fake=critic_negative), key, step)
    share = negatives.model_share
    return share * own + (1 - share) * against, critic_state
  return loss
