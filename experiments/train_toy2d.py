r"""Train a generator on the 2-D ring or grid under any divergence, with mode-collapse metrics.

  python -m experiments.train_toy2d --workdir=runs/toy2d
  python -m experiments.train_toy2d --config=experiments/configs/train_toy2d.py \
      --config.divergence=kl --config.dataset=grid --workdir=runs/toy2d_grid_kl

The configuration is an ml_collections file (`--config`, fields overridden with
`--config.FIELD=VALUE`); `--workdir` is a plain flag. The run checkpoints the
whole TrainState (parameters, optimizer states, step, PRNG key, from which the
data stream is drawn) every `checkpoint_every` steps and at the end, and
started again with the same --workdir it resumes from the newest checkpoint,
continuing bit for bit as if it had never stopped. A non-finite loss,
gradient or parameter stops it with the divergence, the step and the last good
checkpoint named. It writes config.json, metrics.jsonl, tensorboard/,
checkpoints/, results.json, results.md, samples.npz and samples.png.

Expected with the defaults (ring, js, non-saturating, 10,000 steps, under a
minute on a 2-core CPU): 8 / 8 modes, 94.8 % high-quality samples, reverse KL
0.003 (seed 0, measured here). GAN baselines on the ring are
implementation-sensitive (PacGAN reports 6.3 modes, VEEGAN 1), so compare
divergences under one protocol.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from absl import flags
from ml_collections import config_flags

from gdiv import cli, divergences, sharding, study, training
from gdiv.data import GaussianMixture, grid, ring
from gdiv.evaluation import mode_metrics
from gdiv.models import MLPCritic, MLPGenerator
from gdiv.runner import check_schedule, run_training
from gdiv.workdir import RESUMABLE_EVERYWHERE, Workdir

FLAGS = flags.FLAGS
DEFAULT_CONFIG = "experiments/configs/train_toy2d.py"
DATASETS = ("ring", "grid")
# Fields that may change when a run resumes: extending a run is fine, and the others change no number
# it computes (resume is bitwise); changing its model is not.
RESUMABLE_CHANGES = ("steps", "log_every", "eval_samples", "data_parallel", "sample_figure_every",
                     *RESUMABLE_EVERYWHERE)
# Fields that keep shapes: one vmapped program trains runs that differ in them (gdiv.study).
SWEEPABLE = ("learning_rate", "critic_learning_rate", "beta1", "beta2", "gradient_penalty",
             *training.stabilisers(), "sinkhorn_epsilon")


# The smallest run ({workdir}: where it writes) and flags it must refuse, with the words the
# error must contain: tests/test_experiments.py runs both for every experiment.
SMOKE_FLAGS = ("--config.steps=20", "--config.log_every=10", "--config.checkpoint_every=20",
               "--config.eval_samples=100", "--workdir={workdir}")
BAD_FLAGS = (
    ("--config.steps=10", "past --config.steps=10: pass --config.steps=20 or more"),
    ("--config.learning_rat=0.1", 'Did you mean "learning_rate" instead of "learning_rat"?'),
    ("--config.learning_rate=-1", "config.learning_rate must be > 0"),
    ("--config.divergence=mle", "this experiment trains an implicit generator (MLPGenerator): choose a critic-based"),
    ("--config.divergence=jss", "Unknown divergence 'jss' (did you mean 'js'?)"),
    ("--config.dataset=spiral", "config.dataset='spiral' is unknown; choose one of ring, grid"),
    ("--config.checkpoint_every=15", "checkpoint_every (15) must be a multiple of log_every (10)"),
    ("--config.generator_hidden=16,16", "another configuration (generator_hidden"),
)


def define_flags():
  """Define the command-line flags (only when run as a program, so tests can import this module)."""
  config_flags.DEFINE_config_file("config", DEFAULT_CONFIG, "Configuration file (ml_collections).",
                                  lock_config=True)
  flags.DEFINE_string("workdir", "runs/train_toy2d", "Output directory; a rerun resumes from it.")


def validate(config: ml_collections.ConfigDict) -> None:
  """Raise ValueError naming the field and the fix, before anything is built or compiled."""
  if config.dataset not in DATASETS:
    raise ValueError(f"config.dataset={config.dataset!r} is unknown; choose one of {', '.join(DATASETS)}.")
  if divergences.get(config.divergence).needs_log_prob:  # unknown names list the known ones
    raise ValueError(f"config.divergence={config.divergence!r} needs the model density log q(x), but this "
                     "experiment trains an implicit generator (MLPGenerator): choose a critic-based "
                     "divergence such as js, kl or wasserstein_gp (or the critic-free mmd); likelihoods are trained in "
                     "experiments.fit_gaussian_mixture and the quality_matrix study.")
  for field in ("learning_rate", "critic_learning_rate", "ring_radius", "ring_std", "grid_std"):
    if not config[field] > 0:
      raise ValueError(f"config.{field} must be > 0; got {config[field]}.")
  for field in ("beta1", "beta2"):
    if not 0 <= config[field] < 1:
      raise ValueError(f"config.{field} must be in [0, 1); got {config[field]}.")
  for field in ("batch_size", "steps", "eval_samples", "latent_dim", "log_every",
                "checkpoint_every", "keep_checkpoints"):
    if not isinstance(config[field], int) or config[field] < 1:
      raise ValueError(f"config.{field} must be a positive integer; got {config[field]!r}.")
  if config.init_std is not None and not config.init_std > 0:
    raise ValueError(f"config.init_std must be > 0 (or None for Flax's default); got {config.init_std}.")
  for field in ("n_critic", "critic_pack", "critic_maxout_pieces"):
    if not isinstance(config[field], int) or config[field] < 1:
      raise ValueError(f"config.{field} must be an integer ≥ 1; got {config[field]!r}.")
  for field in training.stabilisers():
    if not config[field] >= 0:
      raise ValueError(f"config.{field} must be ≥ 0; got {config[field]}.")
  if not isinstance(config.roth_anneal_steps, int) or config.roth_anneal_steps < -1:
    raise ValueError(f"config.roth_anneal_steps must be an integer ≥ -1 (-1: config.steps); got "
                     f"{config.roth_anneal_steps!r}.")
  if config.gradient_penalty is not None and not config.gradient_penalty >= 0:
    raise ValueError(f"config.gradient_penalty must be ≥ 0 (or None for the divergence's own); "
                     f"got {config.gradient_penalty}.")
  if not isinstance(config.sample_figure_every, int) or config.sample_figure_every < 0:
    raise ValueError("config.sample_figure_every must be an integer ≥ 0 (0: no figures); "
                     f"got {config.sample_figure_every!r}.")
  check_schedule(config.steps, config.log_every, config.checkpoint_every)
  make_trainer(config)  # checks the model/divergence pairing and the options; compiles nothing


def dataset(config) -> GaussianMixture:
  if config.dataset == "ring":
    return ring(radius=config.ring_radius, std=config.ring_std)
  return grid(std=config.grid_std)


def make_trainer(config, **hparams) -> training.Trainer:
  """The generator, the critic (if the divergence has one) and their optimizers, per config.

  hparams: traced values of SWEEPABLE fields, one program training several runs (gdiv.study).
  """
  critic = MLPCritic(tuple(config.critic_hidden), config.critic_activation,
                     spectral_norm=config.critic_spectral_norm, pack=config.critic_pack,
                     maxout_pieces=config.critic_maxout_pieces, init_std=config.init_std)
  return training.trainer_from_config(config, generator(config), critic,
                                      hparams=hparams)


def generator(config) -> MLPGenerator:
  return MLPGenerator(dim=2, hidden=tuple(config.generator_hidden), latent_dim=config.latent_dim,
                      batch_norm=config.generator_batch_norm, init_std=config.init_std)


def data(config):
  """(sample_batch(key) -> a batch of the ring or grid, example batch).

  batch_size counts the critic's inputs: with packing m each is m points, so a
  batch holds m·batch_size data points and as many samples (PacGAN's convention).
  """
  mixture, points = dataset(config), config.batch_size * config.critic_pack
  return lambda key: mixture.sample(key, points), jnp.zeros((points, 2), jnp.float32)


def evaluate(config, trainer: training.Trainer, state: training.TrainState):
  """Mode metrics of `eval_samples` generator samples (VEEGAN / PacGAN protocol), and the samples."""
  samples = np.asarray(trainer.sample(state, jax.random.key(config.seed + 1), config.eval_samples))
  mixture = dataset(config)
  metrics = mode_metrics(samples, mixture.means, mixture.stds)
  return {"modes": metrics["modes"], "high_quality_pct": 100 * metrics["high_quality"],
          "reverse_kl": metrics["reverse_kl"]}, samples


def study_figure(path, points, rows) -> None:
  """Samples of every run of a study: rows = points, columns = seeds, over the true modes."""
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  seeds = max(len(r["runs"]) for r in rows)
  fig, axes = plt.subplots(len(rows), seeds, figsize=(1.9 * seeds, 1.9 * len(rows)), squeeze=False)
  for ax_row, point, row in zip(axes, points, rows):
    mixture = dataset(point.config)
    for ax, run in zip(ax_row, row["runs"]):
      npz = path.parent / "runs" / point.label / f"seed_{run['seed']}" / "samples.npz"
      if npz.exists():
        x = np.load(npz)["x"]
        ax.scatter(x[:, 0], x[:, 1], s=0.5, alpha=0.3, color="tab:blue", rasterized=True)
      ax.scatter(mixture.means[:, 0], mixture.means[:, 1], s=6, marker="x", color="k", lw=0.6)
      m = run["metrics"]
      ax.set_title("diverged" if m is None else
                   f"{m['modes']:.0f} modes, {m['high_quality_pct']:.0f}%", fontsize=6)
      lim = 1.25 * float(np.abs(mixture.means).max()) + 0.3
      ax.set(xlim=(-lim, lim), ylim=(-lim, lim), xticks=[], yticks=[], aspect="equal")
    named = [point.config.get(field) for field in ("candidate", "label")]  # protocol, row
    label = ", ".join(filter(None, named)) or ", ".join(f"{k}={v}" for k, v in point.values.items())
    ax_row[0].set_ylabel(label, fontsize=6)
  for ax, seed in zip(axes[0], range(seeds)):
    ax.set_title(f"seed {seed}\n" + ax.get_title(), fontsize=6)
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  plt.close(fig)


EXPERIMENT = study.Experiment(sweepable=SWEEPABLE, validate=validate, make_trainer=make_trainer,
                              data=data, evaluate=evaluate, figure=study_figure,
                              recipe=training.recipe_fields)


def train(config, workdir: Workdir | None, on_state=None):
  """Train per config; returns (state, evaluation metrics, samples)."""
  validate(config)
  trainer = make_trainer(config)
  sample_batch, example_batch = data(config)
  state, _ = run_training(
      trainer, sample_batch, steps=config.steps, example_batch=example_batch, seed=config.seed,
      workdir=workdir, log_every=config.log_every, checkpoint_every=config.checkpoint_every,
      keep_checkpoints=config.keep_checkpoints,
      allow_nonfinite_updates=config.skip_nonfinite_updates,
      mesh=sharding.make_mesh() if config.data_parallel else None, on_state=on_state)
  metrics, samples = evaluate(config, trainer, state)
  return state, metrics, samples


def results_table(config, metrics: dict, num_modes: int) -> str:
  return "\n".join([
      f"# {config.dataset}: generator trained with {config.divergence}", "",
      f"{config.steps} steps, batch {config.batch_size}, {config.scheme} updates "
      f"(n_critic {config.n_critic}), generator loss {config.generator_loss}, Adam "
      f"lr {config.learning_rate:g}/{config.critic_learning_rate:g}, β1 {config.beta1:g}, "
      f"β2 {config.beta2:g}; "
      f"metrics on {config.eval_samples} samples (VEEGAN/PacGAN protocol, threshold 3σ).", "",
      "| divergence | modes | high-quality | reverse KL |", "|---|---|---|---|",
      f"| {config.divergence} | {metrics['modes']} / {num_modes} | {metrics['high_quality_pct']:.1f} % "
      f"| {metrics['reverse_kl']:.3f} |", ""])


def plot_samples(path, mixture: GaussianMixture, samples: np.ndarray, title: str) -> None:
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  fig, ax = plt.subplots(figsize=(5, 5))
  ax.scatter(samples[:, 0], samples[:, 1], s=3, alpha=0.4, label="samples")
  ax.scatter(mixture.means[:, 0], mixture.means[:, 1], marker="x", color="k", label="modes")
  ax.set_aspect("equal")
  ax.set_title(title)
  ax.legend(loc="upper right", fontsize=8)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def main(argv):
  del argv
  config = FLAGS.config
  config.update(training.recipe_fields(config))  # --config.use_recipe: the divergence's recipe
  validate(config)
  workdir = Workdir(FLAGS.workdir)
  # a decaying step size is a function of config.steps: such a run cannot be extended
  resumable = tuple(f for f in RESUMABLE_CHANGES
                    if f != "steps" or config.learning_rate_schedule == "constant")
  cli.check_resume(workdir, config.to_dict(), config.steps, "--config.steps", may_differ=resumable)
  workdir.write_config(config.to_dict())
  mixture = dataset(config)
  _, metrics, samples = train(config, workdir, on_state=sample_figures(config, workdir, mixture))
  workdir.save_samples(samples)
  if sharding.is_writer():
    plot_samples(workdir.path / "samples.png", mixture, samples,
                 f"{config.dataset}, {config.divergence}: {metrics['modes']} modes")
  workdir.write_results({"divergence": config.divergence, "dataset": config.dataset,
                         "steps": config.steps, "num_modes": mixture.num_components, **metrics},
                        results_table(config, metrics, mixture.num_components))


def sample_figures(config, workdir: Workdir, mixture: GaussianMixture):
  """A callback drawing samples/step_N.png every `sample_figure_every` steps (None if 0)."""
  if not config.sample_figure_every:
    return None
  trainer = make_trainer(config)

  def draw(state):
    step = int(state.step)
    if step % config.sample_figure_every == 0:  # every process samples (the state spans them all)
      samples = np.asarray(trainer.sample(state, jax.random.key(config.seed + 1), config.eval_samples))
      if not sharding.is_writer():
        return
      (workdir.path / "samples").mkdir(exist_ok=True)
      plot_samples(workdir.path / "samples" / f"step_{step:07d}.png", mixture, samples,
                   f"{config.dataset}, {config.divergence}, step {step}")
  return draw


if __name__ == "__main__":
  cli.run(define_flags, main)
