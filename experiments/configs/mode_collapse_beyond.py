"""Beyond the CPU protocol on the grid: can a packed GAN reach PacGAN4's published row?

  python -m experiments.sweep --config=experiments/configs/mode_collapse_beyond.py \
      --workdir=runs/mode_collapse_beyond

Chosen after the grid table (docs/mode_collapse.md): there PacGAN2 was the
best row (24.0 modes, 90.8 % high quality) and packing 3–4 did not sharpen.
Two ways to spend more compute on PacGAN2, 5 seeds each: wider nets (3×128, as
the calibration's sharpest GAN) and twice the steps (40k, the step size still
decayed to 0 at the end).
"""

from experiments.configs import mode_collapse, mode_collapse_calibration

CANDIDATES = (  # (name, generator/critic widths, learning rate, its schedule, steps)
    ("3x128, 1e-3 decayed, 20k", (128, 128, 128), 1e-3, "linear", 20_000),
    ("3x64, 1e-3 decayed, 40k", (64, 64, 64), 1e-3, "linear", 40_000),
)
ROWS = tuple(r for r in mode_collapse.ROWS if r[0] == "PacGAN2")


def get_config():
  return mode_collapse_calibration.get_config()


def get_hyper(h):
  return mode_collapse_calibration.candidates_sweep(h, CANDIDATES, ROWS)


def get_published(config):
  return mode_collapse.get_published(config)
