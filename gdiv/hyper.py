"""Hyper-parameter sweeps as data, in the style of JAX research configs (Flax examples, LRA).

A study's config file may define `get_hyper(h)`, called with this module:

  def get_hyper(h):
    return h.product([
        h.sweep("config.divergence", ["js", "kl"]),
        h.zipit([h.sweep("config.critic_pack", [1, 2]),
                 h.sweep("config.batch_size", [100, 200])]),
    ])

A sweep is a list of points; a point is a dict {field: value} of config
overrides ("config." is stripped; dotted names reach nested fields).
`product` is the Cartesian product, `zipit` pairs values position by
position, `fixed` sets one value everywhere. `expand(get_hyper)` gives the
points ([{}] when a study has no `get_hyper`).
"""

from __future__ import annotations

import itertools
from typing import Any, Callable, Sequence

Point = dict[str, Any]
Sweep = list[Point]

_PREFIX = "config."


def _field(name: str) -> str:
  if not name.startswith(_PREFIX) or len(name) == len(_PREFIX):
    raise ValueError(f"Sweep over {name!r}: name the config field as 'config.FIELD'.")
  return name[len(_PREFIX):]


def sweep(name: str, values: Sequence[Any]) -> Sweep:
  """One point per value of the field `name` ("config.FIELD")."""
  if isinstance(values, (str, bytes)) or not len(values):
    raise ValueError(f"h.sweep({name!r}, ...) needs a non-empty list of values; got {values!r}.")
  return [{_field(name): v} for v in values]


def fixed(name: str, value: Any) -> Sweep:
  """The field `name` set to `value` in every point."""
  return [{_field(name): value}]


def _merge(points: Sequence[Point]) -> Point:
  merged: Point = {}
  for point in points:
    clash = set(merged) & set(point)
    if clash:
      raise ValueError(f"Field(s) {', '.join(sorted(clash))} swept twice in one product or zip.")
    merged.update(point)
  return merged


def product(sweeps: Sequence[Sweep]) -> Sweep:
  """Every combination of one point from each sweep (the first varies slowest)."""
  return [_merge(points) for points in itertools.product(*sweeps)]


def zipit(sweeps: Sequence[Sweep]) -> Sweep:
  """The i-th points of every sweep merged; all sweeps must have the same length."""
  lengths = sorted({len(s) for s in sweeps})
  if len(lengths) > 1:
    raise ValueError(f"h.zipit needs sweeps of equal length; got lengths {lengths}.")
  return [_merge(points) for points in zip(*sweeps)]


def expand(get_hyper: Callable | None) -> Sweep:
  """The points of a study: `get_hyper(h)` with this module as `h`, or one empty point."""
  if get_hyper is None:
    return [{}]
  import gdiv.hyper as h
  points = get_hyper(h)
  if not isinstance(points, list) or not all(isinstance(p, dict) for p in points) or not points:
    raise ValueError("get_hyper(h) must return a non-empty list of points, e.g. "
                     "h.product([h.sweep('config.FIELD', [...]), ...]).")
  return points
