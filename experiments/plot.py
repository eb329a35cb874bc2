r"""Training curves from a workdir's metrics.jsonl: mean ± standard error over seeds.

  python -m experiments.plot --workdir=runs/toy2d_sweep
  python -m experiments.plot --workdir=runs/toy2d --metrics=model_loss,critic_loss

One panel per metric, one line per sweep point (or per named run, or the one
run), a band of ± one standard error across the point's seeds at each logged
step. A step logged twice (a run resumed from a checkpoint re-logs the steps
after it) counts once, its last record; a run frozen after diverging stops
there. The y-axes hold the 2nd–98th percentiles of the curves. Writes curves.png into the workdir.
"""

from __future__ import annotations

from absl import flags

from gdiv import cli
from gdiv.figures import plot_curves, read_curves
from gdiv.workdir import Workdir

FLAGS = flags.FLAGS
# The smallest run ({workdir}: where it writes) and flags it must refuse, with the words the
# error must contain: tests/test_experiments.py runs both for every experiment.
SMOKE_FLAGS = ("--metrics=model_loss", "--workdir={workdir}")
SMOKE_READS = "train_toy2d"  # whose smallest run it draws
BAD_FLAGS = (("--metrics=no_such_metric", "--metrics: no_such_metric is not in the log"),)


def define_flags():
  flags.DEFINE_string("workdir", None, "A workdir with metrics.jsonl (any experiment or sweep).")
  flags.mark_flag_as_required("workdir")
  flags.DEFINE_list("metrics", [], "Metrics to draw (default: all logged).")
  flags.DEFINE_string("output", "curves.png", "File name inside the workdir.")
  flags.register_validator("output", lambda name: name.endswith(".png") and "/" not in name,
                           message="--output must be a .png file name (no folders): it goes in --workdir.")


def main(argv):
  del argv
  workdir = Workdir.existing(FLAGS.workdir)
  log = workdir.path / "metrics.jsonl"
  if not log.exists() or not log.stat().st_size:
    raise FileNotFoundError(f"{log} is missing or empty: run an experiment with --workdir={FLAGS.workdir} first.")
  drawn = plot_curves(read_curves(log), workdir.path / FLAGS.output, FLAGS.metrics or None)
  print(f"Wrote {workdir.path / FLAGS.output} ({', '.join(drawn)})")


if __name__ == "__main__":
  cli.run(define_flags, main)
