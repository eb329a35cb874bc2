"""Divergences as pure functions of arrays, looked up by name.

  >>> from gdiv import divergences
  >>> divergences.get("js").conjugate_activation(0.0)
  >>> divergences.check("js")   # the properties every divergence must have (gdiv.divergences.checks)
"""

from gdiv.divergences.adversarial import ADVERSARIAL, WASSERSTEIN_GP, CriticObjective
from gdiv.divergences.base import (NO_RECIPE, OPTIONAL_MEMBERS, Divergence, Evaluations, Recipe, SampleDistance,
                                   configured, optional_member, recipe_of)
from gdiv.divergences.checks import DivergenceCheckError, check
from gdiv.divergences.f_divergences import F_DIVERGENCES, FDivergence, alpha_divergence
from gdiv.divergences.lambertw import lambertw, log_lambertw_exp
from gdiv.divergences.likelihood import MLE, Hybrid, MaximumLikelihood
from gdiv.divergences.mmd import MMD_OBJECTIVE
from gdiv.divergences.transport import TRANSPORT, Energy, Sinkhorn, SlicedWasserstein, Wasserstein1D
from gdiv.divergences import registry
from gdiv.divergences.registry import get, names, register

# Flow-GAN's hybrid: WGAN-GP plus λ·NLL with λ = 1 (their MNIST/NICE setting).
HYBRID = Hybrid(name="hybrid", adversarial=WASSERSTEIN_GP, weight=1.0)

for _divergence in (*F_DIVERGENCES, MLE, *ADVERSARIAL, MMD_OBJECTIVE, *TRANSPORT, HYBRID):
  register(_divergence)
del _divergence

__all__ = [
    "CriticObjective", "Divergence", "DivergenceCheckError", "Energy", "Evaluations", "FDivergence", "Hybrid",
    "MaximumLikelihood", "NO_RECIPE", "OPTIONAL_MEMBERS", "Recipe", "SampleDistance", "Sinkhorn",
    "SlicedWasserstein", "Wasserstein1D", "alpha_divergence", "check", "configured", "get", "lambertw",
    "log_lambertw_exp", "names", "optional_member", "recipe_of", "register",
]
