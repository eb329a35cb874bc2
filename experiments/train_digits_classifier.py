r"""Train the digits classifier whose features serve Fréchet distance and precision/recall.

  python -m experiments.train_digits_classifier

Trains an MLP 64→128→64→10 on 75 % of scikit-learn's bundled 8×8 digits (Adam,
full batch, 400 steps, weight decay 1e-4), prints its test accuracy on the
other 25 % (expected ≈ 0.97) and writes gdiv/evaluation/digits_classifier.msgpack.
"""

from __future__ import annotations

import pathlib

import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import optax
from absl import flags

from experiments import common
from gdiv.data import load_digits
from gdiv.evaluation import digits
from gdiv.workdir import Workdir

FLAGS = flags.FLAGS


def train(steps: int, learning_rate: float, seed: int):
  """Returns (params, test accuracy)."""
  data = load_digits(seed)  # trained on train + validation: the test split stays unseen
  x_train, y_train = (np.concatenate(pair) for pair in zip(data.validation, data.train))
  x_test, y_test = data.test
  model = digits.DigitsClassifier()
  params = model.init(jax.random.key(seed), jnp.zeros((1, 64)))
  optimizer = optax.adamw(learning_rate, weight_decay=1e-4)

  def loss(params):
    logits = model.apply(params, x_train)
    return optax.softmax_cross_entropy_with_integer_labels(logits, y_train).mean()

  def step(carry, _):
    params, opt_state = carry
    updates, opt_state = optimizer.update(jax.grad(loss)(params), opt_state, params)
    return (optax.apply_updates(params, updates), opt_state), None

  (params, _), _ = jax.jit(lambda c: jax.lax.scan(step, c, length=steps))((params, optimizer.init(params)))
  accuracy = float(jnp.mean(jnp.argmax(model.apply(params, x_test), -1) == y_test))
  return params, accuracy


# The smallest run ({workdir}: where it writes) and flags it must refuse, with the words the
# error must contain: tests/test_experiments.py runs both for every experiment.
SMOKE_FLAGS = ("--steps=2", "--output={workdir}/classifier.msgpack")
BAD_FLAGS = (("--learning_rate=0", "--learning_rate must be a finite number > 0"),)


def define_flags():
  """Define the command-line flags (only when run as a program, so tests can import this module)."""
  flags.DEFINE_integer("steps", 400, "Full-batch Adam steps.", lower_bound=1)
  flags.DEFINE_float("learning_rate", 3e-3, "Adam learning rate.")
  flags.DEFINE_integer("seed", 0, "PRNG seed (also fixes the train/test split).")
  flags.DEFINE_string("output", str(digits.PARAMS_PATH), "Where to write the parameters.")
  common.require_positive("learning_rate")
  flags.register_validator("output", lambda path: pathlib.Path(path).parent.is_dir(),
                           message="--output must be a file in an existing directory.")


def main(argv):
  del argv
  params, accuracy = train(FLAGS.steps, FLAGS.learning_rate, FLAGS.seed)
  output = pathlib.Path(FLAGS.output)
  Workdir(output.parent).write_bytes(output.name, flax.serialization.to_bytes(params))
  print(f"test accuracy {accuracy:.4f}; wrote {FLAGS.output}")


if __name__ == "__main__":
  common.run(define_flags, main)
