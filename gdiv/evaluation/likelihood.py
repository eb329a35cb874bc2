"""Likelihood metrics: exact NLL of explicit models and the Parzen-window estimate."""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np

from gdiv.data.images import dequantise, logit_transform
from gdiv.evaluation.checks import as_point_sets, as_points
from gdiv.evaluation.pairwise import map_row_blocks, squared_distances
from gdiv.models import Model


def _log_prob(model: Model, params, x, key, iwae_samples: int):
  """log q(x), or for latent-variable models the importance-weighted bound (needs key)."""
  if not model.log_prob_is_bound:
    return model.apply(params, x, method=model.log_prob)
  if key is None:
    raise ValueError(f"{type(model).__name__}'s likelihood is estimated by importance sampling: pass key=.")
  return model.apply(params, x, jax.random.fold_in(key, 1), iwae_samples, method=model.iwae)


def nll(model: Model, params, x, *, levels: int | None = None, logit_alpha: float | None = None,
        key: jax.Array | None = None, iwae_samples: int = 256) -> dict:
  """Mean negative log-likelihood of an explicit model, in nats per example and bits per dimension.

  Continuous data (levels None): nll = -mean log q(x); bits/dim = nll / (D ln 2).
  Images x = k/(levels - 1), k ∈ {0, …, levels - 1}^D (gdiv.data) are modelled as a
  density on y = (k + u)/levels, u ~ U[0, 1)^D (uniform dequantisation, one draw
  per point), so that
    -log P(k) ≤ E_u[-log q(y)] + D ln(levels),
  and the returned nll and bits/dim are upper bounds on the discrete model's.
  logit_alpha: the model is a density on z = logit(α + (1 - 2α)y) (Real NVP's
  transform); log q(y) = log q(z) + log|dz/dy| keeps the NLL in data space.
  For a VAE (log_prob_is_bound) log q is the importance-weighted bound with
  `iwae_samples` samples, an upper bound on the NLL. The dict says which
  convention applies.
  """
  if not model.has_log_prob:
    raise ValueError(f"{type(model).__name__} has no log_prob: NLL needs an explicit model "
                     "(for implicit ones use parzen_log_likelihood, with its caveats).")
  x = as_points(x, "x", dim=model.dim)
  d = x.shape[1]
  y, offset, convention = x, 0.0, "continuous density: -mean log q(x)"
  if levels is not None:
    if key is None:
      raise ValueError("Dequantised NLL needs key= for the uniform noise.")
    grid = np.asarray(x) * (levels - 1)
    if np.any(np.abs(grid - np.round(grid)) > 1e-4) or np.any(grid < 0) or np.any(grid > levels - 1):
      raise ValueError(f"levels={levels} expects images k/{levels - 1} with integers k in [0, {levels - 1}].")
    y, offset = dequantise(jax.random.fold_in(key, 2), x, levels), d * math.log(levels)
    convention = (f"uniform dequantisation of {levels}-level data: upper bound "
                  f"E_u[-log q((k+u)/{levels})] + D ln {levels}")
  log_det = 0.0
  if logit_alpha is not None:
    y, log_det = logit_transform(y, logit_alpha)
    convention += f"; the model is a density on logit(α + (1-2α)y), α = {logit_alpha:g}, change of variables included"
  value = -float(jnp.mean(_log_prob(model, params, y, key, iwae_samples) + log_det)) + offset
  if model.log_prob_is_bound:
    convention += f"; log q(x) by the importance-weighted bound, K = {iwae_samples} (an upper bound on the NLL)"
  return {"nll": value, "bits_per_dim": value / (d * math.log(2)), "convention": convention}


@jax.jit
def _parzen_log_densities(samples: jax.Array, x: jax.Array, sigmas: jax.Array) -> jax.Array:
  """log p̂_σ(x) for every x (rows) and σ (columns)."""
  d = x.shape[1]

  def block(rows, _):
    d2 = squared_distances(rows, samples)
    scaled = -d2[..., None] / (2 * sigmas**2)
    return (jax.nn.logsumexp(scaled, axis=1) - math.log(samples.shape[0])
            - d * jnp.log(sigmas * math.sqrt(2 * math.pi)))

  return map_row_blocks(block, x)


def parzen_log_likelihood(samples, x_valid, x_test, sigmas=None) -> dict:
  """Parzen-window log-likelihood (Goodfellow et al. 2014; code credited to Y. Dauphin).

    log p̂(x) = logmeanexp_i(-‖x - μ_i‖² / 2σ²) - D log(σ √(2π)),  μ_i = model samples,
  σ chosen from `sigmas` (default logspace(-1, 0, 10)) by mean log-likelihood on
  x_valid; returns the test mean, its standard error std/√N and σ. Known to be
  unreliable (Theis et al. 2016): report it beside the caveat.
  """
  samples, x_valid = as_point_sets(samples, x_valid, "samples", "x_valid")
  x_test = as_points(x_test, "x_test", dim=samples.shape[1])
  sigmas = np.logspace(-1, 0, 10) if sigmas is None else np.asarray(sigmas, np.float64)
  if sigmas.ndim != 1 or sigmas.size == 0 or np.any(sigmas <= 0):
    raise ValueError(f"sigmas must be a non-empty list of positive numbers; got {sigmas}.")
  sigmas = jnp.asarray(sigmas, jnp.float32)
  best = int(jnp.argmax(jnp.mean(_parzen_log_densities(samples, x_valid, sigmas), axis=0)))
  test = np.asarray(_parzen_log_densities(samples, x_test, sigmas[best:best + 1])[:, 0], np.float64)
  return {"mean": float(test.mean()), "stderr": float(test.std() / math.sqrt(test.size)),
          "sigma": float(sigmas[best])}
