"""The files every experiment writes to its --workdir.

  config.json    the resolved configuration (and the plugins imported with --import)
  metrics.jsonl  one JSON object per line, as measured
  results.json   machine-readable results (public: other tools read it)
  results.md     the table a paper would print
  samples.npz    model samples under key `x` (public)
  tensorboard/   the metrics again, as TensorBoard event files (tensorboardX, no TensorFlow)
  checkpoints/   orbax checkpoints (gdiv.checkpoints)

In a multi-process run only process 0 writes these files (checkpoints are
orbax's, written by all processes together).
"""

from __future__ import annotations

import io
import json
import math
import os
import pathlib
from typing import Any

import numpy as np

from gdiv import plugins
from gdiv.sharding import is_writer

OFF = (0, None, False, "constant")  # a config field's values that turn its option off
# Config fields any resumed run or study may change: when checkpoints are written changes no number
# (resume is bitwise from any checkpoint). An entry point adds its own (a lone run's logging).
RESUMABLE_EVERYWHERE = ("checkpoint_every",)

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


def _flat(record: dict, prefix: str = "") -> dict:
  """Nested dicts as one level with dotted keys: {"config": {"steps": 5}} → {"config.steps": 5}."""
  flat = {}
  for key, value in record.items():
    if isinstance(value, dict) and value:
      flat.update(_flat(value, f"{prefix}{key}."))
    else:
      flat[f"{prefix}{key}"] = value
  return flat


def _with_imports(config: dict) -> dict:
  """config, plus the imported plugins under "imports" when there are any (so a run that imports
  none writes the config.json it always did)."""
  imports = plugins.loaded()
  return {**config, "imports": imports} if imports else config


def _short(value: Any, limit: int = 60) -> str:
  text = repr(value)
  return text if len(text) <= limit else text[:limit - 1] + "…"


class Workdir:
  """A run directory, created by the first write: opening one changes nothing.

  metrics.jsonl is append-only (a resumed run re-logs the steps after its
  checkpoint; readers keep the last record of a step); every other file is
  written atomically, so a run refused or stopped at any point leaves what an
  earlier run saved intact.
  """

  def __init__(self, path: str | pathlib.Path):
    self.path = pathlib.Path(path)
    if self.path.exists() and not self.path.is_dir():
      raise ValueError(f"--workdir {self.path} exists and is not a directory; pick another path.")
    self._metrics = self.path / "metrics.jsonl"
    self._tensorboard = None

  @classmethod
  def existing(cls, path: str | pathlib.Path) -> "Workdir":
    """A workdir that must already exist (to read a finished run)."""
    if not pathlib.Path(path).is_dir():
      raise FileNotFoundError(f"--workdir {path} is not a directory: give the workdir of a run.")
    return cls(path)

  def check_config(self, config: dict, may_differ: tuple[str, ...] = ()) -> None:
    """Refuse to resume checkpoints written under another configuration.

    If this directory holds checkpoints and a config.json, every field except
    `may_differ` must be equal to `config`'s; otherwise a ValueError names the
    fields that differ (nested ones by dotted name, e.g. config.steps). A field the saved
    config lacks is equal when its value is off (0, None, False, "constant"): options added to gdiv
    since the run was saved, such as a new penalty's weight, change nothing it computed; so is an
    off field only the saved config has (an option gdiv has since renamed).
    """
    saved_path = self.path / "config.json"
    if not saved_path.exists() or not any(self.checkpoint_dir().glob("**/_CHECKPOINT_METADATA")):
      return
    saved = _flat(json.loads(saved_path.read_text()))
    current = _flat(json.loads(json.dumps(_jsonable(_with_imports(config)))))
    one_sided_off = lambda k: (k not in saved and current[k] in OFF) or (k not in current and saved[k] in OFF)
    changed = sorted(k for k in set(saved) | set(current)
                     if k not in may_differ and saved.get(k) != current.get(k) and not one_sided_off(k))
    if changed:
      detail = ", ".join(f"{k}: {_short(saved.get(k))} → {_short(current.get(k))}" for k in changed)
      raise ValueError(f"{self.path} holds checkpoints of a run with another configuration ({detail}). "
                       "Resume with the same configuration, or use a new --workdir.")

  def write_config(self, config: dict) -> None:
    """config.json: `config`, plus under "imports" the plugins this process imported (gdiv.plugins)."""
    self.write_json("config.json", _with_imports(config))

  def saved_imports(self) -> list[str]:
    """The plugins a run in this directory imported, as its config.json records them."""
    saved = self.path / "config.json"
    return json.loads(saved.read_text()).get("imports", []) if saved.is_file() else []

  def checkpoint_dir(self, name: str = "") -> pathlib.Path:
    return self.path / "checkpoints" / name

  def newest_checkpoint_step(self) -> int | None:
    """The newest step saved under checkpoints/ (by any run), read from the folder names."""
    saved = self.checkpoint_dir().glob("**/_CHECKPOINT_METADATA")
    return max((int(p.parent.name) for p in saved if p.parent.name.isdigit()), default=None)

  def log_scalars(self, step: int, scalars: dict, prefix: str = "") -> None:
    """Scalars to TensorBoard under `prefix/` (opened on first use)."""
    if not is_writer():
      return
    if self._tensorboard is None:
      self.path.mkdir(parents=True, exist_ok=True)
      from tensorboardX import SummaryWriter
      self._tensorboard = SummaryWriter(str(self.path / "tensorboard"))
    for name, value in scalars.items():
      self._tensorboard.add_scalar(f"{prefix}/{name}" if prefix else name, value, step)
    self._tensorboard.flush()

  def write_json(self, name: str, value: Any) -> None:
    self.write_text(name, json.dumps(_jsonable(value), indent=2) + "\n")

  def write_text(self, name: str, text: str) -> None:
    """Write `name` (a path inside the workdir) atomically: a temporary file, then a rename."""
    self.write_bytes(name, text.encode())

  def write_bytes(self, name: str, data: bytes) -> None:
    """Write `name` atomically, as write_text (the temporary file is this process's own, so
    processes sharing the workdir, e.g. a sweep split by --groups, never collide)."""
    if not is_writer():
      return
    path = self.path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    os.replace(temporary, path)

  def log_metrics(self, record: dict) -> None:
    if not is_writer():
      return
    self.path.mkdir(parents=True, exist_ok=True)
    with self._metrics.open("a") as f:
      f.write(json.dumps(_jsonable(record)) + "\n")

  def write_results(self, results: Any, table: str) -> None:
    """results.json and results.md; prints the table and what the directory now holds."""
    self.write_json("results.json", results)
    self.write_text("results.md", table)
    if not is_writer():
      return
    print(table)
    print(f"Wrote {self.path}/: {', '.join(sorted(p.name for p in self.path.iterdir()))}")

  def save_samples(self, x: np.ndarray, subdir: str = "", **extra) -> None:
    """samples.npz (key `x`) in the workdir, or in its `subdir` (one run of a sweep)."""
    buffer = io.BytesIO()
    np.savez(buffer, x=np.asarray(x), **extra)
    self.write_bytes(str(pathlib.Path(subdir) / "samples.npz"), buffer.getvalue())
