"""One configuration of experiments.train_toy2d over N seeds (one vmapped program).

  python -m experiments.sweep --config=experiments/configs/toy2d_seeds.py \
      --config.dataset=grid --config.divergence=kl --config.seeds=5 --workdir=runs/grid_kl_5seeds

  python -m experiments.sweep --config=experiments/configs/toy2d_seeds.py:cpu \
      --config.dataset=grid --config.divergence=kl --workdir=runs/grid_kl_cpu_protocol

Every field of train_toy2d's config can be overridden with --config.FIELD=VALUE.
With `:cpu` or `:pacgan` the run follows that protocol of mode_collapse.py, so
its row compares with that table's.
"""

from experiments.configs import mode_collapse, train_toy2d


def get_config(protocol: str = ""):
  """train_toy2d's defaults, or with `:cpu` / `:pacgan` a mode-collapse protocol (one row of its table)."""
  if protocol:
    return mode_collapse.get_config(protocol)
  config = train_toy2d.get_config()
  config.experiment = "train_toy2d"
  config.seeds = 5
  return config
