"""gdiv.divergences.get / names / register."""

import jax.numpy as jnp
import pytest

from gdiv import divergences


def test_names_are_sorted_and_complete():
  names = divergences.names()
  assert names == sorted(names)
  assert {"kl", "reverse_kl", "pearson", "neyman", "squared_hellinger", "jeffrey", "js", "gan",
          "total_variation", "alpha", "mle"} <= set(names)


def test_unknown_name_lists_the_known_ones():
  with pytest.raises(ValueError, match=r"Unknown divergence 'kll' \(did you mean 'kl'\?\); known divergences: alpha, energy, gan"):
    divergences.get("kll")


def test_registering_a_taken_name_is_an_error():
  with pytest.raises(ValueError, match="already registered"):
    divergences.register(divergences.alpha_divergence(0.3, name="kl"))


def test_registered_divergence_is_found_by_name(monkeypatch):
  monkeypatch.setattr("gdiv.divergences.registry._REGISTRY", dict(divergences.registry._REGISTRY))
  new = divergences.register(divergences.alpha_divergence(0.3))
  assert divergences.get("alpha_0.3") is new
  assert float(new.f(jnp.asarray(1.0))) == 0.0
