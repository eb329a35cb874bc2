"""A DCGAN-style implicit generator for images of any channels (Radford et al. 2016)."""

from __future__ import annotations

from typing import ClassVar, Sequence

import flax.linen as nn
import jax

from gdiv.data.images import hwc
from gdiv.models.base import Model
from gdiv.models.convolution import ConvTranspose


class ConvGenerator(Model):
  """x = G_θ(z): dense to a (H/4)×(W/4) map, two 4×4 stride-2 transposed convolutions
  (`channels[1]` then C channels), sigmoid.

  image_shape: (H, W) or (H, W, C). Pixels are in (0, 1); samples are flattened
  H × W × C to (n, dim), the shape every model family shares (`dim` = H·W·C).
  Implicit: no log_prob. `form`: how the convolutions run
  (gdiv.models.convolution; None decides by size). Unlike DCGAN, no batch
  normalisation: every sample is a function of its own z only, so the step can
  vmap over seeds and shard over devices with no batch statistics.
  """

  image_shape: tuple[int, ...] = (8, 8)
  latent_dim: int = 32
  channels: Sequence[int] = (64, 32)
  form: str | None = None
  has_log_prob: ClassVar[bool] = False
  differentiable_samples: ClassVar[bool] = True

  @nn.compact
  def sample(self, key, n: int):
    height, width, colours = hwc(self.image_shape)
    if height % 4 or width % 4 or height * width * colours != self.dim:
      raise ValueError(f"ConvGenerator needs an image_shape with sides divisible by 4 and "
                       f"dim = height·width·channels; got image_shape={self.image_shape}, dim={self.dim}.")
    z = jax.random.normal(key, (n, self.latent_dim))
    x = nn.relu(nn.Dense(height // 4 * width // 4 * self.channels[0])(z))
    x = x.reshape(n, height // 4, width // 4, self.channels[0])
    x = nn.relu(ConvTranspose(self.channels[1], (4, 4), (2, 2), self.form)(x))
    x = ConvTranspose(colours, (4, 4), (2, 2), self.form)(x)
    return nn.sigmoid(x).reshape(n, self.dim)
