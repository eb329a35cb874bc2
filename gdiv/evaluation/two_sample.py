"""Two-sample statistics: kernel MMD with a permutation test, and a learned critic's bound."""

from __future__ import annotations

from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax

from gdiv import divergences as divergences_lib
from gdiv.divergences import Evaluations, FDivergence
from gdiv.divergences.mmd import gaussian_kernel_sum, median_heuristic
from gdiv.evaluation.checks import as_point_sets
from gdiv.evaluation.pairwise import map_row_blocks, squared_distances
from gdiv.models import MLPCritic

def median_bandwidths(x: jax.Array, y: jax.Array) -> np.ndarray:
  """The median heuristic of gdiv.divergences.mmd (first 64 points of each set), as numpy."""
  bandwidths = np.asarray(median_heuristic(x, y), np.float64)
  if not bandwidths[0] > 0:
    raise ValueError("All points coincide: the median heuristic has no scale; pass bandwidths.")
  return bandwidths


@jax.jit
def _kernel_row_sums(a: jax.Array, b: jax.Array, bandwidths: jax.Array) -> jax.Array:
  return map_row_blocks(lambda rows, _: jnp.sum(gaussian_kernel_sum(squared_distances(rows, b), bandwidths), 1), a)


def _bandwidths(x, y, bandwidths) -> jax.Array:
  bandwidths = median_bandwidths(x, y) if bandwidths is None else np.asarray(bandwidths, np.float64)
  if bandwidths.ndim != 1 or bandwidths.size == 0 or np.any(bandwidths <= 0):
    raise ValueError(f"bandwidths must be a non-empty list of positive numbers; got {bandwidths}.")
  return jnp.asarray(bandwidths, jnp.float32)


def mmd2(x, y, bandwidths: Sequence[float] | None = None) -> float:
  """Unbiased MMD² (Gretton et al., JMLR 2012) with a sum of Gaussian kernels.

    MMD² = 1/(m(m-1)) Σ_{i≠j} k(x_i, x_j) + 1/(n(n-1)) Σ_{i≠j} k(y_i, y_j)
           - 2/(mn) Σ_{i,j} k(x_i, y_j)
  Bandwidths default to the median heuristic (`median_bandwidths`).
  """
  x, y = as_point_sets(x, y, "x", "y", min_points=2)
  h = _bandwidths(x, y, bandwidths)
  m, n, self_k = x.shape[0], y.shape[0], float(h.shape[0])  # k(x, x) = number of kernels
  xx = (jnp.sum(_kernel_row_sums(x, x, h)) - m * self_k) / (m * (m - 1))
  yy = (jnp.sum(_kernel_row_sums(y, y, h)) - n * self_k) / (n * (n - 1))
  xy = jnp.sum(_kernel_row_sums(x, y, h)) / (m * n)
  return float(xx + yy - 2 * xy)


@jax.jit
def _permutation_mmd2(kernel: jax.Array, in_x: jax.Array, self_k: float) -> jax.Array:
  """Unbiased MMD² of the split given by the 0/1 vector in_x, from the pooled kernel matrix."""
  in_y = 1.0 - in_x
  m, n = jnp.sum(in_x), jnp.sum(in_y)
  k_in_x = kernel @ in_x
  xx = in_x @ k_in_x - m * self_k
  xy = in_y @ k_in_x
  yy = jnp.sum(kernel) - 2 * xy - in_x @ k_in_x - n * self_k
  return xx / (m * (m - 1)) + yy / (n * (n - 1)) - 2 * xy / (m * n)


def mmd_test(x, y, permutations: int = 200, key: jax.Array | None = None,
             bandwidths: Sequence[float] | None = None) -> dict:
  """MMD² and its permutation p-value under H0: P = Q.

  The pooled kernel matrix (N² floats, N = m + n) is built once in row blocks;
  each permutation then costs one matrix-vector product.
  p_value = (1 + #{permuted MMD² ≥ observed}) / (1 + permutations).
  """
  if permutations < 1:
    raise ValueError(f"permutations must be ≥ 1; got {permutations}.")
  x, y = as_point_sets(x, y, "x", "y", min_points=2)
  key = jax.random.key(0) if key is None else key
  h = _bandwidths(x, y, bandwidths)
  pooled = jnp.concatenate([x, y])
  kernel = map_row_blocks(lambda rows, _: gaussian_kernel_sum(squared_distances(rows, pooled), h), pooled)
  in_x = jnp.concatenate([jnp.ones(x.shape[0]), jnp.zeros(y.shape[0])])
  self_k = float(h.shape[0])
  observed = _permutation_mmd2(kernel, in_x, self_k)
  shuffled = jax.vmap(lambda k: jax.random.permutation(k, in_x))(jax.random.split(key, permutations))
  null = jax.lax.map(lambda v: _permutation_mmd2(kernel, v, self_k), shuffled)
  p_value = (1 + jnp.sum(null >= observed)) / (1 + permutations)
  return {"mmd2": float(observed), "p_value": float(p_value)}


def variational_divergence(divergence: str | FDivergence, sample_p: Callable, sample_q: Callable,
                           *, key: jax.Array, steps: int = 2000, batch_size: int = 512,
                           critic=None, optimizer: optax.GradientTransformation | None = None,
                           eval_samples: int = 100_000) -> float:
  """Train a fresh critic on two fixed samplers and return the f-GAN bound.

  The critic maximises F(V) = E_P[g_f(V)] - E_Q[f*(g_f(V))] ≤ D_f(P||Q) on
  fresh batches from `sample_p(key, n)` and `sample_q(key, n)`; F is then
  estimated on `eval_samples` new points from each (f-GAN's cross-table).
  """
  return float(jax.jit(lambda k: fresh_critic_bound(
      divergence, sample_p, sample_q, k, steps=steps, batch_size=batch_size, critic=critic,
      optimizer=optimizer, eval_samples=eval_samples))(key))


def fresh_critic_bound(divergence: str | FDivergence, sample_p: Callable, sample_q: Callable,
                       key: jax.Array, *, steps: int = 2000, batch_size: int = 512, critic=None,
                       optimizer: optax.GradientTransformation | None = None,
                       eval_samples: int = 100_000) -> jax.Array:
  """`variational_divergence` as a pure function of `key` (jit- and vmap-able), a scalar array."""
  div = divergences_lib.get(divergence) if isinstance(divergence, str) else divergence
  if not isinstance(div, FDivergence):
    raise ValueError(f"variational_divergence needs an f-divergence; {div.name!r} is not one.")
  critic = MLPCritic() if critic is None else critic
  optimizer = optax.adam(1e-3) if optimizer is None else optimizer
  init_key, train_key, eval_key = jax.random.split(key, 3)
  params = critic.init(init_key, sample_p(init_key, 2))
  opt_state = optimizer.init(params)

  def loss(params, key):
    kp, kq = jax.random.split(key)
    return div.critic_loss(Evaluations(critic_real=critic.apply(params, sample_p(kp, batch_size)),
                                       critic_fake=critic.apply(params, sample_q(kq, batch_size))))

  def step(carry, key):
    params, opt_state = carry
    grads = jax.grad(loss)(params, key)
    updates, opt_state = optimizer.update(grads, opt_state, params)
    return (optax.apply_updates(params, updates), opt_state), None

  (params, _), _ = jax.lax.scan(step, (params, opt_state), jax.random.split(train_key, steps))
  kp, kq = jax.random.split(eval_key)
  v_p = critic.apply(params, sample_p(kp, eval_samples))
  v_q = critic.apply(params, sample_q(kq, eval_samples))
  return div.variational_bound(v_p, v_q)
