"""Quality matrix: every model family × every divergence, scored against held-out data.

  python -m experiments.sweep --config=experiments/configs/quality_matrix.py \
      --workdir=runs/quality_matrix

  python -m experiments.sweep --config=experiments/configs/quality_matrix.py:recipes \
      --workdir=runs/quality_matrix_recipes

One budget per data set for every cell (experiments.pairings), 3 seeds each:
on the ring 2,000 steps of batch 256, Adam 1e-3; on the digits (conv_generator)
1,000 steps of batch 64, Adam 2e-4 with β1 0.5 (DCGAN's). Every cell is scored
at initialisation and after training. With `:recipes` each divergence trains
with its recipe (gdiv.divergences.Recipe: critic steps, Adam's β, stabilisers)
within the same budget of steps.
"""

import ml_collections

from gdiv import divergences, models
from gdiv.pairings import is_image_family, possible_pairs


VARIANTS = ("", "recipes")


def get_config(variant: str = ""):
  """The one budget for every cell; `:recipes` trains each divergence with its own recipe."""
  if variant not in VARIANTS:
    raise ValueError(f"Unknown variant {variant!r}; use quality_matrix.py or quality_matrix.py:recipes.")
  return ml_collections.ConfigDict(dict(
      experiment="pairings", seeds=3, seed=0, model="gaussian", divergence="kl",
      steps=2000, batch_size=256, learning_rate=1e-3, beta1=0.9,  # vector families, on the ring
      image_learning_rate=2e-4, image_beta1=0.5,  # image families, on the digits (DCGAN's Adam)
      beta2=0.999, n_critic=1, generator_loss="saddle",  # Adam's β2; alternating updates
      r1_penalty=0.0, r2_penalty=0.0, roth_gamma=0.0, roth_anneal_steps=0, critic_bound=0.0,
      use_recipe=variant == "recipes",  # the divergence's Recipe sets the fields it names
      eval_samples=2000, log_every=500, checkpoint_every=1000))


IMAGE_BUDGET = {"steps": 1000, "batch_size": 64}  # convolutions on a 2-core CPU: a smaller budget


def get_hyper(h):
  pairs = possible_pairs(models.names(), divergences.names())
  ring_budget = {k: get_config()[k] for k in IMAGE_BUDGET}
  budgets = [IMAGE_BUDGET if is_image_family(m) else ring_budget for m, _ in pairs]
  return h.zipit([h.sweep("config.model", [m for m, _ in pairs]),
                  h.sweep("config.divergence", [d for _, d in pairs]),
                  *[h.sweep(f"config.{k}", [b[k] for b in budgets]) for k in IMAGE_BUDGET]])
