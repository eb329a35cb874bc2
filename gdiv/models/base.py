"""What a model family declares, and the checks the step makes with it.

A model family is a Flax module over data of shape (batch, dim) with
`sample(key, n)` and, for explicit models, `log_prob(x)`. Two class
attributes say what it can do:

  has_log_prob: log q(x) is available (likelihood objectives need it);
  differentiable_samples: `sample` is reparameterised, x = h_θ(ε), so
    gradients reach θ through samples (adversarial objectives need it).
Latent-variable models train on a stochastic lower bound of log q(x) instead
(`training_log_prob(x, key)`, the ELBO for a VAE) and say so with
`log_prob_is_bound = True`.
A model with state (Flax collections besides "params", e.g. batch-norm
statistics) takes `train: bool = False` in `sample` (and `training_log_prob`):
the training step calls them with train=True and keeps the updated state,
evaluation with train=False (gdiv.training.apply_with_state).
"""

from __future__ import annotations

import math
from typing import ClassVar

import flax.linen as nn
import jax.numpy as jnp


class Model(nn.Module):
  """Base of model families: `dim` is the data dimension."""

  dim: int
  has_log_prob: ClassVar[bool] = False
  differentiable_samples: ClassVar[bool] = True
  log_prob_is_bound: ClassVar[bool] = False

  def sample(self, key, n: int):
    raise NotImplementedError

  def log_prob(self, x):
    raise NotImplementedError(f"{type(self).__name__} is implicit: it has no log_prob.")

  def training_log_prob(self, x, key):
    """What likelihood objectives maximise: log q(x) itself, or a lower bound of it."""
    del key
    return self.log_prob(x)


def check_data_shape(model: Model, x, what: str = "data") -> None:
  """Raise a clear error unless x is a non-empty floating array of shape (batch, model.dim)."""
  shape = tuple(x.shape)
  if len(shape) > 2 and math.prod(shape[1:]) == model.dim:
    raise ValueError(f"{type(model).__name__} expects {what} flattened to (batch, {model.dim}); got "
                     f"images of shape {shape}. Flatten them first: x.reshape(len(x), -1).")
  if len(shape) != 2 or shape[1] != model.dim:
    raise ValueError(f"{type(model).__name__} models {model.dim}-dimensional points and expects {what} "
                     f"of shape (batch, {model.dim}); got shape {shape}. Reshape the data, or build "
                     f"the model with dim={shape[-1] if shape else '...'}.")
  if shape[0] == 0:
    raise ValueError(f"The {what} is empty (shape {shape}): give at least one point.")
  if not jnp.issubdtype(x.dtype, jnp.floating):
    raise ValueError(f"{type(model).__name__} expects floating-point {what}; got dtype {x.dtype}. "
                     "Convert it, e.g. x.astype(np.float32) (dequantise integer data first).")


def diagonal_normal_log_density(x, mean, log_scale) -> jnp.ndarray:
  """log N(x; μ, diag σ²) over the last axis, from log σ so that no σ underflows to 0:

    -½ Σ_i ((x_i - μ_i) e^{-log σ_i})² - Σ_i log σ_i - (D/2) log 2π
  (a vanishing σ gives -inf away from μ, never 0/0).
  """
  z = (x - mean) * jnp.exp(-log_scale)
  return (-0.5 * jnp.sum(z**2, -1) - jnp.sum(jnp.broadcast_to(log_scale, z.shape), -1)
          - 0.5 * z.shape[-1] * math.log(2 * math.pi))
