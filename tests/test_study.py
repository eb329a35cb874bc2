"""Studies: hyper-parameter products, grouping into programs, masking diverged runs, resume, tables."""

import json
import math
import pathlib
import runpy

import numpy as np
import pytest

from experiments import train_toy2d
from experiments.configs.train_toy2d import get_config
from gdiv import figures, fitting, hyper, study, training
from gdiv.workdir import Workdir

TINY = {"generator_hidden": (16, 16), "critic_hidden": (16, 16), "batch_size": 32, "steps": 100,
        "log_every": 25, "checkpoint_every": 50, "eval_samples": 200, "ring_std": 0.3}


def tiny_config(**overrides):
  config = get_config()
  with config.unlocked():
    config.experiment, config.seeds = "train_toy2d", 2
  config.update({**TINY, **overrides})
  return config


def test_product_and_zipit_expand_like_the_flax_convention():
  points = hyper.expand(lambda h: h.product([
      h.zipit([h.sweep("config.divergence", ["js", "wasserstein_gp"]),
               h.sweep("config.generator_loss", ["non_saturating", "saddle"])]),
      h.sweep("config.critic_pack", [1, 2, 4])]))
  assert len(points) == 6
  assert points[0] == {"divergence": "js", "generator_loss": "non_saturating", "critic_pack": 1}
  assert points[5] == {"divergence": "wasserstein_gp", "generator_loss": "saddle", "critic_pack": 4}
  assert hyper.expand(None) == [{}]


@pytest.mark.parametrize("bad, message", [
    (lambda h: h.zipit([h.sweep("config.a", [1, 2]), h.sweep("config.b", [1])]), "equal length"),
    (lambda h: h.product([h.sweep("config.a", [1]), h.sweep("config.a", [2])]), "swept twice"),
    (lambda h: h.sweep("learning_rate", [1]), "config.FIELD"),
    (lambda h: h.sweep("config.a", []), "non-empty"),
])
def test_malformed_sweeps_are_clear_errors(bad, message):
  with pytest.raises(ValueError, match=message):
    hyper.expand(bad)


def test_points_differing_only_in_seed_and_sweepable_fields_share_one_program():
  points = hyper.expand(lambda h: h.product([
      h.sweep("config.critic_pack", [1, 2]), h.sweep("config.learning_rate", [1e-4, 1e-3])]))
  resolved, groups = study.plan(tiny_config(seeds=3), points, 3, train_toy2d.EXPERIMENT)
  assert len(resolved) == 4 and len(groups) == 2
  for group in groups:
    assert group.traced == ("learning_rate",)
    assert len(group.runs) == 6 and len({p.config.critic_pack for p, _ in group.runs}) == 1
  with pytest.raises(ValueError, match="does not have"):
    study.plan(tiny_config(), [{"no_such_field": 1}], 1, train_toy2d.EXPERIMENT)


def test_a_recipe_sets_its_fields_per_point_unless_the_sweep_does_and_the_row_shows_them():
  points = hyper.expand(lambda h: h.zipit([h.sweep("config.divergence", ["wasserstein_gp", "kl", "hinge"]),
                                           h.sweep("config.n_critic", [2, 1, 1])]))
  resolved, _ = study.plan(tiny_config(use_recipe=True), points, 1, train_toy2d.EXPERIMENT)
  wgan, kl, hinge = resolved
  assert (wgan.config.n_critic, wgan.config.beta1, wgan.config.beta2) == (2, 0.0, 0.9)  # the sweep's n_critic
  assert wgan.values == {"divergence": "wasserstein_gp", "n_critic": 2, "beta1": 0.0, "beta2": 0.9}
  assert (kl.config.roth_gamma, kl.config.critic_bound, kl.config.roth_anneal_steps) == (0.1, 10.0, -1)
  assert hinge.values == {"divergence": "hinge", "n_critic": 1}  # hinge declares no recipe
  plain, _ = study.plan(tiny_config(), points, 1, train_toy2d.EXPERIMENT)
  assert [p.config.to_dict() for p in plain] == [study.point_config(tiny_config(), v).to_dict() for v in points]
  assert plain[1].config.roth_gamma == 0.0
  with pytest.raises(ValueError, match="the recipe of 'kl' sets beta1, roth_gamma, roth_anneal_steps, "
                                       "critic_bound, which this study's config does not have"):
    training.recipe_fields({"use_recipe": True, "divergence": "kl"})


def test_a_fit_study_takes_its_divergences_recipe():
  assert fitting.recipe_options("kl") == {  # -1: over the whole run, resolved where Roth's penalty is built
      "stabilisers": {"roth_gamma": 0.1, "roth_anneal_steps": -1, "critic_bound": 10.0}}
  assert fitting.recipe_options("reverse_kl")["generator_loss"] == "saddle"
  assert fitting.recipe_options("mle") == {}


def test_standard_error_and_its_formatting():
  values = [6.0, 7.0, 5.0, 7.0]
  summary = study.summarise(values + [None])  # a diverged run is not averaged
  assert summary["n"] == 4 and summary["mean"] == pytest.approx(6.25)
  assert summary["se"] == pytest.approx(np.std(values, ddof=1) / 2)
  assert study.format_mean_se({"mean": 6.25, "se": 0.4787}) == "6.25 ± 0.48"
  assert study.format_mean_se({"mean": 17.3, "se": 0.8}) == "17.30 ± 0.80"
  assert study.format_mean_se(study.summarise([None])) == "—"
  assert study.format_mean_se(study.summarise([8, 8, 8])) == "8 ± 0"


def _run(config, points, workdir):
  return study.run_study(train_toy2d.EXPERIMENT, config, points, workdir=workdir, title="t")


@pytest.mark.slow
def test_each_seed_of_a_group_equals_its_lone_run(tmp_path):
  config = tiny_config(seeds=2)
  points = [{"learning_rate": 1e-3}, {"learning_rate": 3e-3}]  # one group, lr traced
  results = _run(config, points, Workdir(tmp_path))
  for row, point in zip(results["points"], points):
    for seed in range(2):
      lone_config = config.copy_and_resolve_references()
      lone_config.update({**point, "seed": seed})
      _, metrics, samples = train_toy2d.train(lone_config, workdir=None)
      swept = np.load(tmp_path / "runs" / row["point"] / f"seed_{seed}" / "samples.npz")["x"]
      np.testing.assert_allclose(swept, samples, rtol=1e-4, atol=1e-4)
      assert row["runs"][seed]["metrics"]["modes"] == metrics["modes"]
    per_seed = [r["metrics"]["high_quality_pct"] for r in row["runs"]]
    assert row["summary"]["high_quality_pct"]["mean"] == pytest.approx(np.mean(per_seed))
    assert row["summary"]["high_quality_pct"]["se"] == pytest.approx(np.std(per_seed, ddof=1) / math.sqrt(2))


def test_a_diverging_run_is_frozen_and_counted_while_its_siblings_finish(tmp_path):
  # kl's conjugate is exp: a critic step of 10 overflows it within a few steps.
  config = tiny_config(divergence="kl", seeds=2)
  results = _run(config, [{"critic_learning_rate": 1e-3}, {"critic_learning_rate": 10.0}],
                 Workdir(tmp_path))
  stable, unstable = results["points"]
  assert stable["diverged"] == 0 and all(r["metrics"] is not None for r in stable["runs"])
  assert unstable["diverged"] == 2
  assert all(r["metrics"] is None and 0 <= r["diverged_at"] < 100 for r in unstable["runs"])
  assert "2/2" in (tmp_path / "results.md").read_text()


class Interrupt(Exception):
  pass


@pytest.mark.slow
def test_a_killed_and_restarted_sweep_ends_with_the_same_results(tmp_path, monkeypatch):
  config = tiny_config(seeds=2)
  points = [{"critic_pack": 1}, {"critic_pack": 2}]  # two groups
  _run(config, points, Workdir(tmp_path / "straight"))

  calls, advance = [], study.Progress.advance
  def interrupting(self, *args, **kwargs):
    calls.append(1)
    if len(calls) == 7:  # in the second group, at step 75: past the checkpoint at 50
      raise Interrupt
    advance(self, *args, **kwargs)
  monkeypatch.setattr(study.Progress, "advance", interrupting)
  with pytest.raises(Interrupt):
    _run(config, points, Workdir(tmp_path / "resumed"))
  monkeypatch.setattr(study.Progress, "advance", advance)
  assert (tmp_path / "resumed" / "groups" / "group_000.json").exists()
  assert not (tmp_path / "resumed" / "groups" / "group_001.json").exists()
  config.checkpoint_every = 25  # a resume may checkpoint more often (the sweep allows it): no number changes
  _run(config, points, Workdir(tmp_path / "resumed"))
  straight, resumed = ((tmp_path / d / "results.json").read_text() for d in ("straight", "resumed"))
  straight, resumed = json.loads(straight), json.loads(resumed)
  assert (straight["protocol"].pop("checkpoint_every"), resumed["protocol"].pop("checkpoint_every")) == (50, 25)
  assert straight == resumed
  # the curves count a re-logged step once
  curves = figures.read_curves(tmp_path / "resumed" / "metrics.jsonl")
  assert sorted(curves["model_loss"][resumed["points"][1]["point"]][0]) == [25, 50, 75, 100]
  figures.plot_curves(curves, tmp_path / "curves.png")
  assert (tmp_path / "curves.png").stat().st_size > 10_000


def test_fit_gaussian_mixture_runs_as_a_study_and_each_seed_equals_its_lone_fit(tmp_path):
  from experiments import fit_gaussian_mixture as fgm
  from experiments.configs.fit_gaussian_mixture import get_config as fgm_config
  config = fgm_config()
  config.update({"seeds": 2, "steps": 200, "log_every": 100, "checkpoint_every": 200,
                 "batch_size": 256})
  results = study.run_study(fgm.EXPERIMENT, config, [{"divergence": "kl"}], workdir=Workdir(tmp_path),
                            title="t")
  (row,) = results["points"]
  mixture = fgm.config_mixture(config)
  for seed, run in enumerate(row["runs"]):
    lone = fitting.train_fit("kl", mixture, steps=200, batch_size=256, seed=seed, log_every=100)
    assert run["metrics"]["mu"] == pytest.approx(float(lone["mu"][0]), abs=1e-5)
    assert run["metrics"]["sigma"] == pytest.approx(lone["sigma"], abs=1e-5)


STUDY_CONFIGS = ["toy2d_sweep.py", "toy2d_seeds.py", "mode_collapse.py:cpu", "mode_collapse.py:pacgan",
                 "mode_collapse_calibration.py", "mode_collapse_beyond.py", "fit_gaussian_mixture.py",
                 "quality_matrix.py", "flow_gan.py", "flow_gan_calibration.py", "toy2d_seeds.py:cpu",
                 "flow_gan_row.py", "nda.py", "nda_flow.py", "pairing.py", "mode_collapse_stabilised.py:cpu",
                 "quality_matrix.py:recipes", "stacked_mnist.py:cpu", "sinkhorn_epsilon.py",
                 "stacked_mnist_transport.py:cpu"]


def test_every_config_file_is_an_experiment_config_or_a_listed_study():
  listed = {spec.partition(":")[0] for spec in STUDY_CONFIGS} | {"train_toy2d.py", "benchmark.py", "__init__.py"}
  assert {p.name for p in pathlib.Path("experiments/configs").glob("*.py")} == listed


@pytest.mark.parametrize("spec", STUDY_CONFIGS)
def test_every_study_config_expands_into_valid_points(spec):
  filename, _, arg = spec.partition(":")
  path = f"experiments/configs/{filename}"
  namespace = runpy.run_path(path)
  config = namespace["get_config"](*([arg] if arg else []))
  experiment, points, published, title = study.load_study(config, path)
  resolved, groups = study.plan(config, points, config.seeds, experiment)
  for point in resolved:
    experiment.validate(point.config)
  assert title and len(groups) >= 1
  if published is not None:
    assert all(len(v) == len(published["columns"]) for v in published["rows"].values())
