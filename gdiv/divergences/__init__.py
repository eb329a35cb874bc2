"""Divergences as pure functions of arrays, looked up by name.

  >>> from gdiv import divergences
  >>> divergences.get("js").conjugate_activation(0.0)
"""

from gdiv.divergences.base import Divergence, Evaluations
from gdiv.divergences.f_divergences import F_DIVERGENCES, FDivergence, alpha_divergence
from gdiv.divergences.lambertw import lambertw, log_lambertw_exp
from gdiv.divergences.likelihood import MLE, MaximumLikelihood
from gdiv.divergences import registry
from gdiv.divergences.registry import get, names, register

for _divergence in (*F_DIVERGENCES, MLE):
  register(_divergence)
del _divergence

__all__ = [
    "Divergence", "Evaluations", "FDivergence", "MaximumLikelihood", "alpha_divergence", "get",
    "lambertw", "log_lambertw_exp", "names", "register",
]
