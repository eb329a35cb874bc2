"""The two players' losses from the evaluations, the penalties and the generator loss.

  critic_loss(critic_params, model_params, states, batch, key, step) -> (loss, states)
      the divergence's critic loss plus the penalties (streams.penalty(key)), at the samples of `key`;
  model_loss(model_params, critic_params, states, batch, key) -> (loss, (metrics, states))
      "saddle" minimises the critic's objective itself (its fixed point is the divergence
      minimiser); "non_saturating" maximises E_Q[g_f(V(x))] (f-GAN Sec. 3.2; stronger early
      gradients, but a different fixed point for some divergences, reverse KL among them).
Both evaluate in training mode. `side_loss` (the critic's loss against one fake side, penalties
included) is what negative data augmentation transforms (gdiv.training.negatives).
"""

from __future__ import annotations

from gdiv.divergences import Divergence, optional_member
from gdiv.training import streams

GENERATOR_LOSSES = ("saddle", "non_saturating")


def check_generator_loss(divergence: Divergence, generator_loss: str) -> None:
  if generator_loss not in GENERATOR_LOSSES:
    raise ValueError(f"Unknown generator loss {generator_loss!r}; choose one of {', '.join(GENERATOR_LOSSES)}.")
  if generator_loss == "saddle":
    return
  if not divergence.needs_critic:
    raise ValueError(f"generator_loss={generator_loss!r} applies to critic-based divergences "
                     f"only; {divergence.name!r} has no critic: use 'saddle'.")
  if optional_member(divergence, "non_saturating_model_loss") is None:
    raise ValueError(f"Divergence {divergence.name!r} defines no non-saturating generator loss; "
                     "use generator_loss='saddle'.")


def make_side_loss(divergence: Divergence, penalty_total):
  """(critic_params, critic_state, ev, key, step) -> (critic loss + penalties against ev.fake, state)."""
  def side_loss(critic_params, critic_state, ev, key, step):
    penalty, critic_state = penalty_total(critic_params, critic_state, ev.real, ev.fake,
                                          streams.penalty(key), step)
    return divergence.critic_loss(ev) + penalty, critic_state
  return side_loss


def make_critic_loss(evaluate, side_loss):
  def critic_loss(critic_params, model_params, states, batch, key, step):
    ev, (model_state, critic_state) = evaluate(model_params, critic_params, states, batch, key, train=True)
    loss, critic_state = side_loss(critic_params, critic_state, ev, key, step)
    return loss, (model_state, critic_state)
  return critic_loss


def make_model_loss(evaluate, divergence: Divergence, generator_loss: str):
  """model_loss(...) -> (loss, (metrics, states)); metrics hold the "estimate" (and what the
  divergence's model_loss_and_metrics adds)."""
  with_metrics = optional_member(divergence, "model_loss_and_metrics") if generator_loss == "saddle" else None
  loss_fn = (divergence.model_loss if generator_loss == "saddle"
             else optional_member(divergence, "non_saturating_model_loss"))

  def model_loss(model_params, critic_params, states, batch, key):
    ev, states = evaluate(model_params, critic_params, states, batch, key, train=True)
    if with_metrics is not None:
      loss, metrics = with_metrics(ev)
      return loss, (metrics, states)
    return loss_fn(ev), ({"estimate": divergence.estimate(ev)}, states)
  return model_loss
