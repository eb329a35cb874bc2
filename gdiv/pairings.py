"""Which model family can be trained with which divergence, and why a pair cannot: the rules of the
quality matrix (experiments.pairings), from the trainer's own pairing check. Vector families take 2-D
data and an MLP critic; image families (conv_generator) take the 8×8 digits and a ConvCritic."""

from __future__ import annotations

import math

import ml_collections
import numpy as np

from gdiv import divergences, models, training
from gdiv.data import DIGITS_SHAPE
from gdiv.models import ConvCritic, MLPCritic

IMAGE_FAMILIES = ("conv_generator",)  # trained on 8×8 digits, flattened to 64 pixels


def is_image_family(model_name: str) -> bool:
  return model_name in IMAGE_FAMILIES


def make_model(config) -> models.Model:
  if is_image_family(config.model):
    return models.get(config.model)(dim=math.prod(DIGITS_SHAPE), image_shape=DIGITS_SHAPE)
  return models.get(config.model)(dim=2)


def make_critic(config):
  return ConvCritic(DIGITS_SHAPE) if is_image_family(config.model) else MLPCritic((64, 64))


def unsupported_reason(model_name: str, divergence_name: str) -> str | None:
  """Why the pair is impossible in principle (the trainer's own error), or None."""
  config = ml_collections.ConfigDict({"model": model_name})
  divergence = divergences.get(divergence_name)
  model = make_model(config)
  try:
    training.check_pairing(model, divergence, make_critic(config) if divergence.needs_critic else None)
    training.check_divergence_data(divergence, np.zeros((1, model.dim)))  # wasserstein_1d: 1-D data only
  except ValueError as e:
    return str(e)
  return None


def possible_pairs(model_names, divergence_names) -> list[tuple[str, str]]:
  return [(m, d) for m in model_names for d in divergence_names if unsupported_reason(m, d) is None]
