"""What every experiment entry point shares: clear one-line errors instead of tracebacks."""

from __future__ import annotations

import logging as python_logging
import sys
from typing import Callable

from absl import app, flags, logging

from gdiv.checkpoints import CheckpointError

USAGE_HINT = "Pass --helpshort or --helpfull to see help on flags."


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


def run(define_flags: Callable[[], None], main: Callable) -> None:
  """Define the flags, parse them, run main; bad flags, configs and inputs end in one line.

  Errors a user can fix (ValueError, FloatingPointError, FileNotFoundError
  raised by gdiv with a message that says how) are printed without a traceback.
  """
  logging.get_absl_logger().addFilter(_not_orbax_info)
  try:
    define_flags()  # ml_collections reads --config.* overrides already here
  except (AttributeError, KeyError) as e:
    fail(f"Flags parsing error: unknown config field {_one_line(e)}")
  except (TypeError, ValueError, OSError) as e:
    fail(f"Flags parsing error: {_one_line(e)}")

  def guarded_main(argv):
    try:
      return main(argv)
    except (ValueError, FloatingPointError, FileNotFoundError, CheckpointError) as e:
      fail(f"{type(e).__name__}: {_one_line(e)}")

  app.run(guarded_main, flags_parser=_parse_flags)
