"""User code that registers divergences or model families, imported by name or path (`--import`).

  python -m experiments.sweep --import=my_divergences.py --config=... --config.divergence=my_div

A plugin is a Python module that calls gdiv.divergences.register or
gdiv.models.register when imported, and runs no JAX computation then (it is
imported before the flags that choose devices, e.g. experiments.sweep's
--cpu_devices, take effect). `load(spec)` imports it from a dotted module
name (found on sys.path, e.g. an installed package) or from the path of a .py
file or of a package folder. Each is imported once per process; `loaded()` lists
what was, as a run records it in its config.json (file paths made absolute), so
a resumed run imports the same code again.
"""

from __future__ import annotations

import importlib
import importlib.util
import pathlib
import sys

_LOADED: dict[str, str] = {}  # recorded spec → module name


class PluginError(ValueError):
  """A plugin that cannot be imported; the message names it and says why."""


def _is_path(spec: str) -> bool:
  return spec.endswith(".py") or "/" in spec or "\\" in spec


def _record(spec: str) -> str:
  """How `spec` is recorded: module names as given, paths absolute."""
  return str(pathlib.Path(spec).expanduser().resolve()) if _is_path(spec) else spec


def _import_path(path: pathlib.Path) -> str:
  """Import the .py file or package folder at `path` as a module of its own; returns its name."""
  init = path / "__init__.py" if path.is_dir() else path
  if not init.is_file():
    raise PluginError(f"--import={path}: no such file (give a .py file, a package folder, or a module name).")
  name = f"gdiv_plugin_{path.stem}"
  spec = importlib.util.spec_from_file_location(
      name, init, submodule_search_locations=[str(path)] if path.is_dir() else None)
  module = importlib.util.module_from_spec(spec)
  sys.modules[name] = module
  try:
    spec.loader.exec_module(module)
  except BaseException:
    del sys.modules[name]
    raise
  return name


def load(spec: str) -> None:
  """Import the plugin `spec` (a module name or a path) unless this process already has."""
  key = _record(spec)
  if key in _LOADED:
    return
  try:
    name = _import_path(pathlib.Path(key)) if _is_path(spec) else importlib.import_module(spec).__name__
  except PluginError:
    raise
  except ModuleNotFoundError as e:
    if not _is_path(spec) and e.name is not None and (spec + ".").startswith(e.name + "."):
      raise PluginError(f"--import={spec}: no module named {spec!r} on the Python path (give a module "
                        "name, a .py file or a package folder).") from None
    raise PluginError(f"--import={spec} failed: it imports {e.name!r}, which is not installed.") from None
  except Exception as e:  # the user's module raised while importing: say which and why
    message = " ".join(str(e).split())
    raise PluginError(f"--import={spec} failed while importing: {type(e).__name__}: {message}") from None
  _LOADED[key] = name


def loaded() -> list[str]:
  """The plugins imported so far, as recorded (paths absolute), in import order."""
  return list(_LOADED)
