"""The one training step shared by every divergence, composed from small parts, and the scan loop.

  trainer = training.make_trainer(
      model, "js", critic=MLPCritic(), model_optimizer=optax.adam(1e-3),
      critic_optimizer=optax.adam(1e-3), scheme=training.alternating(5),
      penalties=(training.penalties.r1(0.1),), critic_transform=training.bounded(10.0))
  state = trainer.init(key, example_batch)
  state, metrics = trainer.step(state, batch)

The parts (each a module here): state (TrainState, Trainer), streams (named PRNG keys), averaging
(`averaged(model_optimizer, decay)`: evaluate and report the iterates' average),
evaluations, critic (transforms such as `bounded`), penalties, losses, negatives, schemes,
trainer (`make_trainer`), settings (flat config fields → those values), from_config (a study's
config → its Trainer: `trainer_from_config`), loop.
"""

from gdiv.training.averaging import AveragedState, averaged, evaluated_params
from gdiv.training.critic import bounded, is_set
from gdiv.training.from_config import SCHEDULES, Fields, optimizer_from_config, trainer_from_config
from gdiv.training.loop import check_finite, make_train_loop
from gdiv.training.losses import GENERATOR_LOSSES
from gdiv.training.negatives import NegativeData
from gdiv.training import penalties
from gdiv.training.penalties import Penalty
from gdiv.training.schemes import SCHEMES, Scheme, alternating, simultaneous
from gdiv.training.settings import config_options, critic_options, recipe_fields, scheme_of, stabilisers
from gdiv.training.state import Trainer, TrainState, apply_with_state, split_variables
from gdiv.training.trainer import check_divergence_data, check_pairing, default_penalties, make_trainer

__all__ = [
    "AveragedState", "Fields", "GENERATOR_LOSSES", "NegativeData", "Penalty", "SCHEDULES",
    "SCHEMES", "Scheme", "TrainState", "Trainer", "alternating", "apply_with_state", "averaged",
    "bounded", "check_divergence_data", "check_finite", "check_pairing", "config_options", "critic_options",
    "default_penalties", "evaluated_params", "is_set", "make_train_loop", "make_trainer",
    "optimizer_from_config", "penalties", "recipe_fields", "scheme_of", "simultaneous",
    "split_variables", "stabilisers", "trainer_from_config",
]
