"""Properties every registered f-divergence must have (f-GAN conventions)."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import f_divergence_names
from gdiv import divergences

NAMES = f_divergence_names()


def _u_grid(div, lo=1e-2, hi=20.0, num=400):
  """Points of f's domain: positive ratios, plus negative ones where f is defined on ℝ."""
  u = np.geomspace(lo, hi, num)
  if div.f_domain[0] < 0:
    u = np.concatenate([-u[::-1] + 1e-3, u])  # crosses 0 and 1 without hitting either exactly
  return np.sort(u)


def _f_prime(div):
  return jax.vmap(jax.grad(div.f))


def test_every_f_divergence_of_the_reference_table_is_registered():
  expected = {"kl", "reverse_kl", "pearson", "neyman", "squared_hellinger", "jeffrey", "js", "gan",
              "total_variation", "alpha"}
  assert expected <= set(NAMES)
  assert "mle" in divergences.names()


@pytest.mark.parametrize("name", NAMES)
def test_f_is_convex_and_f_of_one_is_zero(name, float64):
  div = divergences.get(name)
  u = _u_grid(div)
  f = np.asarray(div.f(jnp.asarray(u)))
  slopes = np.diff(f) / np.diff(u)
  assert np.all(np.diff(slopes) >= -1e-8 * (1 + np.abs(slopes[1:]))), "slopes of f must not decrease"
  expected = -math.log(4.0) if name == "gan" else 0.0  # D_GAN = 2·JSD - log 4
  np.testing.assert_allclose(float(div.f(jnp.asarray(1.0))), expected, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_fenchel_young_inequality_with_equality_at_the_derivative(name, float64):
  div = divergences.get(name)
  u = jnp.asarray(_u_grid(div, num=120))
  t = div.activation(jnp.linspace(-4.0, 4.0, 81))  # points of dom f*
  gap = div.f(u)[:, None] + div.conjugate(t)[None, :] - u[:, None] * t[None, :]
  assert float(jnp.min(gap)) >= -1e-9
  t_star = _f_prime(div)(u)  # f'(u), by autodiff of f alone
  equality_gap = div.f(u) + div.conjugate(t_star) - u * t_star
  np.testing.assert_allclose(np.asarray(equality_gap), 0.0, atol=1e-9 * (1 + float(jnp.max(jnp.abs(u * t_star)))))


@pytest.mark.parametrize("name", NAMES)
def test_conjugate_equals_numerical_sup_over_u(name, float64):
  div = divergences.get(name)
  positive = np.concatenate([np.geomspace(1e-8, 1e6, 200_001), [1.0]])  # 1: the kink of |u - 1|
  u = positive if div.f_domain[0] >= 0 else np.concatenate([-positive[::-1], [0.0], positive])
  u = jnp.asarray(u)
  f_u = div.f(u)
  t = div.activation(jnp.linspace(-3.0, 3.0, 13))
  numerical = jax.vmap(lambda s: jnp.max(u * s - f_u))(t)
  np.testing.assert_allclose(np.asarray(div.conjugate(t)), np.asarray(numerical), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_activation_lands_in_domain_of_conjugate(name, float64):
  div = divergences.get(name)
  v = jnp.linspace(-30.0, 30.0, 601)
  # conjugate is +inf outside dom f*, so a finite value means g_f(v) ∈ dom f*.
  assert bool(jnp.all(jnp.isfinite(div.conjugate(div.activation(v)))))


@pytest.mark.parametrize("name", NAMES)
def test_conjugate_activation_agrees_with_composition(name):
  div = divergences.get(name)
  # Beyond |v| ≈ 20 the float64 composition itself loses digits to cancellation
  # (2 - e^t for js, 1 - t for squared Hellinger); the finiteness test covers |v| ≤ 50.
  v32 = jnp.linspace(-20.0, 20.0, 801, dtype=jnp.float32)
  fused = np.asarray(div.conjugate_activation(v32), np.float64)
  with jax.enable_x64(True):  # reference: the unfused composition, in float64
    composed = np.asarray(div.conjugate(div.activation(jnp.asarray(np.asarray(v32), jnp.float64))))
  finite = np.isfinite(composed)
  assert finite.mean() > 0.5
  np.testing.assert_allclose(fused[finite], composed[finite], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", NAMES)
def test_conjugate_activation_is_finite_with_finite_gradients_in_float32(name):
  div = divergences.get(name)
  v = jnp.linspace(-50.0, 50.0, 2001, dtype=jnp.float32)
  values = div.conjugate_activation(v)
  grads = jax.vmap(jax.grad(div.conjugate_activation))(v)
  activation_grads = jax.vmap(jax.grad(div.activation))(v)
  assert values.dtype == jnp.float32
  assert bool(jnp.all(jnp.isfinite(values))) and bool(jnp.all(jnp.isfinite(grads)))
  assert bool(jnp.all(jnp.isfinite(div.activation(v)))) and bool(jnp.all(jnp.isfinite(activation_grads)))


@pytest.mark.parametrize("alpha, twin, scale", [(0.5, "squared_hellinger", 2.0), (2.0, "pearson", 0.5),
                                                (-1.0, "neyman", 0.5)])
def test_alpha_divergence_reduces_to_its_named_special_cases(alpha, twin, scale, float64):
  u = jnp.geomspace(1e-2, 20.0, 50)
  np.testing.assert_allclose(np.asarray(divergences.alpha_divergence(alpha).f(u)),
                             scale * np.asarray(divergences.get(twin).f(u)), rtol=1e-10, atol=1e-12)


def test_alpha_divergence_rejects_its_limits():
  for alpha in (0.0, 1.0):
    with pytest.raises(ValueError, match="reverse_kl' and 'kl'"):
      divergences.alpha_divergence(alpha)


def test_js_is_twice_jensen_shannon_and_gan_is_js_minus_log4(float64):
  p, q = np.array([0.2, 0.5, 0.3]), np.array([0.4, 0.4, 0.2])  # discrete P, Q
  m = (p + q) / 2
  jsd = 0.5 * np.sum(p * np.log(p / m)) + 0.5 * np.sum(q * np.log(q / m))
  d = lambda name: float(jnp.sum(q * divergences.get(name).f(jnp.asarray(p / q))))
  np.testing.assert_allclose(d("js"), 2 * jsd, rtol=1e-12)
  np.testing.assert_allclose(d("gan"), 2 * jsd - math.log(4), rtol=1e-12)
