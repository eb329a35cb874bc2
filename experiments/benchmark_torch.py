"""The benchmark's toy/mid step written in PyTorch, to time against gdiv in the same run.

Exactly the same computation as gdiv's alternating step for `js`: a critic
update on real data and fresh samples, then a generator update on fresh
samples minimising the saddle objective F = E_P[g(V)] - E_Q[f*(g(V))] with
g(v) = log 2 - softplus(-v), f*(g(v)) = softplus(v) - log 2; MLPs of three
ReLU layers of `hidden` units, latent dimension 2, Adam 1e-3, data from the
8-mode ring. Timed eager and with torch.compile (when it works here).
Requires the optional extra: pip install -e ".[bench]".
"""

from __future__ import annotations

import math
import time

import torch
from torch import nn

LOG2 = math.log(2.0)
SIZES = {"toy": (64, 256), "mid": (256, 512)}  # hidden width, batch size


def _mlp(inputs: int, hidden: int, outputs: int) -> nn.Sequential:
  return nn.Sequential(nn.Linear(inputs, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                       nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, outputs))


def _ring(n: int) -> torch.Tensor:
  k = torch.randint(0, 8, (n,))
  angle = 2 * math.pi * k / 8
  return torch.stack([torch.cos(angle), torch.sin(angle)], 1) + 0.01 * torch.randn(n, 2)


def make_step(hidden: int, batch: int):
  generator, critic = _mlp(2, hidden, 2), _mlp(2, hidden, 1)
  g_opt = torch.optim.Adam(generator.parameters(), 1e-3)
  c_opt = torch.optim.Adam(critic.parameters(), 1e-3)

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


def steps_per_sec(step, batch: int, steps_per_call: int, calls: int, warmup: int = 20) -> float:
  """The fastest of `calls` blocks of `steps_per_call` steps, as experiments.benchmark times gdiv."""
  inputs = [(_ring(batch), torch.randn(batch, 2), torch.randn(batch, 2))
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
  hidden, batch = SIZES[name]
  torch.manual_seed(0)
  eager = steps_per_sec(make_step(hidden, batch), batch, steps_per_call, calls)
  result = {"torch_eager_steps_per_sec": eager,
            "torch_threads": torch.get_num_threads(), "torch_version": torch.__version__}
  try:
    compiled = torch.compile(make_step(hidden, batch))
    result["torch_compile_steps_per_sec"] = steps_per_sec(compiled, batch, steps_per_call, calls,
                                                          warmup=30)
  except Exception as e:  # torch.compile needs a working toolchain; say why it is missing
    result["torch_compile_steps_per_sec"] = None
    result["torch_compile_error"] = f"{type(e).__name__}: {str(e).splitlines()[0][:200]}"
  return result
