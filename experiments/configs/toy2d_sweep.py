"""Divergence × critic packing on the 2-D ring, with two model learning rates.

  python -m experiments.sweep --config=experiments/configs/toy2d_sweep.py --workdir=runs/toy2d_sweep

An example study for the sweep runner (experiments.sweep): 3 divergences (WGAN-GP with
its saddle generator loss, the f-divergences non-saturating) × packing
m ∈ {1, 2} × 2 learning rates × 5 seeds. The two learning rates of a
(divergence, packing) pair train as one vmapped program with the seeds (10 runs).
"""

from experiments.configs import train_toy2d


def get_config():
  config = train_toy2d.get_config()
  config.experiment = "train_toy2d"
  config.seeds = 5
  config.steps = 5000
  config.checkpoint_every = 1000
  return config


def get_hyper(h):
  return h.product([
      h.zipit([h.sweep("config.divergence", ["js", "kl", "wasserstein_gp"]),
               h.sweep("config.generator_loss", ["non_saturating", "non_saturating", "saddle"])]),
      h.sweep("config.critic_pack", [1, 2]),
      h.sweep("config.learning_rate", [2e-4, 1e-3]),
  ])
