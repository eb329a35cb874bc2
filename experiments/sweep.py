r"""Run a study: a config file's hyper-parameter sweep × seeds, to a table of mean ± s.e.

  python -m experiments.sweep --config=experiments/configs/toy2d_sweep.py --workdir=runs/toy2d_sweep
  python -m experiments.sweep --config=experiments/configs/toy2d_sweep.py --config.seeds=3 \
      --config.steps=2000 --workdir=runs/toy2d_sweep_short

The config file has `get_config()` (the experiment's config plus
`config.experiment`, the module under experiments/ that trains it, and
`config.seeds` = N: seeds 0..N-1), and may have `get_hyper(h)` returning the
points (gdiv.hyper: h.product, h.sweep, h.zipit) and `get_published(config)`
returning published rows to print beside ours. `--config.FIELD=` overrides
apply to every point.

Points that differ only in the seed and in the experiment's shape-preserving
fields (learning rates, penalty weights) form one group, trained as one
vmapped program (compiled once; on several devices its runs are split over
them; on CPU `--cpu_devices` devices, one per core by default). Each group is
checkpointed: killed and started again with the same --workdir, finished
groups are skipped and an interrupted one resumes bitwise. A run that goes
non-finite is frozen and counted as diverged while its siblings go on.

Writes config.json, metrics.jsonl (per run and host call: point, seed, step,
the metrics), checkpoints/, groups/ (finished groups), runs/POINT/seed_S/
samples.npz, results.json (per point: values, every seed's metrics, mean,
standard error, diverged count), results.md and curves.png (mean ± s.e. bands;
`python -m experiments.plot --workdir=W --metrics=...` redraws them).
"""

from __future__ import annotations

import importlib
import os
import pathlib
import runpy
import time

from absl import flags, logging
from ml_collections import config_flags

from experiments import common, plot
from gdiv import hyper, sharding, study
from gdiv.workdir import Workdir

FLAGS = flags.FLAGS


# The smallest run ({workdir}: where it writes) and flags it must refuse, with the words the
# error must contain: tests/test_experiments.py runs both for every experiment.
SMOKE_FLAGS = ("--config=experiments/configs/toy2d_seeds.py", "--config.seeds=2", "--config.steps=20",
               "--config.log_every=10", "--config.checkpoint_every=20", "--workdir={workdir}")
BAD_FLAGS = (("--config.seeds=0", "config.seeds must be a positive integer"),
             ("--config.learning_rate=-1", "config.learning_rate must be > 0"),
             ("--config.steps=30", "another configuration (config.steps: 20 → 30)"))


def define_study_flags(default_config: str | None = None):
  """--config (a study config file; required unless `default_config`), --workdir, --cpu_devices,
  --groups: the flags of every study entry point."""
  config_flags.DEFINE_config_file("config", default_config, "Study config file (ml_collections, with "
                                  "get_config and optionally get_hyper, get_published).",
                                  lock_config=True)
  if default_config is None:
    flags.mark_flag_as_required("config")
  flags.DEFINE_string("workdir", None, "Output directory; a rerun resumes from it.")
  flags.mark_flag_as_required("workdir")
  flags.DEFINE_integer("cpu_devices", os.cpu_count(),
                       "On CPU, devices to expose (one per core); a group's runs are split over them.",
                       lower_bound=1)
  flags.DEFINE_list("groups", None, "Train only these groups (indices, as logged): processes "
                    "sharing one --workdir can split a study; the tables come once all are done.")


def define_flags():
  """Define the command-line flags (only when run as a program, so tests can import this module)."""
  define_study_flags()


def load_study(config, filename: str) -> tuple[study.Experiment, list[dict], dict | None, str]:
  """(experiment, points, published rows or None, title) of a study config file."""
  if "experiment" not in config or "seeds" not in config:
    raise ValueError(f"{filename} must set config.experiment (a module in experiments/) and "
                     "config.seeds (the number of seeds, 0..N-1).")
  try:
    module = importlib.import_module(f"experiments.{config.experiment}")
  except ModuleNotFoundError:
    raise ValueError(f"config.experiment={config.experiment!r}: no module experiments/"
                     f"{config.experiment}.py.") from None
  if not hasattr(module, "EXPERIMENT"):
    raise ValueError(f"experiments.{config.experiment} does not expose EXPERIMENT "
                     "(gdiv.study.Experiment): it cannot run in a sweep yet.")
  namespace = runpy.run_path(filename.split(":")[0])
  points = hyper.expand(namespace.get("get_hyper"))
  published = namespace["get_published"](config) if "get_published" in namespace else None
  doc = (namespace.get("__doc__") or "").strip()
  title = doc.splitlines()[0].rstrip(".") if doc else pathlib.Path(filename).stem
  return module.EXPERIMENT, points, published, title


def _group_indices(values: list[str], num_groups: int) -> list[int]:
  try:
    indices = [int(v) for v in values]
  except ValueError:
    indices = [-1]
  if not set(indices) <= set(range(num_groups)):
    raise ValueError(f"--groups={','.join(values)}: give group indices among 0..{num_groups - 1}.")
  return indices


def run_from_flags(**overrides) -> None:
  """Run the study that --config names (its fields overridden by `overrides`' non-None values)
  into --workdir: every point is checked before the workdir is touched; finished groups are
  skipped, an interrupted one resumes."""
  sharding.request_cpu_devices(FLAGS.cpu_devices)  # before the first computation
  config = FLAGS.config
  config.update({field: value for field, value in overrides.items() if value is not None})
  filename = config_flags.get_config_filename(FLAGS["config"])
  experiment, points, published, title = load_study(config, filename)
  resolved, groups = study.plan(config, points, config.seeds, experiment)
  for point in resolved:
    experiment.validate(point.config)
  only = None if FLAGS.groups is None else _group_indices(FLAGS.groups, len(groups))
  workdir = Workdir(FLAGS.workdir)
  record = {"config_file": filename, "config": config.to_dict(), "points": points}
  workdir.check_config(record, may_differ=("config_file",))
  workdir.write_config(record)
  logging.info("sweep: %d points × %d seeds in %d groups (%d compiled programs)", len(resolved),
               config.seeds, len(groups), len(groups))
  start = time.perf_counter()
  results = study.run_study(experiment, config, points, workdir=workdir, title=title,
                            published=published, mesh=study.sweep_mesh(), only_groups=only)
  logging.info("sweep: this process took %.0f s (wall)", time.perf_counter() - start)
  if results is not None and sharding.is_writer():
    plot.plot_curves(plot.read_curves(workdir.path / "metrics.jsonl"), workdir.path / "curves.png")


def main(argv):
  del argv
  run_from_flags()


if __name__ == "__main__":
  common.run(define_flags, main)
