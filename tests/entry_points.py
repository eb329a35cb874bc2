"""Run an experiment entry point as `python -m experiments.NAME` would, in this process or in a new one.

In this process (`in_process`): the flags its entry point defines are removed again afterwards and
the flag values reset, so the next run starts from a clean slate. A refusal of a bad flag or config
takes milliseconds here against 10–20 s for a new interpreter that imports JAX; a subprocess stays
for what needs a process of its own (a killed run, Ctrl-C, several processes, the real command).
"""

import contextlib
import importlib
import io
import pathlib
import subprocess
import sys
from typing import NamedTuple

from absl import app, flags
from gdiv import cli

REPO = pathlib.Path(__file__).resolve().parents[1]


class Finished(NamedTuple):
  returncode: int
  stderr: str
  stdout: str


def in_process(name: str, argv) -> Finished:
  """The exit status, standard error and output of experiments.NAME's main with command line `argv`."""
  module = importlib.import_module(f"experiments.{name}")
  app.define_help_flags()  # absl's own (--helpfull, ...), defined once per process: they stay
  defined, saved_argv, stderr, stdout = set(flags.FLAGS), sys.argv, io.StringIO(), io.StringIO()
  sys.argv, code = [f"experiments/{name}.py", *argv], 0
  try:
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(stdout):
      cli.run(module.define_flags, module.main)
  except SystemExit as e:
    code = e.code if isinstance(e.code, int) else int(e.code is not None)
  finally:
    sys.argv = saved_argv
    for flag in set(flags.FLAGS) - defined:
      delattr(flags.FLAGS, flag)
    flags.FLAGS.unparse_flags()
  return Finished(code, stderr.getvalue(), stdout.getvalue())


def subprocess_run(name: str, argv, timeout: int = 300) -> subprocess.CompletedProcess:
  """`python -m experiments.NAME argv` in a new interpreter, from the repository root."""
  return subprocess.run([sys.executable, "-m", f"experiments.{name}", *argv], cwd=REPO, capture_output=True,
                        text=True, timeout=timeout)
