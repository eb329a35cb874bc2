"""Divergences by name: `get`, `names`, `register`."""

from __future__ import annotations

from gdiv.divergences.base import Divergence
from gdiv.names import did_you_mean

_REGISTRY: dict[str, Divergence] = {}


def register(divergence: Divergence) -> Divergence:
  """Make `divergence` available as `get(divergence.name)`; returns it."""
  name = divergence.name
  if name in _REGISTRY:
    raise ValueError(f"A divergence named {name!r} is already registered; pick another name "
                     f"(registered: {', '.join(names())}).")
  _REGISTRY[name] = divergence
  return divergence


def get(name: str) -> Divergence:
  """The registered divergence called `name`."""
  try:
    return _REGISTRY[name]
  except KeyError:
    raise ValueError(f"Unknown divergence {name!r}{did_you_mean(name, names())}; known divergences: {', '.join(names())}. "
                     "Register one with gdiv.divergences.register (command line: --import=FILE that does).") from None


def names() -> list[str]:
  """Registered names, sorted."""
  return sorted(_REGISTRY)
