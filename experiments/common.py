"""What every experiment entry point shares: clear one-line errors instead of tracebacks, and the image
studies' data, feature network, NDA negatives and memorising baseline."""

from __future__ import annotations

import functools
import logging as python_logging
import math
import pathlib
import runpy
import shlex
import sys
from typing import Callable, Sequence

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from absl import app, flags, logging
from ml_collections import config_flags

from gdiv import divergences, plugins, sharding, training
from gdiv.checkpoints import CheckpointError
from gdiv.data import IMAGE_DATASETS, ImageData, dequantise, load_images, nda
from gdiv.evaluation import features, parzen_log_likelihood
from gdiv.workdir import Workdir

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


def define_image_flags():
  """--dataset, --data_path, --seeds, --steps, --adv_divergence: shorthands for the image studies'
  config fields (unset: the config file's value)."""
  flags.DEFINE_enum("dataset", None, IMAGE_DATASETS, "Images: digits and mnist_sample ship with packages; "
                    "mnist (or Fashion-MNIST) and cifar10 are read from --data_path.")
  flags.DEFINE_string("data_path", None, "mnist: a folder of the IDX files or an .npz; cifar10: the folder "
                      "of its python version.")
  flags.DEFINE_integer("seeds", None, "Seeds 0..N-1.")
  flags.DEFINE_integer("steps", None, "Training steps per run.")
  flags.DEFINE_string("adv_divergence", None, "Critic-based divergence of adv / hybrid (wasserstein_gp, js, ...).")


def image_flag_values(*names: str) -> dict:
  return {name: FLAGS[name].value for name in ("dataset", "data_path", "seeds", "steps", "adv_divergence", *names)}


@functools.cache
def _image_data(dataset: str, data_path: str, validation: int) -> ImageData:
  return load_images(dataset, data_path, validation)


def image_data(config) -> ImageData:
  """config.dataset's images (gdiv.data.load_images: config.data_path, config.validation), read once."""
  return _image_data(config.dataset, config.data_path, config.validation)


@functools.cache
def _feature_network(dataset: str, data_path: str, validation: int, saved: str, steps: int) -> features.FeatureNetwork:
  beside = features.beside_data(dataset, data_path)
  if not saved and beside is not None and beside.is_file():
    saved = str(beside)
  network = features.for_images(_image_data(dataset, data_path, validation), saved, steps)
  logging.info("Feature network for %s: %s, test accuracy %.4f.", dataset, saved or "trained here",
               network.test_accuracy)
  return network


def feature_network(config) -> features.FeatureNetwork:
  """The network that scores config.dataset's images: the one saved at config.feature_network,
  else one `experiments.train_classifier` saved beside the data, else the shipped digits
  classifier, else one trained now for config.classifier_steps steps (gdiv.evaluation.features)."""
  return _feature_network(config.dataset, config.data_path, config.validation, config.feature_network,
                          config.classifier_steps)


MEMORISER_SIGMAS = np.logspace(-2.5, -0.5, 17)


def validate_images(config: ml_collections.ConfigDict) -> None:
  """config.dataset and config.data_path (the files are read: a missing one is an error naming
  the files expected), config.feature_network and config.nda."""
  image_data(config)
  if config.feature_network:
    feature_network(config)
  if config.nda != "none":
    nda.get(config.nda)  # an unknown name lists the known ones


def image_negatives(config):
  """negatives(key, x): the transform `config.nda` of a batch of flattened images; None for
  nda=none."""
  if config.nda == "none":
    return None
  transform, shape = nda.get(config.nda), image_data(config).shape
  return lambda key, x: transform(key, x, shape)


def image_negative_data(config) -> training.NegativeData | None:
  """make_trainer's `negatives`: `image_negatives` with λ = config.nda_model_share; None for nda=none."""
  sample = image_negatives(config)
  return None if sample is None else training.NegativeData(sample, config.nda_model_share)


def image_sample_scores(samples: np.ndarray, config) -> dict:
  """gdiv.evaluation.features.sample_scores on config's images and feature network."""
  return features.sample_scores(samples, image_data(config), feature_network(config))


def memoriser(config) -> dict:
  """One isotropic Gaussian per training image, at its dequantisation bin centre, σ chosen on the
  validation split; scored as the flows are (its NLL: the dequantisation bound, data space)."""
  data_set = image_data(config)
  levels, dim = data_set.levels, data_set.train.x.shape[1]
  to_bins = lambda x: (np.round(x * (levels - 1)) + 0.5) / levels
  key_valid, key_test, key_picks, key_noise = jax.random.split(jax.random.key(config.seed), 4)
  y_valid = dequantise(key_valid, jnp.asarray(data_set.validation.x), levels)
  y_test = dequantise(key_test, jnp.asarray(data_set.test.x), levels)
  fit = parzen_log_likelihood(to_bins(data_set.train.x), y_valid, y_test, MEMORISER_SIGMAS)
  test_nll = -fit["mean"] + dim * np.log(levels)
  picks = jax.random.randint(key_picks, (len(data_set.test.x),), 0, len(data_set.train.x))
  noise = fit["sigma"] * np.asarray(jax.random.normal(key_noise, (len(picks), dim)))
  samples = np.clip(data_set.train.x[np.asarray(picks)] + noise, 0.0, 1.0)
  return {"sigma": fit["sigma"], "test_nll_nats": test_nll, "test_bits_per_dim": test_nll / (dim * np.log(2)),
          **image_sample_scores(samples, config)}


def memoriser_report(points, rows) -> str:
  """The memorising baseline, scored like the rows."""
  baseline = memoriser(points[0].config)
  metrics = [m for m in baseline if m != "sigma"]
  return "\n".join([
      "", "## Memorising baseline (Theis et al. 2016)", "",
      f"One isotropic Gaussian per training image, σ = {baseline['sigma']:.4g} chosen on the "
      "validation split; samples are training images plus that noise.", "",
      "| " + " | ".join(metrics) + " |", "|" + "---|" * len(metrics),
      "| " + " | ".join(f"{baseline[m]:.4g}" for m in metrics) + " |", ""])


def recipe_values(config) -> dict:
  """With config.use_recipe, the fields config.divergence's recipe sets (gdiv.divergences.Recipe),
  {field: value}; {} without. A study that asks for recipes must have every field they set."""
  if not config.get("use_recipe"):
    return {}
  recipe = divergences.recipe_of(divergences.get(config["divergence"]))
  missing = [field for field in recipe.settings() if field not in config]
  if missing:
    raise ValueError(f"config.use_recipe: the recipe of {config['divergence']!r} sets "
                     f"{', '.join(missing)}, which this study's config does not have; add the fields "
                     "or set config.use_recipe=False.")
  return recipe.settings()


def critic_options(config, value=None) -> dict:
  """make_trainer's critic-side arguments from a study config's flat fields (scheme, n_critic,
  generator_loss, gradient_penalty and the stabilisers it has), through gdiv.training.critic_options.
  value(field): a field's value (a traced one in a sweep); default config[field]."""
  value = value or (lambda field: config[field])
  flat = {field: value(field) for field in ("gradient_penalty", *training.stabilisers()) if field in config}
  return training.critic_options(config.divergence, scheme=config.get("scheme", "alternating"),
                                 n_critic=config.n_critic, generator_loss=config.generator_loss,
                                 roth_anneal_steps=config.get("roth_anneal_steps", 0), steps=config.steps, **flat)


FIT_OPTIONS = ("restarts", "stabilisers", "use_recipe")  # train_fit's, as fit_options_from_flags records them


def fit_options(config: dict) -> dict:
  """train_fit's restarts, stabilisers and use_recipe from a fit study's config (those it records)."""
  return {k: config[k] for k in FIT_OPTIONS if k in config}


def fit_options_from_flags() -> dict:
  """{"stabilisers": the ones set (with roth_anneal_steps), "restarts": K}, leaving out what is at
  its plain value, so a run that asks for none records the config it always did."""
  stabilisers = {name: FLAGS[name].value for name in training.stabilisers() if FLAGS[name].value}
  if FLAGS.roth_gamma and FLAGS.roth_anneal_steps:
    stabilisers["roth_anneal_steps"] = FLAGS.steps if FLAGS.roth_anneal_steps < 0 else FLAGS.roth_anneal_steps
  return {**({"stabilisers": stabilisers} if stabilisers else {}),
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
