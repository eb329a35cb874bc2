"""One path from a study's config to a Trainer: optimisers, critic options and pairing, resolved here.

  trainer = training.trainer_from_config(config, model, critic)           # a study's make_trainer
  trainer = training.trainer_from_config(config, model, critic, hparams=h)  # h: a sweep's traced values

A study builds its own networks (they are what differs between studies) and hands them here with
its config; every other choice is read from the config's flat fields, the same names in every study:

  divergence              the objective (or `divergence=` a Divergence built by the study)
  optimizer               "adam" (default) | "sgd", for both players
  learning_rate           the model's step; critic_learning_rate the critic's (default: learning_rate)
  beta1, beta2            Adam's β (defaults 0.9, 0.999)
  learning_rate_decay     True: both steps decay linearly to 0 at config.steps
  skip_nonfinite_updates  True: an update with non-finite gradients is skipped (optax.apply_if_finite)
  scheme, n_critic, generator_loss, gradient_penalty, the penalty fields, critic_bound
                          the critic's options (gdiv.training.settings.config_options)

The critic (and its optimiser) is used only when the divergence has one, so one make_trainer serves
a study whose points mix likelihood and critic-based objectives. Recipes are not read here: a study
resolves them into the point's config once (gdiv.study, `recipe`), so its table shows them.
"""

from __future__ import annotations

import flax.linen as nn
import optax

from gdiv import divergences
from gdiv.divergences import Divergence
from gdiv.models import Model
from gdiv.training.negatives import NegativeData
from gdiv.training.settings import config_options
from gdiv.training.state import Trainer
from gdiv.training.trainer import make_trainer

OPTIMIZERS = ("adam", "sgd")
ADAM_DEFAULTS = {"beta1": 0.9, "beta2": 0.999}


class Fields:
  """A config's fields with a sweep's traced values over them: fields[name], name in fields."""

  def __init__(self, config, hparams: dict | None = None):
    self.config, self.hparams = config, hparams or {}

  def __contains__(self, name: str) -> bool:
    return name in self.hparams or name in self.config

  def __getitem__(self, name: str):
    return self.hparams[name] if name in self.hparams else self.config[name]

  def get(self, name: str, default=None):
    return self[name] if name in self else default


def optimizer_from_config(fields: Fields, learning_rate) -> optax.GradientTransformation:
  """fields["optimizer"] at step size `learning_rate` (possibly traced), decayed and guarded per
  the fields."""
  name = fields.get("optimizer", "adam")
  if name not in OPTIMIZERS:
    raise ValueError(f"config.optimizer must be one of {', '.join(OPTIMIZERS)}; got {name!r}.")
  if fields.get("learning_rate_decay", False):
    learning_rate = optax.linear_schedule(learning_rate, 0.0, fields["steps"])
  if name == "sgd":
    opt = optax.sgd(learning_rate)
  else:
    opt = optax.adam(learning_rate, b1=fields.get("beta1", ADAM_DEFAULTS["beta1"]),
                     b2=fields.get("beta2", ADAM_DEFAULTS["beta2"]))
  if fields.get("skip_nonfinite_updates", False):
    return optax.apply_if_finite(opt, max_consecutive_errors=100)
  return opt


def trainer_from_config(config, model: Model, critic: nn.Module | None = None, *,
                        hparams: dict | None = None, divergence: str | Divergence | None = None,
                        negatives: NegativeData | None = None) -> Trainer:
  """make_trainer(model, divergence, ...) with every option read from `config` (see the module).

  hparams: a sweep's traced values of some fields, over the config's. divergence: default
  config.divergence. `critic` is dropped when the divergence has none.
  """
  fields = Fields(config, hparams)
  divergence = config.divergence if divergence is None else divergence
  divergence = divergences.get(divergence) if isinstance(divergence, str) else divergence
  uses_critic = divergence.needs_critic
  critic_rate = fields.get("critic_learning_rate", fields["learning_rate"])
  return make_trainer(
      model, divergence, model_optimizer=optimizer_from_config(fields, fields["learning_rate"]),
      critic=critic if uses_critic else None,
      critic_optimizer=optimizer_from_config(fields, critic_rate) if uses_critic else None,
      negatives=negatives, **config_options(config, fields.__getitem__, divergence))
