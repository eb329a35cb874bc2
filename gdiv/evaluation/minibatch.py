"""Where a minibatch loss leads: the minimiser of its expectation at the training batch size.

A distance estimated on batches, d(X_B, Y_B) with X_B ~ P^B and Y_B ~ Q_θ^B, is minimised in
expectation by θ_B = argmin_θ E d(X_B, Y_B). For an unbiased estimator (energy, MMD²) θ_B is the
population best fit; for minibatch transport (W_p^p of batches, Sinkhorn) it is not (Bellemare et
al. 2017), and θ_B is the fixed point training with batch size B can reach. It is found here by
Monte Carlo with common random numbers: `pairs` data batches and standard-normal draws z are fixed,
Q_θ's batch is μ + σz, and Nelder–Mead minimises the average over the pairs.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from gdiv.data import GaussianMixture

_NELDER_MEAD = dict(xatol=1e-4, fatol=1e-9, maxiter=400)


def expected_batch_fit(distance, target: GaussianMixture, batch_size: int, start: tuple[float, float], *,
                       pairs: int = 64, seed: int = 0) -> tuple[np.ndarray, float, float]:
  """(μ_B, σ_B, E d at it) for an isotropic Gaussian Q_θ = N(μ, σ² I) and `distance(x, y, key)`
  (a gdiv.divergences.SampleDistance's), from `start` = (μ, σ) (e.g. the exact best fit);
  the Monte Carlo average over `pairs` fixed pairs of batches (keys from `seed`)."""
  import scipy.optimize  # here, not at import: few entry points call it

  data_key, noise_key, distance_key = jax.random.split(jax.random.key(seed), 3)
  x = target.sample(data_key, pairs * batch_size).reshape(pairs, batch_size, target.dim)
  z = jax.random.normal(noise_key, (pairs, batch_size, target.dim))
  keys = jax.random.split(distance_key, pairs)

  @jax.jit
  def objective(theta):
    fake = theta[:-1] + jnp.exp(theta[-1]) * z
    return jnp.mean(jax.vmap(distance)(x, fake, keys))

  def safe(theta):
    value = float(objective(jnp.asarray(theta, jnp.float32)))
    return value if math.isfinite(value) else 1e30

  mu, sigma = start
  theta0 = np.append(np.broadcast_to(np.asarray(mu, np.float64), (target.dim,)), math.log(sigma))
  simplex = np.vstack([theta0] + [theta0 + 0.05 * np.eye(len(theta0))[i] for i in range(len(theta0))])
  best = scipy.optimize.minimize(safe, theta0, method="Nelder-Mead",
                                 options={**_NELDER_MEAD, "initial_simplex": simplex})
  return np.asarray(best.x[:-1]), float(math.exp(best.x[-1])), float(best.fun)
