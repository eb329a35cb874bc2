"""The lecture's two examples: likelihood and sample quality disagree both ways."""

import json
import math

import jax
import numpy as np
import pytest

from entry_points import in_process

from experiments.likelihood_vs_samples import memorisation_rows, noise_mixture_row


def test_noise_mixture_nll_within_log_100_while_precision_collapses():
  rows = [noise_mixture_row(d, 3.0, 600, jax.random.key(d)) for d in (2, 8, 32, 128, 512)]
  for r in rows:
    # q ≥ 0.01 p pointwise, so log q ≥ log p - log 100 (1e-9: float64 rounding of ~700-nat NLLs)
    assert 0.0 <= r["gap"] <= math.log(100) + 1e-9, r
  per_dim = [r["gap_per_dim"] for r in rows]
  assert all(a > b for a, b in zip(per_dim, per_dim[1:]))
  assert rows[-1]["gap_per_dim"] < 0.01
  assert rows[0]["precision_mixture"] > 0.3  # in 2-D the broad noise still overlaps the data
  assert rows[-1]["precision_mixture"] < 0.02  # only the 1 % true samples remain on the manifold
  assert rows[-1]["recall_mixture"] > 0.9


def test_memoriser_has_good_samples_and_a_diverging_test_nll():
  rows, samples = memorisation_rows(8, 400, 800, (0.3, 0.03, 0.003), jax.random.key(0))
  assert samples["memoriser σ=0.003"].shape == (800, 8)
  truth, fit = rows["true model"], rows["Gaussian fit (mle)"]
  memorisers = [rows[f"memoriser σ={s:g}"] for s in (0.3, 0.03, 0.003)]
  for m in memorisers:
    assert m["precision"] > truth["precision"] - 0.1
    assert m["mmd2"] < 0.01 < rows["noise mixture"]["mmd2"]
  nlls = [m["nll"] for m in memorisers]
  assert nlls[0] < nlls[1] < nlls[2] and nlls[2] > 10 * nlls[1]  # ~ ‖x - x_i‖²/2σ² as σ → 0
  assert nlls[1] > fit["nll"] + 100
  assert truth["nll"] < fit["nll"]


@pytest.mark.slow
def test_study_writes_its_table_and_figure(tmp_path):
  result = in_process("likelihood_vs_samples", [f"--workdir={tmp_path}", "--dims=2,16", "--num_test=300",
                                                "--num_train=200", "--bandwidths=0.1,0.01"])
  assert result.returncode == 0, result.stderr[-3000:]
  results = json.loads((tmp_path / "results.json").read_text())
  assert [r["dim"] for r in results["noise_mixture"]] == [2, 16]
  assert set(results["memorisation"]) >= {"true model", "Gaussian fit (mle)", "memoriser σ=0.01"}
  assert np.load(tmp_path / "samples.npz")["x"].shape == (len(results["memorisation"]), 300, 8)
  for name in ("config.json", "metrics.jsonl", "results.md", "nll_vs_precision.png"):
    assert (tmp_path / name).stat().st_size > 0
  assert "| memoriser σ=0.01 |" in result.stdout
