"""Multilayer perceptrons and the MLP implicit generator."""

from __future__ import annotations

from typing import Callable, ClassVar, Sequence

import flax.linen as nn
import jax

from gdiv.models.base import Model

ACTIVATIONS: dict[str, Callable] = {"tanh": nn.tanh, "relu": nn.relu, "leaky_relu": nn.leaky_relu,
                                    "elu": nn.elu}


def activation_fn(name: str) -> Callable:
  if name not in ACTIVATIONS:
    raise ValueError(f"Unknown activation {name!r}; choose one of {', '.join(ACTIVATIONS)}.")
  return ACTIVATIONS[name]


class MLP(nn.Module):
  """Dense layers of the given widths with an activation between them.

  zero_init_last: start the output layer at zero (a flow layer then starts as
  the identity).
  """

  widths: Sequence[int]
  activation: str = "relu"
  zero_init_last: bool = False

  @nn.compact
  def __call__(self, x):
    act = activation_fn(self.activation)
    for width in self.widths[:-1]:
      x = act(nn.Dense(width)(x))
    init = nn.initializers.zeros if self.zero_init_last else nn.linear.default_kernel_init
    return nn.Dense(self.widths[-1], kernel_init=init)(x)


class MLPGenerator(Model):
  """Implicit generator x = G_θ(z), z ~ N(0, I_latent_dim); no log_prob."""

  hidden: Sequence[int] = (64, 64)
  latent_dim: int = 2
  activation: str = "relu"
  has_log_prob: ClassVar[bool] = False
  differentiable_samples: ClassVar[bool] = True

  @nn.compact
  def sample(self, key, n: int):
    z = jax.random.normal(key, (n, self.latent_dim))
    return MLP((*self.hidden, self.dim), self.activation)(z)
