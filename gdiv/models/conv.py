"""A DCGAN-style implicit generator for single-channel images (Radford et al. 2016)."""

from __future__ import annotations

import math
from typing import ClassVar, Sequence

import flax.linen as nn
import jax

from gdiv.models.base import Model
from gdiv.models.convolution import ConvTranspose


class ConvGenerator(Model):
  """x = G_θ(z): dense to a (H/4)×(W/4) map, two stride-2 transposed convolutions, sigmoid.

  Pixels are in (0, 1); samples are flattened to (n, H·W), the shape every
  model family shares (`dim` = H·W). Implicit: no log_prob. `matmul`: how
  the convolutions run (gdiv.models.convolution; None decides by size).
  """

  image_shape: tuple[int, int] = (8, 8)
  latent_dim: int = 32
  channels: Sequence[int] = (64, 32)
  matmul: bool | None = None
  has_log_prob: ClassVar[bool] = False
  differentiable_samples: ClassVar[bool] = True

  @nn.compact
  def sample(self, key, n: int):
    height, width = self.image_shape
    if height % 4 or width % 4 or height * width != self.dim:
      raise ValueError(f"ConvGenerator needs an image_shape with sides divisible by 4 and "
                       f"dim = height·width; got image_shape={self.image_shape}, dim={self.dim}.")
    z = jax.random.normal(key, (n, self.latent_dim))
    x = nn.relu(nn.Dense(height // 4 * width // 4 * self.channels[0])(z))
    x = x.reshape(n, height // 4, width // 4, self.channels[0])
    x = nn.relu(ConvTranspose(self.channels[1], (4, 4), (2, 2), self.matmul)(x))
    x = ConvTranspose(1, (4, 4), (2, 2), self.matmul)(x)
    return nn.sigmoid(x).reshape(n, math.prod(self.image_shape))
