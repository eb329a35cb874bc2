"""Small image files in the layouts users bring (MNIST's npz, CIFAR-10's python batches), for tests."""

import pathlib
import pickle

import numpy as np


def write_mnist_npz(folder: pathlib.Path, n_train: int = 12, n_test: int = 4) -> str:
  """An .npz of random 28×28 uint8 digits (x_train, y_train, x_test, y_test); returns its path."""
  rng = np.random.default_rng(0)
  path = folder / "small.npz"
  np.savez(path, x_train=rng.integers(0, 256, (n_train, 28, 28)), y_train=np.arange(n_train) % 10,
           x_test=rng.integers(0, 256, (n_test, 28, 28)), y_test=np.arange(n_test) % 10)
  return str(path)


def write_cifar10(folder: pathlib.Path, per_batch: int = 3, seed: int = 0):
  """CIFAR-10's python layout: pickled {b"data": uint8 (n, 3072) channel-major rows, b"labels": [n]};
  returns every image as (n, 3, 32, 32) and its label, training batches first."""
  rng = np.random.default_rng(seed)
  images, labels = [], []
  for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
    x, y = rng.integers(0, 256, (per_batch, 3, 32, 32), dtype=np.uint8), rng.integers(0, 10, per_batch)
    (folder / name).write_bytes(pickle.dumps({b"data": x.reshape(per_batch, -1), b"labels": y.tolist(),
                                              b"batch_label": name.encode()}))
    images.append(x), labels.append(y)
  return np.concatenate(images), np.concatenate(labels)
