"""`gdiv.models.check` on every registered family, and on broken families it must refuse.

The properties live in gdiv.models.checks (the public `check` runs them on a
user's family too); a family registered later is checked here without a new test.
"""

import math
from typing import ClassVar

import flax.linen as nn
import jax
import jax.numpy as jnp
import pytest

from gdiv import models

# Small instances, so the suite stays quick; a family not listed is built with its defaults.
KWARGS = {"mixture": dict(num_components=3), "flow": dict(num_layers=4, hidden=(16,)),
          "made": dict(hidden=(16,)), "mlp_generator": dict(hidden=(16, 16)),
          # colour images, convolutions as patch matmuls (checked against lax's in test_model_families)
          "conv_generator": dict(dim=48, image_shape=(4, 4, 3), channels=(8, 4), latent_dim=4, form="patches")}


@pytest.mark.parametrize("name", models.names())
def test_every_registered_family_passes_check(name):
  assert models.check(name, **KWARGS.get(name, {})) == tuple(p.__name__ for p in models.checks.PROPERTIES)


class Laplace(models.Model):
  """The README's example family: independent Laplace coordinates, explicit and reparameterised."""

  has_log_prob: ClassVar[bool] = True
  differentiable_samples: ClassVar[bool] = True
  log_normaliser: float = math.log(2.0)
  sample_scale_power: float = 1.0
  sample_shift: float = 0.0

  def setup(self):
    self.loc = self.param("loc", nn.initializers.zeros, (self.dim,))
    self.log_scale = self.param("log_scale", nn.initializers.zeros, (self.dim,))

  def sample(self, key, n):
    scale = jnp.exp(self.sample_scale_power * self.log_scale)
    return self.loc + self.sample_shift + scale * jax.random.laplace(key, (n, self.dim))

  def log_prob(self, x):
    return jnp.sum(-jnp.abs(x - self.loc) * jnp.exp(-self.log_scale) - self.log_scale - self.log_normaliser, -1)


class FrozenSamples(Laplace):
  """Declares reparameterised samples but cuts their gradient."""

  def sample(self, key, n):
    return jax.lax.stop_gradient(super().sample(key, n))


class OneTooMany(Laplace):
  def sample(self, key, n):
    return jnp.zeros((n, self.dim + 1))


@pytest.mark.parametrize("dim", [2, 3])  # 3: normalisation by importance sampling instead of quadrature
def test_check_passes_a_correct_user_family(dim):
  models.check(Laplace, dim=dim)


def test_check_finds_a_wrong_normaliser_by_importance_sampling_above_two_dimensions():
  with pytest.raises(models.FamilyCheckError, match=r"Laplace \(dim=3\) fails log_prob_normalised: ∫ q\(x\) dx = (7\.[6-9]|8\.[0-4])"):
    models.check(Laplace, dim=3, log_normaliser=0.0)  # the density times 2³


@pytest.mark.parametrize("family, kwargs, prop", [
    (Laplace, dict(log_normaliser=0.0), "log_prob_normalised"),      # the log 2 of the Laplace density dropped
    (Laplace, dict(sample_shift=0.3), "samples_match_density"),      # sampler and density disagree on the mean
    (Laplace, dict(sample_scale_power=3.0), "samples_match_density"),  # ... on the scale
    (FrozenSamples, {}, "sample_gradients"),
    (OneTooMany, {}, "sample_shape"),
])
def test_check_names_the_property_a_broken_family_breaks(family, kwargs, prop):
  with pytest.raises(models.FamilyCheckError, match=f"{family.__name__} \\(dim=2\\) fails {prop}: .* Fix: "):
    models.check(family, **kwargs)
