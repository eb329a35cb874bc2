r"""Likelihood and sample quality disagree: the two examples of Theis et al. (2016).

(a) Noise mixture. q = 0.01·p + 0.99·noise with p = N(0, I_D), noise = N(0, 3² I_D).
    log q(x) ≥ log p(x) - log 100, so its test NLL is within 4.61 nats of the true
    model's in every dimension D (4.61/D per dimension), while 99 % of its samples
    are noise: precision falls toward 0.01 as D grows.
(b) Memorisation. A uniform mixture of N(x_i, σ² I) on the training points has
    samples as good as the data (precision and MMD like the true model's) and a
    test NLL that grows without bound as σ shrinks, far worse than a plain
    Gaussian fitted by maximum likelihood with gdiv.

Reproduce (about 30 s on a 2-core CPU):

  python -m experiments.likelihood_vs_samples --workdir=/tmp/likelihood_vs_samples

Expected: (a) gaps in [0, 4.61] nats for D = 2…512 (1.27 at D = 2, 4.605 from
D = 32 on), gap/D from 0.64 down to 0.009; the mixture's precision 0.54 at D = 2,
0.04 at D = 8, ≈ 0.005 from D = 32 on (≈ 0.01 × the true model's own precision,
which the k-NN estimate itself lowers as D grows). (b) memorisers' precision
0.80–0.88 against 0.87 for the true model, MMD² ≤ 0.002, and test NLL rising
from 12 nats (σ = 0.3) to 8·10⁴ (σ = 0.003), against 11.5 for the Gaussian fit.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import optax
from absl import flags

from gdiv import cli, training
from gdiv.data import GaussianMixture
from gdiv.evaluation import mmd2, precision_recall
from gdiv.models import Gaussian
from gdiv.workdir import Workdir

FLAGS = flags.FLAGS

NOISE_WEIGHT = 0.99
LOG_100 = math.log(100.0)


def noise_mixture(truth: GaussianMixture, noise_std: float) -> GaussianMixture:
  """0.01·truth + 0.99·N(0, noise_std² I), for a single-component truth."""
  dim = truth.dim
  return GaussianMixture.create([1 - NOISE_WEIGHT, NOISE_WEIGHT],
                                np.concatenate([truth.means, np.zeros((1, dim))]),
                                np.concatenate([truth.stds, np.full((1, dim), noise_std)]))


def test_nll(model: GaussianMixture, x: jax.Array) -> float:
  """-mean log q(x) in float64: in D = 512 float32 NLLs (≈ 730 nats) round at 1e-4."""
  with jax.enable_x64(True):
    return -float(jnp.mean(model.log_prob(jnp.asarray(np.asarray(x), jnp.float64))))


def noise_mixture_row(dim: int, noise_std: float, num_test: int, key: jax.Array) -> dict:
  """Part (a) for one dimension."""
  truth = GaussianMixture.create([1.0], np.zeros((1, dim)), np.ones((1, dim)))
  mixture = noise_mixture(truth, noise_std)
  k_test, k_real, k_mix = jax.random.split(key, 3)
  x_test = truth.sample(k_test, num_test)
  nll_true, nll_mix = test_nll(truth, x_test), test_nll(mixture, x_test)
  mix_pr = precision_recall(x_test, mixture.sample(k_mix, num_test))
  true_pr = precision_recall(x_test, truth.sample(k_real, num_test))
  return {"dim": dim, "nll_true": nll_true, "nll_mixture": nll_mix, "gap": nll_mix - nll_true,
          "gap_per_dim": (nll_mix - nll_true) / dim, "precision_mixture": mix_pr["precision"],
          "recall_mixture": mix_pr["recall"], "precision_true": true_pr["precision"]}


def memorisation_target(dim: int) -> GaussianMixture:
  """Data for part (b): four well-separated Gaussian clusters in `dim` dimensions."""
  means = 3.0 * np.eye(4, dim) if dim >= 4 else 3.0 * np.random.default_rng(0).normal(size=(4, dim))
  return GaussianMixture.create(np.full(4, 0.25), means, np.full((4, dim), 0.7))


def fit_gaussian_by_mle(x_train: jax.Array, steps: int = 3000, seed: int = 0) -> GaussianMixture:
  """A diagonal Gaussian trained by maximum likelihood with gdiv's step (the 'trained model')."""
  model = Gaussian(dim=x_train.shape[1])
  trainer = training.make_trainer(model, "mle", model_optimizer=optax.adam(0.02))
  batch = lambda key: x_train[jax.random.randint(key, (256,), 0, x_train.shape[0])]
  state = trainer.init(jax.random.key(seed), x_train[:1])
  state, metrics = jax.jit(training.make_train_loop(trainer.step, batch, steps))(state)
  training.check_finite(jax.device_get(metrics), "mle", 0)
  params = state.model_params["params"]
  return GaussianMixture.create([1.0], np.asarray(params["mean"])[None],
                                np.exp(np.asarray(params["log_scale"]))[None])


def memorisation_rows(dim: int, num_train: int, num_test: int, bandwidths,
                      key: jax.Array) -> tuple[dict, dict]:
  """Part (b): truth, a Gaussian fit, memorisers at each σ, and the noise mixture, on one data set.

  Returns (metrics per model, samples per model).
  """
  target = memorisation_target(dim)
  k_train, k_test, k_samples = jax.random.split(key, 3)
  x_train, x_test = target.sample(k_train, num_train), target.sample(k_test, num_test)
  train = np.asarray(x_train)
  models = {"true model": target, "Gaussian fit (mle)": fit_gaussian_by_mle(x_train),
            "noise mixture": noise_mixture(GaussianMixture.create([1.0], np.zeros((1, dim)),
                                                                  np.full((1, dim), 2.0)), 3.0)}
  for sigma in bandwidths:
    models[f"memoriser σ={sigma:g}"] = GaussianMixture.create(
        np.full(num_train, 1.0 / num_train), train, np.full_like(train, sigma))
  rows, samples = {}, {}
  for i, (name, model) in enumerate(models.items()):
    samples[name] = np.asarray(model.sample(jax.random.fold_in(k_samples, i), num_test))
    pr = precision_recall(x_test, samples[name])
    rows[name] = {"nll": test_nll(model, x_test), "precision": pr["precision"],
                  "recall": pr["recall"], "mmd2": mmd2(x_test, samples[name])}
  return rows, samples


def results_table(noise_rows: list, memo_rows: dict, config: dict) -> str:
  lines = [
      "# Likelihood vs sample quality (Theis, van den Oord, Bethge 2016)", "",
      f"## (a) q = 0.01·p + 0.99·noise, p = N(0, I_D), noise = N(0, {config['noise_std']:g}² I_D)", "",
      "Test NLL in nats per example (continuous densities); precision/recall: Kynkäänniemi et al., "
      f"k = 3, {config['num_test']} test points and samples.", "",
      "| D | NLL p | NLL q | gap (≤ log 100 = 4.61) | gap / D | precision q | precision p | recall q |",
      "|---|---|---|---|---|---|---|---|",
  ]
  for r in noise_rows:
    lines.append(f"| {r['dim']} | {r['nll_true']:.2f} | {r['nll_mixture']:.2f} | {r['gap']:.3f} | "
                 f"{r['gap_per_dim']:.4f} | {r['precision_mixture']:.3f} | {r['precision_true']:.3f} | "
                 f"{r['recall_mixture']:.3f} |")
  lines += [
      "", f"## (b) Memorisation, {config['memorise_dim']}-D data (4 clusters), "
      f"{config['num_train']} training points", "",
      "| model | test NLL (nats) | precision | recall | MMD² to test |", "|---|---|---|---|---|",
  ]
  for name, r in memo_rows.items():
    lines.append(f"| {name} | {r['nll']:.2f} | {r['precision']:.3f} | {r['recall']:.3f} | "
                 f"{r['mmd2']:.4f} |")
  lines += ["", "A good likelihood does not imply good samples (a), and good samples do not imply a "
            "good likelihood (b)."]
  return "\n".join(lines) + "\n"


def plot(path, noise_rows: list, memo_rows: dict) -> None:
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
  dims = [r["dim"] for r in noise_rows]
  left.plot(dims, [r["gap_per_dim"] for r in noise_rows], "o-", label="NLL gap per dimension (nats)")
  left.plot(dims, [r["precision_mixture"] for r in noise_rows], "s-", label="precision of q")
  left.plot(dims, [LOG_100 / d for d in dims], "k--", lw=1, label="log 100 / D")
  left.axhline(1 - NOISE_WEIGHT, color="0.5", lw=1, ls=":", label="0.01")
  left.set_xscale("log", base=2)
  left.set_yscale("log")
  left.set_xlabel("dimension D")
  left.set_title("(a) 0.01·p + 0.99·noise")
  left.legend(fontsize=8)
  for name, r in memo_rows.items():
    right.scatter(r["nll"], r["precision"])
    right.annotate(name, (r["nll"], r["precision"]), fontsize=7, xytext=(4, 2), textcoords="offset points")
  right.set_xscale("symlog")
  right.set_xlabel("test NLL (nats per example)")
  right.set_ylabel("precision")
  right.set_title("(b) NLL against precision")
  fig.tight_layout()
  fig.savefig(path, dpi=120)
  plt.close(fig)


# The smallest run ({workdir}: where it writes) and flags it must refuse, with the words the
# error must contain: tests/test_experiments.py runs both for every experiment.
SMOKE_FLAGS = ("--dims=2", "--num_test=100", "--num_train=50", "--bandwidths=0.1",
               "--workdir={workdir}")
BAD_FLAGS = (("--bandwidths=0.1,-0.2", "--bandwidths must be a comma list of finite numbers > 0"),
             ("--dims=0", "--dims must be a comma list of integers > 0"),
             ("--noise_std=-3", "--noise_std must be a finite number > 0"))


def define_flags():
  """Define the command-line flags (only when run as a program, so tests can import this module)."""
  flags.DEFINE_list("dims", ["2", "8", "32", "128", "512"], "Dimensions D for the noise mixture.")
  flags.DEFINE_float("noise_std", 3.0, "Std of the isotropic Gaussian noise component.")
  flags.DEFINE_integer("num_test", 2000, "Test points and model samples per evaluation.", lower_bound=10)
  flags.DEFINE_integer("num_train", 1000, "Training points (memorised) in part (b).", lower_bound=10)
  flags.DEFINE_integer("memorise_dim", 8, "Data dimension in part (b).", lower_bound=1)
  flags.DEFINE_list("bandwidths", ["0.3", "0.1", "0.03", "0.01", "0.003"], "Memoriser bandwidths σ.")
  flags.DEFINE_integer("seed", 0, "PRNG seed.")
  flags.DEFINE_string("workdir", "runs/likelihood_vs_samples", "Output directory.")
  cli.require_positive_list("dims", int)
  cli.require_positive_list("bandwidths")
  cli.require_positive("noise_std")


def main(argv):
  del argv
  config = {"dims": [int(d) for d in FLAGS.dims], "noise_std": FLAGS.noise_std,
            "num_test": FLAGS.num_test, "num_train": FLAGS.num_train,
            "memorise_dim": FLAGS.memorise_dim, "bandwidths": [float(b) for b in FLAGS.bandwidths],
            "seed": FLAGS.seed, "backend": jax.default_backend()}
  workdir = Workdir(FLAGS.workdir)
  workdir.write_config(config)
  key_a, key_b = jax.random.split(jax.random.key(FLAGS.seed))
  noise_rows = []
  for dim in config["dims"]:
    noise_rows.append(noise_mixture_row(dim, config["noise_std"], config["num_test"],
                                        jax.random.fold_in(key_a, dim)))
    workdir.log_metrics({"part": "noise_mixture", **noise_rows[-1]})
  memo_rows, memo_samples = memorisation_rows(config["memorise_dim"], config["num_train"],
                                              config["num_test"], config["bandwidths"], key_b)
  names = list(memo_samples)
  workdir.save_samples(np.stack([memo_samples[n] for n in names]), models=np.asarray(names))
  for name, row in memo_rows.items():
    workdir.log_metrics({"part": "memorisation", "model": name, **row})
  plot(workdir.path / "nll_vs_precision.png", noise_rows, memo_rows)
  workdir.write_results({"noise_mixture": noise_rows, "memorisation": memo_rows},
                        results_table(noise_rows, memo_rows, config))


if __name__ == "__main__":
  cli.run(define_flags, main)
