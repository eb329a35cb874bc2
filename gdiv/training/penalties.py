"""Penalties on the critic as values that compose: each says where it evaluates the critic's input
gradient and what it adds to the critic's loss.

  gradient_penalty(λ)   λ·E[(‖∇V(x̂)‖ - 1)²], x̂ = εx_real + (1-ε)x_fake, ε ~ U[0,1] per example
                        (WGAN-GP, Gulrajani et al. 2017)
  r1(γ)                 (γ/2)·E_P[‖∇V(x)‖²] (Mescheder et al. 2018)
  r2(γ)                 (γ/2)·E_Q[‖∇V(x)‖²], the same on model samples
  roth(γ)               (γ/2)·E_Q[w(V(x))·‖∇V(x)‖²], w = g_f'²·f*''(g_f) (Roth et al. 2017; f-divergences
                        only, FDivergence.regulariser_weight); γ a noise variance in x², a float or an
                        optax schedule of the step (`roth_annealed`: Roth et al.'s γ·0.01^{t/T})
  dragan(λ, scale)      λ·E[(‖∇V(x̂)‖ - 1)²] at x̂ = x + α·scale·std(x)·u around the data, α ~ U[0,1]
                        per example, u ~ U[0,1] per coordinate (Kodali et al. 2017: λ = 10, scale 0.5)

Penalties that evaluate at the same points share one gradient pass (r2 and roth both at the model
samples), and the passes run in the order the penalties first name their points. Weights may be
traced scalars (a sweep vmaps over them). The samples' gradient is stopped: penalties train the
critic only.

A flat config field can name a penalty (`FIELDS`: `r1_penalty`, `roth_gamma`, ...), so configs,
flags and sweeps reach every registered penalty by its field (gdiv.training.settings).
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax

from gdiv.divergences import Divergence, optional_member
from gdiv.training.critic import CriticFn

_DRAGAN_STREAM = 1  # fold_in index of DRAGAN's draws within the penalty stream


class Points(NamedTuple):
  """Where a penalty evaluates ∇ₓV: draw(key, real, fake) -> x; penalties with one name share them."""
  name: str
  draw: Callable[[jax.Array, jax.Array, jax.Array], jax.Array]


class Penalty(NamedTuple):
  """term(divergence, V(x), ‖∇ₓV(x)‖² per example, step) at `points`, added to the critic's loss.

  requires: a divergence member the term uses (`gdiv.divergences.OPTIONAL_MEMBERS`); refusal: the
  error when the divergence lacks it.
  """
  name: str
  points: Points
  term: Callable[..., jax.Array]
  requires: str | None = None
  refusal: str = ""


def _per_example(x, draws):
  return draws.reshape((x.shape[0],) + (1,) * (x.ndim - 1))


def _interpolates(key, real, fake):
  """x̂ = εx_real + (1-ε)x_fake, ε ~ U[0,1] per example (drawn from the penalty stream's key itself)."""
  eps = jax.random.uniform(key, (real.shape[0],) + (1,) * (real.ndim - 1))
  return eps * real + (1 - eps) * fake


REAL = Points("real", lambda key, real, fake: real)
FAKE = Points("fake", lambda key, real, fake: fake)
INTERPOLATES = Points("interpolates", _interpolates)


def _check_weight(name: str, weight) -> None:
  if not isinstance(weight, jax.core.Tracer) and not callable(weight) and weight < 0:
    raise ValueError(f"Penalty weights must be ≥ 0; got {name}={weight}.")


def _unit_gradient_norm(weight):
  """λ·E[(‖∇V‖ - 1)²], the two-sided penalty of WGAN-GP and DRAGAN."""
  return lambda divergence, v, squared, step: weight * jnp.mean((jnp.sqrt(squared + 1e-12) - 1.0) ** 2)


def _half_squared_norm(weight):
  return lambda divergence, v, squared, step: 0.5 * weight * jnp.mean(squared)


def gradient_penalty(weight) -> Penalty:
  _check_weight("gradient_penalty", weight)
  return Penalty("gradient_penalty", INTERPOLATES, _unit_gradient_norm(weight))


def r1(gamma) -> Penalty:
  _check_weight("r1_penalty", gamma)
  return Penalty("r1_penalty", REAL, _half_squared_norm(gamma))


def r2(gamma) -> Penalty:
  _check_weight("r2_penalty", gamma)
  return Penalty("r2_penalty", FAKE, _half_squared_norm(gamma))


def roth_annealed(gamma, steps: int) -> optax.Schedule:
  """γ_t = γ·0.01^{min(t/T, 1)}: Roth et al.'s annealing to γ/100 over T steps, then held."""
  if not isinstance(steps, int) or steps < 1:
    raise ValueError(f"Roth et al.'s annealing horizon must be an integer ≥ 1 step; got {steps!r}.")
  return lambda step: gamma * 0.01 ** jnp.minimum(step / steps, 1.0)


def roth(gamma: float | optax.Schedule) -> Penalty:
  _check_weight("roth_gamma", gamma)
  def term(divergence, v, squared, step):
    gamma_t = gamma(step) if callable(gamma) else gamma
    return 0.5 * gamma_t * jnp.mean(divergence.regulariser_weight(v) * squared)
  return Penalty("roth_gamma", FAKE, term, requires="regulariser_weight",
                 refusal="Roth et al.'s regulariser weights ‖∇V‖² by f*'' of an f-divergence; {name!r} "
                         "is not one: use r1_penalty or r2_penalty.")


def dragan(weight=10.0, scale: float = 0.5) -> Penalty:
  _check_weight("dragan_penalty", weight)
  def around_data(key, real, fake):
    alpha_key, noise_key = jax.random.split(jax.random.fold_in(key, _DRAGAN_STREAM))
    alpha = _per_example(real, jax.random.uniform(alpha_key, (real.shape[0],)))
    return real + alpha * scale * jnp.std(real) * jax.random.uniform(noise_key, real.shape)
  return Penalty("dragan_penalty", Points(f"dragan({scale})", around_data), _unit_gradient_norm(weight))


class Field(NamedTuple):
  """A flat config field that names a penalty: build(weight, settings) -> Penalty, help for flags."""
  build: Callable[[object, dict], Penalty]
  help: str


FIELDS: dict[str, Field] = {}


def register_field(name: str, build: Callable[[object, dict], Penalty], help: str) -> None:
  """Make `name` a config field, flag and sweepable value (0: off) that adds build(weight, settings)."""
  if name in FIELDS:
    raise ValueError(f"A penalty field named {name!r} is already registered.")
  FIELDS[name] = Field(build, help)


def _roth_from_settings(gamma, settings: dict) -> Penalty:
  """roth_anneal_steps T > 0 anneals over T steps, -1 over the whole run (settings["steps"]), 0: constant."""
  anneal = settings.get("roth_anneal_steps", 0)
  if anneal == -1 and settings.get("steps") is None:
    raise ValueError("roth_anneal_steps=-1 anneals γ over the whole run: give the run's steps.")
  steps = settings["steps"] if anneal == -1 else anneal
  return roth(roth_annealed(gamma, steps) if steps else gamma)


register_field("r1_penalty", lambda w, s: r1(w), "γ of (γ/2)·E_P‖∇V‖² on the critic (Mescheder et al. 2018).")
register_field("r2_penalty", lambda w, s: r2(w), "γ of (γ/2)·E_Q‖∇V‖² on the critic, at model samples.")
register_field("roth_gamma", _roth_from_settings, "γ of Roth et al.'s (γ/2)·E_Q[g_f'² f*''(g_f(V))·‖∇V‖²] "
               "(a noise variance, in x²); roth_anneal_steps anneals it.")
register_field("dragan_penalty", lambda w, s: dragan(w), "λ of DRAGAN's λ·E[(‖∇V(x̂)‖ - 1)²] at data "
               "points perturbed by 0.5·std(x)·U[0,1] (Kodali et al. 2017: λ = 10).")


def check(divergence: Divergence, penalties) -> None:
  """Raise before anything compiles if a penalty cannot act on `divergence`."""
  if penalties and not divergence.needs_critic:
    raise ValueError(f"Gradient penalties and critic bounds act on a critic; {divergence.name!r} has none.")
  for penalty in penalties:
    if penalty.requires and optional_member(divergence, penalty.requires) is None:
      raise ValueError(penalty.refusal.format(name=divergence.name))


def make_total(penalties, critic: CriticFn, divergence: Divergence):
  """(critic_params, critic_state, real, fake, key, step) -> (Σ penalty terms, critic state)."""
  def total(critic_params, critic_state, real, fake, key, step):
    def summed_v(x, state):
      v, state = critic(critic_params, state, x, True)
      return jnp.sum(v), (v, state)

    fake = jax.lax.stop_gradient(fake)
    at, penalty = {}, 0.0
    for p in penalties:
      if p.points.name not in at:
        x = p.points.draw(key, real, fake)
        (_, (v, critic_state)), grads = jax.value_and_grad(summed_v, has_aux=True)(x, critic_state)
        at[p.points.name] = v, jnp.sum(grads.reshape(grads.shape[0], -1) ** 2, axis=1)
      penalty += p.term(divergence, *at[p.points.name], step)
    return penalty, critic_state
  return total
