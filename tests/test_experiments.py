"""Every experiment module: it is a command (`python -m experiments.NAME` runs its main through
cli.run), its smallest run finishes, and a rerun with a bad flag is one line that changes nothing
in the workdir (every file hashed before and after). Runs and refusals go in this process
(tests/entry_points.py); the commands themselves run as processes in the experiments' own tests."""

import hashlib
import importlib
import pathlib

import pytest

from entry_points import REPO, in_process

EXPERIMENTS = sorted(p.stem for p in (REPO / "experiments").glob("*.py")
                     if "def define_flags" in p.read_text())


def _argv(flags, workdir: pathlib.Path) -> list[str]:
  return [f.format(workdir=workdir) for f in flags]


def _hashes(folder: pathlib.Path) -> dict[str, str]:
  return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
          for p in sorted(folder.rglob("*")) if p.is_file()}


def test_every_experiment_module_is_covered():
  assert {"train_toy2d", "sweep", "likelihood_vs_samples", "plot"} <= set(EXPERIMENTS)


@pytest.mark.parametrize("name", EXPERIMENTS)
def test_every_experiment_module_runs_its_main_through_cli_run_as_a_command(name):
  """What `python -m` adds to the in-process runs below: the module's __main__ block."""
  last_lines = (REPO / "experiments" / f"{name}.py").read_text().rstrip().splitlines()[-2:]
  assert [line.strip() for line in last_lines] == ['if __name__ == "__main__":', "cli.run(define_flags, main)"]


@pytest.mark.slow
@pytest.mark.parametrize("name", EXPERIMENTS)
def test_a_rerun_with_a_bad_flag_is_one_line_and_leaves_the_workdir_unchanged(name, tmp_path):
  module = importlib.import_module(f"experiments.{name}")
  assert module.BAD_FLAGS, f"experiments.{name} must define SMOKE_FLAGS and BAD_FLAGS"
  reads = getattr(module, "SMOKE_READS", None)
  for first in filter(None, (reads, name)):  # e.g. plot draws another experiment's run
    finished = in_process(first, _argv(importlib.import_module(f"experiments.{first}").SMOKE_FLAGS, tmp_path))
    assert finished.returncode == 0, finished.stderr[-3000:]
  before = _hashes(tmp_path)
  assert before
  for flags, message in module.BAD_FLAGS:  # one flag, or a tuple of flags given together
    refused = in_process(name, _argv((*module.SMOKE_FLAGS, *((flags,) if isinstance(flags, str) else flags)), tmp_path))
    errors = [line for line in refused.stderr.splitlines() if line.startswith("FATAL")]
    assert refused.returncode == 1 and "Traceback" not in refused.stderr, refused.stderr[-3000:]
    assert len(errors) == 1 and message in errors[0] and len(errors[0]) < 400, errors
    assert _hashes(tmp_path) == before, f"{flags} changed the workdir"


@pytest.mark.parametrize("name, argv, fields", [
    ("train_toy2d", ["--helpfull"], ["steps=10000", "divergence='js'", "dragan_penalty=0.0"]),
    ("sweep", ["--config=experiments/configs/mode_collapse.py:cpu", "--helpfull"], ["steps=20000", "seeds=5"]),
    ("sweep", ["--helpfull"], ["give --config=FILE with --helpfull to list them"]),
])
def test_helpfull_lists_the_configs_fields_and_how_a_protocol_is_chosen(name, argv, fields):
  shown = in_process(name, argv)
  text = " ".join((shown.stdout + shown.stderr).split())  # absl wraps the help text
  assert "FILE.py:NAME picks a protocol" in text  # (absl exits with status 1 after its help)
  assert all(field in text for field in fields), text[:3000]
