"""Properties every registered divergence must have (f-GAN conventions for the f-family).

The properties themselves live in gdiv.divergences.checks, where the public
`divergences.check` runs them on a user's divergence too; each test below runs
one of them on every registered divergence, and the mutants show that each
property catches the mistake it is there for.
"""

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from conftest import f_divergence_names
from gdiv import divergences
from gdiv.divergences import checks

NAMES = f_divergence_names()


def test_every_f_divergence_of_the_reference_table_is_registered():
  expected = {"kl", "reverse_kl", "pearson", "neyman", "squared_hellinger", "jeffrey", "js", "gan",
              "total_variation", "alpha"}
  assert expected <= set(NAMES)
  assert "mle" in divergences.names()


@pytest.mark.parametrize("name", NAMES)
def test_f_of_one_is_zero_except_gan(name, float64):
  expected = -math.log(4.0) if name == "gan" else 0.0  # D_GAN = 2·JSD - log 4
  np.testing.assert_allclose(float(divergences.get(name).f(jnp.asarray(1.0))), expected, atol=1e-12)


@pytest.mark.parametrize("name", divergences.names())
def test_every_divergence_follows_the_protocol_with_finite_jit_and_vmap_clean_losses(name):
  for prop in checks.PROTOCOL_PROPERTIES:
    prop(divergences.get(name))


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("prop", checks.F_PROPERTIES, ids=lambda p: p.__name__)
def test_every_f_divergence_has_each_property_of_the_family(prop, name):
  """convex_f, conjugate_is_sup, fenchel_young, activation_in_domain, fused_matches_composition,
  fused_is_stable, regulariser_weight_matches_conjugate, bound_at_optimal_critic (see checks)."""
  prop(divergences.get(name))


@pytest.mark.parametrize("name", NAMES)
def test_derived_roth_weight_equals_the_closed_form(name):
  """The autodiff form w = h'' - h'·(log g_f')' (what a user's divergence gets) against the table's."""
  div = divergences.get(name)
  v = jnp.linspace(-4.0, 4.0, 81)
  np.testing.assert_allclose(dataclasses.replace(div, curvature=None).regulariser_weight(v),
                             div.regulariser_weight(v), rtol=2e-4, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_bound_at_the_optimal_raw_critic_equals_quadrature(name):
  checks.bound_at_optimal_critic(divergences.get(name))


def _mutant(name, **changes):
  return dataclasses.replace(divergences.get(name), name=f"mutant_{name}", **changes)


# Each mutant breaks one property; check must name that property (the originals pass, above).
MUTANTS = {
    "reverse KL's f* with the sign of t flipped": (
        _mutant("reverse_kl", conjugate=lambda t: -1.0 - jnp.log(t)), "conjugate_is_sup"),
    "reverse KL's f* off by a constant": (
        _mutant("reverse_kl", conjugate=lambda t: -jnp.log(-t)), "conjugate_is_sup"),
    "a concave f": (_mutant("reverse_kl", f=jnp.log), "convex_f"),
    "GAN's f*∘g_f beside JS's f and f*": (
        _mutant("js", conjugate_activation=jax.nn.softplus), "fused_matches_composition"),
    "squared Hellinger's f*∘g_f written as the composition": (
        _mutant("squared_hellinger", conjugate_activation=lambda v: -jnp.expm1(-v) / jnp.exp(-v)),
        "fused_is_stable"),
    "KL's regulariser weight without the e^{-1}": (
        _mutant("kl", curvature=jnp.exp), "regulariser_weight_matches_conjugate"),
    "a bounded g_f for KL": (
        _mutant("kl", activation=jnp.tanh, conjugate_activation=lambda v: jnp.exp(jnp.tanh(v) - 1.0),
                curvature=None),
        "bound_at_optimal_critic"),
    "a model loss left unreduced": (
        dataclasses.replace(divergences.get("hinge"), name="mutant_hinge", model=lambda v_r, v_f: -v_f),
        "losses_are_finite"),
    "a loss that branches in Python on an array": (
        dataclasses.replace(divergences.get("hinge"), name="mutant_hinge",
                            model=lambda v_r, v_f: -jnp.mean(v_f) if float(jnp.mean(v_r)) > 0 else 0.0),
        "jit_and_vmap_clean"),
}


@pytest.mark.parametrize("mutant", sorted(MUTANTS))
def test_check_names_the_property_a_wrong_divergence_breaks(mutant):
  divergence, prop = MUTANTS[mutant]
  with pytest.raises(divergences.DivergenceCheckError, match=f"'mutant_\\w+' fails {prop}: .* Fix: "):
    divergences.check(divergence)


def test_check_runs_the_f_properties_on_the_f_family_only():
  protocol = tuple(p.__name__ for p in checks.PROTOCOL_PROPERTIES)
  assert divergences.check("kl") == protocol + tuple(p.__name__ for p in checks.F_PROPERTIES)
  assert divergences.check("wasserstein_gp") == protocol


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
