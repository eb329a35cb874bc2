"""Stacked MNIST trained with distances between batches (Sinkhorn, energy) beside DCGAN and WGAN-GP.

  python -m experiments.sweep --config=experiments/configs/stacked_mnist_transport.py:cpu \
      --workdir=runs/stacked_mnist_transport

The protocol is stacked_mnist.py's (after the colon; `cpu`: 2,000 steps of batch 64, a quarter of
DCGAN's widths, Adam 2e-4 β (0.5, 0.999), 3 seeds), so the DCGAN and wasserstein_gp rows are that
table's own and must come out digit for digit. The generator minimises the debiased Sinkhorn divergence
S_ε with the cost ‖x − y‖ (p = 1) between its batch of 64 and a batch of 64 training stacks, or the
energy distance (S_ε's ε → ∞ end, the MMD of the kernel −‖x − y‖). ε is absolute, in pixels of
[0, 1] intensity: two stacks lie 12 to 25 apart (mean 17.9 over a batch), so ε = 1 is close to
optimal transport, 100 close to the energy distance (Genevay et al. 2018, whose Figure 3 shows the
same interpolation on MNIST without a mode count).
"""

from experiments.configs import stacked_mnist

EPSILONS = (1.0, 10.0, 100.0)
# (label, divergence, generator loss, use_recipe, ε)
ROWS = (("DCGAN", "js", "non_saturating", False, None),
        ("wasserstein_gp (recipe)", "wasserstein_gp", "saddle", True, None),
        *((f"sinkhorn (ε={eps:g})", "sinkhorn", "saddle", False, eps) for eps in EPSILONS),
        ("energy", "energy", "saddle", False, None))
FIELDS = ("label", "divergence", "generator_loss", "use_recipe", "sinkhorn_epsilon")


def get_config(protocol: str = "cpu"):
  config = stacked_mnist.get_config(protocol)
  config.sinkhorn_epsilon = None
  config.transport_power = 1
  return config


def get_hyper(h):
  return h.zipit([h.sweep(f"config.{field}", values) for field, values in zip(FIELDS, zip(*ROWS))])


get_published = stacked_mnist.get_published
