"""The quality matrix: possible pairs train and are scored before and after; impossible ones say why."""

import math
import runpy

import jax
import ml_collections
import numpy as np
import pytest

from experiments import pairings
from experiments.configs import quality_matrix
from gdiv import divergences, models, pairings as pairing_rules, study, sweeps
from gdiv.workdir import Workdir

RING_SECOND_MOMENT = 1.0 + 2 * pairings.RING["std"] ** 2  # E|x|² of the ring, radius 1


def config(**overrides) -> ml_collections.ConfigDict:
  base = quality_matrix.get_config()
  base.update(overrides)
  return base


def gaussian_cross_entropy(variance: float, dim: int = 2) -> float:
  """E_P[-log N(x; 0, variance·I)] for P with mean 0 and E|x|² = RING_SECOND_MOMENT."""
  return 0.5 * dim * math.log(2 * math.pi * variance) + RING_SECOND_MOMENT / (2 * variance)


def test_a_gaussian_fit_by_mle_reaches_the_moment_fit_and_its_init_is_scored_as_such(tmp_path):
  base = config(seeds=2, steps=400, learning_rate=1e-2, log_every=200, checkpoint_every=400,
                eval_samples=4000)
  points = [{"model": "gaussian", "divergence": "mle"}]
  results = study.run_study(pairings.EXPERIMENT, base, points, workdir=Workdir(tmp_path), title="t")
  (gaussian,) = (row["summary"] for row in results["points"])
  # At initialisation N(0, I); maximum likelihood's optimum is the moment fit N(0, E|x|²/2 · I).
  assert gaussian["test_nll_init"]["mean"] == pytest.approx(gaussian_cross_entropy(1.0), abs=0.02)
  assert gaussian["test_nll"]["mean"] == pytest.approx(
      gaussian_cross_entropy(RING_SECOND_MOMENT / 2), abs=0.02)
  assert gaussian["mmd2"]["mean"] < gaussian["mmd2_init"]["mean"]
  table = (tmp_path / "results.md").read_text()
  assert "## The matrix" in table and "Did not improve on initialisation: none." in table


def test_impossible_pairs_are_left_out_and_the_matrix_gives_the_reason():
  pairs = pairing_rules.possible_pairs(["gaussian", "mlp_generator"], ["mle", "js"])
  assert pairs == [("gaussian", "mle"), ("gaussian", "js"), ("mlp_generator", "js")]
  with pytest.raises(ValueError, match="config.model='mlp_generator'.*no log_prob"):
    pairings.validate(config(model="mlp_generator", divergence="mle"))
  rows = []
  for (model, divergence), (after, before, diverged) in zip(pairs, [(0.1, 1.0, 0), (2.0, 1.0, 0),
                                                                    (None, None, 3)]):
    summary = {} if after is None else {"mmd2": {"mean": after}, "mmd2_init": {"mean": before}}
    rows.append({"runs": [{}] * 3, "diverged": diverged, "summary": summary})
  points = [study.Point(i, {}, config(model=m, divergence=d), str(i)) for i, (m, d) in enumerate(pairs)]
  table = pairings.matrix(points, rows)
  assert "| mle | 0.1 ← 1 | — |" in table and "| js | ✗ 2 ← 1 | ! diverged |" in table
  assert "Did not improve on initialisation: gaussian × js, mlp_generator × js." in table
  assert "- mlp_generator × mle: Divergence 'mle' needs the model density" in table


def test_the_study_config_lists_every_possible_pair_with_its_data_sets_budget():
  points = runpy.run_path("experiments/configs/quality_matrix.py")["get_hyper"](__import__("gdiv.hyper").hyper)
  assert len(points) == len(pairing_rules.possible_pairs(models.names(), divergences.names()))
  for point in points:
    budget = quality_matrix.IMAGE_BUDGET if pairing_rules.is_image_family(point["model"]) else {
        "steps": config().steps, "batch_size": config().batch_size}
    assert {k: point[k] for k in budget} == budget


@pytest.mark.slow
def test_runs_trained_in_turn_equal_vectorised_runs():
  base = config(model="conv_generator", divergence="hinge", batch_size=16)
  sample_batch, example = pairings.data(base)
  keys = jax.numpy.stack([jax.random.key(s) for s in range(2)])
  states = {}
  for in_turn in (False, True):
    sweep = sweeps.make_sweep(lambda: pairings.make_trainer(base), sample_batch, example, 5,
                              in_turn=in_turn)
    states[in_turn], _ = jax.jit(sweep.run)(jax.jit(sweep.init)(keys, {}), {})
  for a, b in zip(jax.tree.leaves(states[False].runs.model_params),
                  jax.tree.leaves(states[True].runs.model_params)):
    np.testing.assert_allclose(a, b, atol=1e-5)
