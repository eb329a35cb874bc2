"""One row of the Flow-GAN study over N seeds: any objective, divergence, λ or data set.

  python -m experiments.sweep --config=experiments/configs/flow_gan_row.py \
      --config.objective=hybrid --config.hybrid_lambda=0.1 --config.seeds=3 --workdir=runs/flow_gan_hybrid
  python -m experiments.sweep --config=experiments/configs/flow_gan_row.py \
      --config.dataset=mnist --config.data_path=PATH --workdir=runs/flow_gan_mnist_mle

Every field of flow_gan.py's config can be overridden with --config.FIELD=VALUE
(objective: mle, adv, hybrid; adv_divergence: any critic divergence).
"""

from experiments.configs import flow_gan


def get_config():
  return flow_gan.get_config()
