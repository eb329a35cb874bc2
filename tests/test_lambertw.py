"""Lambert W in log space against scipy, with its implicit derivative."""

import jax
import jax.numpy as jnp
import numpy as np
import scipy.special

from gdiv.divergences import lambertw, log_lambertw_exp


def test_lambertw_matches_scipy_in_float32():
  z = np.geomspace(1e-30, 1e30, 301)
  np.testing.assert_allclose(np.asarray(lambertw(jnp.asarray(z, jnp.float32))),
                             scipy.special.lambertw(z).real, rtol=5e-6)


def test_log_lambertw_exp_handles_exponents_beyond_float_range(float64):
  a = np.array([-800.0, -50.0, 0.0, 1.0, 50.0, 800.0])
  y = np.asarray(log_lambertw_exp(jnp.asarray(a)))
  np.testing.assert_allclose(y + np.exp(y), a, rtol=1e-12, atol=1e-12)  # defining equation


def test_derivative_is_implicit_one_over_one_plus_w(float64):
  a = jnp.linspace(-20.0, 20.0, 41)
  grads = jax.vmap(jax.grad(log_lambertw_exp))(a)
  eps = 1e-6
  finite_diff = (log_lambertw_exp(a + eps) - log_lambertw_exp(a - eps)) / (2 * eps)
  np.testing.assert_allclose(np.asarray(grads), np.asarray(finite_diff), rtol=1e-6)
