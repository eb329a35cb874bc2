"""Shared fixtures: float64 for tests that check mathematics, not float32 rounding.

Compiled programs go to a persistent cache for the session, so a test that
compiles the same program again (a resumed run, a lone run beside its sweep)
loads it instead. The cache is one folder for the whole session: pytest-xdist's
workers and the experiments a test starts as subprocesses (a killed run and its
resumption, the processes of a multi-process run) inherit it through JAX's
environment variables, set before any of them starts.
"""

import os
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


SESSION_CACHE = "GDIV_TEST_COMPILATION_CACHE"  # set by the first process of a session, inherited by the rest


def pytest_configure(config):
  del config
  if SESSION_CACHE not in os.environ:
    os.environ[SESSION_CACHE] = tempfile.mkdtemp(prefix="gdiv-jax-cache-")
  os.environ["JAX_COMPILATION_CACHE_DIR"] = os.environ[SESSION_CACHE]
  os.environ["JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS"] = "0"
  jax.config.update("jax_compilation_cache_dir", os.environ[SESSION_CACHE])
  jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
