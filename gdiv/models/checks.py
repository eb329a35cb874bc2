"""`check(family)`: the properties every model family must have, in one public call.

The test suite runs these on every registered family, so a family written in a
user's own file is held to the suite's standard. The family is built as
family(dim=dim, **kwargs) and initialised through `sample` as the training step
does; its parameters are then moved off their initial values (N(0, 0.1²) added
to every parameter), so that an identity-like initialisation cannot hide a
mistake.

  declares_capabilities  has_log_prob, differentiable_samples, log_prob_is_bound are bools;
  sample_shape           sample(key, n) is a finite float32 array of shape (n, dim);
  jit_and_vmap_clean     jit gives the eager samples; vmap over keys gives each key's samples;
                         vmap over initialisation keys gives each seed's parameters;
  sample_gradients       (differentiable_samples) the samples' gradients in θ are finite and
                         not all zero: x = h_θ(ε) really is reparameterised;
  log_prob_shape         (has_log_prob) log q(x) (or its training bound) is finite, float32,
                         shape (n,), with finite gradients in θ;
  log_prob_normalised    (exact log_prob) ∫ q(x) dx = 1 by quadrature within 1% (dim ≤ 2) or by
                         importance sampling within 5 standard errors + 5% (dim > 2); a bound
                         (log_prob_is_bound) must integrate to at most 1 (dim ≤ 2);
  samples_match_density  (exact log_prob, dim ≤ 2) the mean and standard deviation of 20,000
                         samples are within 5 standard errors + 0.02 of those of q(x) by
                         quadrature: sample and log_prob describe one distribution.

A failed property raises `FamilyCheckError` (a ValueError) in one line naming
the family, the property, the inputs and what to fix.
"""

from __future__ import annotations

import functools
import math

import jax
import jax.numpy as jnp
import numpy as np

from gdiv.models.base import Model

_N = 64
_FLAGS = ("has_log_prob", "differentiable_samples", "log_prob_is_bound")


class FamilyCheckError(ValueError):
  """A model family lacks a property the training relies on; the message says which and how to fix it."""


class _Subject:
  """A family built and initialised the way the step does it, with parameters moved off init."""

  def __init__(self, family: type[Model], dim: int, kwargs: dict):
    self.name = family.__name__
    self.family = family
    self.model = family(dim=dim, **kwargs)
    self.dim = dim
    self.jit_init = jax.jit(self.init)
    self.jit_sample = jax.jit(self.sample, static_argnums=2)
    self.jit_log_prob = jax.jit(self.log_prob)
    variables = self.jit_init(jax.random.key(0))
    params = variables["params"]
    leaves, tree = jax.tree.flatten(params)
    keys = jax.random.split(jax.random.key(2), max(len(leaves), 1))
    moved = [x + 0.1 * jax.random.normal(k, x.shape, x.dtype) for x, k in zip(leaves, keys)]
    self.variables = {**variables, "params": jax.tree.unflatten(tree, moved)}

  def init(self, key):
    """The variables the training step starts from (it, too, initialises through sample)."""
    return self.model.init(key, jax.random.fold_in(key, 1), 1, method=self.model.sample)

  def fail(self, prop: str, detail: str, fix: str):
    raise FamilyCheckError(f"Model family {self.name} (dim={self.dim}) fails {prop}: {detail}. Fix: {fix}")

  def sample(self, variables, key, n: int = _N):
    return self.model.apply(variables, key, n, method=self.model.sample)

  def log_prob(self, variables, x):
    """log q(x), or for latent models the bound they train on (with a fixed key)."""
    if self.model.log_prob_is_bound:
      return self.model.apply(variables, x, jax.random.key(3), method=self.model.training_log_prob)
    return self.model.apply(variables, x, method=self.model.log_prob)

  @functools.cached_property
  def grid(self):
    """(20,000 samples, the axes of a tensor grid covering them with a margin, the grid's points,
    q(x) on them), for dim ≤ 2."""
    x = np.asarray(self.jit_sample(self.variables, jax.random.key(8), 20_000), np.float64)
    lo, hi = x.min(0), x.max(0)
    lo, hi = lo - 0.5 * (hi - lo) - 1.0, hi + 0.5 * (hi - lo) + 1.0
    axes = [np.linspace(a, b, 2001 if self.dim == 1 else 301) for a, b in zip(lo, hi)]
    mesh = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, self.dim)
    q = np.exp(np.asarray(self.jit_log_prob(self.variables, jnp.asarray(mesh, jnp.float32)), np.float64))
    return x, axes, mesh, q

  @property
  def exact(self) -> bool:
    return self.model.has_log_prob and not self.model.log_prob_is_bound


def declares_capabilities(s: _Subject) -> None:
  for flag in _FLAGS:
    if not isinstance(getattr(s.family, flag, None), bool):
      s.fail("declares_capabilities", f"{flag} is {getattr(s.family, flag, 'missing')!r}",
             f"subclass gdiv.models.Model and declare {flag}: ClassVar[bool] (what the step may ask of it)")


def sample_shape(s: _Subject) -> None:
  x = s.jit_sample(s.variables, jax.random.key(4), _N)
  if tuple(x.shape) != (_N, s.dim) or x.dtype != jnp.float32 or not bool(jnp.all(jnp.isfinite(x))):
    s.fail("sample_shape", f"sample(key, {_N}) gave shape {tuple(x.shape)}, dtype {x.dtype}, "
           f"finite: {bool(jnp.all(jnp.isfinite(x)))}", f"return a finite float32 array of shape (n, dim) = ({_N}, {s.dim})")


def jit_and_vmap_clean(s: _Subject) -> None:
  fix = "write sample (and log_prob) in jnp with static shapes: no Python branches on array values"
  key = jax.random.key(5)
  eager = s.sample(s.variables, key)
  jitted = s.jit_sample(s.variables, key, _N)
  if not np.allclose(jitted, eager, rtol=1e-4, atol=1e-5):
    s.fail("jit_and_vmap_clean", f"jit's samples differ from eager ones by up to "
           f"{float(jnp.max(jnp.abs(jitted - eager))):.3g}", fix)
  keys = jax.random.split(key, 3)
  stacked = jax.jit(jax.vmap(lambda k: s.sample(s.variables, k)))(keys)
  if not np.allclose(stacked[1], s.jit_sample(s.variables, keys[1], _N), rtol=1e-4, atol=1e-5):
    s.fail("jit_and_vmap_clean", "vmap over 3 keys gives other samples than one key at a time", fix)
  seeds = jax.jit(jax.vmap(s.init))(keys)
  one = s.jit_init(keys[2])
  if not all(np.allclose(a[2], b) for a, b in zip(jax.tree.leaves(seeds), jax.tree.leaves(one))):
    s.fail("jit_and_vmap_clean", "init vmapped over 3 seeds gives other parameters than one seed", fix)


def sample_gradients(s: _Subject) -> None:
  if not s.model.differentiable_samples:
    return
  grads = jax.jit(jax.grad(lambda p: jnp.mean(s.sample({**s.variables, "params": p}, jax.random.key(6)) ** 2)))(
      s.variables["params"])
  leaves = [np.asarray(g) for g in jax.tree.leaves(grads)]
  if not all(np.all(np.isfinite(g)) for g in leaves):
    s.fail("sample_gradients", "d mean(x²)/dθ through sample is not finite", "keep the sampler's "
           "arithmetic stable (log-space scales, softplus)")
  if not any(np.any(g != 0) for g in leaves):
    s.fail("sample_gradients", "d mean(x²)/dθ through sample is zero for every parameter",
           "make the samples reparameterised, x = h_θ(ε), or declare differentiable_samples = False "
           "(then only likelihood objectives train it)")


def log_prob_shape(s: _Subject) -> None:
  if not s.model.has_log_prob:
    return
  x = s.jit_sample(s.variables, jax.random.key(7), _N)
  log_q = s.jit_log_prob(s.variables, x)
  if tuple(log_q.shape) != (_N,) or log_q.dtype != jnp.float32 or not bool(jnp.all(jnp.isfinite(log_q))):
    s.fail("log_prob_shape", f"log_prob of {_N} of its own samples gave shape {tuple(log_q.shape)}, "
           f"dtype {log_q.dtype}, finite: {bool(jnp.all(jnp.isfinite(log_q)))}",
           f"return a finite float32 log-density per point, shape (n,) = ({_N},), summed over the dim axis")
  grads = jax.jit(jax.grad(lambda p: jnp.mean(s.log_prob({**s.variables, "params": p}, x))))(s.variables["params"])
  if not all(np.all(np.isfinite(g)) for g in jax.tree.leaves(grads)):
    s.fail("log_prob_shape", "d mean log q(x)/dθ is not finite", "compute log q(x) in log-space "
           "(log-sum-exp, log σ rather than σ)")


def _integral(values: np.ndarray, axes) -> float:
  values = values.reshape(tuple(len(a) for a in axes))
  for axis in reversed(axes):
    values = np.trapezoid(values, axis, axis=-1)
  return float(values)


def log_prob_normalised(s: _Subject) -> None:
  if not s.model.has_log_prob:
    return
  fix = ("log_prob must be the log of a normalised density (every constant, e.g. -½·dim·log 2π and "
         "the log-Jacobian, included)")
  if s.dim <= 2:
    _, axes, _, q = s.grid
    mass = _integral(q, axes)
    if s.model.log_prob_is_bound and mass > 1.01:
      s.fail("log_prob_normalised", f"exp(bound) integrates to {mass:.4g} > 1 by quadrature",
             "a lower bound of log q(x) must integrate to at most 1 once exponentiated")
    if s.exact and abs(mass - 1.0) > 0.01:
      s.fail("log_prob_normalised", f"∫ q(x) dx = {mass:.4g} by quadrature on a grid covering its samples", fix)
    return
  if not s.exact:
    return
  # Importance sampling from a Gaussian fitted to the samples, its scale doubled: Z = E_r[q/r].
  x = np.asarray(s.jit_sample(s.variables, jax.random.key(9), 20_000), np.float64)
  mean, std = x.mean(0), 2.0 * x.std(0) + 1e-3
  z = mean + std * np.random.default_rng(0).standard_normal(x.shape)
  log_r = np.sum(-0.5 * ((z - mean) / std) ** 2 - np.log(std) - 0.5 * math.log(2 * math.pi), -1)
  log_q = np.asarray(s.jit_log_prob(s.variables, jnp.asarray(z, jnp.float32)), np.float64)
  w = np.exp(log_q - log_r)
  z_hat, se = w.mean(), w.std() / math.sqrt(len(w))
  if abs(z_hat - 1.0) > 5 * se + 0.05:
    s.fail("log_prob_normalised", f"∫ q(x) dx = {z_hat:.4g} ± {se:.2g} by importance sampling", fix)


def samples_match_density(s: _Subject) -> None:
  if not s.exact or s.dim > 2:
    return
  x, axes, mesh, q = s.grid
  moment = lambda g: _integral(q * g, axes) / _integral(q, axes)
  density_mean = np.array([moment(mesh[:, i]) for i in range(s.dim)])
  density_std = np.sqrt([moment((mesh[:, i] - density_mean[i]) ** 2) for i in range(s.dim)])
  sample_mean, sample_std, n = x.mean(0), x.std(0), len(x)
  off = ((np.abs(sample_mean - density_mean) > 5 * sample_std / math.sqrt(n) + 0.02)
         | (np.abs(sample_std - density_std) > 5 * sample_std / math.sqrt(2 * n) + 0.02))
  if np.any(off):
    s.fail("samples_match_density", f"20,000 samples have mean {np.round(sample_mean, 3).tolist()} and "
           f"std {np.round(sample_std, 3).tolist()} but q(x) = exp(log_prob) has mean "
           f"{np.round(density_mean, 3).tolist()} and std {np.round(density_std, 3).tolist()}",
           "sample must draw from the density log_prob describes (check scales: σ vs log σ, and signs)")


PROPERTIES = (declares_capabilities, sample_shape, jit_and_vmap_clean, sample_gradients, log_prob_shape,
              log_prob_normalised, samples_match_density)


def check_family(family: type[Model], dim: int = 2, **kwargs) -> tuple[str, ...]:
  """Check every property a model family must have (gdiv.models.check, which also takes a name)."""
  try:
    subject = _Subject(family, dim, kwargs)
  except Exception as e:  # a user's module may fail to build in any way
    raise FamilyCheckError(f"Model family {getattr(family, '__name__', family)} (dim={dim}) cannot be "
                           f"built and initialised through sample(key, n): {type(e).__name__}: "
                           f"{' '.join(str(e).split())[:300]}. Fix: a family is a Flax module with a "
                           "`dim` field and sample(key, n)") from None
  for prop in PROPERTIES:
    try:
      prop(subject)
    except FamilyCheckError:
      raise
    except Exception as e:  # name the property a user's module broke
      subject.fail(prop.__name__, f"it raised {type(e).__name__}: {' '.join(str(e).split())[:300]}",
                   f"see what {prop.__name__} requires in gdiv.models.checks")
  return tuple(p.__name__ for p in PROPERTIES)
