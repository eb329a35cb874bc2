"""Shared fixtures: float64 for tests that check mathematics, not float32 rounding."""

import jax
import pytest

from gdiv import divergences


def f_divergence_names():
  """Every registered f-divergence: a newly registered one is checked automatically."""
  return [n for n in divergences.names() if isinstance(divergences.get(n), divergences.FDivergence)]


@pytest.fixture
def float64():
  with jax.enable_x64(True):
    yield
