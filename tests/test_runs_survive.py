"""Runs that survive: checkpoints, exact resume (also after SIGKILL), corrupted checkpoints,
the non-finite guard, and configuration errors."""

import os
import pathlib
import signal
import subprocess
import sys
import time

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from experiments.configs.train_toy2d import get_config
from experiments.train_toy2d import make_trainer
from gdiv import training
from gdiv.checkpoints import CheckpointError, Checkpointer
from gdiv.data import ring
from gdiv.models import Gaussian
from gdiv.runner import run_training
from gdiv.workdir import Workdir

REPO = pathlib.Path(__file__).resolve().parents[1]
SMALL = {"generator_hidden": (16, 16), "critic_hidden": (16, 16), "batch_size": 32,
         "log_every": 25, "checkpoint_every": 50, "learning_rate": 1e-3, "critic_learning_rate": 1e-3}


def _config(**overrides):
  config = get_config()
  config.update({**SMALL, **overrides})
  return config


def _run(config, workdir, steps):
  data = ring()
  return run_training(make_trainer(config), lambda k: data.sample(k, config.batch_size), steps=steps,
                      example_batch=jnp.zeros((config.batch_size, 2)), workdir=workdir,
                      log_every=config.log_every, checkpoint_every=config.checkpoint_every,
                      keep_checkpoints=config.keep_checkpoints)[0]


def _assert_bitwise_equal(a, b):
  leaves_a, leaves_b = jax.tree.leaves(a), jax.tree.leaves(b)
  assert len(leaves_a) == len(leaves_b)
  for x, y in zip(leaves_a, leaves_b):
    x = jax.random.key_data(x) if jnp.issubdtype(x.dtype, jax.dtypes.prng_key) else x
    y = jax.random.key_data(y) if jnp.issubdtype(y.dtype, jax.dtypes.prng_key) else y
    np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


@pytest.mark.parametrize("options", [{}, {"average_decay": 0.99, "average_start": 50,
                                      "learning_rate_schedule": "cosine"}], ids=["plain", "averaged"])
def test_stopped_and_resumed_run_is_bitwise_identical_to_an_uninterrupted_one(tmp_path, options):
  config = _config(**options)
  straight = _run(config, Workdir(tmp_path / "straight"), steps=200)
  resumed_dir = Workdir(tmp_path / "resumed")
  first = _run(config, resumed_dir, steps=100)
  assert int(first.step) == 100
  resumed = _run(config, Workdir(tmp_path / "resumed"), steps=200)
  assert int(resumed.step) == 200
  _assert_bitwise_equal(straight, resumed)


# orbax's background readers report the garbage they were fed as "unraisable" exceptions
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_corrupted_newest_checkpoint_falls_back_to_the_previous_one_with_a_warning(tmp_path):
  config = _config()
  workdir = Workdir(tmp_path)
  at_100 = _run(config, workdir, steps=100)
  _run(config, Workdir(tmp_path), steps=150)
  newest = tmp_path / "checkpoints" / "150"
  for path in (newest / "default").rglob("*"):  # every array and metadata file of the step
    if path.is_file() and path.name != "commit_success.txt":
      path.write_bytes(b"garbage")
  checkpointer = Checkpointer(workdir.checkpoint_dir())
  template = make_trainer(config).init(jax.random.key(0), jnp.zeros((config.batch_size, 2)))
  with pytest.warns(UserWarning, match="step 150 .* could not be restored.*trying the previous one"):
    restored = checkpointer.restore_latest(template)
  _assert_bitwise_equal(restored, at_100)
  assert newest.exists()  # nothing is deleted


def test_checkpoint_of_another_model_is_a_clear_error(tmp_path):
  _run(_config(), Workdir(tmp_path), steps=50)
  other = _config(generator_hidden=(8, 8))
  template = make_trainer(other).init(jax.random.key(0), jnp.zeros((32, 2)))
  with pytest.warns(UserWarning), pytest.raises(CheckpointError, match="No checkpoint in .* matches this run"):
    Checkpointer(tmp_path / "checkpoints").restore_latest(template)


def test_non_finite_loss_stops_with_divergence_step_and_intact_checkpoint(tmp_path):
  config = _config(divergence="pearson", learning_rate=5.0, critic_learning_rate=5.0, beta1=0.0,
                   generator_loss="saddle")
  with pytest.raises(FloatingPointError) as error:
    _run(config, Workdir(tmp_path), steps=5000)
  message = str(error.value)
  assert "'pearson'" in message and "non-finite" in message and "at step" in message
  checkpointer = Checkpointer(tmp_path / "checkpoints")
  assert checkpointer.steps()  # at least the initial state, saved before the first step
  assert f"last good checkpoint (step {checkpointer.steps()[-1]}) is intact" in message
  template = make_trainer(config).init(jax.random.key(0), jnp.zeros((32, 2)))
  restored = checkpointer.restore_latest(template)
  assert all(bool(jnp.all(jnp.isfinite(x))) for x in jax.tree.leaves(restored.model_params))


def test_skipping_non_finite_updates_lets_a_run_go_on():
  """Every tenth batch is poisoned with NaN: the guard stops the run unless updates are skipped."""
  clean = ring()

  def poisoned(key):
    x = clean.sample(key, 64)
    return jnp.where(jax.random.uniform(jax.random.fold_in(key, 1)) < 0.1, jnp.nan, x)

  def trainer(skip):
    opt = optax.adam(0.01)
    opt = optax.apply_if_finite(opt, max_consecutive_errors=50) if skip else opt
    return training.make_trainer(Gaussian(dim=2), "mle", model_optimizer=opt)

  with pytest.raises(FloatingPointError, match="non-finite"):
    run_training(trainer(False), poisoned, steps=200, example_batch=jnp.zeros((64, 2)), log_every=50)
  state, _ = run_training(trainer(True), poisoned, steps=200, example_batch=jnp.zeros((64, 2)),
                          log_every=50, allow_nonfinite_updates=True)
  assert bool(jnp.all(jnp.isfinite(state.model_params["params"]["mean"])))
  np.testing.assert_allclose(state.model_params["params"]["mean"], [0.0, 0.0], atol=0.15)


TOY_MODULE = [sys.executable, "-m", "experiments.train_toy2d"]
TOY = TOY_MODULE + ["--config.generator_hidden=32,32", "--config.critic_hidden=32,32", "--config.batch_size=64", "--config.log_every=100",
       "--config.checkpoint_every=200", "--config.eval_samples=200"]


def _final_state(workdir, steps):
  config = _config(generator_hidden=(32, 32), critic_hidden=(32, 32), batch_size=64)
  template = make_trainer(config).init(jax.random.key(0), jnp.zeros((64, 2)))
  state = Checkpointer(pathlib.Path(workdir) / "checkpoints").restore_latest(template)
  assert int(state.step) == steps
  return state


@pytest.mark.slow
def test_run_killed_mid_way_resumes_to_the_same_parameters(tmp_path):
  steps = 3000  # the kill lands after the step-1000 checkpoint, 10 checkpoints before the end
  args = [f"--config.steps={steps}"]
  straight = subprocess.run(TOY + args + [f"--workdir={tmp_path / 'straight'}"], cwd=REPO,
                            capture_output=True, text=True, timeout=300)
  assert straight.returncode == 0, straight.stderr[-2000:]

  killed_dir = tmp_path / "killed"
  process = subprocess.Popen(TOY + args + [f"--workdir={killed_dir}"], cwd=REPO,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  deadline = time.time() + 120
  while time.time() < deadline and not (killed_dir / "checkpoints" / "1000" / "_CHECKPOINT_METADATA").exists():
    time.sleep(0.05)
  os.kill(process.pid, signal.SIGKILL)  # not asked politely
  process.wait()
  saved = Checkpointer(killed_dir / "checkpoints").steps()
  assert saved and saved[-1] < steps, saved  # it really died mid-run

  resumed = subprocess.run(TOY + args + [f"--workdir={killed_dir}"], cwd=REPO, capture_output=True,
                           text=True, timeout=300)
  assert resumed.returncode == 0, resumed.stderr[-2000:]
  assert f"resumed from the checkpoint at step {saved[-1]}" in resumed.stderr
  _assert_bitwise_equal(_final_state(tmp_path / "straight", steps), _final_state(killed_dir, steps))


def test_a_config_file_that_does_not_exist_is_one_clear_line(tmp_path):
  result = subprocess.run(TOY_MODULE + ["--config=experiments/configs/nope.py", f"--workdir={tmp_path}"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
  assert result.returncode == 1 and "No such file or directory" in result.stderr
  assert "Traceback" not in result.stderr and not any(tmp_path.iterdir())


def test_batch_not_divisible_by_devices_is_a_clear_error(tmp_path):
  env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=3"}
  result = subprocess.run(TOY + ["--config.data_parallel=True", f"--workdir={tmp_path}"], cwd=REPO,
                          capture_output=True, text=True, timeout=120, env=env)
  assert result.returncode != 0 and "cannot be split evenly over 3 devices" in result.stderr


def test_a_run_saved_before_a_config_field_existed_resumes_while_the_field_is_off(tmp_path):
  """A field added to gdiv since the run was saved (a new penalty's weight) changes nothing at 0;
  set to anything else it is a change of configuration, refused with the field named."""
  workdir = Workdir(tmp_path)
  workdir.write_config({"steps": 100, "r1_penalty": 0.0})
  (workdir.checkpoint_dir() / "100").mkdir(parents=True)
  (workdir.checkpoint_dir() / "100" / "_CHECKPOINT_METADATA").write_text("{}")
  workdir.check_config({"steps": 100, "r1_penalty": 0.0, "new_penalty": 0.0})
  workdir.check_config({"steps": 100, "new_schedule": "constant"})  # and a renamed one, both off
  with pytest.raises(ValueError, match=r"another configuration \(new_penalty: None → 10.0\)"):
    workdir.check_config({"steps": 100, "r1_penalty": 0.0, "new_penalty": 10.0})


@pytest.mark.slow
def test_ctrl_c_is_one_line_naming_the_checkpoint_and_the_command_and_the_rerun_resumes_then_says_complete(tmp_path):
  steps, workdir = 3000, tmp_path / "interrupted"
  args = TOY + [f"--config.steps={steps}", f"--workdir={workdir}"]
  # Python's own Ctrl-C handler, as in a terminal, even where this worker ignores SIGINT (set in the
  # child itself: a preexec_fn would run Python between fork and exec of a multithreaded process)
  as_in_a_terminal = [sys.executable, "-c", "import runpy, signal, sys; "
                      "signal.signal(signal.SIGINT, signal.default_int_handler); "
                      "runpy.run_module('experiments.train_toy2d', run_name='__main__', alter_sys=True)"]
  process = subprocess.Popen(as_in_a_terminal + args[3:], cwd=REPO, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
  deadline = time.time() + 120
  while time.time() < deadline and not (workdir / "checkpoints" / "400" / "_CHECKPOINT_METADATA").exists():
    time.sleep(0.05)
  process.send_signal(signal.SIGINT)
  _, stderr = process.communicate(timeout=120)
  saved = Checkpointer(workdir / "checkpoints").steps()
  assert process.returncode == 130 and "Traceback" not in stderr, stderr[-2000:]
  lines = [line for line in stderr.splitlines() if line.startswith("Interrupted")]
  assert len(lines) == 1 and f"keeps its last checkpoint, at step {saved[-1]}" in lines[0], stderr[-2000:]
  assert lines[0].endswith(" ".join(["python", "-m", "experiments.train_toy2d", *args[3:]]))
  assert saved[-1] < steps  # it stopped mid-run

  resumed = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=300)
  assert resumed.returncode == 0 and f"resumed from the checkpoint at step {saved[-1]}" in resumed.stderr
  again = subprocess.run(args, cwd=REPO, capture_output=True, text=True, timeout=300)
  assert again.returncode == 0 and f"is complete (step {steps} of {steps}): nothing to train" in again.stderr


def test_ctrl_c_during_a_checkpoint_write_takes_effect_once_the_write_is_complete(tmp_path):
  """interrupts_deferred holds SIGINT over orbax's save: the checkpoint is whole, then the interrupt."""
  from gdiv.checkpoints import interrupts_deferred
  previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal's Python
  try:
    checkpointer = Checkpointer(tmp_path)
    state = training.TrainState(jnp.asarray(7), jax.random.key(0), {"x": jnp.arange(3.0)}, (), {}, (), {}, {})
    with pytest.raises(KeyboardInterrupt):
      with interrupts_deferred():
        os.kill(os.getpid(), signal.SIGINT)  # lands before the write
        checkpointer.save(state)
    assert checkpointer.steps() == [7]
    np.testing.assert_array_equal(checkpointer.restore_latest(state).model_params["x"], [0.0, 1.0, 2.0])
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored
  finally:
    signal.signal(signal.SIGINT, previous)
