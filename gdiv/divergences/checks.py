"""`check(divergence)`: the properties every divergence must have, in one public call.

The test suite runs these same functions on every registered divergence, so a
divergence written in a user's own file is held to exactly the suite's standard:

  every divergence (the protocol the step relies on):
    declares_protocol      the attributes and methods of gdiv.divergences.Divergence;
    losses_are_finite      critic_loss, model_loss, estimate are finite float32 scalars on the
                           arrays it declares it needs (and only those);
    jit_and_vmap_clean     jit gives the eager values, vmap over a stack of batches gives each one's;
    gradients_are_finite   the losses' gradients are finite;
  distances between batches in addition (gdiv.divergences.SampleDistance: distance(x, y, key)),
  on batches of 32 points in 2-D (in `data_dim` dimensions where the divergence declares one):
    symmetric_in_batches   distance(x, y) = distance(y, x);
    zero_between_equals    biased ones: distance(x, x) = 0; unbiased ones: the mean over 256 pairs of
                           independent batches of one distribution is 0 within 4 standard errors;
    positive_between_unequals  the mean over 64 pairs of batches of N(0, I) and N(1, I) exceeds 0 by
                           4 standard errors, and a biased one is ≥ 0 on every pair;
  the f-family in addition (f, f*, g_f, f*∘g_f, f-GAN's conventions):
    convex_f               f has non-decreasing slopes on its domain;
    conjugate_is_sup       f*(t) = sup_u {u t - f(u)} (a numerical sup over 200,001 u) at t = g_f(v);
    fenchel_young          f(u) + f*(t) ≥ u t, with equality at t = f'(u);
    activation_in_domain   f*(g_f(v)) < ∞ for v ∈ [-30, 30]: g_f lands in dom f*;
    fused_matches_composition  conjugate_activation(v) in float32 = f*(g_f(v)) in float64;
    fused_is_stable        conjugate_activation and g_f finite with finite gradients in float32
                           for v ∈ [-50, 50];
    regulariser_weight_matches_conjugate  Roth et al.'s weight w(v) (FDivergence.regulariser_weight)
                           equals g_f'(v)²·f*''(g_f(v)) by autodiff of f* and g_f, v ∈ [-4, 4];
    bound_at_optimal_critic  at the best raw critic v* = g_f⁻¹(f'(p/q)) the variational bound
                           E_P[g_f(v*)] - E_Q[f*(g_f(v*))] equals D_f(P||Q) = ∫ q f(p/q) by
                           quadrature, for P the main job's mixture 0.7·N(-1, 0.5²) + 0.3·N(1.2, 1²)
                           and Q = N(0.2, 1) (both sides finite for every f of the table): the
                           critic's range can reach the optimum, and f', f*, g_f agree with f.

A failed property raises `DivergenceCheckError` (a ValueError) in one line:
the divergence, the property, the inputs where it fails, and what to fix.
"""

from __future__ import annotations

import math
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from gdiv.data import GaussianMixture
from gdiv.divergences import registry
from gdiv.divergences.base import Divergence, Evaluations, optional_member
from gdiv.divergences.quadrature import exact_f_divergence

_BATCH, _DIM = 16, 2
_PROTOCOL_FLAGS = ("needs_critic", "needs_log_prob", "needs_sample_gradients", "critic_loss_is_linear_in_fakes")
_METHODS = ("critic_loss", "model_loss", "estimate")
_F_MEMBERS = ("f", "conjugate", "activation", "conjugate_activation")


class DivergenceCheckError(ValueError):
  """A divergence lacks a property the training relies on; the message says which and how to fix it."""


def _fail(div, prop: str, detail: str, fix: str):
  raise DivergenceCheckError(f"Divergence {div.name!r} fails {prop}: {detail}. Fix: {fix}")


def _g(x) -> str:
  return f"{float(x):.6g}"


def _first(bad: np.ndarray) -> tuple[int, ...]:
  """The index of the first True in `bad` (NaN comparisons count as bad where callers negate ≥)."""
  return np.unravel_index(int(np.argmax(bad)), bad.shape)


def _require_close(div, prop: str, actual, expected, *, rtol: float, atol: float, detail, fix: str,
                   skip=None) -> None:
  """Fail `prop` at the first index where `actual` and `expected` differ (NaN differs); detail(i)
  describes it. `skip`: a mask of indices not compared."""
  close = np.isclose(actual, expected, rtol=rtol, atol=atol) | (False if skip is None else skip)
  if not np.all(close):
    i, = _first(~close)
    _fail(div, prop, detail(i), fix)


def is_f_divergence(div) -> bool:
  """Whether `div` is a member of the f-family (has f, f*, g_f and f*∘g_f)."""
  return all(callable(getattr(div, m, None)) for m in _F_MEMBERS)


def _f_domain(div) -> tuple[float, float]:
  return tuple(getattr(div, "f_domain", (0.0, math.inf)))


# ---- every divergence -------------------------------------------------------------------------

def declares_protocol(div) -> None:
  if not isinstance(getattr(div, "name", None), str) or not div.name:
    raise DivergenceCheckError(f"{div!r} has no name: give the divergence a `name` string (its "
                               "registry key).")
  for attr in _PROTOCOL_FLAGS:
    if not isinstance(getattr(div, attr, None), bool):
      _fail(div, "declares_protocol", f"{attr} is {getattr(div, attr, 'missing')!r}, not a bool",
            f"declare {attr} = True or False (gdiv.divergences.Divergence lists what each means)")
  if not isinstance(getattr(div, "estimate_name", None), str):
    _fail(div, "declares_protocol", "estimate_name is missing", "name what estimate() returns, "
          "e.g. estimate_name = 'variational_bound'")
  penalty = getattr(div, "gradient_penalty", None)
  if isinstance(penalty, bool) or not isinstance(penalty, (int, float)) or not penalty >= 0:
    _fail(div, "declares_protocol", f"gradient_penalty is {penalty!r}", "declare the critic "
          "gradient-penalty weight its paper uses, a number ≥ 0 (0.0 for none)")
  for method in _METHODS:
    if not callable(getattr(div, method, None)):
      _fail(div, "declares_protocol", f"it has no method {method}(ev)", f"define {method}(self, ev) "
            "returning a scalar from the gdiv.divergences.Evaluations arrays")


def _data_dim(div) -> int:
  """The data dimension the checks use: the divergence's own `data_dim` if it has one (wasserstein_1d)."""
  return getattr(div, "data_dim", None) or _DIM


def _evaluations(div, theta: jax.Array) -> Evaluations:
  """The arrays the step would hand `div` (only those it declares), smooth functions of θ."""
  dim = _data_dim(div)
  base = jnp.linspace(-1.5, 1.5, _BATCH * dim, dtype=jnp.float32).reshape(_BATCH, dim)
  fields = {"real": base}
  if div.needs_critic or div.needs_sample_gradients:
    fields["fake"] = 0.8 * base[::-1] + theta[0]
  if div.needs_critic:
    fields["critic_real"] = jnp.sin(3.0 * base[:, 0]) + theta[1]
    fields["critic_fake"] = jnp.cos(2.0 * base[:, 1]) - theta[1]
  if div.needs_log_prob:
    fields["log_q_real"] = -0.5 * jnp.sum((base - theta[0]) ** 2, -1) - math.log(2 * math.pi) + theta[1]
  if optional_member(div, "needs_key"):
    fields["key"] = jax.random.key(0)
  return Evaluations(**fields)


def _losses(div, theta: jax.Array) -> jax.Array:
  ev = _evaluations(div, theta)
  methods = _METHODS if div.needs_critic else _METHODS[1:]  # critic-free objectives have no critic loss
  return jnp.stack([jnp.asarray(getattr(div, m)(ev), jnp.float32) for m in methods])


_THETA = np.asarray([0.3, 0.2], np.float32)  # NumPy: importing gdiv must not start a JAX backend


def losses_are_finite(div) -> None:
  ev = _evaluations(div, _THETA)
  given = ", ".join(k for k, v in ev._asdict().items() if v is not None)
  fix = ("compute the losses from the Evaluations fields the divergence declares (needs_critic: "
         "critic_real, critic_fake, fake; needs_log_prob: log_q_real; needs_sample_gradients: fake), "
         "in stable forms (softplus, log-sum-exp, expm1)")
  for method in _METHODS if div.needs_critic else _METHODS[1:]:
    try:
      value = jnp.asarray(getattr(div, method)(ev))
    except Exception as e:  # a user's loss may fail in any way: report it as this property
      _fail(div, "losses_are_finite", f"{method}(ev) raised {type(e).__name__}: {e} (ev holds {given})", fix)
    if value.shape != () or value.dtype != jnp.float32 or not bool(jnp.isfinite(value)):
      what = f"{float(value):.6g}" if value.shape == () else "an array"
      _fail(div, "losses_are_finite", f"{method}(ev) is {what} of shape {value.shape} and dtype "
            f"{value.dtype} on float32 arrays ({given}); it must be a finite float32 scalar (a mean "
            "over the batch)", fix)


_TRACING_ERRORS = (jax.errors.ConcretizationTypeError, jax.errors.TracerArrayConversionError,
                   jax.errors.TracerBoolConversionError, jax.errors.TracerIntegerConversionError)


def jit_and_vmap_clean(div) -> None:
  eager = _losses(div, _THETA)
  fix = "write the losses in jnp only: no Python branches on array values, no NumPy conversions, no globals"
  try:
    jitted = jax.jit(lambda t: _losses(div, t))(_THETA)
  except _TRACING_ERRORS as e:
    _fail(div, "jit_and_vmap_clean", f"under jit it raised {type(e).__name__} ({str(e).splitlines()[0]})", fix)
  if not np.allclose(jitted, eager, rtol=1e-4, atol=1e-5):  # float32 sums fused differently
    _fail(div, "jit_and_vmap_clean", f"jit gives {jitted.tolist()} where eager gives {eager.tolist()}", fix)
  thetas = jnp.stack([_THETA, -_THETA, 2.0 * _THETA])
  stacked = jax.vmap(lambda t: _losses(div, t))(thetas)
  one_by_one = jnp.stack([_losses(div, t) for t in thetas])
  if not np.allclose(stacked, one_by_one, rtol=1e-4, atol=1e-5):
    _fail(div, "jit_and_vmap_clean", f"vmap over 3 batches gives {stacked.tolist()} where one by one "
          f"gives {one_by_one.tolist()}", fix + "; reduce over the batch axis only")


def gradients_are_finite(div) -> None:
  grads = jax.jacobian(lambda t: _losses(div, t))(_THETA)
  if not bool(jnp.all(jnp.isfinite(grads))):
    _fail(div, "gradients_are_finite", f"the gradients of its losses are not finite ({grads.tolist()})",
          "write the losses in stable forms (softplus, log-sum-exp, expm1) so their gradients stay finite")


# ---- distances between batches ----------------------------------------------------------------

_PAIR_BATCH = 32


def is_sample_distance(div) -> bool:
  """Whether `div` is computed from the two batches alone (has distance(x, y, key))."""
  return callable(getattr(div, "distance", None))


def _pairs(div, count: int, shift: float, seed: int) -> tuple[jax.Array, jax.Array, jax.Array]:
  """`count` pairs of batches (x ~ N(0, I), y ~ N(shift, I)) and a key for each pair."""
  rng = np.random.default_rng(seed)
  shape = (count, _PAIR_BATCH, _data_dim(div))
  x, y = (jnp.asarray(rng.standard_normal(shape), jnp.float32) for _ in range(2))
  return x, y + shift, jax.random.split(jax.random.key(seed), count)


def _distances(div, x, y, keys) -> np.ndarray:
  return np.asarray(jax.jit(jax.vmap(div.distance))(x, y, keys), np.float64)


def _mean_and_se(values: np.ndarray) -> tuple[float, float]:
  return float(values.mean()), float(values.std(ddof=1) / math.sqrt(len(values)))


def symmetric_in_batches(div) -> None:
  x, y, keys = _pairs(div, 4, 1.0, seed=0)
  forward, backward = _distances(div, x, y, keys), _distances(div, y, x, keys)
  _require_close(div, "symmetric_in_batches", forward, backward, rtol=1e-2, atol=1e-3,
                 detail=lambda i: f"distance(x, y) = {_g(forward[i])} but distance(y, x) = {_g(backward[i])}",
                 fix="a divergence between batches must treat them alike (the same estimator on both sides)")


def zero_between_equals(div) -> None:
  if getattr(div, "unbiased", False):
    x, y, keys = _pairs(div, 256, 0.0, seed=1)
    mean, se = _mean_and_se(_distances(div, x, y, keys))
    if not abs(mean) <= 4 * se:
      _fail(div, "zero_between_equals", f"between independent batches of one distribution its mean is "
            f"{_g(mean)} ± {_g(se)} (256 pairs), not 0", "an unbiased estimator (unbiased = True) must "
            "average to 0 when both batches come from the same distribution; or declare unbiased = False")
    return
  x, _, keys = _pairs(div, 4, 0.0, seed=1)
  same = _distances(div, x, x, keys)
  _require_close(div, "zero_between_equals", same, np.zeros_like(same), rtol=0.0, atol=1e-3,
                 detail=lambda i: f"distance(x, x) = {_g(same[i])} on two copies of one batch",
                 fix="a biased (V-statistic, transport) distance must vanish between a batch and itself; "
                     "an unbiased one declares unbiased = True")


def positive_between_unequals(div) -> None:
  x, y, keys = _pairs(div, 64, 1.0, seed=2)
  values = _distances(div, x, y, keys)
  mean, se = _mean_and_se(values)
  if not mean > 4 * se:
    _fail(div, "positive_between_unequals", f"between batches of N(0, I) and N(1, I) its mean is {_g(mean)} "
          f"± {_g(se)} (64 pairs)", "a divergence must be positive in expectation between different distributions")
  if not getattr(div, "unbiased", False) and not np.all(values >= -1e-4):
    i, = _first(~(values >= -1e-4))
    _fail(div, "positive_between_unequals", f"distance(x, y) = {_g(values[i])} < 0 on pair {i}",
          "a biased (transport) distance is ≥ 0 on every pair of batches")


# ---- the f-family -----------------------------------------------------------------------------

def _u_grid(div, lo=1e-2, hi=20.0, num=400) -> np.ndarray:
  """Points of f's domain: positive ratios, plus negative ones where f is defined on ℝ."""
  u = np.geomspace(lo, hi, num)
  if _f_domain(div)[0] < 0:
    u = np.concatenate([-u[::-1] + 1e-3, u])  # crosses 0 and 1 without hitting either exactly
  return np.sort(u)


def _f_prime(div) -> Callable:
  return jax.vmap(jax.grad(div.f))


def convex_f(div) -> None:
  with jax.enable_x64(True):
    u = _u_grid(div)
    f = np.asarray(div.f(jnp.asarray(u)))
  if not np.all(np.isfinite(f)):
    i, = _first(~np.isfinite(f))
    _fail(div, "convex_f", f"f({_g(u[i])}) = {f[i]}", "f must be finite on the interior of its "
          "domain (declare f_domain=(-inf, inf) if f is defined on all of ℝ)")
  slopes = np.diff(f) / np.diff(u)
  drops = np.diff(slopes) + 1e-8 * (1 + np.abs(slopes[1:]))
  if np.any(drops < 0):
    i, = _first(drops < 0)
    _fail(div, "convex_f", f"the slope of f falls from {_g(slopes[i])} to {_g(slopes[i + 1])} between "
          f"u = {_g(u[i])} and u = {_g(u[i + 2])}", "f must be convex on its domain (an f-divergence "
          "needs a convex generator)")


def _t_points(div, v) -> jax.Array:
  return div.activation(jnp.asarray(v, jnp.float64))


def conjugate_is_sup(div) -> None:
  with jax.enable_x64(True):
    positive = np.concatenate([np.geomspace(1e-8, 1e6, 200_001), [1.0]])  # 1: the kink of |u - 1|
    u = positive if _f_domain(div)[0] >= 0 else np.concatenate([-positive[::-1], [0.0], positive])
    u = jnp.asarray(u)
    f_u = div.f(u)
    v = np.linspace(-3.0, 3.0, 13)
    t = _t_points(div, v)
    numerical = np.asarray(jax.vmap(lambda s: jnp.max(u * s - f_u))(t))
    conjugate = np.asarray(div.conjugate(t))
  _require_close(
      div, "conjugate_is_sup", conjugate, numerical, rtol=1e-4, atol=1e-5,
      detail=lambda i: (f"f*(t) = {_g(conjugate[i])} but sup_u {{u·t - f(u)}} = {_g(numerical[i])} at "
                        f"t = {_g(t[i])} (t = g_f(v), v = {_g(v[i])})"),
      fix="f* must be the Fenchel conjugate sup_u {u t - f(u)} of f over f_domain: check its signs, "
          "its constants and its domain (+inf outside dom f*)")


def fenchel_young(div) -> None:
  with jax.enable_x64(True):
    u = jnp.asarray(_u_grid(div, num=120))
    t = _t_points(div, np.linspace(-4.0, 4.0, 81))
    gap = np.asarray(div.f(u)[:, None] + div.conjugate(t)[None, :] - u[:, None] * t[None, :])
    t_star = _f_prime(div)(u)  # f'(u), by autodiff of f alone
    equality_gap = np.asarray(div.f(u) + div.conjugate(t_star) - u * t_star)
  fix = "f* must be the conjugate of f: f(u) + f*(t) ≥ u t for all u, t, with equality at t = f'(u)"
  if not np.all(gap >= -1e-9):
    i, j = _first(~(gap >= -1e-9))
    _fail(div, "fenchel_young", f"f(u) + f*(t) - u·t = {_g(gap[i, j])} < 0 at u = {_g(u[i])}, "
          f"t = {_g(t[j])}", fix)
  scale = 1 + float(np.max(np.abs(np.asarray(u * t_star))))
  unequal = ~(np.abs(equality_gap) <= 1e-9 * scale)
  if np.any(unequal):
    i, = _first(unequal)
    _fail(div, "fenchel_young", f"f(u) + f*(f'(u)) - u·f'(u) = {_g(equality_gap[i])} ≠ 0 at "
          f"u = {_g(u[i])}, f'(u) = {_g(t_star[i])}", fix)


def activation_in_domain(div) -> None:
  with jax.enable_x64(True):
    v = np.linspace(-30.0, 30.0, 601)
    t = _t_points(div, v)
    values = np.asarray(div.conjugate(t))  # +inf outside dom f*: finite ⇔ g_f(v) ∈ dom f*
  if not np.all(np.isfinite(values)):
    i, = _first(~np.isfinite(values))
    _fail(div, "activation_in_domain", f"f*(g_f(v)) = {values[i]} at v = {_g(v[i])} (g_f(v) = "
          f"{_g(t[i])})", "g_f must map every real v into dom f* (f-GAN Table 2 gives one per f), "
          "and f* must be finite on dom f*")


def fused_matches_composition(div) -> None:
  # Beyond |v| ≈ 20 the float64 composition itself loses digits to cancellation (2 - e^t for js,
  # 1 - t for squared Hellinger); fused_is_stable covers |v| ≤ 50.
  v32 = jnp.linspace(-20.0, 20.0, 801, dtype=jnp.float32)
  fused = np.asarray(div.conjugate_activation(v32), np.float64)
  with jax.enable_x64(True):  # reference: the unfused composition, in float64
    composed = np.asarray(div.conjugate(div.activation(jnp.asarray(np.asarray(v32), jnp.float64))))
  finite = np.isfinite(composed)
  fix = "conjugate_activation(v) must equal conjugate(activation(v)), written as one stable expression"
  if finite.mean() <= 0.5:
    _fail(div, "fused_matches_composition", f"f*(g_f(v)) in float64 is not finite for "
          f"{int((~finite).sum())} of 801 v in [-20, 20]", fix)
  _require_close(
      div, "fused_matches_composition", fused, composed, rtol=1e-4, atol=1e-5, skip=~finite, fix=fix,
      detail=lambda i: (f"conjugate_activation({_g(v32[i])}) = {_g(fused[i])} but "
                        f"conjugate(activation({_g(v32[i])})) = {_g(composed[i])}"))


def fused_is_stable(div) -> None:
  v = jnp.linspace(-50.0, 50.0, 2001, dtype=jnp.float32)
  fix = ("write f*(g_f(v)) and g_f(v) in stable forms (softplus, log1p, expm1, log-space) so that "
         "float32 critic outputs never overflow or give NaN")
  for what, fn in (("conjugate_activation", div.conjugate_activation), ("activation", div.activation)):
    values, grads = fn(v), jax.vmap(jax.grad(fn))(v)
    if values.dtype != jnp.float32:
      _fail(div, "fused_is_stable", f"{what} turns float32 input into {values.dtype}", fix)
    for name, array in ((what, values), (f"d {what}/dv", grads)):
      finite = np.isfinite(np.asarray(array))
      if not finite.all():
        i, = _first(~finite)
        _fail(div, "fused_is_stable", f"{name} = {array[i]} at v = {_g(v[i])} in float32", fix)


def regulariser_weight_matches_conjugate(div) -> None:
  if not callable(getattr(div, "regulariser_weight", None)):
    return  # duck-typed f-divergences without one cannot use Roth et al.'s regulariser
  with jax.enable_x64(True):
    v = jnp.linspace(-4.0, 4.0, 81)
    t = div.activation(v)
    slope, curvature = jax.vmap(jax.grad(div.activation)), jax.vmap(jax.grad(jax.grad(div.conjugate)))
    expected = np.asarray(slope(v) ** 2 * curvature(t))
    weight = np.asarray(div.regulariser_weight(v))
  _require_close(
      div, "regulariser_weight_matches_conjugate", weight, expected, rtol=1e-6, atol=1e-9,
      detail=lambda i: (f"w({_g(v[i])}) = {_g(weight[i])} but g_f'(v)²·f*''(g_f(v)) = {_g(expected[i])} "
                        "by autodiff of f* and g_f"),
      fix="the closed form `curvature` must equal g_f'(v)²·f*''(g_f(v)); or leave it None to derive it")


# The 1-D reference pair: the main job's mixture P, and Q with tails that keep every D_f finite.
_REFERENCE_P = ((0.7, 0.3), (-1.0, 1.2), (0.5, 1.0))
_REFERENCE_Q = ((1.0,), (0.2,), (1.0,))
_V_BRACKET = 1e4  # bisection bracket for g_f⁻¹; g_f(±1e4) sits at the ends of its range


def inverse_activation(div, t: jax.Array) -> jax.Array:
  """v with g_f(v) = t by bisection on [-1e4, 1e4] (g_f is increasing); the nearest end if t is
  beyond g_f's range."""
  def halve(_, bracket):
    lo, hi = bracket
    mid = 0.5 * (lo + hi)
    below = div.activation(mid) < t
    return jnp.where(below, mid, lo), jnp.where(below, hi, mid)
  lo, hi = jax.lax.fori_loop(0, 80, halve, (jnp.full_like(t, -_V_BRACKET), jnp.full_like(t, _V_BRACKET)))
  return 0.5 * (lo + hi)


def bound_at_optimal_critic(div) -> None:
  p, q = GaussianMixture.create(*_REFERENCE_P), GaussianMixture.create(*_REFERENCE_Q)
  with jax.enable_x64(True):
    x = jnp.linspace(-15.0, 15.0, 30_001)
    points = x[:, None]
    log_p, log_q = p.log_prob(points), q.log_prob(points)
    t_star = _f_prime(div)(jnp.exp(log_p - log_q))  # T* = f'(p/q)
    v_star = inverse_activation(div, t_star)
    on_p = jnp.exp(log_p) * div.activation(v_star)
    on_q = jnp.exp(log_q) * div.conjugate_activation(v_star)
    bound = float(jnp.trapezoid(on_p, x) - jnp.trapezoid(on_q, x))
    exact = exact_f_divergence(div, p.log_prob, q.log_prob, x)
    t_star, v_star, x = np.asarray(t_star), np.asarray(v_star), np.asarray(x)
  if not abs(bound - exact) <= 1e-6 * (1 + abs(exact)):
    unreached = np.abs(v_star) > 0.99 * _V_BRACKET
    i, = _first(unreached)
    where = f"; g_f never reaches f'(p/q) = {_g(t_star[i])} (at x = {_g(x[i])})" if unreached.any() else ""
    _fail(div, "bound_at_optimal_critic", f"at the best critic v* = g_f⁻¹(f'(p/q)) the bound "
          f"E_P[g_f(v*)] - E_Q[f*(g_f(v*))] = {_g(bound)} but D_f(P||Q) = {_g(exact)} by quadrature "
          f"(P = 0.7·N(-1, 0.5²) + 0.3·N(1.2, 1²), Q = N(0.2, 1)){where}",
          "g_f's range must cover every f'(u) (the interior of dom f*), and f, f*, g_f must describe "
          "one divergence")


PROTOCOL_PROPERTIES = (declares_protocol, losses_are_finite, jit_and_vmap_clean, gradients_are_finite)
SAMPLE_DISTANCE_PROPERTIES = (symmetric_in_batches, zero_between_equals, positive_between_unequals)
F_PROPERTIES = (convex_f, conjugate_is_sup, fenchel_young, activation_in_domain,
                fused_matches_composition, fused_is_stable, regulariser_weight_matches_conjugate,
                bound_at_optimal_critic)


def check(divergence: Divergence | str) -> tuple[str, ...]:
  """Check every property a divergence must have; returns the names of those checked.

  divergence: an object following gdiv.divergences.Divergence (registered or not), or a
  registered name. Raises DivergenceCheckError at the first property that fails.
  """
  div = registry.get(divergence) if isinstance(divergence, str) else divergence
  properties = (PROTOCOL_PROPERTIES + (F_PROPERTIES if is_f_divergence(div) else ())
                + (SAMPLE_DISTANCE_PROPERTIES if is_sample_distance(div) else ()))
  for prop in properties:  # declares_protocol first: the others rely on what it checks
    try:
      prop(div)
    except DivergenceCheckError:
      raise
    except Exception as e:  # a user's function may fail in any way: name the property it broke
      message = " ".join(str(e).split())[:300]
      _fail(div, prop.__name__, f"it raised {type(e).__name__}: {message}",
            f"see what {prop.__name__} requires in gdiv.divergences.checks")
  return tuple(p.__name__ for p in properties)
