"""A divergence and a model family written in a user's file, outside the package, reach every
command line through --import: checked by experiments.check, trained and scored in a study row,
and imported again from config.json when the run is resumed."""

import json
import subprocess
import sys
import textwrap

import pytest

from gdiv import divergences, models, plugins, study

PLUGIN = textwrap.dedent('''
    """A user's divergence and model family."""
    import math
    from typing import ClassVar

    import flax.linen as nn
    import jax
    import jax.numpy as jnp

    from gdiv import divergences, models

    divergences.register(divergences.FDivergence(           # Pearson χ² again, under a new name
        name="user_pearson", f=lambda u: (u - 1.0) ** 2, conjugate=lambda t: 0.25 * t**2 + t,
        activation=lambda v: v, conjugate_activation=lambda v: 0.25 * v**2 + v,
        f_domain=(-math.inf, math.inf)))

    divergences.register(divergences.FDivergence(           # reverse KL with the sign of t flipped in f*
        name="user_wrong_reverse_kl", f=lambda u: -jnp.log(u), conjugate=lambda t: -1.0 - jnp.log(t),
        activation=lambda v: -jnp.exp(-v), conjugate_activation=lambda v: v - 1.0))


    class Laplace(models.Model):
      has_log_prob: ClassVar[bool] = True
      differentiable_samples: ClassVar[bool] = True

      def setup(self):
        self.loc = self.param("loc", nn.initializers.zeros, (self.dim,))
        self.log_scale = self.param("log_scale", nn.initializers.zeros, (self.dim,))

      def sample(self, key, n):
        return self.loc + jnp.exp(self.log_scale) * jax.random.laplace(key, (n, self.dim))

      def log_prob(self, x):
        return jnp.sum(-jnp.abs(x - self.loc) * jnp.exp(-self.log_scale) - self.log_scale - math.log(2.0), -1)


    models.register("user_laplace", Laplace)
''')


def _run(*args, cwd=None):
  return subprocess.run([sys.executable, "-m", *args], capture_output=True, text=True, timeout=300, cwd=cwd)


@pytest.fixture(autouse=True)
def registries_as_they_were(monkeypatch):
  """What a test's plugins register stays in that test: the next test in this process (an
  unknown-name message listing every registered divergence) sees gdiv's own names only."""
  for module, name in ((divergences.registry, "_REGISTRY"), (models, "_FAMILIES"), (study, "_EXPERIMENTS"),
                       (plugins, "_LOADED")):
    monkeypatch.setattr(module, name, dict(getattr(module, name)))


@pytest.fixture
def plugin(tmp_path):
  path = tmp_path / "elsewhere" / "my_gdiv_plugin.py"
  path.parent.mkdir()
  path.write_text(PLUGIN)
  return path


@pytest.mark.slow
def test_user_code_passes_check_and_the_command_line_names_a_wrong_conjugate(plugin):
  plugins.load(str(plugin))  # in this process, as --import does in every entry point
  assert len(divergences.check("user_pearson")) == 12
  assert len(models.check("user_laplace")) == 7
  wrong = _run("experiments.check", f"--import={plugin}", "--divergences=user_wrong_reverse_kl")
  (fatal,) = [line for line in wrong.stderr.splitlines() if line.startswith("FATAL")]
  assert wrong.returncode == 1 and "Traceback" not in wrong.stderr
  assert fatal.startswith("FATAL DivergenceCheckError: Divergence 'user_wrong_reverse_kl' fails "
                          "conjugate_is_sup: f*(t) = nan but sup_u {u·t - f(u)} = -4 at t = -20.0855"), fatal


@pytest.mark.slow
def test_a_study_row_with_a_user_family_and_divergence_runs_and_resumes_without_the_flag(plugin, tmp_path):
  workdir = tmp_path / "run"
  row = ("experiments.sweep", "--config=experiments/configs/pairing.py", "--config.model=user_laplace",
         "--config.divergence=user_pearson", "--config.seeds=2", "--config.steps=40",
         "--config.log_every=20", "--config.checkpoint_every=20", "--config.eval_samples=500",
         f"--workdir={workdir}")
  first = _run(*row, f"--import={plugin}")
  assert first.returncode == 0, first.stderr[-3000:]
  assert "| 0/2 |" in first.stdout  # the table: both seeds finished, none diverged
  assert json.loads((workdir / "config.json").read_text())["imports"] == [str(plugin)]
  again = _run(*row)  # no --import: config.json brings the plugin back
  assert again.returncode == 0, again.stderr[-3000:]
  assert (workdir / "results.md").read_text() in again.stdout


def test_a_plugin_that_fails_is_one_line_naming_it(tmp_path):
  broken = tmp_path / "broken.py"
  broken.write_text("raise RuntimeError('the user code is broken')\n")
  with pytest.raises(plugins.PluginError, match=f"--import={broken} failed while importing: "
                                                "RuntimeError: the user code is broken"):
    plugins.load(str(broken))
  with pytest.raises(plugins.PluginError, match="it imports 'no_such_dependency', which is not installed"):
    (tmp_path / "needs.py").write_text("import no_such_dependency\n")
    plugins.load(str(tmp_path / "needs.py"))
  assert str(broken) not in plugins.loaded()


STUDY_PLUGIN = textwrap.dedent('''
    """A user's ablation: train_toy2d's experiment, scored by one metric of its own."""
    from experiments import train_toy2d
    from gdiv import study

    def evaluate(config, trainer, state):
      metrics, samples = train_toy2d.evaluate(config, trainer, state)
      return {"modes_seen": metrics["modes"]}, samples

    study.register_experiment("user_toy2d", train_toy2d.EXPERIMENT._replace(evaluate=evaluate, figure=None))
''')


def test_a_study_registered_in_a_users_file_runs_through_import_without_a_fork(tmp_path):
  from entry_points import in_process
  path = tmp_path / "my_study.py"
  path.write_text(STUDY_PLUGIN)
  argv = [f"--import={path}", "--config=experiments/configs/toy2d_seeds.py", "--config.experiment=user_toy2d",
          "--config.seeds=1", "--config.steps=20", "--config.log_every=10", "--config.eval_samples=100",
          f"--workdir={tmp_path / 'run'}"]
  finished = in_process("sweep", [*argv, "--config.checkpoint_every=20"])
  assert finished.returncode == 0, finished.stderr[-3000:]
  results = json.loads((tmp_path / "run" / "results.json").read_text())
  assert list(results["points"][0]["summary"]) == ["modes_seen"]  # its own evaluation, nothing else
  # a rerun may checkpoint more often (no number changes), not train longer
  assert in_process("sweep", [*argv, "--config.checkpoint_every=10"]).returncode == 0
  assert json.loads((tmp_path / "run" / "results.json").read_text())["points"] == results["points"]
  longer = in_process("sweep", [*argv, "--config.checkpoint_every=10", "--config.steps=40"])
  assert longer.returncode == 1 and "(config.steps: 20 → 40)" in longer.stderr, longer.stderr[-2000:]
