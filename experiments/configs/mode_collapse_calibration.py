"""Calibrating the CPU protocol of mode_collapse.py on the grid: steps, step size, width.

  python -m experiments.sweep --config=experiments/configs/mode_collapse_calibration.py \
      --workdir=runs/mode_collapse_calibration

Four rows of the mode-collapse table (GAN, PacGAN4, WGAN-GP, WGAN-GP packed 4)
under candidate protocols, 5 seeds each: the evidence behind the choice of
mode_collapse.py's `cpu` protocol (docs/mode_collapse.md).
"""

from experiments.configs import mode_collapse

CANDIDATES = (  # (name, generator/critic widths, learning rate, its schedule, steps)
    ("3x128, 2e-4, 10k", (128, 128, 128), 2e-4, "constant", 10_000),
    ("3x128, 1e-3 decayed, 10k", (128, 128, 128), 1e-3, "linear", 10_000),
    ("3x128, 1e-3 decayed, 20k", (128, 128, 128), 1e-3, "linear", 20_000),
    ("3x64, 1e-3 decayed, 20k", (64, 64, 64), 1e-3, "linear", 20_000),
)
ROWS = tuple(r for r in mode_collapse.ROWS if r[0] in ("GAN", "PacGAN4", "wasserstein_gp")) + (
    ("wasserstein_gp, packed 4", "wasserstein_gp", "saddle", 4, 0.0, 0.0, 0.0),)


def get_config():
  config = mode_collapse.get_config("cpu")
  config.candidate = ""
  return config


def candidates_sweep(h, candidates, rows):
  """Every row of the table under every candidate protocol."""
  names, widths, rates, schedules, steps = zip(*candidates)
  return h.product([
      h.zipit([h.sweep("config.candidate", names), h.sweep("config.generator_hidden", widths),
               h.sweep("config.critic_hidden", widths), h.sweep("config.learning_rate", rates),
               h.sweep("config.critic_learning_rate", rates),
               h.sweep("config.learning_rate_schedule", schedules), h.sweep("config.steps", steps)]),
      mode_collapse.rows_sweep(h, rows),
  ])


def get_hyper(h):
  return candidates_sweep(h, CANDIDATES, ROWS)
