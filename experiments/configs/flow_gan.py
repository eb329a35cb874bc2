"""Flow-GAN on the 8×8 digits: one Real NVP by likelihood, adversarially, and both.

  python -m experiments.sweep --config=experiments/configs/flow_gan.py --workdir=runs/flow_gan

Rows as Flow-GAN's Table 1 (Grover et al. 2018): MLE, ADV (WGAN-GP and
JS, its f-GAN saddle objective), hybrid with λ ∈ {0.1, 1, 10}; 3 seeds each. A
CPU-sized protocol: Real NVP with 6 checkerboard couplings of MLP 2×128 on the
logit of the dequantised 64-pixel images, MLP 2×128 critic with 5 critic steps
per model step (adversarial rows), Adam 1e-4 (β1 0.5, β2 0.9), batch 64, 4,000
steps: the length and step size with the best validation NLL for MLE
(flow_gan_calibration.py; at 1e-3, or past 4,000 steps, the flow overfits the
1,169 training digits).
The memorising baseline is in results.md below the table.
"""

import ml_collections

ROWS = (  # (objective, adversarial divergence, λ)
    ("mle", "wasserstein_gp", 1.0),
    ("adv", "wasserstein_gp", 1.0),
    ("adv", "js", 1.0),
    ("hybrid", "wasserstein_gp", 0.1),
    ("hybrid", "wasserstein_gp", 1.0),
    ("hybrid", "wasserstein_gp", 10.0),
)


def get_config():
  return ml_collections.ConfigDict(dict(
      experiment="flow_gan", seeds=3, seed=0, dataset="digits", data_path="", validation=5000, feature_network="", classifier_steps=2000,
      objective="mle", adv_divergence="wasserstein_gp", hybrid_lambda=1.0, nda="none", nda_model_share=0.25,
      num_layers=6, hidden=(128, 128), critic_hidden=(128, 128), n_critic=5, logit_alpha=0.05,
      steps=4000, batch_size=64, learning_rate=1e-4, beta1=0.5, beta2=0.9,
      log_every=500, checkpoint_every=2000))


def get_hyper(h):
  objectives, adversaries, lambdas = zip(*ROWS)
  return h.zipit([h.sweep("config.objective", objectives), h.sweep("config.adv_divergence", adversaries),
                  h.sweep("config.hybrid_lambda", lambdas)])
