r"""f-GAN Section 4: fit one Gaussian to a 1-D mixture under every divergence.

Q_θ = μ + σ z, z ~ N(0, 1), is trained against an MLP critic (2×64 tanh) with
the single-step gradient method of f-GAN (Algorithm 1: critic and model
updated at once from one batch of 1024 data points and 1024 samples), and
compared with the exact best fit (μ*, σ*) = argmin D_f(P||Q_θ), found by
numerical integration and Nelder–Mead. `mle` is the same step with no critic;
its best fit is the KL one (moment matching).

Reproduce (about 2 minutes on a 2-core CPU, 5,000 steps per divergence):

  python -m experiments.fit_gaussian_mixture --workdir=/tmp/fit_gaussian_mixture

Expected on the default mixture 0.7·N(-1, 0.5²) + 0.3·N(1.2, 1²): every
learned (μ̂, σ̂) within 0.09 of (μ*, σ*), most within 0.03 (--steps=10000 about
halves the largest errors); mode-covering kl
(μ* -0.34, σ* 1.22) and pearson (σ* 1.29) against mode-seeking reverse_kl
(-0.82, 0.66), neyman (-0.91, 0.57) and total_variation (-0.86, 0.68); and
F̂ ≤ D_f(P||Q*) up to Monte Carlo noise.

With --cross_table (opt-in; 4 to 5 minutes more on 2 cores shared with other
jobs: 231 s and 289 s measured), f-GAN's cross table (figures below: --steps=10000): every learned Q_i,
frozen, under every f-divergence D_j, by a fresh critic (F̂_j(Q_i),
`variational_divergence`) and by quadrature (D_j(P||Q_i)), in cross_table.md
and results.json["cross_table"]. Expected: F̂ ≤ D in every cell up to noise
(largest excess 7e-4); the exact column minimum on the diagonal for every
column but jeffrey (squared_hellinger's Q̂ has the lower Jeffrey divergence,
0.5326 against 0.5376: the learned jeffrey fit is 0.07 off in σ); the
estimated table agrees for kl, reverse_kl, pearson, squared_hellinger and
jeffrey, not for total_variation (a loose bound), alpha and neyman (negative
F̂ on a row whose exact divergence is huge or infinite) nor js/gan (margins of
1e-4, below the critics' error). Another mixture:

  python -m experiments.fit_gaussian_mixture --mixture_weights=0.75,0.25 \
      --mixture_means=-0.8,1.5 --mixture_stds=0.6,0.9 --divergences=kl,reverse_kl
"""

from __future__ import annotations

import functools
import math
import time
from typing import Sequence

import jax
import jax.numpy as jnp
import numpy as np
from absl import app, flags, logging

from gdiv import cli, divergences, study, training
from gdiv.data import GaussianMixture
from gdiv.evaluation import (best_gaussian_fit, f_divergence_to_gaussian, integration_grid,
                             variational_divergence)
from gdiv.fitting import (BATCH_FIT_POINTS, EVAL_BATCHES, LOWER_BOUND_SLACK_SE, IsotropicGaussian, build_trainer,
                          compare_with_best_fit, compare_with_distance_fit, distance_study_divergences,
                          divergence_names, options_note, train_fit)
from gdiv.models import MLPCritic
from gdiv.runner import check_schedule
from gdiv.workdir import Workdir

FLAGS = flags.FLAGS

def _floats(values: Sequence[str], name: str) -> list[float]:
  try:
    return [float(v) for v in values]
  except ValueError:
    raise flags.ValidationError(f"--{name} must be a comma list of numbers; got {','.join(values)}.")


def mixture_from_flags(flag_values) -> GaussianMixture:
  """The target P from the --mixture_* flags (raises flags.ValidationError)."""
  try:
    return GaussianMixture.create(_floats(flag_values["mixture_weights"], "mixture_weights"),
                                  _floats(flag_values["mixture_means"], "mixture_means"),
                                  _floats(flag_values["mixture_stds"], "mixture_stds"))
  except ValueError as e:
    raise flags.ValidationError(str(e)) from None


def _validate_divergences(requested) -> bool:
  try:
    divergence_names(requested, also=distance_study_divergences())
  except ValueError as e:
    raise flags.ValidationError(str(e)) from None
  return True


def _validate_mixture(flag_values) -> bool:
  mixture = mixture_from_flags(flag_values)
  if mixture.dim != 1:
    raise flags.ValidationError("This study fits 1-D mixtures: give one mean per component.")
  return True


def results_table(rows: dict, mixture: GaussianMixture, config: dict) -> str:
  """results.md: the paper-style table."""
  def num(v, fmt="{:.3f}"):
    return "—" if v is None else fmt.format(v)

  lines = [
      "# Gaussian fit to a 1-D mixture (f-GAN, Section 4)", "",
      "P = " + " + ".join(f"{w:g}·N({m:g}, {s:g}²)" for w, m, s in
                          zip(mixture.weights, mixture.means[:, 0], mixture.stds[:, 0])),
      f"Q_θ = μ + σz. {config['steps']} steps, batch {config['batch_size']} (data and samples), "
      f"scheme {config['scheme']}, generator loss {config['generator_loss']}; model: gradient step "
      f"{config['learning_rate']}; critic: MLP {'×'.join(map(str, config['critic_hidden']))} tanh, "
      f"gradient step {config['critic_learning_rate']}, n_critic {config['n_critic']} "
      "(the same critic settings for every divergence)." + options_note(config, rows), "",
      "| divergence | μ̂ | σ̂ | μ* | σ* | abs(μ̂−μ*) | abs(σ̂−σ*) | F̂ | D_f(P‖Q*) | D_f(P‖Q̂) | F̂ ≤ D_f(P‖Q*) |",
      "|---|---|---|---|---|---|---|---|---|---|---|",
  ]
  for name, r in rows.items():
    holds = {True: "yes", False: "**no**", None: "—"}[r.get("lower_bound_holds")]
    lines.append(f"| {name} | {num(r['mu'])} | {num(r['sigma'])} | {num(r['best_fit_mu'])} | "
                 f"{num(r['best_fit_sigma'])} | {num(r['mu_error'])} | {num(r['sigma_error'])} | "
                 f"{num(r['variational_estimate'], '{:.4f}')} | {num(r['best_fit_divergence'], '{:.4f}')} | "
                 f"{num(r['divergence_at_fit'], '{:.4f}')} | {holds} |")
  lines += [
      "", "(μ*, σ*) minimise D_f(P‖N(μ, σ²)) by quadrature (float64) and Nelder–Mead from every "
      "mode. F̂ is the variational bound E_P[g_f(V)] − E_Q[f*(g_f(V))] of the final critic and "
      f"model, averaged over {EVAL_BATCHES} fresh batches; 'F̂ ≤ D_f(P‖Q*)' allows {LOWER_BOUND_SLACK_SE:g} standard "
      "errors of Monte Carlo noise. `js` is 2·JSD (JSD = ½KL(P‖M) + ½KL(Q‖M)); `gan` is "
      "2·JSD − log 4; `alpha` is the α-divergence with α = 1.5; the `mle` row is compared with the "
      "KL best fit (moment matching) and has no variational bound (its NLL is in results.json).",
  ]
  return "\n".join(lines) + "\n"


def distance_table(rows: dict, config: dict) -> str:
  """The distances' table: each fit beside the population distance's best fit and beside the
  minimiser of its expected minibatch loss."""
  def num(v, fmt="{:.3f}"):
    return "—" if v is None else fmt.format(v)

  transport = config["transport"]
  lines = [
      "", "## Distances: learned, exact best fit, expected-minibatch-loss minimiser", "",
      f"The same model, steps and batch ({config['batch_size']}); cost |x − y|^{transport['transport_power']} "
      "for sinkhorn, sliced_wasserstein and wasserstein_1d (p = 1: W1, p = 2: W2²); wasserstein_gp is W1 "
      "through its critic (gradient penalty 10). (μ*, σ*) minimise the population distance (W1, W2², "
      "energy by quadrature against the mixture's CDF and quantile function; S_ε between "
      "256 quantile points of P and of Q in float64; MMD² in closed form at the median heuristic's fixed "
      "point) by Nelder–Mead; (μ_B, σ_B) minimise the mean loss over "
      f"{max(64, BATCH_FIT_POINTS // config['batch_size'])} fixed pairs of batches of "
      f"{config['batch_size']} (common random numbers), where training with that batch can settle: for "
      "the unbiased energy and mmd it is (μ*, σ*) up to Monte Carlo error, for minibatch transport the "
      "bias is the gap between the two.", "",
      "| divergence | μ̂ | σ̂ | μ* | σ* | abs(μ̂−μ*) | abs(σ̂−σ*) | μ_B | σ_B | abs(μ̂−μ_B) | abs(σ̂−σ_B) "
      "| D(P‖Q̂) | D(P‖Q*) |",
      "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
  ]
  for name, r in rows.items():
    lines.append(f"| {name} | {num(r['mu'])} | {num(r['sigma'])} | {num(r['best_fit_mu'])} | "
                 f"{num(r['best_fit_sigma'])} | {num(r['mu_error'])} | {num(r['sigma_error'])} | "
                 f"{num(r.get('batch_fit_mu'))} | {num(r.get('batch_fit_sigma'))} | "
                 f"{num(r.get('batch_mu_error'))} | {num(r.get('batch_sigma_error'))} | "
                 f"{num(r['divergence_at_fit'], '{:.4f}')} | {num(r['best_fit_divergence'], '{:.4f}')} |")
  return "\n".join(lines) + "\n"


def distance_runs(names: Sequence[str], transport: dict) -> list[tuple[str, str, dict]]:
  """(row label, divergence, its config fields) of every distance fit: one sinkhorn row per ε."""
  runs = []
  for name in names:
    fields = {"transport_power": transport["transport_power"]}
    if name == "sinkhorn":
      runs += [(f"sinkhorn(ε={eps:g})", name, {**fields, "sinkhorn_epsilon": eps})
               for eps in transport["sinkhorn_epsilons"]]
    elif name == "wasserstein_gp":
      runs.append((name, name, {}))
    else:
      runs.append((name, name, fields if name in ("sliced_wasserstein", "wasserstein_1d") else {}))
  return runs


def plot_fits(path, mixture: GaussianMixture, rows: dict) -> None:
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  lo = float(mixture.means.min() - 4 * mixture.stds.max())
  hi = float(mixture.means.max() + 4 * mixture.stds.max())
  x = np.linspace(lo, hi, 1000)
  fig, ax = plt.subplots(figsize=(8, 4.5))
  ax.fill_between(x, np.exp(np.asarray(mixture.log_prob(jnp.asarray(x[:, None])))), color="0.85",
                  label="P (data)")
  colors = plt.cm.tab20(np.linspace(0, 1, max(len(rows), 2)))
  for color, (name, r) in zip(colors, rows.items()):
    q = np.exp(-0.5 * ((x - r["mu"]) / r["sigma"]) ** 2) / (r["sigma"] * math.sqrt(2 * math.pi))
    ax.plot(x, q, lw=1.5, color=color, label=f"{name} (μ̂={r['mu']:.2f}, σ̂={r['sigma']:.2f})")
  ax.set_xlabel("x")
  ax.set_ylabel("density")
  ax.set_title("Learned Gaussian fits Q̂ under each divergence")
  ax.legend(fontsize=7, ncol=2)
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  plt.close(fig)


# --- As a study (experiments.sweep, configs/fit_gaussian_mixture.py): one divergence per point.
SWEEPABLE = ("learning_rate", "critic_learning_rate")


def config_mixture(config) -> GaussianMixture:
  return GaussianMixture.create(list(config.mixture_weights), list(config.mixture_means),
                                list(config.mixture_stds))


def validate_config(config) -> None:
  """Raise ValueError naming the field, before anything is built."""
  divergence_names([config.divergence])
  if config_mixture(config).dim != 1:
    raise ValueError("config.mixture_means: this study fits 1-D mixtures (one mean per component).")
  for field in ("learning_rate", "critic_learning_rate"):
    if not config[field] > 0:
      raise ValueError(f"config.{field} must be > 0; got {config[field]}.")
  check_schedule(config.steps, config.log_every, config.checkpoint_every)


def make_trainer(config, **hparams) -> training.Trainer:
  """build_trainer per config; hparams: traced learning rates (gdiv.study)."""
  value = lambda field: hparams.get(field, config[field])
  return build_trainer(config.divergence, 1, learning_rate=value("learning_rate"),
                       critic_learning_rate=value("critic_learning_rate"),
                       critic_hidden=config.critic_hidden, n_critic=config.n_critic,
                       scheme=config.scheme, generator_loss=config.generator_loss)


def data(config):
  mixture = config_mixture(config)
  return lambda key: mixture.sample(key, config.batch_size), jnp.zeros((config.batch_size, 1))


@functools.lru_cache(maxsize=None)
def _best_fit(divergence_name: str, weights: tuple, means: tuple, stds: tuple) -> tuple:
  mixture = GaussianMixture.create(list(weights), list(means), list(stds))
  exact = divergences.get("kl" if divergence_name == "mle" else divergence_name)
  return best_gaussian_fit(exact, mixture, integration_grid(mixture))[:2]


def evaluate(config, trainer: training.Trainer, state: training.TrainState):
  """(μ̂, σ̂, their distance to the exact best fit (μ*, σ*)), and 1000 model samples."""
  params = training.evaluated_params(state)["params"]
  mu, sigma = float(params["mean"][0]), float(np.exp(params["log_scale"][0]))
  best_mu, best_sigma = _best_fit(config.divergence, tuple(config.mixture_weights),
                                  tuple(config.mixture_means), tuple(config.mixture_stds))
  samples = trainer.sample(state, jax.random.key(config.seed + 1), 1000)
  return {"mu": mu, "sigma": sigma, "mu_error": abs(mu - best_mu),
          "sigma_error": abs(sigma - best_sigma)}, samples


EXPERIMENT = study.Experiment(sweepable=SWEEPABLE, validate=validate_config,
                              make_trainer=make_trainer, data=data, evaluate=evaluate)


# Divergences with the same minimiser as another: gan = js − log 4, and mle minimises KL.
SAME_MINIMISER = {"gan": "js", "mle": "kl"}


def on_diagonal(row: str, column: str) -> bool:
  """Q_row was trained to minimise D_column (or a divergence with its minimiser)."""
  return SAME_MINIMISER.get(row, row) == SAME_MINIMISER.get(column, column)


def cross_table(mixture: GaussianMixture, fits: dict, columns: Sequence[str], *,
                critic_steps: int, batch_size: int, critic_hidden: Sequence[int], seed: int) -> dict:
  """f-GAN's cross table: every learned Q_i (row: the fit trained with divergence i, frozen)
  under every f-divergence D_j (column).

  estimated[i][j] = F̂_j(Q_i), the bound of a fresh critic trained on P and Q_i alone
  (`variational_divergence`: Adam 1e-3, `critic_steps` steps, evaluated on 100,000 new points of
  each); exact[i][j] = D_j(P‖Q_i) by quadrature, ∞ where Q_i's tails make it infinite. Every row of a column uses the same key (the
  same critic initialisation, data batches and noise z of Q_i = μ_i + σ_i z), so rows differ
  only through Q_i. Per column, `margins`: the smallest value among rows whose divergence is
  not j's (nor one with j's minimiser, SAME_MINIMISER) minus the smallest among those that
  are; positive when the column's minimum lies on the diagonal, by that much.
  """
  critic = MLPCritic(hidden=tuple(critic_hidden))
  sample_p = lambda key, n: mixture.sample(key, n)
  model = IsotropicGaussian(dim=mixture.dim)
  estimated, exact = {}, {}
  for i, fit in fits.items():
    sample_q = lambda key, n: model.apply(fit["params"], key, n, method=model.sample)  # Q_i, frozen
    estimated[i] = {j: variational_divergence(j, sample_p, sample_q, critic=critic, steps=critic_steps,
                                              batch_size=batch_size,
                                              key=jax.random.fold_in(jax.random.key(seed), c))
                    for c, j in enumerate(columns)}
    exact[i] = {j: f_divergence_to_gaussian(divergences.get(j), mixture, fit["mu"], fit["sigma"])
                for j in columns}
    logging.info("cross table, Q_%s: %s", i, ", ".join(f"{j} {estimated[i][j]:.4g} (exact {exact[i][j]:.4g})"
                                                       for j in columns))

  def margins(table):
    result = {}
    for j in columns:
      diagonal = [table[i][j] for i in fits if on_diagonal(i, j)]
      others = [table[i][j] for i in fits if not on_diagonal(i, j)]
      if diagonal and others:
        result[j] = {"margin": min(others) - min(diagonal),
                     "argmin": min(fits, key=lambda i: table[i][j])}
    return result

  return {"estimated": estimated, "exact": exact, "estimated_margins": margins(estimated),
          "exact_margins": margins(exact), "critic_steps": critic_steps, "batch_size": batch_size,
          "critic_hidden": list(critic_hidden), "seed": seed}


def cross_table_markdown(table: dict) -> str:
  """cross_table.md: both matrices and, per column, where each one's minimum lies."""
  rows, columns = list(table["exact"]), list(table["exact"][next(iter(table["exact"]))])

  def matrix(name):
    cell = lambda i, j: f"**{table[name][i][j]:.4g}**" if on_diagonal(i, j) else f"{table[name][i][j]:.4g}"
    return [f"| Q trained with ↓ / D_j → | {' | '.join(columns)} |", "|---" * (len(columns) + 1) + "|",
            *(f"| {i} | {' | '.join(cell(i, j) for j in columns)} |" for i in rows)]

  def verdict(j):
    e, x = table["estimated_margins"].get(j), table["exact_margins"].get(j)
    if e is None:
      return None
    agree = "yes" if (e["margin"] > 0) == (x["margin"] > 0) else "**no**"
    return (f"| {j} | {x['argmin']} | {x['margin']:.4g} | {e['argmin']} | {e['margin']:.4g} | {agree} |")

  bound = max(table["estimated"][i][j] - table["exact"][i][j] for i in rows for j in columns)
  return "\n".join([
      "# Cross table (f-GAN, Section 4)", "",
      f"Row i: the Gaussian Q_i trained with divergence i (the main run), frozen. Column j: a fresh "
      f"critic (MLP {'×'.join(map(str, table['critic_hidden']))} tanh, Adam 1e-3, "
      f"{table['critic_steps']} steps, batch {table['batch_size']}, seed {table['seed']}; the same "
      "key for every row) trained for D_j on P and Q_i, its bound F̂_j(Q_i) evaluated on 100,000 "
      "fresh points of each. Bold: the diagonal (gan shares js's minimiser, mle kl's).", "",
      "## Estimated F̂_j(Q_i)", "", *matrix("estimated"), "",
      "## Exact D_j(P‖Q_i) by quadrature", "", *matrix("exact"), "",
      "## Where each column's minimum lies", "",
      "margin = min over the other rows − min over the diagonal rows: > 0 when the minimum is on "
      "the diagonal, by that much; 'agree': both matrices put it on the diagonal, or both off it.", "",
      "| column | exact argmin | exact margin | estimated argmin | estimated margin | agree |",
      "|---|---|---|---|---|---|",
      *filter(None, map(verdict, columns)), "",
      f"Largest F̂_j(Q_i) − D_j(P‖Q_i) over all cells: {bound:.4g} (the bound says ≤ 0 up to noise). "
      "An exact inf is an integral that diverges (Pearson χ² and α = 1.5 when Q's tails are lighter "
      "than P's, Neyman χ² the other way round: gdiv.evaluation.f_divergence_diverges); there a "
      "critic's bound is no estimate of the divergence and can even be negative.",
  ]) + "\n"


# The smallest run ({workdir}: where it writes) and flags it must refuse, with the words the
# error must contain: tests/test_experiments.py runs both for every experiment.
SMOKE_FLAGS = ("--divergences=kl", "--steps=20", "--log_every=10", "--batch_size=64",
               "--workdir={workdir}")
BAD_FLAGS = (
    ("--steps=10", "past --steps=10: pass --steps=20 or more"),
    ("--divergences=kl,nope", "Unknown divergence 'nope'; this study accepts all, alpha, gan"),
    ("--divergences=klx", "Unknown divergence 'klx' (did you mean 'kl'?); this study accepts all, alpha"),
    ("--divergences=hinge", "'hinge' has no exact best fit here"),
    ("--mixture_weights=0.5,0.6", "weights must be non-negative and sum to 1"),
    ("--mixture_means=0.0,1.0,2.0", "Mixture lists differ in length: 2 weights, 3 means, 2 stds"),
    ("--mixture_stds=1.0,-0.5", "stds must be positive"),
    ("--critic_hidden=64,0", "--critic_hidden must be a comma list of integers > 0"),
    ("--learning_rate=0", "--learning_rate must be a finite number > 0"),
)


def define_flags():
  """Define the command-line flags (only when run as a program, so tests can import this module)."""
  flags.DEFINE_list("divergences", ["all"], "Comma list of f-divergences (alpha, gan, jeffrey, js, kl, "
                    "neyman, pearson, reverse_kl, squared_hellinger, total_variation) and mle, or 'all' (those); "
                    "and distances, by name: wasserstein_gp, energy, mmd, sinkhorn, sliced_wasserstein, "
                    "wasserstein_1d (their own table).")
  flags.DEFINE_list("sinkhorn_epsilons", ["0.05", "5"], "ε of the sinkhorn rows (absolute; one row each).")
  flags.DEFINE_enum("transport_power", "1", ["1", "2"], "p of the transport cost |x − y|^p (sinkhorn, "
                    "sliced_wasserstein, wasserstein_1d).")
  flags.DEFINE_list("mixture_weights", ["0.7", "0.3"], "Mixture weights P (sum to 1).")
  flags.DEFINE_list("mixture_means", ["-1.0", "1.2"], "Component means.")
  flags.DEFINE_list("mixture_stds", ["0.5", "1.0"], "Component standard deviations (> 0).")
  flags.DEFINE_integer("steps", 5_000, "Training steps per divergence (10,000 about halves the "
                       "largest distances to the exact best fits).", lower_bound=1)
  flags.DEFINE_integer("batch_size", 1024, "Data points and model samples per step (paper: 1024).",
                       lower_bound=1)
  flags.DEFINE_float("learning_rate", 0.01, "Model step size (paper: 0.01, plain gradient step).")
  flags.DEFINE_float("critic_learning_rate", 0.03,
                     "Critic step size (plain gradient). The paper uses 0.01 for both; 0.03 lets the "
                     "critic track the model within the default step budget.")
  flags.DEFINE_list("critic_hidden", ["64", "64"], "Critic hidden widths (paper: 64,64, tanh).")
  flags.DEFINE_integer("n_critic", 1, "Critic updates per model update (alternating scheme only).",
                       lower_bound=1)
  flags.DEFINE_enum("scheme", "simultaneous", training.SCHEMES,
                    "simultaneous = f-GAN Algorithm 1; alternating = n_critic critic steps first.")
  flags.DEFINE_enum("generator_loss", "saddle", training.GENERATOR_LOSSES,
                    "saddle minimises F itself (its fixed point is the D_f minimiser).")
  flags.DEFINE_integer("seed", 0, "PRNG seed.")
  flags.DEFINE_integer("log_every", 500, "Steps per host call (lax.scan) and per metrics line.",
                       lower_bound=1)
  flags.DEFINE_string("workdir", "runs/fit_gaussian_mixture", "Output directory.")
  flags.DEFINE_bool("cross_table", False, "Also train a fresh critic for every f-divergence on every "
                    "learned Q (frozen) and write cross_table.md beside the exact divergences.")
  flags.DEFINE_integer("cross_table_critic_steps", 2000, "Critic steps per cross-table cell.",
                       lower_bound=1)
  flags.DEFINE_integer("cross_table_batch_size", 512, "Critic batch per cross-table cell.", lower_bound=1)
  cli.define_fit_flags()
  flags.register_validator("divergences", _validate_divergences)
  flags.register_multi_flags_validator(["mixture_weights", "mixture_means", "mixture_stds"],
                                       _validate_mixture)
  cli.require_positive("learning_rate", "critic_learning_rate")
  cli.require_positive_list("critic_hidden", int)


def main(argv):
  if len(argv) > 1:
    raise app.UsageError(f"Unexpected arguments: {' '.join(argv[1:])}")
  mixture = mixture_from_flags({n: FLAGS[n].value for n in
                                ("mixture_weights", "mixture_means", "mixture_stds")})
  names = divergence_names(FLAGS.divergences, also=distance_study_divergences())
  distances = [n for n in names if n in distance_study_divergences()]
  names = [n for n in names if n not in distances]
  config = {
      "divergences": names, "mixture_weights": mixture.weights, "mixture_means": mixture.means[:, 0],
      "mixture_stds": mixture.stds[:, 0], "steps": FLAGS.steps, "batch_size": FLAGS.batch_size,
      "learning_rate": FLAGS.learning_rate, "critic_learning_rate": FLAGS.critic_learning_rate,
      "critic_hidden": [int(h) for h in FLAGS.critic_hidden], "n_critic": FLAGS.n_critic,
      "scheme": FLAGS.scheme, "generator_loss": FLAGS.generator_loss, "seed": FLAGS.seed,
      "log_every": FLAGS.log_every, "backend": jax.default_backend(), **cli.fit_options_from_flags(),
  }
  if distances:  # recorded only when used, so the f-family's runs resume as before
    config["transport"] = {"distances": distances, "transport_power": int(FLAGS.transport_power),
                           "sinkhorn_epsilons": _floats(FLAGS.sinkhorn_epsilons, "sinkhorn_epsilons")}
  workdir = Workdir(FLAGS.workdir)
  cli.check_resume(workdir, config, FLAGS.steps, "--steps",
                      may_differ=("divergences", "steps", "backend"))
  workdir.write_config(config)
  grid = integration_grid(mixture)
  train_kwargs = {k: config[k] for k in ("steps", "batch_size", "learning_rate",
                                         "critic_learning_rate", "critic_hidden", "n_critic",
                                         "scheme", "generator_loss", "seed", "log_every")}
  rows, samples, fits = {}, [], {}
  for name in names:
    fit = fits[name] = train_fit(name, mixture, workdir=workdir, **train_kwargs,
                                 **cli.fit_options(config))
    rows[name] = compare_with_best_fit(name, mixture, fit, grid)
    logging.info("%s: mu=%.3f sigma=%.3f (best %.3f, %.3f)", name, rows[name]["mu"], fit["sigma"],
                 rows[name]["best_fit_mu"], rows[name]["best_fit_sigma"])
    samples.append(fit["samples"])
  distance_rows = {}
  for label, name, fields in distance_runs(distances, config.get("transport", {})):
    fit = train_fit(name, mixture, workdir=workdir, **train_kwargs, **cli.fit_options(config),
                    divergence_fields=fields, run_name=label)
    distance_rows[label] = compare_with_distance_fit(name, mixture, fit, fields=fields,
                                                     batch_size=config["batch_size"], seed=FLAGS.seed)
    samples.append(fit["samples"])
  labels = [*names, *distance_rows]
  workdir.save_samples(np.stack(samples), divergences=np.asarray(labels))
  plot_fits(workdir.path / "fits.png", mixture, {**rows, **distance_rows})
  results = {**rows, **distance_rows}
  if FLAGS.cross_table:
    start = time.perf_counter()
    table = cross_table(mixture, fits, [n for n in names if n != "mle"],
                        critic_steps=FLAGS.cross_table_critic_steps,
                        batch_size=FLAGS.cross_table_batch_size, critic_hidden=config["critic_hidden"],
                        seed=FLAGS.seed)
    table["wall_seconds"] = time.perf_counter() - start
    markdown = cross_table_markdown(table)
    workdir.write_text("cross_table.md", markdown)
    print(markdown)
    results = {**rows, "cross_table": table}
  tables = results_table(rows, mixture, config) if rows else ""
  workdir.write_results(results, tables + (distance_table(distance_rows, config) if distance_rows else ""))


if __name__ == "__main__":
  cli.run(define_flags, main)
