"""At the optimal critic T* = f'(p/q) the variational bound equals D_f(P||Q).

The bound E_P[T*] - E_Q[f*(T*)] is estimated by Monte Carlo with numpy's
sampler and compared with ∫ q f(p/q) from quadrature: the first uses only
f' and f*, the second only f, so they check each other.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import f_divergence_names
from gdiv import divergences
from gdiv.data import GaussianMixture
from gdiv.evaluation import exact_f_divergence

NUM_SAMPLES = 400_000
PAIRS = {
    # (P, Q): Q's scale keeps D_f and the Monte Carlo variance of both terms finite
    # for every divergence, Pearson and Neyman χ² included.
    "gaussians": (GaussianMixture.create([1.0], [0.0], [1.0]),
                  GaussianMixture.create([1.0], [0.5], [1.05])),
    "mixture_vs_gaussian": (GaussianMixture.create([0.6, 0.4], [-1.0, 1.5], [0.8, 1.0]),
                            GaussianMixture.create([1.0], [0.2], [1.0])),
}


def _numpy_sample(mixture, n, rng):
  k = rng.choice(mixture.num_components, size=n, p=mixture.weights)
  return mixture.means[k] + mixture.stds[k] * rng.standard_normal((n, mixture.dim))


@pytest.mark.parametrize("pair", sorted(PAIRS))
@pytest.mark.parametrize("name", f_divergence_names())
def test_bound_at_optimal_critic_matches_quadrature(name, pair, float64):
  div = divergences.get(name)
  p, q = PAIRS[pair]
  rng = np.random.default_rng(0)
  x_p, x_q = _numpy_sample(p, NUM_SAMPLES, rng), _numpy_sample(q, NUM_SAMPLES, rng)
  f_prime = jax.vmap(jax.grad(div.f))
  optimal_critic = lambda x: f_prime(jnp.exp(p.log_prob(x) - q.log_prob(x)))  # T* = f'(p/q)
  on_p = np.asarray(optimal_critic(jnp.asarray(x_p)))
  on_q = np.asarray(div.conjugate(optimal_critic(jnp.asarray(x_q))))
  bound = on_p.mean() - on_q.mean()
  stderr = np.sqrt(on_p.var() / NUM_SAMPLES + on_q.var() / NUM_SAMPLES)

  grid = np.linspace(-15.0, 15.0, 60_001)
  exact = exact_f_divergence(div, p.log_prob, q.log_prob, grid)
  assert np.isfinite(exact) and np.isfinite(bound)
  assert abs(bound - exact) <= 5 * stderr + 1e-6, (bound, exact, stderr)
  assert stderr < 0.05 * max(abs(exact), 0.05)  # the comparison is sharp enough to mean something
