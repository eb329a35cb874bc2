"""Figures a study draws: training curves (mean ± standard error over seeds, from metrics.jsonl) and
sample grids (rows = points, columns = seeds). matplotlib is imported when a figure is drawn."""

from __future__ import annotations

import collections
import json
import math
from typing import Callable

import ml_collections
import numpy as np

KEYS = ("step", "point", "seed", "name", "diverged_at")  # what identifies a record, not a metric
LEGEND_CHARS = 60


def sample_grid(label: Callable[[ml_collections.ConfigDict], str],
                image_shape: Callable[[ml_collections.ConfigDict], tuple[int, ...]]) -> Callable:
  """figure(path, points, rows) for a study of images: per row (point), the first 16 samples of
  seed 0 side by side (grey, or colour for three channels), labelled label(point.config)."""
  def figure(path, points, rows) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shape = image_shape(points[0].config)
    fig, axes = plt.subplots(len(rows), 1, figsize=(8, 0.9 * len(rows) + 0.3), squeeze=False)
    for ax, point in zip(axes[:, 0], points):
      npz = path.parent / "runs" / point.label / "seed_0" / "samples.npz"
      if npz.exists():
        x = np.load(npz)["x"][:16].reshape(-1, *shape)
        ax.imshow(np.concatenate(list(x), axis=1), cmap="gray", vmin=0, vmax=1)
      ax.set(xticks=[], yticks=[])
      ax.set_ylabel(label(point.config), fontsize=6, rotation=0, ha="right", va="center")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)

  return figure


def read_curves(path) -> dict[str, dict[str, dict[int, dict[int, float]]]]:
  """{metric: {line: {seed: {step: value}}}} from a metrics.jsonl; the last record of a step wins."""
  curves: dict = collections.defaultdict(lambda: collections.defaultdict(dict))
  with open(path) as f:
    for line in f:
      if not line.strip():
        continue
      record = json.loads(line)
      if "diverged_at" in record:  # a frozen run: its metrics are those of the step it cannot take
        continue
      label = record.get("point", record.get("name", "run"))
      for metric, value in record.items():
        if metric not in KEYS and isinstance(value, (int, float)):
          curves[metric][label].setdefault(record.get("seed", 0), {})[record["step"]] = value
  return curves


def mean_and_se(runs: dict[int, dict[int, float]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
  """Steps, mean and standard error over the seeds logged at each step (finite values only)."""
  steps = sorted({s for values in runs.values() for s in values})
  means, ses = [], []
  for step in steps:
    x = np.asarray([v[step] for v in runs.values() if step in v], np.float64)
    x = x[np.isfinite(x)]
    means.append(x.mean() if x.size else np.nan)
    ses.append(x.std(ddof=1) / math.sqrt(x.size) if x.size > 1 else 0.0)
  return np.asarray(steps), np.asarray(means), np.asarray(ses)


def robust_limits(values: np.ndarray) -> tuple[float, float]:
  """y-limits holding the 2nd to 98th percentile of the curves (a run blowing up before it
  diverges would otherwise flatten every other curve), with a 10 % margin."""
  values = values[np.isfinite(values)]
  if not values.size:
    return -1.0, 1.0
  lo, hi = np.percentile(values, [2, 98])
  pad = 0.1 * (hi - lo) or 0.1 * abs(hi) or 1.0
  return float(lo - pad), float(hi + pad)


def plot_curves(curves: dict, path, metrics: list[str] | None = None) -> list[str]:
  """Draw one panel per metric into `path`; returns the metrics drawn."""
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  unknown = [m for m in metrics or () if m not in curves]
  if unknown or not curves:
    raise ValueError(f"--metrics: {', '.join(unknown) or 'nothing'} is not in the log, which has "
                     f"{', '.join(sorted(curves)) or 'no metrics'}.")
  names = list(metrics or sorted(curves))
  cols = min(3, len(names))
  rows = math.ceil(len(names) / cols)
  fig, axes = plt.subplots(rows, cols, figsize=(5 * cols, 3.4 * rows), squeeze=False)
  # one colour per line across every panel (a metric may be logged by some lines only)
  lines = sorted({label for m in names for label in curves[m]})
  colours = dict(zip(lines, plt.cm.tab20(np.linspace(0, 1, max(len(lines), 2)))))
  seeds = {label: max(len(curves[m].get(label, {})) for m in names) for label in lines}
  for ax, metric in zip(axes.flat, names):
    means = []
    for label, runs in sorted(curves[metric].items()):
      steps, mean, se = mean_and_se(runs)
      ax.plot(steps, mean, lw=1.2, color=colours[label])
      ax.fill_between(steps, mean - se, mean + se, color=colours[label], alpha=0.25, lw=0)
      means.append(mean)
    ax.set_ylim(*robust_limits(np.concatenate(means)))
    ax.set_title(metric)
    ax.set_xlabel("step")
  for ax in list(axes.flat)[len(names):]:
    ax.axis("off")
  handles = [plt.Line2D([], [], color=colours[label]) for label in lines]
  labels = [f"{label[:LEGEND_CHARS]} ({seeds[label]} seeds)" for label in lines]
  ncol = min(3, len(labels))
  fig.legend(handles, labels, loc="lower center", ncol=ncol, fontsize=6, bbox_to_anchor=(0.5, 0.0))
  fig.tight_layout(rect=(0, min(0.5, 0.02 + 0.022 * math.ceil(len(labels) / ncol) * 3 / rows), 1, 1))
  fig.savefig(path, dpi=110)
  plt.close(fig)
  return names
