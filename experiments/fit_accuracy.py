r"""How close the main job's learned fits come to the exact ones, over mixture draws and step-size /
averaging variants (the measurement behind fit_gaussian_mixture's defaults).

  python -m experiments.fit_accuracy --workdir=runs/fit_accuracy --draws=0,1,2 \
      --variants=constant,average,linear,linear_average

Each draw is a 1-D mixture of 2 or 3 Gaussians of unequal widths (`accuracy_mixture`: weights
~ Dirichlet(2, ..., 2), means ~ 1.5·N(0, 1), standard deviations ~ U(0.3, 1.2), from
numpy's default_rng(draw)); every divergence of the main job is fitted under each variant with the
main job's protocol (gdiv.fitting.train_fit: simultaneous plain gradient steps, batch 1024,
model 0.01, critic 0.03, seed 0) and compared with its exact best fit (μ*, σ*). Variants:

  constant        today's step sizes, the last iterate reported
  average         the uniform average of the iterates over the second half (average_decay=1)
  linear          both step sizes decayed linearly to 0 at --steps, the last iterate
  linear_average  both
  fast_linear     the model's step 0.03 (three times the main job's), decayed linearly to 0
  fast_linear_average   and the average of the second half

Writes one JSON per (draw, variant, divergence) under cells/ (a rerun skips those done) and
results.md: per divergence and variant the worst ‖μ̂ − μ*‖ / |σ̂ − σ*| over the draws, and how
many fits kept F̂ ≤ D_f(P‖Q*) and how many went non-finite (a run stops at its first non-finite
value, as every gdiv run does).
"""

from __future__ import annotations

import json
import pathlib
import time

import numpy as np
from absl import app, flags, logging

from gdiv.data import GaussianMixture
from gdiv.evaluation import integration_grid
from gdiv.fitting import compare_with_best_fit, divergence_names, train_fit

FLAGS = flags.FLAGS

HALF_AVERAGE = lambda steps: {"average_decay": 1.0, "average_start": steps // 2}
VARIANTS = {  # name: steps -> train_fit's arguments beyond the main job's
    "constant": lambda steps: {},
    "average": lambda steps: {"optimisation": HALF_AVERAGE(steps)},
    "linear": lambda steps: {"optimisation": {"learning_rate_schedule": "linear"}},
    "linear_average": lambda steps: {"optimisation": {"learning_rate_schedule": "linear", **HALF_AVERAGE(steps)}},
    "fast_linear": lambda steps: {"learning_rate": 0.03, "optimisation": {"learning_rate_schedule": "linear"}},
    "fast_linear_average": lambda steps: {"learning_rate": 0.03, "optimisation": {
        "learning_rate_schedule": "linear", **HALF_AVERAGE(steps)}},
}


def accuracy_mixture(draw: int) -> GaussianMixture:
  """Draw `draw` of the study's 1-D mixtures: 2 components for even draws, 3 for odd ones."""
  rng = np.random.default_rng(draw)
  k = 2 + draw % 2
  return GaussianMixture.create(rng.dirichlet(np.full(k, 2.0)).tolist(), (1.5 * rng.normal(size=k)).tolist(),
                                rng.uniform(0.3, 1.2, size=k).tolist())


def cell(draw: int, variant: str, name: str, steps: int) -> dict:
  """One fit and its comparison with the exact best fit."""
  mixture = accuracy_mixture(draw)
  start, key = time.perf_counter(), {"draw": draw, "variant": variant, "divergence": name}
  try:
    fit = train_fit(name, mixture, steps=steps, log_every=steps, **VARIANTS[variant](steps))
  except FloatingPointError as e:  # a fit that went non-finite is a result of the study
    return {**key, "diverged": str(e)}
  row = compare_with_best_fit(name, mixture, fit, integration_grid(mixture))
  return {**key, "seconds": time.perf_counter() - start,
          **{k: v for k, v in row.items() if not isinstance(v, np.ndarray)}}


def worst_errors_table(cells: list[dict], variants, names) -> str:
  """Markdown: per divergence, each variant's worst μ / σ error over the draws (and bound count)."""
  lines = ["| divergence | " + " | ".join(variants) + " |", "|---" * (len(variants) + 1) + "|"]
  for name in names:
    entries = []
    for variant in variants:
      mine = [c for c in cells if c["divergence"] == name and c["variant"] == variant]
      fits = [c for c in mine if "diverged" not in c]
      diverged = f", {len(mine) - len(fits)} diverged" if len(fits) < len(mine) else ""
      if not fits:
        entries.append(f"—{diverged}")
        continue
      holds = [c["lower_bound_holds"] for c in fits if "lower_bound_holds" in c]
      bound = f"{sum(holds)}/{len(holds)}" if holds else ""
      note = f" ({bound}{diverged})".replace("(, ", "(") if bound or diverged else ""
      entries.append(f"{max(c['mu_error'] for c in fits):.3f} / {max(c['sigma_error'] for c in fits):.3f}{note}")
    lines.append(f"| {name} | " + " | ".join(entries) + " |")
  return "\n".join(lines)


def main(argv):
  del argv
  names = divergence_names(FLAGS.divergences)
  out = pathlib.Path(FLAGS.workdir)
  (out / "cells").mkdir(parents=True, exist_ok=True)
  cells = []
  for draw in FLAGS.draws:
    for variant in FLAGS.variants:
      for name in names:
        path = out / "cells" / f"{draw}_{variant}_{name}_{FLAGS.steps}.json"
        if not path.exists():
          path.write_text(json.dumps(cell(int(draw), variant, name, FLAGS.steps)))
        cells.append(json.loads(path.read_text()))
        logging.info("draw %s %s %s: %s", draw, variant, name, cells[-1].get("diverged") or
                     f"μ error {cells[-1]['mu_error']:.3f}, σ error {cells[-1]['sigma_error']:.3f}")
  table = worst_errors_table(cells, FLAGS.variants, names)
  protocol = (f"Draws {', '.join(FLAGS.draws)} (accuracy_mixture), {FLAGS.steps} steps, seed 0, the main "
              "job's protocol; worst ‖μ̂ − μ*‖ / |σ̂ − σ*| over the draws' finite fits (in brackets: "
              "fits with F̂ ≤ D_f(P‖Q*) + 3 s.e., and fits that went non-finite).")
  (out / "results.md").write_text(f"{protocol}\n\n{table}\n")
  print(protocol, table, sep="\n\n")


if __name__ == "__main__":
  flags.DEFINE_list("draws", ["0", "1", "2"], "Mixture draws (accuracy_mixture).")
  flags.DEFINE_list("variants", list(VARIANTS), f"Variants: {', '.join(VARIANTS)}.")
  flags.DEFINE_list("divergences", ["all"], "As fit_gaussian_mixture's --divergences.")
  flags.DEFINE_integer("steps", 5_000, "Training steps per fit.", lower_bound=2)
  flags.DEFINE_string("workdir", "runs/fit_accuracy", "Output directory.")
  app.run(main)
