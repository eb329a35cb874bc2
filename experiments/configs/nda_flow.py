"""Negative data augmentation on the 8×8 digits: Flow-GAN's ADV row without NDA and with each transform.

  python -m experiments.nda --config=experiments/configs/nda_flow.py --workdir=runs/nda_flow

Sinha et al. (ICLR 2021) put transformed real images on the critic's fake side,
λ·Q + (1 - λ)·NDA(P) with λ = 0.25; the model's loss is unchanged. Here the
model and protocol are flow_gan.py's ADV row (Real NVP trained through a WGAN-GP
critic, 5 critic steps, Adam 1e-4, β 0.5/0.9, batch 64, 4,000 steps), so the
test NLL is measured beside the sample scores; rows: no NDA, then jigsaw
(2×2, non-identity order), stitch, cutout, mixup (Beta(25, 25)) and cyclic
shift, 3 seeds each. The gradient penalty's interpolates join real images to both
kinds of fakes, weighted as the mixture.
"""

from experiments.configs import flow_gan
from gdiv.data import nda

ROWS = ("none",) + tuple(nda.TRANSFORMS)


def get_config():
  config = flow_gan.get_config()
  config.objective = "adv"
  return config


def get_hyper(h):
  return h.sweep("config.nda", ROWS)
