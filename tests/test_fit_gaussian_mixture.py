"""The main job, run as a user runs it (python -m experiments.fit_gaussian_mixture), and its cross
table (in this process, tests/entry_points.py)."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from entry_points import in_process

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _run(*flags, timeout=300):
  return subprocess.run([sys.executable, "-m", "experiments.fit_gaussian_mixture", *flags],
                        cwd=REPO, capture_output=True, text=True, timeout=timeout)


@pytest.mark.slow
def test_fits_on_a_mixture_passed_by_flags_agree_with_exact_best_fits(tmp_path):
  result = _run(f"--workdir={tmp_path}", "--divergences=kl,reverse_kl,mle",
                "--mixture_weights=0.75,0.25", "--mixture_means=-0.8,1.5", "--mixture_stds=0.6,0.9",
                "--steps=2000")
  assert result.returncode == 0, result.stderr[-3000:]
  rows = json.loads((tmp_path / "results.json").read_text())
  assert list(rows) == ["kl", "reverse_kl", "mle"]
  for name, row in rows.items():
    assert abs(row["mu"] - row["best_fit_mu"]) < 0.1, (name, row)
    assert abs(row["sigma"] - row["best_fit_sigma"]) < 0.1, (name, row)
    assert row["divergence_at_fit"] >= row["best_fit_divergence"] - 1e-9  # Q* is the minimiser
  for name in ("kl", "reverse_kl"):
    assert rows[name]["lower_bound_holds"], rows[name]
  assert rows["reverse_kl"]["sigma"] < rows["kl"]["sigma"] - 0.2  # mode-seeking vs covering
  assert rows["mle"]["variational_estimate"] is None and np.isfinite(rows["mle"]["nll"])
  for name in ("config.json", "metrics.jsonl", "results.md", "samples.npz", "fits.png"):
    assert (tmp_path / name).stat().st_size > 0, name
  assert np.load(tmp_path / "samples.npz")["x"].shape == (3, 1000, 1)
  table = (tmp_path / "results.md").read_text()
  assert "| reverse_kl |" in table and table in result.stdout
  metrics = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
  assert {m["name"] for m in metrics} == {"kl", "reverse_kl", "mle"}
  assert (tmp_path / "checkpoints" / "reverse_kl").is_dir() and (tmp_path / "tensorboard").is_dir()
  assert "cross_table" not in rows and not (tmp_path / "cross_table.md").exists()  # opt-in


@pytest.mark.slow
def test_cross_table_puts_fresh_critic_bounds_beside_exact_divergences(tmp_path):
  result = in_process("fit_gaussian_mixture", [f"--workdir={tmp_path}", "--divergences=kl,reverse_kl", "--steps=100",
                                               "--log_every=50", "--cross_table", "--cross_table_critic_steps=100"])
  assert result.returncode == 0, result.stderr[-3000:]
  results = json.loads((tmp_path / "results.json").read_text())
  table = results.pop("cross_table")
  assert list(table["exact"]) == ["kl", "reverse_kl"] and list(table["exact"]["kl"]) == ["kl", "reverse_kl"]
  for name in ("kl", "reverse_kl"):  # the diagonal is the main table's D_f(P‖Q̂)
    np.testing.assert_allclose(table["exact"][name][name], results[name]["divergence_at_fit"], rtol=1e-6)
  for i, row in table["estimated"].items():
    for j, value in row.items():
      assert value <= table["exact"][i][j] + 0.02, (i, j, value)  # a lower bound, up to noise
  assert set(table["exact_margins"]) == {"kl", "reverse_kl"}
  markdown = (tmp_path / "cross_table.md").read_text()
  assert "## Exact D_j(P‖Q_i) by quadrature" in markdown and markdown in result.stdout
