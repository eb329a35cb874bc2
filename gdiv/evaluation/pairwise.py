"""Pairwise computations in row blocks, so 10,000 × 10,000 comparisons fit in memory."""

from __future__ import annotations

from typing import Callable

import jax
import jax.numpy as jnp

from gdiv.divergences.mmd import squared_distances

__all__ = ["map_row_blocks", "squared_distances"]

DEFAULT_BLOCK = 1024


def map_row_blocks(fn: Callable[[jax.Array, jax.Array], jax.Array], rows: jax.Array,
                   block: int = DEFAULT_BLOCK) -> jax.Array:
  """fn(row_block, row_indices) for consecutive blocks of `rows`, concatenated along axis 0.

  `fn` sees blocks of `block` rows (the last one padded by repeating row 0;
  padded outputs are dropped) and their global indices, so it never holds
  more than block × (other set) pairwise values at once.
  """
  n = rows.shape[0]
  num_blocks = -(-n // block)
  padded = num_blocks * block
  index = jnp.arange(padded)
  safe_index = jnp.where(index < n, index, 0)
  blocks = rows[safe_index].reshape(num_blocks, block, *rows.shape[1:])
  out = jax.lax.map(lambda args: fn(*args), (blocks, safe_index.reshape(num_blocks, block)))
  return out.reshape(padded, *out.shape[2:])[:n]
