"""Default configuration of experiments.train_toy2d (the 2-D ring, a GAN with the JS divergence).

  python -m experiments.train_toy2d --config=experiments/configs/train_toy2d.py \
      --config.divergence=kl --config.dataset=grid --workdir=runs/toy2d
"""

import ml_collections
from ml_collections import config_dict

from gdiv.training import penalties


def get_config() -> ml_collections.ConfigDict:
  config = ml_collections.ConfigDict()
  # Data (VEEGAN, Srivastava et al. 2017; PacGAN, Lin et al. 2018): ring = 8 modes, radius 1, std 0.01 (Unrolled GAN: radius 2,
  # std 0.02); grid = 5×5 modes at {-4, -2, 0, 2, 4}², std 0.05.
  config.dataset = "ring"
  config.ring_radius = 1.0
  config.ring_std = 0.01
  config.grid_std = 0.05
  # Objective and update scheme.
  config.divergence = "js"
  config.generator_loss = "non_saturating"
  config.scheme = "alternating"
  config.n_critic = 1
  # True: the divergence's recipe (gdiv.divergences.Recipe: critic steps, Adam's β, stabilisers)
  # sets the fields it names, unless a study's sweep sets them per point.
  config.use_recipe = False
  # Networks.
  config.generator_hidden = (128, 128, 128)
  config.latent_dim = 2
  config.critic_hidden = (128, 128, 128)
  config.critic_activation = "relu"  # or "maxout" (PacGAN: 5 pieces)
  config.critic_maxout_pieces = 5
  config.critic_spectral_norm = False
  config.critic_pack = 1  # PacGAN: the critic judges m samples at once (m·batch_size points a step)
  config.generator_batch_norm = False
  config.init_std = config_dict.placeholder(float)  # None: Flax's default; PacGAN: N(0, 0.02)
  # None: the divergence's own (10 for wasserstein_gp, 0 otherwise).
  config.gradient_penalty = config_dict.placeholder(float)
  config.r1_penalty = 0.0  # γ of (γ/2)·E_P[‖∇V‖²] (Mescheder et al. 2018)
  config.r2_penalty = 0.0  # γ of (γ/2)·E_Q[‖∇V‖²], on model samples
  config.roth_gamma = 0.0  # γ of Roth et al.'s (γ/2)·E_Q[g_f'² f*''(g_f(V))·‖∇V‖²] (f-divergences)
  config.roth_anneal_steps = 0  # T > 0: γ_t = γ·0.01^{t/T} (Roth et al.'s annealing); 0: constant; -1: T = steps
  config.critic_bound = 0.0  # c > 0: the critic's raw output is c·tanh(V/c); 0: unbounded
  for field in penalties.FIELDS:  # every other registered penalty field (gdiv.training.penalties); 0: off
    if field not in config:
      config[field] = 0.0
  # Distances between batches (gdiv.divergences.transport); None: the divergence's own default.
  config.sinkhorn_epsilon = config_dict.placeholder(float)  # sinkhorn's absolute ε (default 0.1)
  config.transport_power = config_dict.placeholder(int)  # p of the cost ‖x − y‖^p, 1 or 2 (default 2)
  config.projections = config_dict.placeholder(int)  # sliced_wasserstein's directions per batch (default 64)
  # Optimisation: Adam for both players.
  config.learning_rate = 2e-4
  config.critic_learning_rate = 2e-4
  config.beta1 = 0.5
  config.beta2 = 0.999
  config.learning_rate_schedule = "constant"  # "linear" | "cosine": both step sizes decay to 0 at config.steps
  config.average_decay = 0.0  # β > 0: evaluate, sample and report the model's iterate average (training.averaged)
  config.average_start = 0  # the update after which the average starts (before it: the iterate)
  config.batch_size = 256
  config.steps = 10_000
  # Devices: True splits each batch over all visible devices (jax.sharding, 'data' axis).
  config.data_parallel = False
  # Robustness.
  config.skip_nonfinite_updates = False  # True: skip updates with non-finite gradients and go on
  config.log_every = 500
  config.checkpoint_every = 1000
  config.keep_checkpoints = 3
  # Evaluation (VEEGAN / PacGAN protocol).
  config.eval_samples = 2500
  config.sample_figure_every = 0  # > 0: samples/step_N.png every N steps
  config.seed = 0
  return config
