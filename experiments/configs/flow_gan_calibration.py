"""Choosing flow_gan.py's training length on the validation split: MLE at several lengths.

  python -m experiments.sweep --config=experiments/configs/flow_gan_calibration.py \
      --workdir=runs/flow_gan_calibration

The 1,169 training digits are few for a Real NVP of 6×(2×128) couplings: past
some length its held-out NLL rises again. The protocol's `steps` is the length
with the best validation NLL for MLE (test numbers are not looked at here).
"""

from experiments.configs import flow_gan


def get_config():
  return flow_gan.get_config()


def get_hyper(h):
  return h.product([h.sweep("config.learning_rate", [1e-3, 1e-4]),
                    h.sweep("config.steps", [500, 1000, 2000, 4000, 8000, 16000])])
