"""A reduced pairing matrix: possible pairs train with finite losses, impossible ones say why."""

import math

import pytest

from experiments.pairings import pair_result, results_table


@pytest.mark.parametrize("model, divergence", [("flow", "wasserstein_gp"), ("made", "hybrid"),
                                               ("mixture", "mmd"), ("mlp_generator", "reverse_kl"),
                                               ("gaussian", "relativistic"), ("vae", "js"),
                                               ("conv_generator", "hinge")])
def test_possible_pairs_train_with_finite_losses(model, divergence):
  result = pair_result(model, divergence, steps=40)
  assert result["status"] == "ok"
  assert math.isfinite(result["loss_start"]) and math.isfinite(result["loss_end"])


@pytest.mark.parametrize("model", ["mlp_generator", "conv_generator"])
@pytest.mark.parametrize("divergence", ["mle", "hybrid"])
def test_likelihood_objectives_on_an_implicit_generator_are_unsupported_with_the_reason(model, divergence):
  result = pair_result(model, divergence, steps=40)
  assert result["status"] == "unsupported"
  assert "implicit model with no log_prob" in result["reason"]


def test_table_marks_each_cell_and_lists_reasons():
  results = {"gaussian": {"mle": {"status": "ok", "loss_start": 3.0, "loss_end": 1.0}},
             "mlp_generator": {"mle": {"status": "unsupported", "reason": "needs log q(x)"}}}
  table = results_table(results, 40)
  assert "| gaussian | ✓ |" in table and "| mlp_generator | ✗ (1) |" in table
  assert "- mlp_generator × mle (unsupported): needs log q(x)" in table


def test_benchmark_reports_positive_rates_and_flops_from_the_compiled_step():
  from experiments.benchmark import benchmark
  row = benchmark("toy", steps_per_call=5, calls=1, seeds=2)
  assert row["steps_per_sec"] > 0 and row["flops_per_step"] > 1e6 and row["compile_s"] > 0
  assert row["gflops"] == row["flops_per_step"] * row["steps_per_sec"] / 1e9
  assert row["peak_memory_mb"] > 0 and row["vmapped_seeds_speedup"] > 0
