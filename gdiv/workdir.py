"""The files every experiment writes to its --workdir.

  config.json    the resolved configuration
  metrics.jsonl  one JSON object per line, as measured
  results.json   machine-readable results (public: other tools read it)
  results.md     the table a paper would print
  samples.npz    model samples under key `x` (public)
"""

from __future__ import annotations

import json
import math
import pathlib
from typing import Any

import numpy as np


def _jsonable(value: Any) -> Any:
  if isinstance(value, dict):
    return {str(k): _jsonable(v) for k, v in value.items()}
  if isinstance(value, (list, tuple)):
    return [_jsonable(v) for v in value]
  if isinstance(value, (np.ndarray, np.generic)):
    return _jsonable(value.tolist())
  if isinstance(value, float) and not math.isfinite(value):
    return str(value)  # JSON has no inf/nan; keep them readable
  return value


class Workdir:
  """A run directory; created on construction."""

  def __init__(self, path: str | pathlib.Path):
    self.path = pathlib.Path(path)
    self.path.mkdir(parents=True, exist_ok=True)
    self._metrics = self.path / "metrics.jsonl"
    self._metrics.write_text("")

  def write_json(self, name: str, value: Any) -> None:
    (self.path / name).write_text(json.dumps(_jsonable(value), indent=2) + "\n")

  def write_text(self, name: str, text: str) -> None:
    (self.path / name).write_text(text)

  def log_metrics(self, record: dict) -> None:
    with self._metrics.open("a") as f:
      f.write(json.dumps(_jsonable(record)) + "\n")

  def write_results(self, results: Any, table: str) -> None:
    """results.json and results.md; prints the table and what the directory now holds."""
    self.write_json("results.json", results)
    self.write_text("results.md", table)
    print(table)
    print(f"Wrote {self.path}/: {', '.join(sorted(p.name for p in self.path.iterdir()))}")

  def save_samples(self, x: np.ndarray, **extra) -> None:
    np.savez(self.path / "samples.npz", x=np.asarray(x), **extra)
