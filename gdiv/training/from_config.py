"""One path from a study's config to a Trainer: optimisers, critic options and pairing, resolved here.

  trainer = training.trainer_from_config(config, model, critic)           # a study's make_trainer
  trainer = training.trainer_from_config(config, model, critic, hparams=h)  # h: a sweep's traced values

A study builds its own networks (they are what differs between studies) and hands them here with
its config; every other choice is read from the config's flat fields, the same names in every study:

  divergence              the objective (or `divergence=` a Divergence built by the study)
  optimizer               "adam" (default) | "sgd", for both players
  learning_rate           the model's step; critic_learning_rate the critic's (default: learning_rate)
  beta1, beta2            Adam's β (defaults 0.9, 0.999)
  learning_rate_schedule  "constant" (default) | "linear" | "cosine": both steps decay to 0 at config.steps
  average_decay           β of the model's iterate average (gdiv.training.averaging; 0, the default: none),
  average_start           and the update it starts after (default 0); evaluation, samples and fits use it
  skip_nonfinite_updates  True: an update with non-finite gradients is skipped (optax.apply_if_finite)
  scheme, n_critic, generator_loss, gradient_penalty, the penalty fields, critic_bound
                          the critic's options (gdiv.training.settings.config_options)
  the divergence's config_fields  its attributes (sinkhorn_epsilon, transport_power, projections:
                          gdiv.divergences.configured)

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
from gdiv.training.averaging import averaged
from gdiv.training.negatives import NegativeData
from gdiv.training.settings import config_options
from gdiv.training.state import Trainer
from gdiv.training.trainer import make_trainer

OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("constant", "linear", "cosine")
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


def schedule_from_config(fields: Fields, learning_rate) -> optax.ScalarOrSchedule:
  """fields["learning_rate_schedule"] from `learning_rate` (possibly traced) to 0 at fields["steps"]."""
  name = fields.get("learning_rate_schedule", "constant")
  if name not in SCHEDULES:
    raise ValueError(f"config.learning_rate_schedule must be one of {', '.join(SCHEDULES)}; got {name!r}.")
  if name == "linear":
    return optax.linear_schedule(learning_rate, 0.0, fields["steps"])
  if name == "cosine":
    return optax.cosine_decay_schedule(learning_rate, fields["steps"])
  return learning_rate


def optimizer_from_config(fields: Fields, learning_rate) -> optax.GradientTransformation:
  """fields["optimizer"] at step size `learning_rate` (possibly traced), scheduled and guarded per
  the fields."""
  name = fields.get("optimizer", "adam")
  if name not in OPTIMIZERS:
    raise ValueError(f"config.optimizer must be one of {', '.join(OPTIMIZERS)}; got {name!r}.")
  learning_rate = schedule_from_config(fields, learning_rate)
  if name == "sgd":
    opt = optax.sgd(learning_rate)
  else:
    opt = optax.adam(learning_rate, b1=fields.get("beta1", ADAM_DEFAULTS["beta1"]),
                     b2=fields.get("beta2", ADAM_DEFAULTS["beta2"]))
  if fields.get("skip_nonfinite_updates", False):
    return optax.apply_if_finite(opt, max_consecutive_errors=100)
  return opt


def model_optimizer_from_config(fields: Fields) -> optax.GradientTransformation:
  """The model's optimizer, averaged (gdiv.training.averaged) when fields["average_decay"] is set or
  swept."""
  opt = optimizer_from_config(fields, fields["learning_rate"])
  if "average_decay" not in fields.hparams and not fields.get("average_decay", 0):
    return opt
  decay, start = fields["average_decay"], fields.get("average_start", 0)
  if isinstance(decay, (int, float)) and not 0 <= decay <= 1:
    raise ValueError(f"config.average_decay must be in [0, 1] (0: no average, 1: the uniform one); got {decay}.")
  if isinstance(start, (int, float)) and start < 0:
    raise ValueError(f"config.average_start must be ≥ 0 (an update count); got {start}.")
  return averaged(opt, decay, start)


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
  divergence = divergences.configured(divergence, fields)
  uses_critic = divergence.needs_critic
  critic_rate = fields.get("critic_learning_rate", fields["learning_rate"])
  return make_trainer(
      model, divergence, model_optimizer=model_optimizer_from_config(fields),
      critic=critic if uses_critic else None,
      critic_optimizer=optimizer_from_config(fields, critic_rate) if uses_critic else None,
      negatives=negatives, **config_options(config, fields.__getitem__, divergence))
