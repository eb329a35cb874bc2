"""Real-NVP: a normalizing flow of affine coupling layers (Dinh, Sohl-Dickstein, Bengio, ICLR 2017).

x = f(z), z ~ N(0, I). Each coupling layer keeps the coordinates where the
binary mask m is 1 and transforms the others given them:

  forward (z → x):  x = m⊙z + (1 - m)⊙(z⊙exp(s(m⊙z)) + t(m⊙z))
  inverse (x → z):  z = m⊙x + (1 - m)⊙((x - t(m⊙x))⊙exp(-s(m⊙x)))

with log|det ∂x/∂z| = Σ (1 - m)⊙s. Masks alternate between layers (even/odd
coordinates, or a checkerboard for image-shaped data flattened row by row),
so every coordinate is transformed. Exact density by change of variables:

  log q(x) = log N(f⁻¹(x); 0, I) + Σ_layers log|det ∂f⁻¹/∂x|.

Sampling is reparameterised: gradients reach θ through x = f_θ(z).
"""

from __future__ import annotations

import math
from typing import ClassVar, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from gdiv.data.images import hwc
from gdiv.models.base import Model
from gdiv.models.mlp import MLP


def coupling_masks(dim: int, num_layers: int, image_shape: tuple[int, ...] | None = None) -> np.ndarray:
  """Alternating binary masks, shape (num_layers, dim): even/odd coordinates, or a checkerboard
  over the pixels of images (H, W) or (H, W, C) flattened H × W × C (a pixel's channels together)."""
  if image_shape is not None:
    rows, cols, _ = np.indices(hwc(image_shape))
    base = ((rows + cols) % 2).reshape(-1).astype(np.float32)
  else:
    base = (np.arange(dim) % 2).astype(np.float32)
  return np.stack([base if i % 2 == 0 else 1.0 - base for i in range(num_layers)])


class RealNVP(Model):
  """Affine-coupling flow on `dim`-dimensional data (dim ≥ 2).

  image_shape: if the data are flattened images, (height, width[, channels]) selects
  checkerboard masks. The log-scale s is bounded by `max_log_scale`·tanh for
  stable training.
  """

  num_layers: int = 6
  hidden: Sequence[int] = (64, 64)
  image_shape: tuple[int, ...] | None = None
  max_log_scale: float = 3.0
  has_log_prob: ClassVar[bool] = True
  differentiable_samples: ClassVar[bool] = True

  def setup(self):
    if self.dim < 2:
      raise ValueError(f"RealNVP needs dim ≥ 2 (a coupling layer splits the coordinates); got "
                       f"{self.dim}. Use Gaussian or MixtureOfGaussians for 1-D data.")
    if self.image_shape is not None and math.prod(self.image_shape) != self.dim:
      raise ValueError(f"image_shape {self.image_shape} has {math.prod(self.image_shape)} pixels, "
                       f"but dim={self.dim}.")
    self.masks = jnp.asarray(coupling_masks(self.dim, self.num_layers, self.image_shape))
    self.nets = [MLP((*self.hidden, 2 * self.dim), "relu", zero_init_last=True)
                 for _ in range(self.num_layers)]

  def _shift_log_scale(self, layer: int, kept: jax.Array):
    out = self.nets[layer](kept)
    log_scale = self.max_log_scale * jnp.tanh(out[..., :self.dim] / self.max_log_scale)
    return out[..., self.dim:], log_scale

  def forward(self, z: jax.Array) -> tuple[jax.Array, jax.Array]:
    """x = f(z) and log|det ∂x/∂z|."""
    log_det = jnp.zeros(z.shape[:-1])
    for layer in range(self.num_layers):
      m = self.masks[layer]
      shift, log_scale = self._shift_log_scale(layer, m * z)
      z = m * z + (1 - m) * (z * jnp.exp(log_scale) + shift)
      log_det = log_det + jnp.sum((1 - m) * log_scale, axis=-1)
    return z, log_det

  def inverse(self, x: jax.Array) -> tuple[jax.Array, jax.Array]:
    """z = f⁻¹(x) and log|det ∂z/∂x|."""
    log_det = jnp.zeros(x.shape[:-1])
    for layer in reversed(range(self.num_layers)):
      m = self.masks[layer]
      shift, log_scale = self._shift_log_scale(layer, m * x)
      x = m * x + (1 - m) * (x - shift) * jnp.exp(-log_scale)
      log_det = log_det - jnp.sum((1 - m) * log_scale, axis=-1)
    return x, log_det

  def sample(self, key, n: int):
    return self.forward(jax.random.normal(key, (n, self.dim)))[0]

  def log_prob(self, x):
    z, log_det = self.inverse(x)
    return jnp.sum(jax.scipy.stats.norm.logpdf(z), axis=-1) + log_det
