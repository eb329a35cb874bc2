"""The f-divergence family of f-GAN as data: f, f*, g_f and f*(g_f) per entry.

Convention (Nowozin, Cseke, Tomioka, "f-GAN", NeurIPS 2016, Table 2 and 6):

  D_f(P||Q) = ∫ q(x) f(p(x)/q(x)) dx,   P = data, Q = model,

f convex with f(1) = 0 (`gan` is the exception: f(1) = -log 4). With the
Fenchel conjugate f*(t) = sup_u {u t - f(u)} every f-divergence has the
variational lower bound

  D_f(P||Q) ≥ F(T) = E_P[T(x)] - E_Q[f*(T(x))],   tight at T*(x) = f'(p(x)/q(x)).

The critic outputs a raw V(x) ∈ ℝ and T = g_f(V) maps it into dom f*. Training
uses `conjugate_activation(v)` = f*(g_f(v)) written as one stable expression,
finite with finite gradients wherever a float32 critic output can be.
`conjugate(t)` returns +inf outside dom f*, so f*(g_f(v)) < inf ⇔ g_f(v) ∈ dom f*.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable

import jax
import jax.numpy as jnp
from jax.scipy.special import xlogy

from gdiv.divergences.base import NO_RECIPE, Evaluations, Recipe
from gdiv.divergences.lambertw import log_lambertw_exp

ArrayFn = Callable[[jax.Array], jax.Array]
LOG2 = math.log(2.0)


@dataclasses.dataclass(frozen=True)
class FDivergence:
  """One f-divergence: the generator f, its conjugate f*, and the activation g_f.

  Attributes:
    name: registry key.
    f: convex generator f(u), u = p/q ≥ 0.
    conjugate: f*(t); +inf outside dom f*.
    activation: g_f(v), mapping a raw critic output into dom f*.
    conjugate_activation: f*(g_f(v)) as one numerically stable expression.
    f_domain: the interval of u on which f is defined and over which f* takes
      its sup. (0, ∞) for ratios of densities; f-GAN defines Pearson χ² and
      total variation on all of ℝ, and its conjugates for them are over ℝ.
    curvature: w(v) = g_f'(v)²·f*''(g_f(v)) in a stable closed form, the weight of
      ‖∇ₓv‖² in Roth et al.'s regulariser (`regulariser_weight`); None derives it
      from f*∘g_f and g_f by autodiff.
    recipe: how studies train it when they ask for recipes (gdiv.divergences.Recipe).
    tail_orders: (k, m) with f(u) = O(u^-k) as u → 0⁺ and f(u)/u = O(u^m) as u → ∞, up to
      logarithmic factors (0 where f or f(u)/u stays within a log); they decide where D_f is
      infinite between densities with Gaussian tails (gdiv.evaluation.exact.f_divergence_diverges).
  """

  name: str
  f: ArrayFn
  conjugate: ArrayFn
  activation: ArrayFn
  conjugate_activation: ArrayFn
  f_domain: tuple[float, float] = (0.0, math.inf)
  curvature: ArrayFn | None = None
  recipe: Recipe = NO_RECIPE
  tail_orders: tuple[float, float] = (0.0, 0.0)

  needs_critic = True
  needs_log_prob = False
  needs_sample_gradients = True
  estimate_name = "variational_bound"
  gradient_penalty = 0.0
  critic_loss_is_linear_in_fakes = True

  def variational_bound(self, v_real: jax.Array, v_fake: jax.Array) -> jax.Array:
    """F = E_P[g_f(V)] - E_Q[f*(g_f(V))], a lower bound on D_f(P||Q)."""
    return jnp.mean(self.activation(v_real)) - jnp.mean(self.conjugate_activation(v_fake))

  def critic_loss(self, ev: Evaluations) -> jax.Array:
    """The critic maximises F."""
    return -self.variational_bound(ev.critic_real, ev.critic_fake)

  def model_loss(self, ev: Evaluations) -> jax.Array:
    """The model minimises F (the saddle objective whose fixed point minimises D_f)."""
    return self.variational_bound(ev.critic_real, ev.critic_fake)

  def non_saturating_model_loss(self, ev: Evaluations) -> jax.Array:
    """f-GAN's heuristic generator loss: maximise E_Q[g_f(V(x))].

    Stronger gradients early on, but its fixed point is not the D_f minimiser
    for every f (reverse KL among them).
    """
    return -jnp.mean(self.activation(ev.critic_fake))

  def estimate(self, ev: Evaluations) -> jax.Array:
    return self.variational_bound(ev.critic_real, ev.critic_fake)

  def regulariser_weight(self, v: jax.Array) -> jax.Array:
    """w(v) = g_f'(v)²·f*''(g_f(v)), elementwise: Roth et al.'s regulariser in the raw critic v.

    Roth, Lucchi, Nowozin & Hofmann (NeurIPS 2017, Section 3) smooth P and Q with
    Gaussian noise of variance γ; a second-order expansion of the bound at the
    noisy distributions gives F_γ(T) ≈ F(T) - (γ/2)·Ω_f with
      Ω_f = E_Q[f*''(T(x))·‖∇ₓT(x)‖²].
    With T = g_f(v), ∇ₓT = g_f'(v)∇ₓv, so Ω_f = E_Q[w(v)·‖∇ₓv‖²]. Writing
    h = f*∘g_f, h'' = f*''(g_f)·g_f'² + f*'(g_f)·g_f'' and f*'(g_f) = h'/g_f', so
      w = h'' - h'·(log g_f')'
    from the two stable functions the divergence already has. E.g. w = e^{v-1}
    for kl, 1 for reverse_kl, ½ for pearson, σ(v) for js and gan, 0 for total
    variation (f* is linear on its domain).
    """
    if self.curvature is not None:
      return self.curvature(v)
    derivative = lambda fn: jax.grad(lambda x: jnp.sum(fn(x)))
    h_prime = derivative(self.conjugate_activation)
    log_slope = lambda x: jnp.log(derivative(self.activation)(x))
    return derivative(h_prime)(v) - h_prime(v) * derivative(log_slope)(v)


def _outside_domain_is_inf(inside: jax.Array, value_fn: ArrayFn, t: jax.Array, safe_t) -> jax.Array:
  """value_fn(t) where `inside`, +inf elsewhere, without NaNs in either branch."""
  return jnp.where(inside, value_fn(jnp.where(inside, t, safe_t)), jnp.inf)


def _log2_minus_softplus(v):
  return LOG2 - jax.nn.softplus(-v)


# Recipes (docs/stabilisers.md). Roth et al.'s regulariser at γ = 0.1
# annealed to γ/100 over the run, with DCGAN's Adam β1 = 0.5: the setting under which the ring
# and grid tables' stabilised rows trained all 5 seeds. A critic bound c·tanh(V/c), c = 10, where
# the model-side term f*(g_f(v)) grows exponentially in v (kl lost a grid seed without it, squared
# Hellinger every restart on Theis's draw 8); the saddle generator loss where the non-saturating
# one explodes (reverse_kl's E_Q[e^{-V}], neyman's).
ROTH_RECIPE = Recipe(beta1=0.5, roth_gamma=0.1, roth_anneal_steps=-1,
                     source="Roth et al. 2017's regulariser, γ = 0.1 annealed to γ/100")
ROTH_BOUNDED_RECIPE = ROTH_RECIPE._replace(
    critic_bound=10.0, source=ROTH_RECIPE.source + "; critic bounded, f*(g_f(v)) grows as e^{±v}")
ROTH_SADDLE_RECIPE = ROTH_RECIPE._replace(
    generator_loss="saddle", source=ROTH_RECIPE.source + "; saddle loss, the non-saturating one explodes")


def _one_minus_exp(v):
  return -jnp.expm1(-v)


KL = FDivergence(
    name="kl",
    f=lambda u: xlogy(u, u),  # u log u
    conjugate=lambda t: jnp.exp(t - 1.0),  # dom ℝ
    activation=lambda v: v,
    conjugate_activation=lambda v: jnp.exp(v - 1.0),
    curvature=lambda v: jnp.exp(v - 1.0),
    recipe=ROTH_BOUNDED_RECIPE,
)

REVERSE_KL = FDivergence(
    name="reverse_kl",
    f=lambda u: -jnp.log(u),
    # f*(t) = -1 - log(-t), t < 0
    conjugate=lambda t: _outside_domain_is_inf(t < 0, lambda s: -1.0 - jnp.log(-s), t, -1.0),
    activation=lambda v: -jnp.exp(-v),
    conjugate_activation=lambda v: v - 1.0,  # -1 - log(e^{-v})
    curvature=jnp.ones_like,
    recipe=ROTH_SADDLE_RECIPE,
)

PEARSON = FDivergence(
    name="pearson",
    f=lambda u: (u - 1.0) ** 2,
    conjugate=lambda t: 0.25 * t**2 + t,  # dom ℝ
    activation=lambda v: v,
    conjugate_activation=lambda v: 0.25 * v**2 + v,
    f_domain=(-math.inf, math.inf),
    curvature=lambda v: jnp.full_like(v, 0.5),
    recipe=ROTH_RECIPE,
    tail_orders=(0.0, 1.0),  # f(u)/u ~ u
)

NEYMAN = FDivergence(
    name="neyman",
    f=lambda u: (1.0 - u) ** 2 / u,
    # f*(t) = 2 - 2 sqrt(1 - t), t < 1
    conjugate=lambda t: _outside_domain_is_inf(t < 1, lambda s: 2.0 - 2.0 * jnp.sqrt(1.0 - s), t, 0.0),
    activation=_one_minus_exp,  # 1 - e^{-v} < 1
    conjugate_activation=lambda v: 2.0 - 2.0 * jnp.exp(-0.5 * v),
    curvature=lambda v: 0.5 * jnp.exp(-0.5 * v),
    recipe=ROTH_SADDLE_RECIPE._replace(critic_bound=10.0, source=ROTH_SADDLE_RECIPE.source
                                       + "; critic bounded, 1 - e^{-v} and f*(g_f(v)) grow as e^{-v}"),
    tail_orders=(1.0, 0.0),  # f(u) ~ 1/u
)

SQUARED_HELLINGER = FDivergence(
    name="squared_hellinger",
    f=lambda u: (jnp.sqrt(u) - 1.0) ** 2,
    # f*(t) = t / (1 - t), t < 1
    conjugate=lambda t: _outside_domain_is_inf(t < 1, lambda s: s / (1.0 - s), t, 0.0),
    activation=_one_minus_exp,
    conjugate_activation=jnp.expm1,  # (1 - e^{-v}) / e^{-v}
    curvature=lambda v: 2.0 * jnp.exp(v),
    recipe=ROTH_BOUNDED_RECIPE,
)


def _jeffrey_conjugate(t):
  """f*(t) = W(e^{1-t}) + 1/W(e^{1-t}) + t - 2, dom ℝ."""
  log_w = log_lambertw_exp(1.0 - t)
  return jnp.exp(log_w) + jnp.exp(-log_w) + t - 2.0


def _jeffrey_curvature(v):
  """f*''(v) = 1/(W(1 + W)), W = W(e^{1-v}) (f*'(t) = 1/W, W' = -W/(1 + W))."""
  log_w = log_lambertw_exp(1.0 - v)
  return jnp.exp(-log_w) / (1.0 + jnp.exp(log_w))


JEFFREY = FDivergence(
    name="jeffrey",
    f=lambda u: (u - 1.0) * jnp.log(u),
    conjugate=_jeffrey_conjugate,
    activation=lambda v: v,
    conjugate_activation=_jeffrey_conjugate,
    curvature=_jeffrey_curvature,
    recipe=ROTH_BOUNDED_RECIPE,
)

JS = FDivergence(
    name="js",
    # f(u) = -(u + 1) log((1 + u)/2) + u log u; D_f = 2·JSD(P, Q) with JSD = ½KL(P||M) + ½KL(Q||M).
    f=lambda u: xlogy(u, u) - (u + 1.0) * (jnp.log1p(u) - LOG2),
    # f*(t) = -log(2 - e^t), t < log 2
    conjugate=lambda t: _outside_domain_is_inf(t < LOG2, lambda s: -jnp.log(2.0 - jnp.exp(s)), t, 0.0),
    activation=_log2_minus_softplus,  # log 2 - log(1 + e^{-v})
    conjugate_activation=lambda v: jax.nn.softplus(v) - LOG2,  # -log(2 σ(-v))
    curvature=jax.nn.sigmoid,
    recipe=ROTH_RECIPE,
)

GAN = FDivergence(
    name="gan",
    # f(u) = u log u - (u + 1) log(u + 1); D_f = 2·JSD - log 4.
    f=lambda u: xlogy(u, u) - (u + 1.0) * jnp.log1p(u),
    # f*(t) = -log(1 - e^t), t < 0
    conjugate=lambda t: _outside_domain_is_inf(t < 0, lambda s: -jnp.log(-jnp.expm1(s)), t, -1.0),
    activation=lambda v: -jax.nn.softplus(-v),  # log σ(v)
    conjugate_activation=jax.nn.softplus,  # -log(1 - σ(v))
    curvature=jax.nn.sigmoid,
    recipe=ROTH_RECIPE,
)

TOTAL_VARIATION = FDivergence(
    name="total_variation",
    f=lambda u: 0.5 * jnp.abs(u - 1.0),
    # f*(t) = t, |t| ≤ ½
    conjugate=lambda t: jnp.where(jnp.abs(t) <= 0.5, t, jnp.inf),
    activation=lambda v: 0.5 * jnp.tanh(v),
    conjugate_activation=lambda v: 0.5 * jnp.tanh(v),
    f_domain=(-math.inf, math.inf),
    curvature=jnp.zeros_like,  # f* is linear on its domain
    # No recipe: its optimal critic is ±∞ and g_f a tanh, so the critic saturates and the model's
    # gradient vanishes; Roth's weight is 0 (f* linear) and a bound keeps the tanh.
)


def alpha_divergence(alpha, name: str | None = None) -> FDivergence:
  """The α-divergence, α ∉ {0, 1} (Amari's family; α → 1 is KL, α → 0 reverse KL).

    f(u)  = (u^α - 1 - α(u - 1)) / (α(α - 1)),      f'(u) = (u^{α-1} - 1)/(α - 1)
    f*(t) = ((1 + (α - 1)t)^{α/(α-1)} - 1) / α  where 1 + (α - 1)t > 0;
            beyond that f* = -1/α for α > 1 (sup at u = 0) and +inf for α < 1.
    g_f(v) = expm1(c s v)/(α - 1), c = sign(α - 1), s = |α - 1|/|α|,
    so 1 + (α - 1)g_f(v) = e^{c s v} > 0 and f*(g_f(v)) = expm1(sign(α) v)/α;
    Roth et al.'s weight g_f'² f*''(g_f) = e^{sign(α) v}/α².

  The scale s makes the optimal raw critic v* = |α| log(p/q), a scaled log
  density ratio, and keeps f*(g_f(v)) within e^{|v|}. α = ½ is 2·squared
  Hellinger, α = 2 is ½·Pearson, α = -1 is ½·Neyman. α may be a traced scalar
  (a sweep over α vmapped as one program, gdiv.sweeps); it is then not checked, and its
  tail_orders (max(0, -α), max(0, α - 1)) are unknown (None).
  """
  if not isinstance(alpha, jax.core.Tracer):
    alpha = float(alpha)
    if alpha in (0.0, 1.0) or not math.isfinite(alpha):
      raise ValueError(f"alpha_divergence needs a finite alpha other than 0 and 1 (the limits are "
                       f"'reverse_kl' and 'kl'); got alpha={alpha}.")
    name = name or f"alpha_{alpha:g}"
  a1 = alpha - 1.0

  def f(u):
    return (u**alpha - 1.0 - alpha * (u - 1.0)) / (alpha * a1)

  def conjugate(t):
    base = 1.0 + a1 * t
    value = (jnp.where(base > 0, base, 1.0) ** (alpha / a1) - 1.0) / alpha
    return jnp.where(base > 0, value, jnp.where(alpha > 1, -1.0 / alpha, jnp.inf))

  return FDivergence(
      name=name or "alpha",
      f=f,
      conjugate=conjugate,
      activation=lambda v: jnp.expm1(jnp.sign(a1) * jnp.abs(a1 / alpha) * v) / a1,
      conjugate_activation=lambda v: jnp.expm1(jnp.sign(alpha) * v) / alpha,
      curvature=lambda v: jnp.exp(jnp.sign(alpha) * v) / alpha**2,
      recipe=ROTH_BOUNDED_RECIPE,
      tail_orders=None if isinstance(alpha, jax.core.Tracer) else (max(0.0, -alpha), max(0.0, a1)),
  )


ALPHA = alpha_divergence(1.5, name="alpha")

F_DIVERGENCES = (KL, REVERSE_KL, PEARSON, NEYMAN, SQUARED_HELLINGER, JEFFREY, JS, GAN,
                 TOTAL_VARIATION, ALPHA)
