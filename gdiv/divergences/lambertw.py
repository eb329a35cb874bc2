"""Principal-branch Lambert W in log space, jit- and grad-able."""

import jax
import jax.numpy as jnp

_NEWTON_STEPS = 8


@jax.custom_jvp
def log_lambertw_exp(a: jax.Array) -> jax.Array:
  """y = log W(e^a), the unique real root of y + e^y = a.

  Working with the exponent a instead of z = e^a keeps W(e^a) usable where
  e^a over- or underflows (the Jeffrey conjugate needs W(e^{1-t}) for large |t|).
  Newton's method on the convex, increasing h(y) = y + e^y - a starts from
  y ≈ a - e^a (accurate for a ≪ 0) or y ≈ log(a - log a) (for a ≫ 0), and
  reaches float32 precision in a few steps.
  Derivative (implicit function theorem): dy/da = 1 / (1 + W(e^a)).
  """
  a = jnp.asarray(a, dtype=jnp.result_type(float, a))
  large = jnp.maximum(a, 1.0)
  y = jnp.where(a > 1.0, jnp.log(large - jnp.log(large)), a - jnp.exp(jnp.minimum(a, 1.0)))
  for _ in range(_NEWTON_STEPS):
    ey = jnp.exp(y)
    y = y - (y + ey - a) / (1.0 + ey)
  return y


@log_lambertw_exp.defjvp
def _log_lambertw_exp_jvp(primals, tangents):
  (a,), (da,) = primals, tangents
  y = log_lambertw_exp(a)
  return y, da / (1.0 + jnp.exp(y))


def lambertw(z: jax.Array) -> jax.Array:
  """W(z) for z > 0 (principal branch)."""
  return jnp.exp(log_lambertw_exp(jnp.log(z)))
