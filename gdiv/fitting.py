"""Fitting one Gaussian Q_θ = N(μ, σ² I) to a mixture under a divergence, with restarts.

Shared by the f-GAN Section 4 study (experiments.fit_gaussian_mixture) and Theis
et al.'s Figure 1 (experiments.theis_fit). Both player take plain gradient steps;
f-divergences train against an MLP critic with f-GAN's single-step method.

Restarts (`restarts=K`): mode-seeking divergences have local minima on mixtures
with separated modes, so a run can stop at a worse fit than the global one.
K runs are trained as one vmapped program (gdiv.sweeps): restart 0 from the
plain initialisation N(0, I), restarts 1..K−1 at the centres of K−1 clusters
of a data sample (k-means from k-means++ seeding, deterministic given the seed;
`restart_starts`), each with its cluster's spread as its scale, so the restarts
start in different modes rather than where most of the mass is. The fit kept is the restart
with the smallest *estimated* divergence, never the exact one: for an
f-divergence the bound of a fresh critic trained against each restart's Q on
held-out data (gdiv.evaluation.fresh_critic_bound), for mle the NLL and for mmd
the MMD² on held-out batches. A restart is never kept (and its reason recorded)
if it went non-finite (frozen at that step), ran off (σ̂ or μ̂ orders of
magnitude beyond the data's scale: `ran_off`), or its fresh critic's bound
stays below a constant critic's (the critic measured nothing, so the smallest
bound is not the smallest divergence); if no restart is left, the fit fails.
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

from gdiv import divergences, evaluation, sweeps, training
from gdiv.checkpoints import Checkpointer
from gdiv.data import GaussianMixture
from gdiv.evaluation import best_gaussian_fit, f_divergence_to_gaussian, fresh_critic_bound
from gdiv.models import Gaussian, MLPCritic
from gdiv.names import did_you_mean
from gdiv.runner import run_sweep, run_training
from sklearn.cluster import KMeans
from gdiv.workdir import Workdir

EVAL_BATCHES = 100  # fresh batches on which the final estimate is averaged
SELECTION_CRITIC_STEPS = 2000  # a fresh critic's steps per restart when choosing among restarts
SEEDING_SAMPLE = 4096  # data points the restarts' starting clusters are found on
RAN_OFF = 100.0  # a restart's σ̂ or |μ̂ − E x| this many times beyond the data's scale: ran off
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
                  optimisation: dict | None = None, divergence_fields: dict | None = None) -> training.Trainer:
  """Q_θ = N(μ, σ² I) and, for critic-based divergences, an MLP critic; plain gradient steps.

  stabilisers: flat critic options (gdiv.training.critic_options: r1_penalty, r2_penalty, roth_gamma,
  roth_anneal_steps, critic_bound, ...); they act on a critic, so a divergence without one ignores them.
  optimisation: flat optimiser fields (gdiv.training.trainer_from_config: learning_rate_schedule with
  steps, average_decay, average_start). divergence_fields: the divergence's own config fields
  (gdiv.divergences.configured: sinkhorn_epsilon, transport_power, projections).
  """
  config = ml_collections.ConfigDict(dict(
      divergence=divergence_name, optimizer="sgd", scheme=scheme, n_critic=n_critic,
      generator_loss=generator_loss, **(stabilisers or {}), **(optimisation or {}), **(divergence_fields or {})))
  rates = {"learning_rate": learning_rate, "critic_learning_rate": critic_learning_rate}  # possibly traced
  return training.trainer_from_config(config, IsotropicGaussian(dim=dim), MLPCritic(hidden=tuple(critic_hidden)),
                                      hparams=rates)


def restart_starts(sample: np.ndarray, restarts: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
  """Where restarts 1..K−1 start, as (K, D) means and (K,) scales (row 0, the plain start, unused):
  the centres of K−1 clusters of a data sample (k-means from k-means++ seeding, scikit-learn,
  random_state=seed), the heaviest first, each with its cluster's spread, the root mean squared
  distance to its centre per dimension (the sample's spread·K^{-1/D} for a cluster of one point)."""
  k, dim = restarts - 1, sample.shape[1]
  kmeans = KMeans(n_clusters=k, init="k-means++", n_init=1, random_state=seed).fit(sample)
  counts = np.bincount(kmeans.labels_, minlength=k)
  fallback = float(np.std(sample)) * restarts ** (-1 / dim)
  means, scales = np.zeros((restarts, dim)), np.ones(restarts)
  for row, cluster in enumerate(np.argsort(-counts, kind="stable"), start=1):
    members = sample[kmeans.labels_ == cluster]
    means[row] = kmeans.cluster_centers_[cluster]
    spread = np.sqrt(np.mean(np.sum((members - means[row]) ** 2, axis=1)) / dim)
    scales[row] = spread if len(members) > 1 and spread > 0 else fallback
  return means.astype(np.float32), scales.astype(np.float32)


def started_at(trainer: training.Trainer, means: np.ndarray, scales: np.ndarray, restart) -> training.Trainer:
  """The trainer whose init, for restart > 0 (a possibly traced index; restart 0 keeps the plain
  initialisation), puts the model's mean at means[restart] and its scale at scales[restart]."""
  def init(key, example_batch):
    state = trainer.init(key, example_batch)
    params = state.model_params["params"]
    index = jnp.asarray(restart, jnp.int32)
    moved = {"mean": jnp.asarray(means)[index],
             "log_scale": jnp.full_like(params["log_scale"], jnp.log(jnp.asarray(scales)[index]))}
    return state._replace(model_params={"params": {
        **params, **{k: jnp.where(index > 0, v, params[k]) for k, v in moved.items()}}})
  return trainer._replace(init=init)


def ran_off(mu: np.ndarray, sigma: np.ndarray, sample: np.ndarray) -> np.ndarray:
  """Per restart, whether its fit left the data's scale s (the sample's standard deviation) by
  orders of magnitude: σ̂ outside [s/RAN_OFF, RAN_OFF·s], μ̂ farther than RAN_OFF·s from the data's
  mean, or either non-finite. Such a fit is no fit, whatever its estimate says."""
  scale = float(np.std(sample))
  with np.errstate(invalid="ignore", over="ignore"):
    far = np.linalg.norm(mu - sample.mean(0), axis=-1) > RAN_OFF * scale
    return ~(np.isfinite(sigma) & (sigma >= scale / RAN_OFF) & (sigma <= RAN_OFF * scale)) | far | \
        ~np.all(np.isfinite(mu), axis=-1)


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


def recipe_options(divergence_name: str) -> dict:
  """train_fit's arguments from the divergence's recipe: n_critic, generator_loss and the
  stabilisers (a roth_anneal_steps of -1, the whole run, is resolved where the penalty is built:
  gdiv.training.penalties). Adam's β have no counterpart here (plain gradient steps)."""
  settings = divergences.recipe_of(divergences.get(divergence_name)).settings()
  stabilisers = {k: v for k, v in settings.items() if k in (*training.stabilisers(), "roth_anneal_steps")}
  return {**{k: settings[k] for k in ("n_critic", "generator_loss") if k in settings},
          **({"stabilisers": stabilisers} if stabilisers else {})}


def train_fit(divergence_name: str, mixture: GaussianMixture, *, steps: int, batch_size: int = 1024,
              learning_rate: float = 0.01, critic_learning_rate: float = 0.03,
              critic_hidden: Sequence[int] = (64, 64), n_critic: int = 1,
              scheme: str = "simultaneous", generator_loss: str = "saddle", seed: int = 0,
              log_every: int = 500, num_samples: int = 1000, workdir: Workdir | None = None,
              stabilisers: dict | None = None, restarts: int = 1, use_recipe: bool = False,
              optimisation: dict | None = None, divergence_fields: dict | None = None,
              run_name: str | None = None) -> dict:
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
  average's when one is kept. divergence_fields: build_trainer's; run_name: the fit's folder in
  `workdir` (default the divergence's name; two fits of one divergence need two).
  """
  run_name = run_name or divergence_name
  if use_recipe:
    recipe = recipe_options(divergence_name)
    n_critic = recipe.get("n_critic", n_critic)
    generator_loss = recipe.get("generator_loss", generator_loss)
    stabilisers = {**recipe.get("stabilisers", {}), **(stabilisers or {})}
  build = lambda **hparams: build_trainer(
      divergence_name, mixture.dim, learning_rate=learning_rate, critic_learning_rate=critic_learning_rate,
      critic_hidden=critic_hidden, n_critic=n_critic, scheme=scheme, generator_loss=generator_loss,
      stabilisers=stabilisers, optimisation={**(optimisation or {}), "steps": steps},
      divergence_fields=divergence_fields)
  sample_data = lambda key: mixture.sample(key, batch_size)
  example = jnp.zeros((batch_size, mixture.dim))
  trainer = build()
  if restarts == 1:
    state, _ = run_training(trainer, sample_data, steps=steps, example_batch=example, seed=seed,
                            name=run_name, workdir=workdir, log_every=log_every)
    return _fit(trainer, state, sample_data, seed, num_samples)
  if not isinstance(restarts, int) or restarts < 1:
    raise ValueError(f"restarts must be an integer ≥ 1; got {restarts!r}.")
  keys = jnp.stack([jax.random.key(seed)] + [jax.random.fold_in(jax.random.key(seed), r)
                                             for r in range(1, restarts)])
  hparams = {"restart": jnp.arange(restarts, dtype=jnp.float32)}
  checkpointer = None if workdir is None else Checkpointer(workdir.checkpoint_dir(run_name))
  sample = np.asarray(mixture.sample(jax.random.fold_in(jax.random.key(seed), 7), SEEDING_SAMPLE), np.float64)
  means, scales = restart_starts(sample, restarts, seed)
  swept = run_sweep(lambda restart: started_at(build(), means, scales, restart), sample_data, example,
                    keys, hparams, steps=steps, log_every=log_every,
                    checkpoint_every=log_every * max(1, 5000 // log_every), checkpointer=checkpointer,
                    on_chunk=None if workdir is None else _restart_metrics_logger(workdir, run_name))
  diverged = np.asarray(swept.diverged_at)
  scores = _selection_estimates(trainer, swept.runs, mixture, batch_size, seed)
  params = training.evaluated_params(swept.runs)["params"]
  mus = np.asarray(params["mean"], np.float64)
  with np.errstate(over="ignore"):  # a frozen, diverged restart may hold a huge log σ: σ = inf
    sigmas = np.exp(np.asarray(params["log_scale"], np.float64)[:, 0])
  off, floor = ran_off(mus, sigmas, sample), _constant_critic_value(trainer.divergence)
  rejected = [_why_not_kept(diverged[r], scores[r], off[r], sigmas[r], floor) for r in range(restarts)]
  kept = [r for r in range(restarts) if rejected[r] is None]
  if not kept:
    raise FloatingPointError(f"No restart with divergence {divergence_name!r} gave a fit: " + "; ".join(
        f"restart {r} {why}" for r, why in enumerate(rejected)) + ".")
  chosen = min(kept, key=lambda r: scores[r])
  fit = _fit(trainer, jax.tree.map(lambda x: x[chosen], swept.runs), sample_data, seed, num_samples)
  fit["chosen_restart"] = chosen
  fit["restarts"] = [{"restart": r, "mu": mus[r], "sigma": float(sigmas[r]), "start_mu": means[r],
                      "start_sigma": float(scales[r]), "selection_estimate": float(scores[r]),
                      "diverged_at": int(diverged[r]), "rejected": rejected[r]} for r in range(restarts)]
  return fit


def _why_not_kept(diverged_at: int, score: float, ran_away: bool, sigma: float, floor: float) -> str | None:
  """Why a restart is no fit (None: it is one): it went non-finite, its parameters ran off, it has no
  finite estimate, or its fresh critic's bound stayed below a constant critic's (nothing measured)."""
  if diverged_at != sweeps.HEALTHY:
    return f"went non-finite at step {diverged_at}"
  if ran_away:
    return f"ran off (σ̂ = {sigma:.3g})"
  if not np.isfinite(score):
    return "has no finite estimate"
  if score < floor:
    return f"has a fresh critic's bound {score:.4g} below a constant critic's {floor:.4g}"
  return None


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


def distance_study_divergences() -> list[str]:
  """wasserstein_gp (W1 through its critic) and the distances between batches with a 1-D oracle:
  those a fit study compares with the population distance's best fit (`compare_with_distance_fit`)."""
  return ["wasserstein_gp", *DISTANCE_ORACLES]


BATCH_FIT_POINTS = 16_384  # points of each side in the Monte Carlo expected-minibatch-loss fit
# The population divergence each one's training minimises, by name (gdiv.evaluation.exact).
DISTANCE_ORACLES = ("energy", "mmd", "sinkhorn", "sliced_wasserstein", "wasserstein_1d")


def _population_distance(name: str, mixture: GaussianMixture, fields: dict):
  """(best_fit() -> (μ*, σ*, value), value_at(μ, σ)) for the population divergence `name` minimises:
  W1 for wasserstein_gp; W1 or W2² (transport_power 1 or 2) for sliced_wasserstein and wasserstein_1d
  (in 1-D the only directions are ±1); the energy distance; S_ε; MMD² at the median heuristic's
  fixed point (best_mmd_fit)."""
  power = fields.get("transport_power", 2)
  if name == "sinkhorn":
    epsilon = fields["sinkhorn_epsilon"]
    return (lambda: evaluation.best_sinkhorn_fit(mixture, epsilon, power),
            lambda mu, sigma: evaluation.sinkhorn_to_gaussian(mixture, mu, sigma, epsilon, power))
  if name == "mmd":
    def best_mmd():
      mu, sigma, value, _ = evaluation.best_mmd_fit(mixture)
      return float(mu[0]), sigma, value

    def mmd_at(mu, sigma):
      q = GaussianMixture.create([1.0], [mu], [sigma])
      return evaluation.mmd2_gaussian_mixtures(mixture, q, evaluation.median_heuristic_bandwidths(mixture, q))
    return best_mmd, mmd_at
  if name not in ("wasserstein_gp", *DISTANCE_ORACLES):
    raise ValueError(f"No population oracle for {name!r}; the distance fits know "
                     f"{', '.join(distance_study_divergences())}.")
  oracle = {"wasserstein_gp": "wasserstein_1", "energy": "energy"}.get(
      name, "wasserstein_1" if power == 1 else "wasserstein_2_squared")
  return (lambda: evaluation.best_transport_fit(oracle, mixture),
          lambda mu, sigma: evaluation.transport_to_gaussian(oracle, mixture, mu, sigma))


def compare_with_distance_fit(divergence_name: str, mixture: GaussianMixture, fit: dict, *,
                              fields: dict, batch_size: int, seed: int, pairs: int | None = None) -> dict:
  """A 1-D fit under a distance beside the population distance's best fit (μ*, σ*) and, for a
  distance between batches, the minimiser (μ_B, σ_B) of its expected minibatch loss at the training
  batch size (evaluation.expected_batch_fit, from μ*, σ*); the value of the population distance at
  the fit and at μ*, σ*. A study's row. pairs: Monte Carlo pairs of batches (None: BATCH_FIT_POINTS
  points of each side, at least 64 pairs)."""
  pairs = pairs or max(64, BATCH_FIT_POINTS // batch_size)
  best_fit, value_at = _population_distance(divergence_name, mixture, fields)
  best_mu, best_sigma, best_value = best_fit()
  mu, sigma = float(fit["mu"][0]), fit["sigma"]
  row = {"mu": mu, "sigma": sigma, "best_fit_mu": best_mu, "best_fit_sigma": best_sigma,
         "best_fit_divergence": best_value, "divergence_at_fit": value_at(mu, sigma),
         "mu_error": abs(mu - best_mu), "sigma_error": abs(sigma - best_sigma),
         "estimate_name": fit["estimate_name"], "estimate": fit["estimate"], "estimate_se": fit["estimate_se"]}
  divergence = divergences.configured(divergences.get(divergence_name), fields)
  if isinstance(divergence, divergences.SampleDistance):
    batch_mu, batch_sigma, batch_value = evaluation.expected_batch_fit(
        divergence.distance, mixture, batch_size, (best_mu, best_sigma), pairs=pairs, seed=seed)
    row |= {"batch_fit_mu": float(batch_mu[0]), "batch_fit_sigma": batch_sigma, "batch_fit_loss": batch_value,
            "batch_mu_error": abs(mu - float(batch_mu[0])), "batch_sigma_error": abs(sigma - batch_sigma)}
  return {**row, **restart_record(fit)}


def options_note(config: dict, names: Sequence[str]) -> str:
  """The protocol sentence on a fit study's restarts, stabilisers and recipes ("" for a plain run):
  what its config recorded (gdiv.cli.fit_options_from_flags)."""
  parts = []
  if config.get("restarts", 1) > 1:
    parts.append(f"{config['restarts']} restarts per divergence as one program (restart 0 from N(0, I), the "
                 "others at the centres and spreads of k-means clusters of the data), the one with the "
                 "smallest estimated divergence on held-out data kept; a restart that went non-finite, "
                 "ran off or whose fresh critic measured nothing is never kept")
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


def divergence_names(requested: Sequence[str], allowed: Sequence[str] | None = None,
                     also: Sequence[str] = ()) -> list[str]:
  """Expand 'all' to `allowed` (default: the f-divergences and mle) and check every name is
  `allowed` or in `also` (accepted by name, not part of 'all')."""
  allowed = study_divergences() if allowed is None else list(allowed)
  if list(requested) == ["all"]:
    return allowed
  accepted = [*allowed, *also]
  for name in requested:
    if name in accepted:
      continue
    if name in divergences.names():
      raise ValueError(f"{name!r} has no exact best fit here: this study compares each fit with its exact "
                       f"best fit. Choose among all, {', '.join(accepted)}.")
    raise ValueError(f"Unknown divergence {name!r}{did_you_mean(name, accepted)}; this study accepts all, "
                     f"{', '.join(accepted)} (an f-divergence a plugin registers with --import joins them).")
  return list(requested)
