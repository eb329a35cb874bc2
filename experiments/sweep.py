r"""Run a study: a config file's hyper-parameter sweep × seeds, to a table of mean ± s.e.

  python -m experiments.sweep --config=experiments/configs/toy2d_sweep.py --workdir=runs/toy2d_sweep
  python -m experiments.sweep --config=experiments/configs/toy2d_sweep.py --config.seeds=3 \
      --config.steps=2000 --workdir=runs/toy2d_sweep_short

The config file has `get_config()` (the experiment's config plus
`config.experiment`, the experiment that trains it (a module under experiments/, or one a
--import file registers with gdiv.study.register_experiment), and
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

from absl import flags

from gdiv import cli

FLAGS = flags.FLAGS


# The smallest run ({workdir}: where it writes) and flags it must refuse, with the words the
# error must contain: tests/test_experiments.py runs both for every experiment.
SMOKE_FLAGS = ("--config=experiments/configs/toy2d_seeds.py", "--config.seeds=2", "--config.steps=20",
               "--config.log_every=10", "--config.checkpoint_every=20", "--workdir={workdir}")
BAD_FLAGS = (("--config.seeds=0", "config.seeds must be a positive integer"),
             ("--config.learning_rate=-1", "config.learning_rate must be > 0"),
             ("--config.steps=30", "another configuration (config.steps: 20 → 30)"))


def define_flags():
  """Define the command-line flags (only when run as a program, so tests can import this module)."""
  cli.define_study_flags()


def main(argv):
  del argv
  cli.run_study_from_flags()


if __name__ == "__main__":
  cli.run(define_flags, main)
