"""The benchmark's GAN steps written in PyTorch, to time against gdiv in the same run.

Exactly the same computation as gdiv's alternating step for `js`: a critic
update on real data and fresh samples, then a generator update on fresh
samples minimising the saddle objective F = E_P[g(V)] - E_Q[f*(g(V))] with
g(v) = log 2 - softplus(-v), f*(g(v)) = softplus(v) - log 2.
  toy / mid: MLPs of three ReLU layers of `hidden` units, latent dimension 2,
    Adam 1e-3, data from the 8-mode ring.
  image, image28, image32: gdiv's ConvGenerator (latent → dense to an (H/4)×(W/4)
    map → two 4×4 stride-2 transposed convolutions, to the image's channels, sigmoid)
    and ConvCritic (two 3×3 stride-2 convolutions, leaky ReLU 0.2, linear read-out),
    Adam 2e-4 (β1 0.5), with the sizes of experiments.configs.benchmark, on
    uniform random pixels. PyTorch reads a flattened image as C×H×W (its own layout),
    gdiv as H×W×C: the same arithmetic, each in its framework's native order.
Timed eager and with torch.compile (when it works here).
Requires the optional extra: pip install -e ".[bench]".
"""

from __future__ import annotations

import math
import time

import torch
from torch import nn

from experiments.configs.benchmark import IMAGE_CONFIGS, MLP_SIZES, ImageConfig
from gdiv.data import hwc

LOG2 = math.log(2.0)


def _mlp(inputs: int, hidden: int, outputs: int) -> nn.Sequential:
  return nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                       nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, outputs))


def _ring(n: int) -> torch.Tensor:
  k = torch.randint(0, 8, (n,))
  angle = 2 * math.pi * k / 8
  return torch.stack([torch.cos(angle), torch.sin(angle)], 1) + 0.01 * torch.randn(n, 2)


def _conv_generator(c: ImageConfig) -> nn.Sequential:
  (height, width, colours), (wide, narrow) = hwc(c.shape), c.generator_channels
  return nn.Sequential(nn.Linear(c.latent_dim, height // 4 * width // 4 * wide), nn.ReLU(),
                       nn.Unflatten(1, (wide, height // 4, width // 4)),
                       nn.ConvTranspose2d(wide, narrow, 4, stride=2, padding=1), nn.ReLU(),
                       nn.ConvTranspose2d(narrow, colours, 4, stride=2, padding=1), nn.Sigmoid(), nn.Flatten())


def _conv_critic(c: ImageConfig) -> nn.Sequential:
  (height, width, colours), (narrow, wide) = hwc(c.shape), c.critic_channels
  return nn.Sequential(nn.Unflatten(1, (colours, height, width)), nn.Conv2d(colours, narrow, 3, stride=2, padding=1),
                       nn.LeakyReLU(0.2), nn.Conv2d(narrow, wide, 3, stride=2, padding=1), nn.LeakyReLU(0.2),
                       nn.Flatten(), nn.Linear(-(-height // 4) * -(-width // 4) * wide, 1))


def make_step(name: str):
  if name in IMAGE_CONFIGS:
    config = IMAGE_CONFIGS[name]
    generator, critic, lr, betas = _conv_generator(config), _conv_critic(config), 2e-4, (0.5, 0.999)
  else:
    hidden = MLP_SIZES[name][0]
    generator, critic, lr, betas = _mlp(2, hidden, 2), _mlp(2, hidden, 1), 1e-3, (0.9, 0.999)
  g_opt = torch.optim.Adam(generator.parameters(), lr, betas=betas)
  c_opt = torch.optim.Adam(critic.parameters(), lr, betas=betas)

  def bound(v_real, v_fake):
    return (LOG2 - nn.functional.softplus(-v_real)).mean() - (nn.functional.softplus(v_fake) - LOG2).mean()

  def step(real, z_critic, z_model):
    c_opt.zero_grad(set_to_none=True)
    critic_loss = -bound(critic(real), critic(generator(z_critic).detach()))
    critic_loss.backward()
    c_opt.step()
    g_opt.zero_grad(set_to_none=True)
    model_loss = bound(critic(real), critic(generator(z_model)))
    model_loss.backward()
    g_opt.step()
    return model_loss.detach()

  return step


def matmul_gflops(n: int, repeats: int = 10) -> float:
  """PyTorch's float32 n×n matmul rate on this machine, GFLOP/s (the fastest of `repeats`), timed
  as experiments.benchmark.matmul_gflops times XLA's."""
  a = torch.randn(n, n)
  a @ a / n  # warm-up
  best = math.inf
  for _ in range(repeats):
    start = time.perf_counter()
    a @ a / n
    best = min(best, time.perf_counter() - start)
  return 2 * n**3 / best / 1e9


def steps_per_sec(name: str, step, steps_per_call: int, calls: int, warmup: int = 20) -> float:
  """The fastest of `calls` blocks of `steps_per_call` steps, as experiments.benchmark times gdiv."""
  if name in IMAGE_CONFIGS:
    config = IMAGE_CONFIGS[name]
    batch, latent, dim = config.batch_size, config.latent_dim, math.prod(config.shape)
    data = lambda n: torch.rand(n, dim)
  else:
    batch, latent, data = MLP_SIZES[name][1], 2, _ring
  inputs = [(data(batch), torch.randn(batch, latent), torch.randn(batch, latent))
            for _ in range(steps_per_call)]
  for args in inputs[:warmup]:
    step(*args)
  best = math.inf
  for _ in range(calls):
    start = time.perf_counter()
    for args in inputs:
      step(*args)
    best = min(best, time.perf_counter() - start)
  return steps_per_call / best


def compare(name: str, steps_per_call: int, calls: int) -> dict:
  """torch_eager_steps_per_sec and torch_compile_steps_per_sec (None where compile fails)."""
  torch.manual_seed(0)
  eager = steps_per_sec(name, make_step(name), steps_per_call, calls)
  result = {"torch_eager_steps_per_sec": eager,
            "torch_threads": torch.get_num_threads(), "torch_version": torch.__version__}
  try:
    compiled = torch.compile(make_step(name))
    result["torch_compile_steps_per_sec"] = steps_per_sec(name, compiled, steps_per_call, calls,
                                                          warmup=30)
  except Exception as e:  # torch.compile needs a working toolchain; say why it is missing
    result["torch_compile_steps_per_sec"] = None
    result["torch_compile_error"] = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
  return result
