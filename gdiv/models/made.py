"""A Gaussian autoregressive model with MADE masks (Germain et al. 2015; stacked: MAF, Papamakarios et al. 2017).

Each block models x_i = μ_i(x_<i) + σ_i(x_<i)·ε_i, so its density is exact,

  log q(x) = Σ_i log N((x_i - μ_i)/σ_i; 0, 1) - Σ_i log σ_i,

computed for all i in one masked pass; sampling is sequential (coordinate i
needs x_<i) but reparameterised. With num_blocks > 1 the blocks are stacked
with alternating orders (a masked autoregressive flow), which lets the model
express multimodal conditionals that one Gaussian block cannot.
"""

from __future__ import annotations

from typing import ClassVar, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from gdiv.models.base import Model


def made_masks(dim: int, hidden: Sequence[int]) -> list[np.ndarray]:
  """Connectivity masks (fan_in, fan_out) for input → hidden… → output (μ and log σ).

  Degrees: inputs 1..D, hidden units cycle through 1..D-1, outputs 1..D; a
  hidden unit sees inputs of degree ≤ its own, an output of degree d sees
  hidden units of degree < d. So output i depends on x_<i only.
  """
  degrees = [np.arange(1, dim + 1)]
  for width in hidden:
    degrees.append(np.arange(width) % max(dim - 1, 1) + 1)
  masks = [(d_out[None, :] >= d_in[:, None]).astype(np.float32)
           for d_in, d_out in zip(degrees[:-1], degrees[1:])]
  out = (np.arange(1, dim + 1)[None, :] > degrees[-1][:, None]).astype(np.float32)
  return masks + [np.concatenate([out, out], axis=1)]  # μ and log σ share the output mask


class MaskedDense(nn.Module):
  features: int
  mask: np.ndarray
  zero_init: bool = False

  @nn.compact
  def __call__(self, x):
    init = nn.initializers.zeros if self.zero_init else nn.linear.default_kernel_init
    kernel = self.param("kernel", init, (x.shape[-1], self.features))
    bias = self.param("bias", nn.initializers.zeros, (self.features,))
    return x @ (kernel * self.mask) + bias


class MADEBlock(nn.Module):
  """(μ(x_<i), log σ(x_<i)) for every i, in one pass."""

  dim: int
  hidden: Sequence[int]
  max_log_scale: float = 3.0

  @nn.compact
  def __call__(self, x):
    masks = made_masks(self.dim, self.hidden)
    for width, mask in zip(self.hidden, masks[:-1]):
      x = nn.relu(MaskedDense(width, mask)(x))
    out = MaskedDense(2 * self.dim, masks[-1], zero_init=True)(x)
    log_scale = self.max_log_scale * jnp.tanh(out[..., self.dim:] / self.max_log_scale)
    return out[..., :self.dim], log_scale


class MADE(Model):
  """Gaussian autoregressive model; `num_blocks` stacked MADE blocks with alternating orders."""

  hidden: Sequence[int] = (64, 64)
  num_blocks: int = 1
  has_log_prob: ClassVar[bool] = True
  differentiable_samples: ClassVar[bool] = True

  def setup(self):
    self.blocks = [MADEBlock(self.dim, tuple(self.hidden)) for _ in range(self.num_blocks)]

  def _block(self, b: int, x):
    """Block b in its own order (odd blocks see the coordinates reversed)."""
    if b % 2:
      mean, log_scale = self.blocks[b](x[..., ::-1])
      return mean[..., ::-1], log_scale[..., ::-1]
    return self.blocks[b](x)

  def autoregressive_params(self, x, block: int = 0):
    """(μ, log σ) of one block at x, in data order (for tests and inspection)."""
    return self._block(block, x)

  def log_prob(self, x):
    log_det = jnp.zeros(x.shape[:-1])
    for b in reversed(range(self.num_blocks)):
      mean, log_scale = self._block(b, x)
      x = (x - mean) * jnp.exp(-log_scale)
      log_det = log_det - jnp.sum(log_scale, axis=-1)
    return jnp.sum(jax.scipy.stats.norm.logpdf(x), axis=-1) + log_det

  def sample(self, key, n: int):
    x = jax.random.normal(key, (n, self.dim))
    for b in range(self.num_blocks):
      eps, x = x, jnp.zeros_like(x)
      # After k passes the first k coordinates (in this block's order) are exact.
      for _ in range(self.dim):
        mean, log_scale = self._block(b, x)
        x = mean + jnp.exp(log_scale) * eps
    return x
