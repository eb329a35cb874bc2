"""Model families (Flax modules sharing the `Model` protocol) and critics, by name.

  >>> from gdiv import models
  >>> flow = models.get("flow")(dim=2)
  >>> models.check("flow")   # the properties every family must have (gdiv.models.checks)
"""

from __future__ import annotations

from gdiv.models.base import Model, check_data_shape
from gdiv.names import did_you_mean
from gdiv.models.checks import FamilyCheckError, check_family
from gdiv.models.conv import ConvGenerator
from gdiv.models.critics import ConvCritic, MLPCritic, StandardCNNCritic
from gdiv.models.flow import RealNVP
from gdiv.models.gaussian import Gaussian
from gdiv.models.made import MADE
from gdiv.models.mixture import MixtureOfGaussians
from gdiv.models.mlp import MLP, MLPGenerator
from gdiv.models.vae import VAE

_FAMILIES: dict[str, type[Model]] = {}


def register(name: str, family: type[Model]) -> type[Model]:
  """Make a model family available as `get(name)`; returns it."""
  if name in _FAMILIES:
    raise ValueError(f"A model family named {name!r} is already registered "
                     f"(registered: {', '.join(names())}).")
  _FAMILIES[name] = family
  return family


def get(name: str) -> type[Model]:
  """The model family (a Flax module class) registered as `name`."""
  try:
    return _FAMILIES[name]
  except KeyError:
    raise ValueError(f"Unknown model family {name!r}{did_you_mean(name, names())}; known families: "
                     f"{', '.join(names())}. Register a "
                     "new one with gdiv.models.register (on the command line: --import=FILE_OR_MODULE "
                     "that registers it).") from None


def names() -> list[str]:
  return sorted(_FAMILIES)


def check(family: type[Model] | str, dim: int = 2, **kwargs) -> tuple[str, ...]:
  """Check every property a model family must have (gdiv.models.checks); returns their names.

  family: a Flax module class following gdiv.models.Model (registered or not), or a
  registered name; built as family(dim=dim, **kwargs). Raises FamilyCheckError, a
  ValueError naming the failed property, the inputs and the fix.
  """
  return check_family(get(family) if isinstance(family, str) else family, dim, **kwargs)


for _name, _family in (("gaussian", Gaussian), ("mixture", MixtureOfGaussians), ("flow", RealNVP),
                       ("made", MADE), ("vae", VAE), ("mlp_generator", MLPGenerator),
                       ("conv_generator", ConvGenerator)):
  register(_name, _family)
del _name, _family

__all__ = ["ConvCritic", "ConvGenerator", "FamilyCheckError", "Gaussian", "MADE", "MLP", "MLPCritic", "MLPGenerator", "MixtureOfGaussians", "Model",
           "RealNVP", "StandardCNNCritic", "VAE", "check", "check_data_shape", "get", "names", "register"]
