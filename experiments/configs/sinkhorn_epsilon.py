"""Genevay, Peyré & Cuturi 2018: the Sinkhorn divergence S_ε from near optimal transport to near MMD.

  python -m experiments.sweep --config=experiments/configs/sinkhorn_epsilon.py \
      --config.dataset=ring --workdir=runs/sinkhorn_epsilon_ring

S_ε with the cost ‖x − y‖ (p = 1) runs from W1 (ε → 0) to half the energy distance (ε → ∞), the MMD
of the kernel −‖x − y‖ (Genevay et al., Theorem 1; Feydy et al. 2019). Rows: sinkhorn at ε = 0.1, 1
and 10 (one vmapped program: ε is traced), the energy distance itself (the ε → ∞ end), gdiv's
Gaussian-kernel mmd, and the non-saturating GAN as the critic-based reference. Protocol: the
mode_collapse `cpu` networks and optimiser (G 3×64 ReLU, Adam 1e-3 with β1 0.5 decayed linearly to
0, batch 256), at 5,000 steps instead of 20,000 (the smallest ε costs about 40 ms a step for 5 seeds on
2 cores), 5 seeds; modes, high-quality share and reverse KL of the mode histogram on 2,500 samples
(VEEGAN / PacGAN). Genevay et al. show the interpolation on images (their Figure 3: MNIST samples
from small to large ε); they report no ring or grid table, so none is printed beside ours.
"""

from experiments.configs import mode_collapse

EPSILONS = (0.1, 1.0, 10.0)
STEPS = 5000
# (label, divergence, generator loss, ε)
ROWS = (("GAN", "js", "non_saturating", None),
        *(("sinkhorn", "sinkhorn", "saddle", eps) for eps in EPSILONS),
        ("energy", "energy", "saddle", None),
        ("mmd", "mmd", "saddle", None))
FIELDS = ("label", "divergence", "generator_loss", "sinkhorn_epsilon")


def get_config():
  config = mode_collapse.get_config("cpu")
  config.steps = STEPS
  config.transport_power = 1
  config.checkpoint_every = 1000  # a kill loses at most 1,000 steps of a group
  return config


def get_hyper(h):
  return h.zipit([h.sweep(f"config.{field}", values) for field, values in zip(FIELDS, zip(*ROWS))])
