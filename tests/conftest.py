"""Shared fixtures: float64 for tests that check mathematics, not float32 rounding.

Compiled programs go to a persistent cache for the session, so a test that
compiles the same program again (a resumed run, a lone run beside its sweep)
loads it instead.
"""

import tempfile

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


def pytest_configure(config):
  del config
  jax.config.update("jax_compilation_cache_dir", tempfile.mkdtemp(prefix="gdiv-jax-cache-"))
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.2)
