"""Negative data augmentation on the 8×8 digits: a conv GAN without NDA and with each transform.

  python -m experiments.nda --workdir=runs/nda

Sinha et al. (ICLR 2021) train BigGAN (hinge loss, spectrally normalised
critic) with transformed real images on the critic's fake side, λ·Q + (1 - λ)·
NDA(P), λ = 0.25. Here the same on the pixels of the 8×8 digits: gdiv's
ConvGenerator (latent 32, two 4×4 stride-2 transposed convolutions) against a
spectrally normalised ConvCritic (two 3×3 stride-2 convolutions), hinge loss,
one critic step per generator step, Adam 2e-4 (β 0.5, 0.999) for both,
batch 64, 5,000 steps. Rows: no NDA, jigsaw (2×2, non-identity order), stitch,
cutout, mixup (Beta(25, 25)) and cyclic shift; 3 seeds each.
"""

import ml_collections

from gdiv.data import nda

ROWS = ("none",) + tuple(nda.TRANSFORMS)


def get_config():
  return ml_collections.ConfigDict(dict(
      experiment="nda", seeds=3, seed=0, dataset="digits", data_path="", validation=5000, feature_network="", classifier_steps=2000,
      adv_divergence="hinge", spectral_norm=True, nda="none", nda_model_share=0.25,
      steps=5000, batch_size=64, n_critic=1, learning_rate=2e-4, beta1=0.5, beta2=0.999,
      log_every=500, checkpoint_every=2500))


def get_hyper(h):
  return h.sweep("config.nda", ROWS)
