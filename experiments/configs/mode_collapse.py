"""Mode collapse on the 2-D ring and grid: every divergence beside PacGAN's published rows.

  python -m experiments.sweep --config=experiments/configs/mode_collapse.py:cpu \
      --config.dataset=grid --workdir=runs/mode_collapse_grid_cpu
  python -m experiments.sweep --config=experiments/configs/mode_collapse.py:pacgan \
      --config.dataset=grid --config.seeds=10 --workdir=runs/mode_collapse_grid_pacgan

Two protocols (the part after the colon), never mixed in one table:
  pacgan: PacGAN's exact setup (Lin et al. 2018, from their configs): G 4×400
    ReLU + batch norm, D 3×200 maxout with 5 pieces, weights N(0, 0.02), Adam
    1e-4 with β1 0.8 for both players, 100 critic inputs per step (PacGANm: 100
    packs of m samples), non-saturating loss, 400,000 steps. A GPU job.
  cpu: a calibrated protocol for a full ring + grid table, 5 seeds, within an
    hour on a 2-core CPU (docs/mode_collapse.md): smaller networks, a larger
    step size decayed linearly to zero (samples sharpen as it decays), fewer steps.
Rows: the non-saturating GAN (`js`), PacGAN2–4 (the same with the critic
packed), `kl`, `reverse_kl`, `pearson`, `squared_hellinger` (non-saturating
f-GAN losses), `wasserstein_gp` and `hinge` (their own generator losses), and
PacGAN4 with an R1 penalty on the critic (γ = 0.1, Mescheder et al. 2018). Metrics (VEEGAN / PacGAN): modes captured, high-quality
samples (within 3σ of a mode), reverse KL of the mode histogram, on 2,500 samples.
Then every f-divergence row again with Roth et al.'s regulariser, γ = 0.1 annealed to γ/100 over
the run (reverse_kl with its saddle loss; kl once more with its critic bounded, c = 10);
configs/mode_collapse_stabilised.py runs those alone. Last, the GAN row sampled from an
exponential moving average of its generator (β = 0.999; gdiv.training.averaged), "GAN + EMA".
"""

from experiments.configs import train_toy2d

# (label, divergence, generator loss, packing m, R1 penalty γ, Roth γ, critic bound c)
ROWS = (
    ("GAN", "js", "non_saturating", 1, 0.0, 0.0, 0.0),
    ("PacGAN2", "js", "non_saturating", 2, 0.0, 0.0, 0.0),
    ("PacGAN3", "js", "non_saturating", 3, 0.0, 0.0, 0.0),
    ("PacGAN4", "js", "non_saturating", 4, 0.0, 0.0, 0.0),
    ("kl", "kl", "non_saturating", 1, 0.0, 0.0, 0.0),
    ("reverse_kl", "reverse_kl", "non_saturating", 1, 0.0, 0.0, 0.0),
    ("pearson", "pearson", "non_saturating", 1, 0.0, 0.0, 0.0),
    ("squared_hellinger", "squared_hellinger", "non_saturating", 1, 0.0, 0.0, 0.0),
    ("wasserstein_gp", "wasserstein_gp", "saddle", 1, 0.0, 0.0, 0.0),
    ("hinge", "hinge", "saddle", 1, 0.0, 0.0, 0.0),
    ("PacGAN4 + R1", "js", "non_saturating", 4, 0.1, 0.0, 0.0),
)
# Each f-divergence row again with Roth et al.'s regulariser (γ = 0.1, annealed as theirs to γ/100
# over the run), reverse_kl with its own saddle loss: its non-saturating loss E_Q[e^{-V}] explodes
# wherever the model has mass and the data none (docs/stabilisers.md).
ROTH_GAMMA = 0.1
# kl also with its critic bounded (c = 10): its e^{v-1} is Roth's weight too, and one grid seed of
# kl + Roth still diverged.
STABILISED_ROWS = (
    ("GAN + Roth", "js", "non_saturating", 1, 0.0, ROTH_GAMMA, 0.0),
    ("kl + Roth", "kl", "non_saturating", 1, 0.0, ROTH_GAMMA, 0.0),
    ("kl + Roth + bound", "kl", "non_saturating", 1, 0.0, ROTH_GAMMA, 10.0),
    ("reverse_kl (saddle) + Roth", "reverse_kl", "saddle", 1, 0.0, ROTH_GAMMA, 0.0),
    ("pearson + Roth", "pearson", "non_saturating", 1, 0.0, ROTH_GAMMA, 0.0),
    ("squared_hellinger + Roth", "squared_hellinger", "non_saturating", 1, 0.0, ROTH_GAMMA, 0.0),
)
AVERAGE_DECAY = 0.999  # the EMA row's β: about the last 1,000 updates (uniform over the first 1,000)
FIELDS = ("label", "divergence", "generator_loss", "critic_pack", "r1_penalty", "roth_gamma", "critic_bound")

PROTOCOLS = {
    "pacgan": dict(generator_hidden=(400, 400, 400, 400), generator_batch_norm=True,
                   critic_hidden=(200, 200, 200), critic_activation="maxout", critic_maxout_pieces=5,
                   init_std=0.02, learning_rate=1e-4, critic_learning_rate=1e-4, beta1=0.8,
                   batch_size=100, steps=400_000, learning_rate_schedule="constant", log_every=10_000,
                   checkpoint_every=50_000, seeds=10),
    "cpu": dict(generator_hidden=(64, 64, 64), critic_hidden=(64, 64, 64),
                learning_rate=1e-3, critic_learning_rate=1e-3, beta1=0.5, batch_size=256,
                steps=20_000, learning_rate_schedule="linear", log_every=1000, checkpoint_every=5000,
                seeds=5),
}

# PacGAN Table 1 (Lin et al. 2018; 10 trials, mean ± s.e.) and VEEGAN Table 1 (Srivastava et al. 2017; 5 runs).
PUBLISHED = {
    "ring": {"GAN": ("6.3 ± 0.5", "98.2 ± 0.2", "0.45 ± 0.09"),
             "ALI": ("6.6 ± 0.3", "97.6 ± 0.4", "0.36 ± 0.04"),
             "PacGAN2": ("7.9 ± 0.1", "95.6 ± 2.0", "0.07 ± 0.03"),
             "PacGAN3": ("7.8 ± 0.1", "97.7 ± 0.3", "0.10 ± 0.02"),
             "PacGAN4": ("7.8 ± 0.1", "95.9 ± 1.4", "0.07 ± 0.02"),
             "VEEGAN: GAN": ("1", "99.3", "—"), "VEEGAN: Unrolled GAN": ("7.6", "35.6", "—"),
             "VEEGAN: VEEGAN": ("8", "52.9", "—")},
    "grid": {"GAN": ("17.3 ± 0.8", "94.8 ± 0.7", "0.70 ± 0.07"),
             "ALI": ("24.1 ± 0.4", "95.7 ± 0.6", "0.14 ± 0.03"),
             "PacGAN2": ("23.8 ± 0.7", "91.3 ± 0.8", "0.13 ± 0.04"),
             "PacGAN3": ("24.6 ± 0.4", "94.2 ± 0.4", "0.06 ± 0.02"),
             "PacGAN4": ("24.8 ± 0.2", "93.6 ± 0.6", "0.04 ± 0.01"),
             "VEEGAN: GAN": ("3.3", "0.5", "—"), "VEEGAN: Unrolled GAN": ("23.6", "16", "—"),
             "VEEGAN: VEEGAN": ("24.6", "40", "—")},
}


def get_config(protocol: str = "cpu"):
  if protocol not in PROTOCOLS:
    raise ValueError(f"Unknown protocol {protocol!r}; use mode_collapse.py:cpu or mode_collapse.py:pacgan.")
  config = train_toy2d.get_config()
  config.experiment = "train_toy2d"
  config.seeds = 5
  config.protocol = protocol
  config.label = ""
  config.dataset = "grid"
  config.roth_anneal_steps = -1  # the stabilised rows anneal γ over the whole run
  config.update(PROTOCOLS[protocol])
  return config


def rows_sweep(h, rows=ROWS):
  """The rows as one zipped sweep over FIELDS."""
  return h.zipit([h.sweep(f"config.{field}", values) for field, values in zip(FIELDS, zip(*rows))])


def averaged_rows_sweep(h):
  """The GAN row sampled from its generator's moving average (β = AVERAGE_DECAY): the same training
  (the critic trains against the current generator), only the scored samples come from the average."""
  return [{**point, "label": f"{point['label']} + EMA", "average_decay": AVERAGE_DECAY}
          for point in rows_sweep(h, ROWS[:1])]


def get_hyper(h):
  return rows_sweep(h, ROWS + STABILISED_ROWS) + averaged_rows_sweep(h)


def get_published(config):
  return {"title": "PacGAN Table 1 (10 trials) and VEEGAN Table 1 (5 runs), "
                   f"{config.dataset}; PacGAN's own protocol, not ours",
          "columns": ["modes", "high_quality_pct", "reverse_kl"],
          "rows": {k: list(v) for k, v in PUBLISHED[config.dataset].items()}}
