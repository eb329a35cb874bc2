"""The arrays a divergence declares, and only those, from the model, the critic and a batch.

  evaluate(model_params, critic_params, states, batch, key, train) -> (Evaluations, states)

fake: model samples from `key` (when the divergence needs a critic or trains through samples);
critic_real / critic_fake: V on data and samples (critic-based divergences); log_q_real: log q on
data (from streams.log_prob(key); an ELBO draws its posterior samples from it); key:
streams.objective(key) (an objective that needs_key). `states` =
(model_state, critic_state) are threaded through the passes in this order and returned updated
(unchanged unless train).
"""

from __future__ import annotations

from typing import Callable

from gdiv.divergences import Divergence, Evaluations, optional_member
from gdiv.models import Model
from gdiv.training import streams
from gdiv.training.critic import CriticFn
from gdiv.training.state import apply_with_state

Evaluate = Callable[..., tuple[Evaluations, tuple]]


def make_evaluate(model: Model, critic: CriticFn | None, divergence: Divergence) -> Evaluate:
  def evaluate(model_params, critic_params, states, batch, key, train: bool):
    model_state, critic_state = states
    fields = {"real": batch}
    if divergence.needs_critic or divergence.needs_sample_gradients:
      fields["fake"], model_state = apply_with_state(model, model_params, model_state, key,
                                                     batch.shape[0], train=train, method=model.sample)
    if divergence.needs_critic:
      fields["critic_real"], critic_state = critic(critic_params, critic_state, batch, train)
      fields["critic_fake"], critic_state = critic(critic_params, critic_state, fields["fake"], train)
    if divergence.needs_log_prob:
      fields["log_q_real"], model_state = apply_with_state(
          model, model_params, model_state, batch, streams.log_prob(key), train=train,
          method=model.training_log_prob)
    if optional_member(divergence, "needs_key"):
      fields["key"] = streams.objective(key)
    return Evaluations(**fields), (model_state, critic_state)
  return evaluate
