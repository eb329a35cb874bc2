"""One configuration of experiments.train_toy2d over N seeds (one vmapped program).

  python -m experiments.sweep --config=experiments/configs/toy2d_seeds.py \
      --config.dataset=grid --config.divergence=kl --config.seeds=5 --workdir=runs/grid_kl_5seeds

Every field of train_toy2d's config can be overridden with --config.FIELD=VALUE.
"""

from experiments.configs import train_toy2d


def get_config():
  config = train_toy2d.get_config()
  config.experiment = "train_toy2d"
  config.seeds = 5
  return config
