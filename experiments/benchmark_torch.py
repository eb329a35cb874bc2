"""The benchmark's toy/mid/image steps written in PyTorch, to time against gdiv in the same run.

Exactly the same computation as gdiv's alternating step for `js`: a critic
update on real data and fresh samples, then a generator update on fresh
samples minimising the saddle objective F = E_P[g(V)] - E_Q[f*(g(V))] with
g(v) = log 2 - softplus(-v), f*(g(v)) = softplus(v) - log 2.
  toy / mid: MLPs of three ReLU layers of `hidden` units, latent dimension 2,
    Adam 1e-3, data from the 8-mode ring.
  image: gdiv's ConvGenerator (latent 32 → dense to 2×2×64 → two 4×4 stride-2
    transposed convolutions, 32 and 1 channels, sigmoid) and ConvCritic (two 3×3
    stride-2 convolutions, 32 and 64 channels, leaky ReLU 0.2, linear read-out),
    Adam 2e-4 (β1 0.5), batch 128 of the 8×8 digits.
Timed eager and with torch.compile (when it works here).
Requires the optional extra: pip install -e ".[bench]".
"""

from __future__ import annotations

import functools
import math
import time

import torch
from torch import nn

from gdiv.data import load_digits

LOG2 = math.log(2.0)
SIZES = {"toy": (64, 256), "mid": (256, 512), "image": (None, 128)}  # hidden width, batch size


def _mlp(inputs: int, hidden: int, outputs: int) -> nn.Sequential:
  return nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                       nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, outputs))


def _ring(n: int) -> torch.Tensor:
  k = torch.randint(0, 8, (n,))
  angle = 2 * math.pi * k / 8
  return torch.stack([torch.cos(angle), torch.sin(angle)], 1) + 0.01 * torch.randn(n, 2)


def _conv_generator(latent: int = 32) -> nn.Sequential:
  return nn.Sequential(nn.Linear(latent, 2 * 2 * 64), nn.ReLU(), nn.Unflatten(1, (64, 2, 2)),
                       nn.ConvTranspose2d(64, 32, 4, stride=2, padding=1), nn.ReLU(),
                       nn.ConvTranspose2d(32, 1, 4, stride=2, padding=1), nn.Sigmoid(), nn.Flatten())


def _conv_critic() -> nn.Sequential:
  return nn.Sequential(nn.Unflatten(1, (1, 8, 8)), nn.Conv2d(1, 32, 3, stride=2, padding=1),
                       nn.LeakyReLU(0.2), nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.LeakyReLU(0.2),
                       nn.Flatten(), nn.Linear(2 * 2 * 64, 1))


@functools.cache
def _digit_images() -> torch.Tensor:
  return torch.as_tensor(load_digits().train.x)


def _digits(n: int) -> torch.Tensor:
  images = _digit_images()
  return images[torch.randint(0, len(images), (n,))]


def make_step(name: str):
  if name == "image":
    generator, critic, lr, betas = _conv_generator(), _conv_critic(), 2e-4, (0.5, 0.999)
  else:
    hidden = SIZES[name][0]
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


def steps_per_sec(name: str, step, steps_per_call: int, calls: int, warmup: int = 20) -> float:
  """The fastest of `calls` blocks of `steps_per_call` steps, as experiments.benchmark times gdiv."""
  batch = SIZES[name][1]
  data, latent = (_digits, 32) if name == "image" else (_ring, 2)
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
