"""Evaluation: exact divergences by quadrature (more metrics to come)."""

from gdiv.evaluation.exact import (best_gaussian_fit, exact_f_divergence, gaussian_log_density,
                                   integration_grid)

__all__ = ["best_gaussian_fit", "exact_f_divergence", "gaussian_log_density", "integration_grid"]
