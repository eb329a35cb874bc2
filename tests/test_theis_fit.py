"""Theis et al. 2016, Figure 1: python -m experiments.theis_fit, and its MMD fit against the closed form."""

import json

import numpy as np
import pytest

from entry_points import in_process
from experiments.theis_fit import theis_mixture
from gdiv.data import GaussianMixture
from gdiv.evaluation import best_mmd_fit, median_heuristic_bandwidths, moment_fit
from gdiv.fitting import train_fit


def test_mixture_follows_the_recipe_in_the_documented_order():
  rng = np.random.default_rng(3)
  weights, means, u = rng.dirichlet([0.5] * 10), 1.5 * rng.normal(size=(10, 2)), rng.uniform(size=10)
  mixture = theis_mixture(3)
  np.testing.assert_array_equal(mixture.weights, weights)
  np.testing.assert_array_equal(mixture.means, means)
  np.testing.assert_allclose(mixture.stds ** 2, np.repeat(1 / (u[:, None] + 1) ** 2, 2, axis=1))


@pytest.mark.slow
def test_smoke_run_writes_the_study_and_its_exact_fits(tmp_path):
  result = in_process("theis_fit", [f"--workdir={tmp_path}", "--divergences=mle,mmd", "--steps=20",
                                     "--log_every=10", "--mixture_seed=0", "--restarts=2"])
  assert result.returncode == 0, result.stderr[-3000:]
  results = json.loads((tmp_path / "results.json").read_text())
  mixture = theis_mixture(0)
  np.testing.assert_allclose(results["mixture"]["weights"], mixture.weights)
  np.testing.assert_allclose(results["mixture"]["means"], mixture.means)
  fits = results["fits"]
  assert list(fits) == ["mle", "mmd"]
  mu, sigma = moment_fit(mixture)
  np.testing.assert_allclose([*fits["mle"]["best_fit_mu"], fits["mle"]["best_fit_sigma"]], [*mu, sigma])
  mmd = fits["mmd"]  # the exact MMD fit sits at its own median-heuristic bandwidths
  q = GaussianMixture.create([1.0], [mmd["best_fit_mu"]], [mmd["best_fit_sigma"]])
  np.testing.assert_allclose(mmd["bandwidths"], median_heuristic_bandwidths(mixture, q), atol=1e-5)
  for row in fits.values():
    assert np.isfinite(row["mu"]).all() and row["value_at_fit"] >= row["best_fit_value"] - 1e-9
  assert np.load(tmp_path / "samples.npz")["x"].shape == (2, 1000, 2)
  for name in ("config.json", "metrics.jsonl", "results.md", "theis_fit.png"):
    assert (tmp_path / name).stat().st_size > 0, name
  assert (tmp_path / "results.md").read_text() in result.stdout


def test_mmd_training_reaches_the_closed_form_fit():
  mixture = theis_mixture(0)
  mu, sigma, _, _ = best_mmd_fit(mixture)
  fit = train_fit("mmd", mixture, steps=1000, batch_size=128)  # errors 0.007 (μ), 0.010 (σ) measured
  assert np.linalg.norm(fit["mu"] - mu) < 0.05 and abs(fit["sigma"] - sigma) < 0.05, (fit, mu, sigma)
