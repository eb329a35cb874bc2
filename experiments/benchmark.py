r"""Speed of the one training step: steps/s, achieved GFLOP/s against the machine's matmul rate,
compile time, memory, vmapped seeds, and (optionally) the same step in PyTorch.

  python -m experiments.benchmark --workdir=runs/benchmark
  python -m experiments.benchmark --configs=toy,mid,image --compare_torch   # needs pip install -e ".[bench]"
  python -m experiments.benchmark --configs=image --conv_forms

Configurations:
  toy   2-D GAN (js, alternating, n_critic 1), MLP 3×64 generator and critic, batch 256
  mid   the same with MLP 3×256, batch 512
  flow  Real-NVP (8 couplings, 2×256 MLPs) trained by mle on 64-D data, batch 256
  image   conv GAN (ConvGenerator latent 32, channels 64, 32; ConvCritic 32, 64) on 8×8 digits,
          batch 128; its small convolutions run as one dense matmul each (gdiv.models.convolution)
  image28 DCGAN-sized conv GAN (latent 100, generator channels 128, 64; critic 64, 128) on 28×28
          images (MNIST's shape), batch 64; convolutions as patch matmuls
  image32 the same on 32×32×3 images (CIFAR-10's shape), batch 64
  toy_wgan_gp, toy_sinkhorn, toy_energy  the toy step under wasserstein_gp (its critic and gradient
          penalty), sinkhorn (ε 0.1, cost ‖x − y‖², ott-jax) and energy (no critic)
  --conv_forms times every image configuration with lax's convolutions too. The image steps'
  data are a fixed set of uniform random pixels on the device (IMAGE_POOL_BATCHES batches), each
  step's batch picked by random indices, as the image experiments draw from their data sets:
  speed does not depend on what the pixels show.

With --compare_torch, PyTorch's own float32 matmul rate (the same n×n product) is measured
in the same run: each framework's roof, against which its step's GFLOP/s can be read.

FLOPs per step come from XLA's cost analysis of the compiled single step;
GFLOP/s = FLOPs per step × steps/s. Every rate is the fastest of `--calls`
host calls (each `--steps_per_call` steps in one lax.scan, or one matmul):
these machines are shared, and the fastest call is the one nothing else
slowed down. The matmul reference is a jit-compiled float32 n×n matmul (2n³
FLOPs) timed in the same run. Memory is XLA's memory analysis of the compiled
loop (arguments + outputs + temporaries).

Seeds: the same loop vmapped over `--seeds` seeds (gdiv.sweeps), the runs
split over all devices; on CPU the process exposes `--cpu_devices` devices,
one per core by default, so the runs of a sweep fill the cores while one run
keeps its own intra-op threads. The speed-up is against `--seeds` times the
fastest single-seed call.
"""

from __future__ import annotations

import math
import os
import time
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax
from absl import flags

from experiments.configs.benchmark import IMAGE_CONFIGS, MLP_SIZES
from gdiv import cli, divergences, sharding, sweeps, training
from gdiv.data import GaussianMixture, ring
from gdiv.models import ConvCritic, ConvGenerator, MLPCritic, MLPGenerator, RealNVP
from gdiv.workdir import Workdir

FLAGS = flags.FLAGS
# The toy step under other objectives: the critic's (WGAN-GP, n_critic 1) against distances between batches.
TOY_OBJECTIVES = {"toy_wgan_gp": "wasserstein_gp", "toy_sinkhorn": "sinkhorn", "toy_energy": "energy"}
CONFIGS = ("toy", "mid", "flow", "image", "image28", "image32", *TOY_OBJECTIVES)


IMAGE_POOL_BATCHES = 16  # the image steps' data set, in batches (PyTorch's side pre-draws its batches too)


# The smallest run ({workdir}: where it writes) and flags it must refuse, with the words the
# error must contain: tests/test_experiments.py runs both for every experiment.
SMOKE_FLAGS = ("--configs=toy", "--steps_per_call=2", "--calls=1", "--seeds=1", "--matmul_size=64",
               "--workdir={workdir}")
BAD_FLAGS = (("--configs=toy,huge", "--configs must be a comma list among"),)


def define_flags():
  """Define the command-line flags (only when run as a program, so tests can import this module)."""
  flags.DEFINE_list("configs", list(CONFIGS), f"Configurations among {', '.join(CONFIGS)}.")
  flags.DEFINE_integer("steps_per_call", 100, "Steps per host call (one lax.scan).", lower_bound=1)
  flags.DEFINE_integer("calls", 10, "Timed host calls per configuration.", lower_bound=1)
  flags.DEFINE_integer("seeds", 8, "Seeds for the vmapped-versus-sequential comparison.", lower_bound=1)
  flags.DEFINE_integer("matmul_size", 2048, "n of the n×n float32 matmul reference.", lower_bound=64)
  flags.DEFINE_integer("cpu_devices", os.cpu_count(),
                       "On CPU, devices to expose (one per core) for the vmapped seeds to split over.",
                       lower_bound=1)
  flags.DEFINE_bool("compare_torch", False, "Also time the same GAN steps (toy, mid and the image ones) in "
                    "PyTorch.")
  flags.DEFINE_bool("conv_forms", False, "Also time the image steps with every convolution as lax's "
                    "convolution (gdiv.models.convolution: form='lax').")
  flags.DEFINE_string("workdir", "runs/benchmark", "Output directory.")
  flags.register_validator("configs", lambda names: len(names) > 0 and set(names) <= set(CONFIGS),
                           message=f"--configs must be a comma list among {', '.join(CONFIGS)}.")


class Problem(NamedTuple):
  trainer: training.Trainer
  sample_batch: Callable[[jax.Array], jax.Array]
  batch_size: int
  dim: int


def _gan(hidden: int, batch_size: int, divergence: str = "js") -> Problem:
  data = ring()
  critic = MLPCritic((hidden,) * 3, "relu") if divergences.get(divergence).needs_critic else None
  trainer = training.make_trainer(
      MLPGenerator(dim=2, hidden=(hidden,) * 3), divergence, critic=critic,
      model_optimizer=optax.adam(1e-3), critic_optimizer=optax.adam(1e-3) if critic else None)
  return Problem(trainer, lambda k: data.sample(k, batch_size), batch_size, 2)


def problem(name: str, form: str | None = None) -> Problem:
  """The configuration `name`; `form` sets how the image steps' convolutions run (None: by size)."""
  if name in MLP_SIZES:
    return _gan(*MLP_SIZES[name])
  if name in TOY_OBJECTIVES:
    return _gan(*MLP_SIZES["toy"], TOY_OBJECTIVES[name])
  if name == "flow":
    means = np.random.default_rng(0).normal(size=(4, 64))
    data = GaussianMixture.create(np.full(4, 0.25), means, np.full((4, 64), 0.5))
    trainer = training.make_trainer(RealNVP(dim=64, num_layers=8, hidden=(256, 256)), "mle",
                                    model_optimizer=optax.adam(1e-3))
    return Problem(trainer, lambda k: data.sample(k, 256), 256, 64)
  if name in IMAGE_CONFIGS:
    c = IMAGE_CONFIGS[name]
    dim = math.prod(c.shape)
    trainer = training.make_trainer(
        ConvGenerator(dim=dim, image_shape=c.shape, latent_dim=c.latent_dim, channels=c.generator_channels,
                      form=form), "js",
        critic=ConvCritic(c.shape, channels=c.critic_channels, form=form),
        model_optimizer=optax.adam(2e-4, b1=0.5), critic_optimizer=optax.adam(2e-4, b1=0.5))
    pixels = jax.random.uniform(jax.random.key(3), (IMAGE_POOL_BATCHES * c.batch_size, dim))
    return Problem(trainer, lambda k: pixels[jax.random.randint(k, (c.batch_size,), 0, pixels.shape[0])],
                   c.batch_size, dim)
  raise ValueError(f"Unknown benchmark configuration {name!r}; choose among {', '.join(CONFIGS)}.")


def matmul_gflops(n: int, repeats: int = 10) -> float:
  """Measured float32 n×n matmul rate of this machine, GFLOP/s (the fastest of `repeats`)."""
  a = jax.random.normal(jax.random.key(0), (n, n))
  matmul = jax.jit(lambda x: x @ x / n)  # the division keeps values bounded; O(n²), negligible
  return 2 * n**3 / best_call_seconds(lambda x: (matmul(x), None), a, repeats) / 1e9


def best_call_seconds(fn, state, calls: int) -> float:
  """The fastest of `calls` calls of an already compiled fn, state threaded through.

  The fastest call is the machine's own speed; slower ones measure whatever
  else shared the cores at the time.
  """
  best = math.inf
  for _ in range(calls):
    start = time.perf_counter()
    state, _ = fn(state)
    jax.block_until_ready(state)
    best = min(best, time.perf_counter() - start)
  return best


def _vmapped_seeds_seconds(prob: Problem, steps_per_call: int, calls: int, seeds: int) -> float:
  """Seconds for `calls` calls of the loop vmapped over `seeds` seeds, runs split over the devices."""
  sweep = sweeps.make_sweep(lambda: prob.trainer, prob.sample_batch,
                            jnp.zeros((prob.batch_size, prob.dim)), steps_per_call)
  mesh = sharding.make_mesh(math.gcd(seeds, jax.device_count()), axis_name="runs")
  states, _ = sweeps.place(sweep.init(jax.random.split(jax.random.key(2), seeds), {}), {}, mesh)
  run = jax.jit(lambda states: sweep.run(states, {}))
  states, _ = run(states)  # compile and warm up
  return best_call_seconds(run, states, calls)


def compiled_loop(prob: Problem, state, steps_per_call: int):
  return jax.jit(training.make_train_loop(prob.trainer.step, prob.sample_batch, steps_per_call)
                 ).lower(state).compile()


def loop_seconds(compiled, state, calls: int) -> float:
  """The fastest of `calls` calls of the compiled loop, after one warm-up call."""
  state, _ = compiled(state)
  return best_call_seconds(compiled, state, calls)


def lax_conv_steps_per_sec(name: str, steps_per_call: int, calls: int) -> float:
  """An image step's steps/s with every convolution as lax's (gdiv.models.convolution)."""
  prob = problem(name, form="lax")
  state = prob.trainer.init(jax.random.key(0), jnp.zeros((prob.batch_size, prob.dim)))
  return steps_per_call / loop_seconds(compiled_loop(prob, state, steps_per_call), state, calls)


def benchmark(name: str, steps_per_call: int, calls: int, seeds: int) -> dict:
  """steps/s, GFLOP/s, compile time, memory and vmapped-seed speed-up for one configuration."""
  prob = problem(name)
  state = prob.trainer.init(jax.random.key(0), jnp.zeros((prob.batch_size, prob.dim)))
  batch = prob.sample_batch(jax.random.key(1))
  step_flops = jax.jit(prob.trainer.step).lower(state, batch).compile().cost_analysis()
  step_flops = float((step_flops[0] if isinstance(step_flops, list) else step_flops)["flops"])

  start = time.perf_counter()
  compiled = compiled_loop(prob, state, steps_per_call)
  compile_s = time.perf_counter() - start
  memory = compiled.memory_analysis()
  peak_bytes = (memory.argument_size_in_bytes + memory.output_size_in_bytes
                + memory.temp_size_in_bytes) if memory is not None else float("nan")
  seconds = loop_seconds(compiled, state, calls)
  steps_per_sec = steps_per_call / seconds

  vmapped_s = _vmapped_seeds_seconds(prob, steps_per_call, calls, seeds)
  sequential_s = seeds * seconds  # `seeds` runs of the single-seed program, measured above
  return {"steps_per_sec": steps_per_sec, "flops_per_step": step_flops,
          "gflops": step_flops * steps_per_sec / 1e9, "compile_s": compile_s,
          "peak_memory_mb": peak_bytes / 2**20, "vmapped_seeds": seeds,
          "vmapped_seeds_speedup": sequential_s / vmapped_s}


def results_table(rows: dict, matmul: float, device: str, torch_matmul: float | None = None) -> str:
  torch_cols = any("torch_eager_steps_per_sec" in r for r in rows.values())
  seeds = next(iter(rows.values()))["vmapped_seeds"]
  head = (f"| config | steps/s | GFLOP/s | of matmul | compile (s) | memory (MB) | {seeds} seeds vmapped vs "
          "sequential |")
  sep = "|---|---|---|---|---|---|---|"
  if torch_cols:
    head += " torch eager steps/s | ratio | torch.compile steps/s | ratio |"
    sep += "---|---|---|---|"
  reference = f"float32 matmul reference: {matmul:.1f} GFLOP/s"
  if torch_matmul is not None:
    reference += f" (PyTorch's, same n×n product: {torch_matmul:.1f} GFLOP/s)"
  lines = [f"# Benchmark on {device}", "", reference, "", head, sep]
  for name, r in rows.items():
    line = (f"| {name} | {r['steps_per_sec']:.0f} | {r['gflops']:.2f} | {r['matmul_fraction']:.1%} | "
            f"{r['compile_s']:.2f} | {r['peak_memory_mb']:.1f} | {r['vmapped_seeds_speedup']:.2f}× |")
    if torch_cols:
      eager, comp = r.get("torch_eager_steps_per_sec"), r.get("torch_compile_steps_per_sec")
      fmt = lambda v: "—" if v is None else f"{v:.0f}"
      ratio = lambda v: "—" if not v else f"{r['steps_per_sec'] / v:.2f}×"
      line += f" {fmt(eager)} | {ratio(eager)} | {fmt(comp)} | {ratio(comp)} |"
    lines.append(line)
  for name, r in rows.items():
    if "lax_conv_steps_per_sec" in r:
      lines += ["", f"{name} with every convolution as lax's: {r['lax_conv_steps_per_sec']:.0f} steps/s "
                f"(as chosen by size, above: {r['steps_per_sec'] / r['lax_conv_steps_per_sec']:.2f}×)"]
  return "\n".join(lines) + "\n"


def main(argv):
  del argv
  sharding.request_cpu_devices(FLAGS.cpu_devices)  # before the first computation
  workdir = Workdir(FLAGS.workdir)
  device = f"{jax.devices()[0].device_kind} ({jax.default_backend()}, {jax.device_count()} device(s))"
  workdir.write_config({"configs": FLAGS.configs, "steps_per_call": FLAGS.steps_per_call,
                                     "calls": FLAGS.calls, "seeds": FLAGS.seeds,
                                     "cpu_devices": FLAGS.cpu_devices,
                                     "matmul_size": FLAGS.matmul_size, "device": device})
  matmul = matmul_gflops(FLAGS.matmul_size)
  torch_matmul = None
  if FLAGS.compare_torch:
    from experiments import benchmark_torch
    torch_matmul = benchmark_torch.matmul_gflops(FLAGS.matmul_size)
  rows = {}
  for name in FLAGS.configs:
    rows[name] = {**benchmark(name, FLAGS.steps_per_call, FLAGS.calls, FLAGS.seeds),
                  "matmul_gflops": matmul, "torch_matmul_gflops": torch_matmul}
    rows[name]["matmul_fraction"] = rows[name]["gflops"] / matmul
    if FLAGS.conv_forms and name in IMAGE_CONFIGS:
      rows[name]["lax_conv_steps_per_sec"] = lax_conv_steps_per_sec(name, FLAGS.steps_per_call, FLAGS.calls)
    if FLAGS.compare_torch and name != "flow" and name not in TOY_OBJECTIVES:
      rows[name].update(benchmark_torch.compare(name, FLAGS.steps_per_call, FLAGS.calls))
    workdir.log_metrics({"config": name, **rows[name]})
  workdir.write_results(rows, results_table(rows, matmul, device, torch_matmul))


if __name__ == "__main__":
  cli.run(define_flags, main)
