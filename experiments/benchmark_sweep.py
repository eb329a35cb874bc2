r"""One sweep program of N seeds against N single runs of the same configuration, end to end.

  python -m experiments.benchmark_sweep --seeds=5 --steps=5000 --workdir=runs/benchmark_sweep

Runs, as a user would, `python -m experiments.sweep` with
configs/toy2d_seeds.py (the N seeds as one vmapped program, split over one
CPU device per core) and then N times `python -m experiments.train_toy2d`
(one seed each), every process with its start-up, compilation, checkpoints
and evaluation, on the same configuration and machine. Prints both wall
times, the speed-up, and the largest difference between each seed's samples
in the two (the same computations, so float32 rounding only), and writes
results.json and results.md.
"""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import tempfile
import time

import numpy as np
from absl import flags

from gdiv.workdir import Workdir
from gdiv import cli

FLAGS = flags.FLAGS
SEEDS_CONFIG = "experiments/configs/toy2d_seeds.py"


# The smallest run ({workdir}: where it writes) and flags it must refuse, with the words the
# error must contain: tests/test_experiments.py runs both for every experiment.
SMOKE_FLAGS = ("--seeds=1", "--steps=20", "--workdir={workdir}")
BAD_FLAGS = (("--overrides=steps", "--overrides must be a comma list of FIELD=VALUE"),)


def define_flags():
  flags.DEFINE_integer("seeds", 5, "Seeds: one program, or that many single runs.", lower_bound=1)
  flags.DEFINE_integer("steps", 5000, "Training steps of every run.", lower_bound=1)
  flags.DEFINE_list("overrides", [], "Extra --config.FIELD=VALUE overrides for both, e.g. dataset=grid.")
  flags.DEFINE_string("workdir", "runs/benchmark_sweep", "Output directory.")
  flags.register_validator("overrides", lambda items: all("=" in item for item in items),
                           message="--overrides must be a comma list of FIELD=VALUE.")


def _timed(args: list[str]) -> float:
  start = time.perf_counter()
  result = subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True)
  if result.returncode:
    errors = [line for line in result.stderr.splitlines() if line.startswith("FATAL")]
    raise ValueError(f"{args[0]} failed: {(errors or result.stderr.strip().splitlines() or ['?'])[-1]}")
  return time.perf_counter() - start


def main(argv):
  del argv
  workdir = Workdir(FLAGS.workdir)
  with tempfile.TemporaryDirectory() as runs:  # timed from scratch, every time
    results, table = compare(pathlib.Path(runs))
  workdir.write_results(results, table)


def compare(runs: pathlib.Path) -> tuple[dict, str]:
  """Time the sweep and the single runs, each in a fresh folder under `runs`."""
  overrides = [f"--config.steps={FLAGS.steps}"] + [f"--config.{o}" for o in FLAGS.overrides]
  sweep_dir = runs / "sweep"
  sweep_s = _timed(["experiments.sweep", f"--config={SEEDS_CONFIG}", f"--config.seeds={FLAGS.seeds}",
                    f"--workdir={sweep_dir}", *overrides])
  (point,) = json.loads((sweep_dir / "results.json").read_text())["points"]
  single_s, sample_gap = 0.0, 0.0
  for seed in range(FLAGS.seeds):
    single_dir = runs / f"single_seed_{seed}"
    single_s += _timed(["experiments.train_toy2d", f"--config.seed={seed}", f"--workdir={single_dir}",
                        *overrides])
    lone = np.load(single_dir / "samples.npz")["x"]
    swept = np.load(sweep_dir / "runs" / point["point"] / f"seed_{seed}" / "samples.npz")["x"]
    sample_gap = max(sample_gap, float(np.max(np.abs(lone - swept))))
  results = {"seeds": FLAGS.seeds, "steps": FLAGS.steps, "overrides": FLAGS.overrides,
             "sweep_seconds": sweep_s, "single_runs_seconds": single_s,
             "speedup": single_s / sweep_s, "max_abs_sample_difference": sample_gap}
  table = "\n".join([
      f"# {FLAGS.seeds} seeds: one sweep program against {FLAGS.seeds} single runs", "",
      "| sweep (one program) | single runs (sum) | speed-up | max abs sample difference |",
      "|---|---|---|---|",
      f"| {sweep_s:.1f} s | {single_s:.1f} s | {single_s / sweep_s:.2f}× | {sample_gap:.2g} |", "",
      f"train_toy2d defaults, {FLAGS.steps} steps{', ' + ', '.join(FLAGS.overrides) if FLAGS.overrides else ''};"
      " wall time of each process, start-up, compilation, checkpoints and evaluation included.", ""])
  return results, table


if __name__ == "__main__":
  cli.run(define_flags, main)
