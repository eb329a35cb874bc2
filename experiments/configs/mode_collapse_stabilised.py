"""The ring and grid tables' stabilised rows alone: every f-divergence with Roth et al.'s regulariser.

  python -m experiments.sweep --config=experiments/configs/mode_collapse_stabilised.py:cpu \
      --config.dataset=ring --workdir=runs/mode_collapse_ring_stabilised

mode_collapse.py's STABILISED_ROWS under its protocols (the part after the colon), so each row
reads beside its plain row of that table: Roth γ = 0.1 (a noise variance in x²), annealed to
γ/100 over the run as in Roth et al. 2017; reverse_kl with its saddle loss; kl also with its
critic bounded (c = 10). Expected (docs/stabilisers.md): 0 of 5 seeds
diverged in every row but kl + Roth on the grid (1/5); grid modes 19.8 (GAN + Roth) to 24.6
(kl + Roth + bound).
"""

from experiments.configs import mode_collapse


def get_config(protocol: str = "cpu"):
  return mode_collapse.get_config(protocol)


def get_hyper(h):
  return mode_collapse.rows_sweep(h, mode_collapse.STABILISED_ROWS)


def get_published(config):
  return mode_collapse.get_published(config)
