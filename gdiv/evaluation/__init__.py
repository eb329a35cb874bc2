"""Evaluation that separates likelihood from sample quality.

Likelihood: `nll` (exact, with the dequantisation convention stated),
`parzen_log_likelihood` (the Goodfellow et al. protocol, unreliable).
Samples: `precision_recall`, `prd`, `mode_metrics`, `frechet_distance` on a
feature network's features (`features`: the shipped 8×8 digits classifier,
`features.digits_network()`, or one trained here on any image data set, `features.for_images`;
`features.sample_scores`, `features.histogram_scores`). Two-sample: `mmd2`, `mmd_test`, `variational_divergence`.
Exact: `exact_f_divergence` by quadrature, `f_divergence_to_gaussian` (+inf where the tails make
it infinite: `f_divergence_diverges`), `best_gaussian_fit` / `best_isotropic_fit`
(f-divergences), `moment_fit` (maximum likelihood), `mmd2_gaussian_mixtures` (closed
form), `median_heuristic_bandwidths` and `best_mmd_fit`; in 1-D `transport_to_gaussian` (W1, W2²,
energy) and `best_transport_fit`, `sinkhorn_to_gaussian` and `best_sinkhorn_fit` (float64 on quantile
points; `sinkhorn_reference`, NumPy), and `expected_batch_fit`, the minimiser of a minibatch loss's
expectation (gdiv.evaluation.minibatch).
"""

from gdiv.divergences.quadrature import exact_f_divergence
from gdiv.evaluation import features
from gdiv.evaluation.exact import (best_gaussian_fit, best_isotropic_fit, best_mmd_fit, best_sinkhorn_fit,
                                   best_transport_fit, f_divergence_diverges, f_divergence_to_gaussian,
                                   gaussian_log_density, integration_grid, median_heuristic_bandwidths,
                                   mmd2_gaussian_mixtures, moment_fit, sinkhorn_reference, sinkhorn_to_gaussian,
                                   transport_to_gaussian)
from gdiv.evaluation.minibatch import expected_batch_fit
from gdiv.evaluation.likelihood import nll, parzen_log_likelihood
from gdiv.evaluation.sample_quality import frechet_distance, mode_metrics, prd, precision_recall
from gdiv.evaluation.two_sample import (fresh_critic_bound, median_bandwidths, mmd2, mmd_test,
                                        variational_divergence)

__all__ = [
    "best_gaussian_fit", "best_isotropic_fit", "best_mmd_fit", "best_sinkhorn_fit", "best_transport_fit",
    "exact_f_divergence", "expected_batch_fit", "f_divergence_diverges", "f_divergence_to_gaussian", "features",
    "frechet_distance", "fresh_critic_bound", "gaussian_log_density", "integration_grid",
    "median_bandwidths", "median_heuristic_bandwidths", "mmd2", "mmd2_gaussian_mixtures", "mmd_test",
    "mode_metrics", "moment_fit", "nll", "parzen_log_likelihood", "prd", "precision_recall",
    "sinkhorn_reference", "sinkhorn_to_gaussian", "transport_to_gaussian", "variational_divergence",
]
