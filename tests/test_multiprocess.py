"""Data-parallel training over real processes (jax.distributed, gloo on CPU): 2 processes × 2
devices against one device, a run stopped half-way resumed in 2 processes (bitwise) or in 1, and a
finished 2-process run extended in one process on 4 devices."""

import json
import os
import pathlib
import shutil
import socket
import subprocess
import sys

import jax
import numpy as np
import pytest

from experiments import train_toy2d
from experiments.configs.train_toy2d import get_config
from gdiv.workdir import Workdir

pytestmark = pytest.mark.slow  # many compiled programs or subprocesses

REPO = pathlib.Path(__file__).resolve().parents[1]
OVERRIDES = {"data_parallel": True, "steps": 50, "log_every": 25, "checkpoint_every": 25, "batch_size": 64,
             "eval_samples": 500, "generator_hidden": (32, 32), "critic_hidden": (32, 32)}


def _config(**changes):
  config = get_config()
  config.update({**OVERRIDES, **changes})
  return config


def _launch(workdir: pathlib.Path, processes: int, devices: int, steps: int = 50) -> list[subprocess.Popen]:
  """experiments.train_toy2d to `steps` in `processes` processes with `devices` CPU devices each."""
  with socket.socket() as s:
    s.bind(("localhost", 0))
    port = s.getsockname()[1]
  flags = ["--config=experiments/configs/train_toy2d.py", f"--workdir={workdir}",
           *(f"--config.{k}={','.join(map(str, v)) if isinstance(v, tuple) else v}"
             for k, v in {**OVERRIDES, "steps": steps}.items())]
  if processes > 1:
    flags += [f"--coordinator_address=localhost:{port}", f"--num_processes={processes}"]
  env = {**os.environ, "XLA_FLAGS": f"--xla_force_host_platform_device_count={devices}"}
  return [subprocess.Popen([sys.executable, "-m", "experiments.train_toy2d", *flags,
                            *([f"--process_id={i}"] if processes > 1 else [])],
                           cwd=REPO, env=env, stderr=subprocess.PIPE, text=True) for i in range(processes)]


def _finish(launched: list[subprocess.Popen]) -> list[str]:
  """Each process's stderr, once all have ended well."""
  logs = []
  for process in launched:
    _, errors = process.communicate(timeout=240)
    assert process.returncode == 0, errors[-3000:]
    logs.append(errors)
  return logs


def _stopped_at_25(finished: pathlib.Path, copy: pathlib.Path) -> pathlib.Path:
  """What a run killed between its checkpoints at 25 and 50 leaves: no step-50 checkpoint, no
  results."""
  shutil.copytree(finished, copy, ignore=shutil.ignore_patterns("results.*", "samples.*"))
  shutil.rmtree(copy / "checkpoints" / "50")
  return copy


def _saved_state(workdir: pathlib.Path):
  """The step-50 checkpoint, restored in this process (1 device) with gdiv's checkpointer."""
  state, _, _ = train_toy2d.train(_config(), Workdir(workdir))  # at its last step: restores only
  return state


def _assert_close(state, reference, tolerance: float, what: str) -> None:
  assert int(state.step) == int(reference.step) == 50
  for part in ("model_params", "critic_params", "model_opt_state", "critic_opt_state"):
    jax.tree.map(lambda x, y: np.testing.assert_allclose(np.asarray(x), np.asarray(y), rtol=0,
                                                         atol=tolerance, err_msg=f"{what}: {part}"),
                 getattr(state, part), getattr(reference, part))


def _metrics(workdir: pathlib.Path) -> dict[int, dict]:
  records = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
  return {r["step"]: r for r in records}


def _assert_same_losses(workdir: pathlib.Path, reference: pathlib.Path) -> None:
  for step, record in _metrics(workdir).items():
    for name, value in record.items():
      np.testing.assert_allclose(value, _metrics(reference)[step][name], rtol=1e-5,
                                 err_msg=f"{workdir.name}: {name}, step {step}")


def test_two_processes_train_as_one_and_resume_in_either(tmp_path):
  two, one = tmp_path / "two_processes", tmp_path / "one_device"
  _finish(_launch(two, processes=2, devices=2))
  state, metrics, _ = train_toy2d.train(_config(), Workdir(one))  # one process, one device
  resumed_in_two = _stopped_at_25(two, tmp_path / "two_then_two")
  extended = shutil.copytree(two, tmp_path / "extended_on_four_devices")
  *_, extending = _finish(_launch(resumed_in_two, processes=2, devices=2)
                          + _launch(extended, processes=1, devices=4, steps=75))

  # 2 processes × 2 devices = 1 process × 1 device: losses, parameters, results; only process 0 wrote
  assert sorted(_metrics(two)) == [25, 50] and len((two / "metrics.jsonl").read_text().splitlines()) == 2
  _assert_same_losses(two, one)
  reference = _saved_state(two)
  _assert_close(state, reference, 1e-5, "1 process, 1 device")
  results = json.loads((two / "results.json").read_text())
  assert {k: results[k] for k in metrics} == {k: (str(v) if v == np.inf else v) for k, v in metrics.items()}

  # killed after the step-25 checkpoint and restarted: bitwise in 2 processes, within 1e-5 in 1
  _assert_close(_saved_state(resumed_in_two), reference, 0.0, "2 → 2")
  assert json.loads((resumed_in_two / "results.json").read_text()) == results
  resumed, _, _ = train_toy2d.train(_config(), Workdir(_stopped_at_25(two, tmp_path / "two_then_one")))
  _assert_close(resumed, reference, 1e-5, "2 → 1")
  # the finished 2-process run, given 25 more steps in one process on 4 devices
  assert "resumed from the checkpoint at step 50" in extending
  assert f"Extending the run in {extended} from step 50 to 75." in extending
  assert sorted(_metrics(extended)) == [25, 50, 75]
