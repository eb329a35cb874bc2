"""Gaussian fits to a 1-D mixture under every f-divergence and mle, over seeds (f-GAN, Section 4).

  python -m experiments.sweep --config=experiments/configs/fit_gaussian_mixture.py \
      --workdir=runs/fit_gaussian_mixture_seeds

The main job (experiments.fit_gaussian_mixture) as a study: each divergence a point,
5 seeds each, μ̂, σ̂ and their distance to the exact best fit as mean ± s.e.
"""

import ml_collections

from gdiv.fitting import study_divergences


def get_config():
  config = ml_collections.ConfigDict()
  config.experiment = "fit_gaussian_mixture"
  config.seeds = 5
  config.seed = 0
  config.divergence = "kl"
  config.mixture_weights = (0.7, 0.3)
  config.mixture_means = (-1.0, 1.2)
  config.mixture_stds = (0.5, 1.0)
  config.steps = 10_000
  config.batch_size = 1024
  config.learning_rate = 0.01
  config.critic_learning_rate = 0.03
  config.critic_hidden = (64, 64)
  config.n_critic = 1
  config.scheme = "simultaneous"
  config.generator_loss = "saddle"
  config.log_every = 500
  config.checkpoint_every = 5000
  return config


def get_hyper(h):
  return h.sweep("config.divergence", study_divergences())
