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
import optax
from absl import flags
from ml_collections import config_flags

from experiments import common
from gdiv import divergences, sharding, training
from gdiv.data import GaussianMixture, grid, ring
from gdiv.evaluation import mode_metrics
from gdiv.models import MLPCritic, MLPGenerator
from gdiv.runner import run_training
from gdiv.workdir import Workdir

FLAGS = flags.FLAGS
DEFAULT_CONFIG = "experiments/configs/train_toy2d.py"
DATASETS = ("ring", "grid")
# Fields that may change when a run resumes (extending a run is fine; changing its model is not).
RESUMABLE_CHANGES = ("steps", "log_every", "eval_samples", "data_parallel")


def define_flags():
  """Define the command-line flags (only when run as a program, so tests can import this module)."""
  config_flags.DEFINE_config_file("config", DEFAULT_CONFIG, "Configuration file (ml_collections).",
                                  lock_config=True)
  flags.DEFINE_string("workdir", "runs/train_toy2d", "Output directory; a rerun resumes from it.")


def validate(config: ml_collections.ConfigDict) -> None:
  """Raise ValueError naming the field and the fix, before anything is built or compiled."""
  if config.dataset not in DATASETS:
    raise ValueError(f"config.dataset={config.dataset!r} is unknown; choose one of {', '.join(DATASETS)}.")
  divergences.get(config.divergence)  # unknown names list the known ones
  for field in ("learning_rate", "critic_learning_rate", "ring_radius", "ring_std", "grid_std"):
    if not config[field] > 0:
      raise ValueError(f"config.{field} must be > 0; got {config[field]}.")
  if not 0 <= config.beta1 < 1:
    raise ValueError(f"config.beta1 must be in [0, 1); got {config.beta1}.")
  for field in ("batch_size", "steps", "eval_samples", "latent_dim", "log_every",
                "checkpoint_every", "keep_checkpoints"):
    if not isinstance(config[field], int) or config[field] < 1:
      raise ValueError(f"config.{field} must be a positive integer; got {config[field]!r}.")
  if not isinstance(config.n_critic, int) or config.n_critic < 1:
    raise ValueError(f"config.n_critic must be an integer ≥ 1; got {config.n_critic!r}.")


def dataset(config) -> GaussianMixture:
  if config.dataset == "ring":
    return ring(radius=config.ring_radius, std=config.ring_std)
  return grid(std=config.grid_std)


def make_trainer(config) -> training.Trainer:
  """The generator, the critic (if the divergence has one) and their optimizers, per config."""
  def optimizer(learning_rate):
    opt = optax.adam(learning_rate, b1=config.beta1)
    return optax.apply_if_finite(opt, max_consecutive_errors=100) if config.skip_nonfinite_updates else opt

  divergence = divergences.get(config.divergence)
  uses_critic = divergence.needs_critic
  return training.make_trainer(
      MLPGenerator(dim=2, hidden=tuple(config.generator_hidden), latent_dim=config.latent_dim),
      divergence, model_optimizer=optimizer(config.learning_rate),
      critic=MLPCritic(tuple(config.critic_hidden), config.critic_activation) if uses_critic else None,
      critic_optimizer=optimizer(config.critic_learning_rate) if uses_critic else None,
      n_critic=config.n_critic, scheme=config.scheme,
      generator_loss=config.generator_loss if uses_critic else "saddle")


def train(config, workdir: Workdir | None):
  """Train per config; returns (state, mode metrics of `eval_samples` generator samples, samples)."""
  validate(config)
  data = dataset(config)
  trainer = make_trainer(config)
  state, _ = run_training(
      trainer, lambda key: data.sample(key, config.batch_size), steps=config.steps,
      example_batch=jnp.zeros((config.batch_size, 2)), seed=config.seed, workdir=workdir,
      log_every=config.log_every, checkpoint_every=config.checkpoint_every,
      keep_checkpoints=config.keep_checkpoints,
      allow_nonfinite_updates=config.skip_nonfinite_updates,
      mesh=sharding.make_mesh() if config.data_parallel else None)
  model = MLPGenerator(dim=2, hidden=tuple(config.generator_hidden), latent_dim=config.latent_dim)
  samples = np.asarray(model.apply(state.model_params, jax.random.key(config.seed + 1),
                                   config.eval_samples, method=model.sample))
  return state, mode_metrics(samples, data.means, data.stds), samples


def results_table(config, metrics: dict, num_modes: int) -> str:
  return "\n".join([
      f"# {config.dataset}: generator trained with {config.divergence}", "",
      f"{config.steps} steps, batch {config.batch_size}, {config.scheme} updates "
      f"(n_critic {config.n_critic}), generator loss {config.generator_loss}, Adam "
      f"lr {config.learning_rate:g}/{config.critic_learning_rate:g}, β1 {config.beta1:g}; "
      f"metrics on {config.eval_samples} samples (VEEGAN/PacGAN protocol, threshold 3σ).", "",
      "| divergence | modes | high-quality | reverse KL |", "|---|---|---|---|",
      f"| {config.divergence} | {metrics['modes']} / {num_modes} | {100 * metrics['high_quality']:.1f} % "
      f"| {metrics['reverse_kl']:.3f} |", ""])


def plot_samples(path, data: GaussianMixture, samples: np.ndarray, title: str) -> None:
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  fig, ax = plt.subplots(figsize=(5, 5))
  ax.scatter(samples[:, 0], samples[:, 1], s=3, alpha=0.4, label="samples")
  ax.scatter(data.means[:, 0], data.means[:, 1], marker="x", color="k", label="modes")
  ax.set_aspect("equal")
  ax.set_title(title)
  ax.legend(loc="upper right", fontsize=8)
  fig.tight_layout()
  fig.savefig(path, dpi=110)
  plt.close(fig)


def main(argv):
  del argv
  config = FLAGS.config
  validate(config)
  workdir = Workdir(FLAGS.workdir, resume=True)
  workdir.check_config(config.to_dict(), may_differ=RESUMABLE_CHANGES)
  workdir.write_json("config.json", config.to_dict())
  _, metrics, samples = train(config, workdir)
  data = dataset(config)
  workdir.save_samples(samples)
  plot_samples(workdir.path / "samples.png", data, samples,
               f"{config.dataset}, {config.divergence}: {metrics['modes']} modes")
  workdir.write_results({"divergence": config.divergence, "dataset": config.dataset,
                         "steps": config.steps, "num_modes": data.num_components, **metrics},
                        results_table(config, metrics, data.num_components))


if __name__ == "__main__":
  common.run(define_flags, main)
