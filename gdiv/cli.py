"""What every entry point shares: flags checked before anything is written, one-line errors instead
of tracebacks (and a one-line Ctrl-C), plugins imported before flags are read, several processes.

  if __name__ == "__main__":
    cli.run(define_flags, main)
"""

from __future__ import annotations

import logging as python_logging
import math
import os
import pathlib
import runpy
import shlex
import sys
import time
from typing import Callable, Sequence

import ml_collections
from absl import app, flags, logging
from ml_collections import config_flags

from gdiv import figures, plugins, sharding, study, training
from gdiv.checkpoints import CheckpointError
from gdiv.workdir import RESUMABLE_EVERYWHERE, Workdir

USAGE_HINT = "Pass --helpshort or --helpfull to see help on flags."
FLAGS = flags.FLAGS


def _one_line(error: BaseException) -> str:
  text = str(error.args[0]) if isinstance(error, KeyError) and error.args else str(error)
  text = text.replace("\\n", " ").replace("\\'", "'")
  if len(text) > 1 and text[0] == text[-1] and text[0] in "'\"":  # repr-quoted by ml_collections
    text = text[1:-1]
  return " ".join(text.split())


def fail(message: str) -> None:
  """Print a one-line error (plus the usage hint) and exit with status 1."""
  print(f"FATAL {message}\n{USAGE_HINT}", file=sys.stderr)
  sys.exit(1)


def _finite_positive(value) -> bool:
  return value is not None and math.isfinite(value) and value > 0


def require_positive(*names: str) -> None:
  """The numeric flags `names` must be finite and > 0 (checked while flags are parsed)."""
  for name in names:
    flags.register_validator(name, _finite_positive, message=f"--{name} must be a finite number > 0.")


def require_positive_list(name: str, kind: type = float) -> None:
  """The list flag `name` must be a non-empty comma list of finite numbers > 0 of type `kind`."""
  def valid(values: Sequence[str]) -> bool:
    try:
      return len(values) > 0 and all(_finite_positive(kind(v)) for v in values)
    except ValueError:
      return False
  what = "integers" if kind is int else "finite numbers"
  flags.register_validator(name, valid, message=f"--{name} must be a comma list of {what} > 0.")


def check_resume(workdir: Workdir, config: dict, steps: int, steps_flag: str,
                 may_differ: tuple[str, ...] = ()) -> None:
  """Refuse, before anything is written, a run its workdir's checkpoints cannot continue.

  The saved config must agree (Workdir.check_config) and the newest checkpoint
  must not be past `steps` (`steps_flag`: the flag as the user types it). A
  finished run given more steps is extended, and the log says so.
  """
  workdir.check_config(config, may_differ)
  newest = workdir.newest_checkpoint_step()
  if newest is None:
    return
  if newest > steps:
    raise ValueError(f"{workdir.path} holds a checkpoint at step {newest}, past {steps_flag}={steps}: "
                     f"pass {steps_flag}={newest} or more to go on from it, or use a new --workdir.")
  if newest < steps and (workdir.path / "results.json").exists():
    logging.info("Extending the run in %s from step %d to %d.", workdir.path, newest, steps)


def _parse_flags(argv):
  try:
    remaining = flags.FLAGS(argv)
    if "config" in flags.FLAGS:  # ml_collections defers file errors to the first access
      flags.FLAGS.config.keys()
    return remaining
  except (flags.Error, OSError, AttributeError, KeyError, TypeError, ValueError) as e:
    fail(f"Flags parsing error: {_one_line(e)}")


def _not_orbax_info(record: python_logging.LogRecord) -> bool:
  """Keep orbax's warnings, drop its per-save INFO lines."""
  return record.levelno > python_logging.INFO or "orbax" not in record.pathname


def define_process_flags() -> None:
  """--coordinator_address, --num_processes, --process_id, --distributed: every entry point's."""
  flags.DEFINE_string("coordinator_address", None, "host:port of process 0, to train over several "
                      "processes (jax.distributed); with --num_processes and --process_id.")
  flags.DEFINE_integer("num_processes", None, "Processes in a multi-process run.", lower_bound=1)
  flags.DEFINE_integer("process_id", None, "This process's index, 0..num_processes-1.", lower_bound=0)
  flags.DEFINE_bool("distributed", False, "Join a multi-process run described by the cluster's "
                    "environment (SLURM, Open MPI, Cloud TPU), as jax.distributed.initialize() reads it.")
  flags.register_multi_flags_validator(
      ["coordinator_address", "num_processes", "process_id", "distributed"],
      lambda f: f["distributed"] or f["coordinator_address"] is not None
      or (f["num_processes"] is None and f["process_id"] is None),
      message="--num_processes and --process_id need --coordinator_address (or --distributed).")


def define_fit_flags(default_restarts: int = 1, default_use_recipe: bool = False) -> None:
  """--restarts and the critic stabilisers of the Gaussian-fit studies (gdiv.fitting.train_fit)."""
  flags.DEFINE_integer("restarts", default_restarts, "Restarts per divergence, trained as one vmapped "
                       "program; the one with the smallest estimated divergence (a fresh critic's "
                       "bound, the NLL or MMD² on held-out data) is kept (gdiv.fitting).", lower_bound=1)
  for name, field in training.penalties.FIELDS.items():
    flags.DEFINE_float(name, 0.0, field.help, lower_bound=0.0)
  flags.DEFINE_integer("roth_anneal_steps", 0, "T > 0: γ_t = γ·0.01^{t/T} (Roth et al.); 0: constant; "
                       "-1: T = --steps.", lower_bound=-1)
  flags.DEFINE_float("critic_bound", 0.0, "c > 0 bounds the critic's raw output as c·tanh(V/c).",
                     lower_bound=0.0)
  flags.DEFINE_bool("use_recipe", default_use_recipe, "Train each divergence with its recipe "
                    "(gdiv.divergences.Recipe: generator loss, stabilisers); a stabiliser flag set "
                    "here replaces the recipe's.")
  flags.DEFINE_enum("learning_rate_schedule", "constant", training.SCHEDULES,
                    "Both step sizes: constant, or decayed to 0 at --steps (linear, cosine).")
  flags.DEFINE_float("average_decay", 0.0, "β > 0: report the fit of the model's iterate average "
                     "(gdiv.training.averaged; 1: uniform over the updates after --average_start).",
                     lower_bound=0.0, upper_bound=1.0)
  flags.DEFINE_integer("average_start", 0, "The update after which the iterate average starts.",
                       lower_bound=0)


FIT_OPTIONS = ("restarts", "stabilisers", "use_recipe", "optimisation")  # train_fit's, as fit_options_from_flags records them


def fit_options(config: dict) -> dict:
  """train_fit's restarts, stabilisers, use_recipe and optimisation from a fit study's config (those it
  records)."""
  return {k: config[k] for k in FIT_OPTIONS if k in config}


def fit_options_from_flags() -> dict:
  """{"stabilisers": the ones set (with roth_anneal_steps), "optimisation": the schedule and average
  set, "restarts": K}, leaving out what is at
  its plain value, so a run that asks for none records the config it always did."""
  stabilisers = {name: FLAGS[name].value for name in training.stabilisers() if FLAGS[name].value}
  if FLAGS.roth_gamma and FLAGS.roth_anneal_steps:
    stabilisers["roth_anneal_steps"] = FLAGS.steps if FLAGS.roth_anneal_steps < 0 else FLAGS.roth_anneal_steps
  optimisation = {name: FLAGS[name].value for name in ("learning_rate_schedule", "average_decay", "average_start")
                  if FLAGS[name].value not in (0, "constant")}
  return {**({"stabilisers": stabilisers} if stabilisers else {}),
          **({"optimisation": optimisation} if optimisation else {}),
          **({"restarts": FLAGS.restarts} if FLAGS.restarts > 1 else {}),
          **({"use_recipe": True} if FLAGS.use_recipe else {})}


def _flag_values(argv: Sequence[str], name: str) -> list[str]:
  """The values of --NAME=V and --NAME V in argv (before a bare --), read before absl parses it."""
  values = []
  for i, arg in enumerate(argv):
    if arg == "--":
      break
    if arg.startswith(f"--{name}="):
      values.append(arg.split("=", 1)[1])
    elif arg == f"--{name}" and i + 1 < len(argv):
      values.append(argv[i + 1])
  return values


def import_plugins(argv: Sequence[str]) -> None:
  """Import the plugins a run needs before its flags and configs are read: those its --workdir's
  config.json records (a rerun or a resume), then those --import names (gdiv.plugins)."""
  workdirs = _flag_values(argv, "workdir")
  if workdirs:
    try:
      for spec in Workdir(workdirs[-1]).saved_imports():
        plugins.load(spec)
    except plugins.PluginError as e:
      raise plugins.PluginError(f"{workdirs[-1]}/config.json records a plugin that cannot be imported "
                                f"again: {e}") from None
    except ValueError:
      pass  # not a directory, or no readable config.json: the run itself says so
  for spec in _flag_values(argv, "import"):
    plugins.load(spec)


def start_processes() -> None:
  """Join the multi-process run the flags describe, if any (before any computation)."""
  if flags.FLAGS.distributed or flags.FLAGS.coordinator_address is not None:
    sharding.initialize_processes(flags.FLAGS.coordinator_address, flags.FLAGS.num_processes,
                                  flags.FLAGS.process_id)


HELP_FLAGS = ("--help", "--helpshort", "--helpfull", "-h", "-?")


def _fields(config, prefix: str = "") -> list[str]:
  """`name=value` for every field of a ConfigDict, nested ones by dotted name."""
  return [entry for name, value in config.items()
          for entry in (_fields(value, f"{prefix}{name}.") if isinstance(value, ml_collections.ConfigDict)
                        else [f"{prefix}{name}={value!r}"])]


def describe_config_flag(argv: Sequence[str]) -> None:
  """For --help/--helpfull: --config's help lists the config's fields with their defaults (the
  file given, else the default one) and says how a protocol is chosen."""
  if "config" not in FLAGS or not any(arg in HELP_FLAGS for arg in argv):
    return
  given = _flag_values(argv, "config")
  try:
    path = given[-1] if given else config_flags.get_config_filename(FLAGS["config"])
  except Exception:  # ml_collections: "not parsed yet" where there is no default file (experiments.sweep)
    path = None
  text = (" Override a field with --config.FIELD=VALUE. FILE.py:NAME picks a protocol: NAME is passed to "
          "the file's get_config (e.g. mode_collapse.py:cpu or :pacgan).")
  if path:
    filename, _, argument = str(path).partition(":")
    try:
      config = runpy.run_path(filename)["get_config"](*([argument] if argument else []))
      text += f" Fields of {path}: " + ", ".join(_fields(config)) + "."
    except Exception as e:  # a broken file is reported when the run reads it
      text += f" ({path} could not be read: {_one_line(e)})"
  else:
    text += " Its fields are those of the study's file: give --config=FILE with --helpfull to list them."
  FLAGS["config"].help += text


def interrupted_line(argv: Sequence[str]) -> str:
  """What a run stopped by Ctrl-C prints: its workdir's last checkpoint and the command that resumes."""
  command = shlex.join(["python", "-m", f"experiments.{pathlib.Path(argv[0]).stem}", *argv[1:]])
  workdir = FLAGS["workdir"].value if "workdir" in FLAGS else None
  if workdir is None:
    return f"Interrupted (Ctrl-C); this command keeps no checkpoints: rerun it to start again: {command}"
  step = Workdir(workdir).newest_checkpoint_step()
  if step is None:
    return f"Interrupted (Ctrl-C) before {workdir} held a checkpoint; rerun the same command to start: {command}"
  return (f"Interrupted (Ctrl-C); {workdir} keeps its last checkpoint, at step {step}; rerun the same "
          f"command to resume from it: {command}")


def run(define_flags: Callable[[], None], main: Callable) -> None:
  """Define the flags, parse them, join the processes if asked, run main; bad flags, configs and
  inputs end in one line, and so does Ctrl-C (exit status 130).

  Errors a user can fix (ValueError, FloatingPointError, FileNotFoundError
  raised by gdiv with a message that says how) are printed without a traceback.
  """
  logging.get_absl_logger().addFilter(_not_orbax_info)
  try:
    import_plugins(sys.argv[1:])
  except plugins.PluginError as e:
    fail(str(e))
  try:
    define_flags()  # ml_collections reads --config.* overrides already here
    define_process_flags()
    describe_config_flag(sys.argv[1:])
    flags.DEFINE_multi_string("import", [], "A module name, .py file or package folder to import "
                              "first (repeatable): the divergences and model families it registers "
                              "can then be named in every flag and config. config.json records it, so "
                              "a resume imports it again (gdiv.plugins).")
  except (AttributeError, KeyError) as e:
    fail(f"Flags parsing error: unknown config field {_one_line(e)}")
  except (TypeError, ValueError, OSError) as e:
    fail(f"Flags parsing error: {_one_line(e)}")

  def guarded_main(argv):
    try:
      start_processes()
      return main(argv)
    except (ValueError, FloatingPointError, FileNotFoundError, CheckpointError) as e:
      fail(f"{type(e).__name__}: {_one_line(e)}")
    except KeyboardInterrupt:
      print(interrupted_line(sys.argv), file=sys.stderr)
      sys.exit(130)

  app.run(guarded_main, flags_parser=_parse_flags)


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


def _group_indices(values: list[str], num_groups: int) -> list[int]:
  try:
    indices = [int(v) for v in values]
  except ValueError:
    indices = [-1]
  if not set(indices) <= set(range(num_groups)):
    raise ValueError(f"--groups={','.join(values)}: give group indices among 0..{num_groups - 1}.")
  return indices


def run_study_from_flags(**overrides) -> None:
  """Run the study that --config names (its fields overridden by `overrides`' non-None values)
  into --workdir: every point is checked before the workdir is touched; finished groups are
  skipped, an interrupted one resumes."""
  sharding.request_cpu_devices(FLAGS.cpu_devices)  # before the first computation
  config = FLAGS.config
  config.update({field: value for field, value in overrides.items() if value is not None})
  filename = config_flags.get_config_filename(FLAGS["config"])
  experiment, points, published, title = study.load_study(config, filename)
  resolved, groups = study.plan(config, points, config.seeds, experiment)
  for point in resolved:
    experiment.validate(point.config)
  only = None if FLAGS.groups is None else _group_indices(FLAGS.groups, len(groups))
  workdir = Workdir(FLAGS.workdir)
  record = {"config_file": filename, "config": config.to_dict(), "points": points}
  workdir.check_config(record, may_differ=("config_file", *(f"config.{f}" for f in RESUMABLE_EVERYWHERE)))
  workdir.write_config(record)
  logging.info("sweep: %d points × %d seeds in %d groups (%d compiled programs)", len(resolved),
               config.seeds, len(groups), len(groups))
  start = time.perf_counter()
  results = study.run_study(experiment, config, points, workdir=workdir, title=title,
                            published=published, mesh=study.sweep_mesh(), only_groups=only)
  logging.info("sweep: this process took %.0f s (wall)", time.perf_counter() - start)
  if results is not None and sharding.is_writer():
    figures.plot_curves(figures.read_curves(workdir.path / "metrics.jsonl"), workdir.path / "curves.png")
