"""Fitting one Gaussian Q_θ = N(μ, σ² I) to a mixture under a divergence, with restarts.

Shared by the f-GAN Section 4 study (experiments.fit_gaussian_mixture) and Theis
et al.'s Figure 1 (experiments.theis_fit). Both player take plain gradient steps;
f-divergences train against an MLP critic with f-GAN's single-step method.

Restarts (`restarts=K`): mode-seeking divergences have local minima on mixtures
with separated modes, so a run can stop at a worse fit than the global one.
K runs are trained as one vmapped program (gdiv.sweeps): restart 0 from the
plain initialisation N(0, I), restart r ≥ 1 with its mean on a data point drawn
with its own key and its scale the data's standard deviation times K^{-1/D}
(the K restarts share the data's volume, so each starts as local as a mode). The fit kept is the restart
with the smallest *estimated* divergence, never the exact one: for an
f-divergence the bound of a fresh critic trained against each restart's Q on
held-out data (gdiv.evaluation.fresh_critic_bound), for mle the NLL and for mmd
the MMD² on held-out batches. A restart that goes non-finite is frozen and not
chosen; nor is one whose fresh critic's bound stays below a constant critic's
(the critic failed, so the smallest bound is not the smallest divergence).
Every restart's fit and estimate are returned.
"""

from __future__ import annotations

import math
from typing import Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from absl import logging

from gdiv import divergences, sweeps, training
from gdiv.checkpoints import Checkpointer
from gdiv.data import GaussianMixture
from gdiv.evaluation import best_gaussian_fit, f_divergence_to_gaussian, fresh_critic_bound
from gdiv.models import Gaussian, MLPCritic
from gdiv.names import did_you_mean
from gdiv.runner import run_sweep, run_training
from gdiv.workdir import Workdir

EVAL_BATCHES = 100  # fresh batches on which the final estimate is averaged
SELECTION_CRITIC_STEPS = 2000  # a fresh critic's steps per restart when choosing among restarts
LOWER_BOUND_SLACK_SE = 3.0  # F̂ ≤ D_f(P||Q*) + 3 standard errors counts as the bound holding


class IsotropicGaussian(Gaussian):
  """Q_θ = N(μ, σ² I), θ = (μ, log σ): the `gaussian` family with one scale for all dimensions.

  gdiv's `gaussian` family has one log σ per dimension; here its `log_scale`
  parameter has shape (1,) and is broadcast to every dimension, so sampling and
  log q(x) are the family's own. In 1-D it is the same model, parameter for parameter.
  """

  def setup(self):
    self.mean = self.param("mean", nn.initializers.constant(self.init_mean), (self.dim,))
    log_scale = self.param("log_scale", nn.initializers.constant(math.log(self.init_scale)), (1,))
    self.log_scale = jnp.broadcast_to(log_scale, (self.dim,))


def build_trainer(divergence_name: str, dim: int, *, learning_rate, critic_learning_rate,
                  critic_hidden: Sequence[int], n_critic: int, scheme: str,
                  generator_loss: str, stabilisers: dict | None = None,
                  optimisation: dict | None = None) -> training.Trainer:
  """Q_θ = N(μ, σ² I) and, for critic-based divergences, an MLP critic; plain gradient steps.

  stabilisers: flat critic options (gdiv.training.critic_options: r1_penalty, r2_penalty, roth_gamma,
  roth_anneal_steps, critic_bound, ...); they act on a critic, so a divergence without one ignores them.
  optimisation: flat optimiser fields (gdiv.training.trainer_from_config: learning_rate_schedule with
  steps, average_decay, average_start).
  """
  config = ml_collections.ConfigDict(dict(
      divergence=divergence_name, optimizer="sgd", scheme=scheme, n_critic=n_critic,
      generator_loss=generator_loss, **(stabilisers or {}), **(optimisation or {})))
  rates = {"learning_rate": learning_rate, "critic_learning_rate": critic_learning_rate}  # possibly traced
  return training.trainer_from_config(config, IsotropicGaussian(dim=dim), MLPCritic(hidden=tuple(critic_hidden)),
                                      hparams=rates)


def centred_on_data(trainer: training.Trainer, sample_data, restart, restarts: int) -> training.Trainer:
  """The trainer whose init, for restart > 0 (restart 0, possibly a traced index, keeps the plain
  initialisation), puts the model's mean on a data point drawn with the init key and its scale at
  the data's, s·K^{-1/D} (s: the batch's standard deviation; K restarts share the data's volume)."""
  def init(key, example_batch):
    state = trainer.init(key, example_batch)
    params = state.model_params["params"]
    batch = sample_data(jax.random.fold_in(key, 7))
    local = jnp.log(jnp.std(batch)) - jnp.log(restarts) / batch.shape[1]
    moved = {"mean": batch[0], "log_scale": jnp.full_like(params["log_scale"], local)}
    return state._replace(model_params={"params": {
        **params, **{k: jnp.where(restart > 0, v, params[k]) for k, v in moved.items()}}})
  return trainer._replace(init=init)


def _estimates(trainer: training.Trainer, state: training.TrainState, sample_data, key) -> np.ndarray:
  """The divergence's own estimate (bound, NLL or MMD²) on EVAL_BATCHES fresh batches."""
  keys = jax.random.split(key, EVAL_BATCHES)
  return np.asarray(jax.jit(jax.vmap(
      lambda k: trainer.estimate(state, sample_data(jax.random.fold_in(k, 1)), k)))(keys), np.float64)


def _fit(trainer, state, sample_data, seed: int, num_samples: int) -> dict:
  estimates = _estimates(trainer, state, sample_data, jax.random.key(seed + 1))
  params = training.evaluated_params(state)["params"]
  return {"mu": np.asarray(params["mean"], np.float64),
          "sigma": float(np.exp(params["log_scale"][0])), "estimate_name": trainer.divergence.estimate_name,
          "estimate": float(estimates.mean()),
          "estimate_se": float(estimates.std(ddof=1) / math.sqrt(EVAL_BATCHES)),
          "params": training.evaluated_params(state),
          "samples": np.asarray(trainer.sample(state, jax.random.key(seed + 1), num_samples))}


def recipe_options(divergence_name: str, steps: int) -> dict:
  """train_fit's arguments from the divergence's recipe: n_critic, generator_loss and the
  stabilisers (Roth's annealing over `steps` where the recipe says -1). Adam's β have no
  counterpart here (plain gradient steps)."""
  settings = divergences.recipe_of(divergences.get(divergence_name)).settings()
  stabilisers = {k: v for k, v in settings.items() if k in (*training.stabilisers(), "roth_anneal_steps")}
  if stabilisers.get("roth_anneal_steps") == -1:
    stabilisers["roth_anneal_steps"] = steps
  return {**{k: settings[k] for k in ("n_critic", "generator_loss") if k in settings},
          **({"stabilisers": stabilisers} if stabilisers else {})}


def train_fit(divergence_name: str, mixture: GaussianMixture, *, steps: int, batch_size: int = 1024,
              learning_rate: float = 0.01, critic_learning_rate: float = 0.03,
              critic_hidden: Sequence[int] = (64, 64), n_critic: int = 1,
              scheme: str = "simultaneous", generator_loss: str = "saddle", seed: int = 0,
              log_every: int = 500, num_samples: int = 1000, workdir: Workdir | None = None,
              stabilisers: dict | None = None, restarts: int = 1, use_recipe: bool = False,
              optimisation: dict | None = None) -> dict:
  """Train Q_θ = N(μ, σ² I) on `mixture` (any dimension D) under one divergence; returns the fit.

  Returns mu (shape (D,)), sigma, the model parameters, `num_samples` model
  samples (key seed + 1), and the divergence's estimate at the end of training
  (the variational bound F with the final critic, the NLL, or the MMD²)
  averaged over `EVAL_BATCHES` fresh batches, with its standard error. With
  restarts > 1 (see the module docstring) also `restarts` (each restart's
  μ, σ, selection estimate, diverged step) and `chosen_restart`. With a workdir,
  metrics and checkpoints go under the divergence's name and a rerun resumes
  (a finished fit is evaluated again without training). use_recipe: the divergence's
  recipe (`recipe_options`) replaces n_critic and generator_loss and joins `stabilisers`
  (whose own entries win). optimisation: the step sizes' schedule and the iterate average
  (learning_rate_schedule, average_decay, average_start; build_trainer); the reported fit is the
  average's when one is kept.
  """
  if use_recipe:
    recipe = recipe_options(divergence_name, steps)
    n_critic = recipe.get("n_critic", n_critic)
    generator_loss = recipe.get("generator_loss", generator_loss)
    stabilisers = {**recipe.get("stabilisers", {}), **(stabilisers or {})}
  build = lambda **hparams: build_trainer(
      divergence_name, mixture.dim, learning_rate=learning_rate, critic_learning_rate=critic_learning_rate,
      critic_hidden=critic_hidden, n_critic=n_critic, scheme=scheme, generator_loss=generator_loss,
      stabilisers=stabilisers, optimisation={**(optimisation or {}), "steps": steps})
  sample_data = lambda key: mixture.sample(key, batch_size)
  example = jnp.zeros((batch_size, mixture.dim))
  trainer = build()
  if restarts == 1:
    state, _ = run_training(trainer, sample_data, steps=steps, example_batch=example, seed=seed,
                            name=divergence_name, workdir=workdir, log_every=log_every)
    return _fit(trainer, state, sample_data, seed, num_samples)
  if not isinstance(restarts, int) or restarts < 1:
    raise ValueError(f"restarts must be an integer ≥ 1; got {restarts!r}.")
  keys = jnp.stack([jax.random.key(seed)] + [jax.random.fold_in(jax.random.key(seed), r)
                                             for r in range(1, restarts)])
  hparams = {"restart": jnp.arange(restarts, dtype=jnp.float32)}
  checkpointer = None if workdir is None else Checkpointer(workdir.checkpoint_dir(divergence_name))
  swept = run_sweep(lambda restart: centred_on_data(build(), sample_data, restart, restarts), sample_data, example,
                    keys, hparams, steps=steps, log_every=log_every,
                    checkpoint_every=log_every * max(1, 5000 // log_every), checkpointer=checkpointer,
                    on_chunk=None if workdir is None else _restart_metrics_logger(workdir, divergence_name))
  diverged = np.asarray(swept.diverged_at)
  scores = _selection_estimates(trainer, swept.runs, mixture, batch_size, seed)
  healthy = [r for r in range(restarts) if diverged[r] == sweeps.HEALTHY and np.isfinite(scores[r])]
  if not healthy:
    raise FloatingPointError(f"Every one of the {restarts} restarts with divergence {divergence_name!r} "
                             f"went non-finite (at steps {diverged.tolist()}).")
  measured = [r for r in healthy if scores[r] >= _constant_critic_value(trainer.divergence)]
  chosen = min(measured or healthy, key=lambda r: scores[r])
  fit = _fit(trainer, jax.tree.map(lambda x: x[chosen], swept.runs), sample_data, seed, num_samples)
  params = training.evaluated_params(swept.runs)["params"]
  with np.errstate(over="ignore"):  # a frozen, diverged restart may hold a huge log σ: σ = inf
    sigmas = np.exp(np.asarray(params["log_scale"], np.float64)[:, 0])
  fit["chosen_restart"] = chosen
  fit["restarts"] = [{"restart": r, "mu": np.asarray(params["mean"][r]), "sigma": float(sigmas[r]),
                      "selection_estimate": float(scores[r]), "diverged_at": int(diverged[r])}
                     for r in range(restarts)]
  return fit


def compare_with_best_fit(divergence_name: str, mixture: GaussianMixture, fit: dict, grid: np.ndarray) -> dict:
  """A 1-D fit (train_fit's) beside the exact best fit (μ*, σ*) and D_f at both; a study's row."""
  # mle minimises KL(P||Q): its exact counterpart is the KL best fit.
  exact_div = divergences.get("kl" if divergence_name == "mle" else divergence_name)
  best_mu, best_sigma, best_value = best_gaussian_fit(exact_div, mixture, grid)
  mu = float(fit["mu"][0])
  at_fit = f_divergence_to_gaussian(exact_div, mixture, mu, fit["sigma"])
  row = {"mu": mu, "sigma": fit["sigma"], "best_fit_mu": best_mu,
         "best_fit_sigma": best_sigma, "best_fit_divergence": best_value,
         "divergence_at_fit": at_fit, "mu_error": abs(mu - best_mu),
         "sigma_error": abs(fit["sigma"] - best_sigma)}
  if fit["estimate_name"] == "variational_bound":
    row["variational_estimate"] = fit["estimate"]
    row["variational_estimate_se"] = fit["estimate_se"]
    row["lower_bound_holds"] = bool(
        fit["estimate"] <= best_value + LOWER_BOUND_SLACK_SE * fit["estimate_se"])
  else:
    row["variational_estimate"] = None  # maximum likelihood has no variational bound
    row["nll"] = fit["estimate"]
  return {**row, **restart_record(fit)}


def options_note(config: dict, names: Sequence[str]) -> str:
  """The protocol sentence on a fit study's restarts, stabilisers and recipes ("" for a plain run):
  what its config recorded (gdiv.cli.fit_options_from_flags)."""
  parts = []
  if config.get("restarts", 1) > 1:
    parts.append(f"{config['restarts']} restarts per divergence as one program (restart 0 from N(0, I), the "
                 "others centred on data points), the one with the smallest estimated divergence on "
                 "held-out data kept")
  if config.get("stabilisers"):
    parts.append("stabilisers " + ", ".join(f"{k}={v:g}" for k, v in config["stabilisers"].items()))
  if note := _optimisation_note(config.get("optimisation", {})):
    parts.append(note)
  if config.get("use_recipe"):
    recipes = {n: divergences.recipe_of(divergences.get(n)) for n in names}
    parts.append("each divergence's recipe (Adam's β do not apply to plain gradient steps): " + "; ".join(
        f"{n}: {r.describe()}" for n, r in recipes.items() if r.settings()))
  return "".join(f" {p[0].upper()}{p[1:]}." for p in parts)


def _optimisation_note(optimisation: dict) -> str:
  """The protocol's words for a fit's step-size schedule and iterate average."""
  parts = []
  if optimisation.get("learning_rate_schedule", "constant") != "constant":
    parts.append(f"step sizes decayed to 0 ({optimisation['learning_rate_schedule']})")
  decay, start = optimisation.get("average_decay", 0), optimisation.get("average_start", 0)
  if decay:
    kind = "uniform average" if decay == 1 else f"moving average (β = {decay:g})"
    parts.append(f"the fit reported is the {kind} of the model's iterates after update {start}")
  return "; ".join(parts)


def _restart_metrics_logger(workdir: Workdir, name: str):
  """on_chunk for run_sweep: one metrics.jsonl record per restart and host call, and a log line."""
  def log(step: int, n: int, metrics: dict, diverged_at: np.ndarray) -> None:
    del n
    for r in range(len(diverged_at)):
      workdir.log_metrics({"step": step, "name": name, "restart": r,
                           **{k: float(np.nanmean(v[r])) for k, v in metrics.items()}})
    logging.info("%s: step %d, %d restarts, %d diverged", name, step, len(diverged_at),
                 int(np.sum(diverged_at != sweeps.HEALTHY)))
  return log


def restart_record(fit: dict) -> dict:
  """What a study's results.json keeps of a fit's restarts: the chosen one and every restart's
  fit, selection estimate and divergence step ({} for a fit without restarts)."""
  return {k: fit[k] for k in ("chosen_restart", "restarts") if k in fit}


def _constant_critic_value(divergence) -> float:
  """What a fresh critic's bound must reach to measure anything: the bound of the constant critic
  T ≡ f'(1), F = f'(1) - f*(f'(1)) = f(1) (0; -log 4 for gan). A restart whose fresh critic ends
  below it (Q so far from P that the critic's extrapolation makes E_Q[f*(T)] explode, and the bound
  hugely negative) has no estimate, and is chosen only if no restart has one. -inf for a
  divergence estimated without a critic (NLL, MMD²)."""
  if not isinstance(divergence, divergences.FDivergence):
    return -math.inf
  return float(divergence.f(1.0))


def _selection_estimates(trainer: training.Trainer, runs: training.TrainState, mixture: GaussianMixture,
                         batch_size: int, seed: int) -> np.ndarray:
  """Per restart (the leading axis of `runs`), the estimated divergence it is chosen by (smaller is
  better), on held-out data: a fresh critic's bound for an f-divergence (every restart's critic
  from the same key, so they differ only through Q), the divergence's own estimate otherwise."""
  key = jax.random.fold_in(jax.random.key(seed), 2**20)  # a key no training batch uses
  divergence = trainer.divergence
  if not isinstance(divergence, divergences.FDivergence):
    sample_data = lambda k: mixture.sample(k, batch_size)
    keys = jax.random.split(key, EVAL_BATCHES)
    per_run = lambda state: jnp.mean(jax.vmap(
        lambda k: trainer.estimate(state, sample_data(jax.random.fold_in(k, 1)), k))(keys))
  else:
    per_run = lambda state: fresh_critic_bound(
        divergence, mixture.sample, lambda k, n: trainer.sample(state, k, n), key,
        steps=SELECTION_CRITIC_STEPS, batch_size=512, critic=MLPCritic(hidden=(64, 64)), eval_samples=100_000)
  return np.asarray(jax.jit(jax.vmap(per_run))(runs), np.float64)


def study_divergences() -> list[str]:
  """The registered f-divergences, and mle: those with an exact best fit by quadrature."""
  return [n for n in divergences.names()
          if n == "mle" or isinstance(divergences.get(n), divergences.FDivergence)]


def divergence_names(requested: Sequence[str], allowed: Sequence[str] | None = None) -> list[str]:
  """Expand 'all' and check every name is `allowed` (default: the f-divergences and mle)."""
  allowed = study_divergences() if allowed is None else list(allowed)
  if list(requested) == ["all"]:
    return allowed
  for name in requested:
    if name in allowed:
      continue
    if name in divergences.names():
      raise ValueError(f"{name!r} is not an f-divergence: this study compares each fit with its exact "
                       f"best fit. Choose among all, {', '.join(allowed)}.")
    raise ValueError(f"Unknown divergence {name!r}{did_you_mean(name, allowed)}; this study accepts all, "
                     f"{', '.join(allowed)} (an f-divergence a plugin registers with --import joins them).")
  return list(requested)
