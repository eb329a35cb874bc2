"""Image data: the digits' fixed splits, MNIST from IDX files or an .npz, CIFAR-10 from its python
batches, dequantisation, logit."""

import gzip
import math
import pickle
import struct

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.stats

from gdiv.data import (dequantise, load_cifar10, load_digits, load_mnist, load_mnist_sample, logit_transform,
                       read_idx)
from gdiv.evaluation import nll
from gdiv.models import Gaussian
from image_files import write_cifar10

RNG = np.random.default_rng(0)


def write_idx(path, array: np.ndarray) -> None:
  """The IDX layout: 0, 0, type 0x08 (unsigned byte), ndim, big-endian int32 dims, the bytes."""
  data = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
  data += array.astype(np.uint8).tobytes()
  path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)


def fake_mnist(n_train=12, n_test=5):
  return {"x_train": RNG.integers(0, 256, (n_train, 28, 28)), "y_train": RNG.integers(0, 10, n_train),
          "x_test": RNG.integers(0, 256, (n_test, 28, 28)), "y_test": RNG.integers(0, 10, n_test)}


def test_digits_splits_are_disjoint_and_the_test_split_is_the_classifiers_held_out_one():
  digits = load_digits()
  sizes = [len(s.x) for s in (digits.train, digits.validation, digits.test)]
  assert sizes == [1169, 179, 449] and digits.levels == 17 and digits.shape == (8, 8)
  rows = {tuple(r) for s in (digits.train, digits.validation, digits.test) for r in s.x}
  assert len(rows) > 0.95 * sum(sizes)  # (a few digits repeat in the data set itself)
  order = np.random.default_rng(0).permutation(1797)
  from sklearn.datasets import load_digits as sklearn_digits
  np.testing.assert_array_equal(digits.test.y, sklearn_digits().target[order[:449]])
  assert set(np.unique(digits.train.x * 16)) <= set(range(17))


@pytest.mark.parametrize("suffix", ["", ".gz"])
def test_mnist_from_idx_files_gzipped_or_not_and_from_npz(tmp_path, suffix):
  arrays = fake_mnist()
  names = {"x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
           "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}
  for key, name in names.items():
    write_idx(tmp_path / f"{name}{suffix}", arrays[key])
  np.savez(tmp_path / "mnist.npz", **arrays)
  for source in (tmp_path, tmp_path / "mnist.npz"):
    data = load_mnist(source, validation=2)
    assert data.train.x.shape == (10, 784) and data.validation.x.shape == (2, 784)
    np.testing.assert_allclose(data.train.x * 255, arrays["x_train"][:10].reshape(10, -1))
    np.testing.assert_array_equal(data.validation.y, arrays["y_train"][10:])
    np.testing.assert_array_equal(data.test.y, arrays["y_test"])
    assert data.levels == 256 and data.shape == (28, 28)


def test_the_bundled_mnist_sample_is_real_digits_split_once():
  data = load_mnist_sample()
  assert (len(data.train.x), len(data.validation.x), len(data.test.x)) == (3500, 500, 1000)
  assert data.shape == (28, 28) and data.train.x.shape[1] == 784 and data.train.x.dtype == np.float32
  assert 0 <= data.train.x.min() and data.train.x.max() == 1.0
  assert set(np.unique(np.round(data.train.x[:50] * 255, 4))) <= set(range(256))  # 8-bit pixels
  assert np.bincount(np.concatenate([data.train.y, data.validation.y, data.test.y])).tolist() == [500] * 10
  mean_digit = [data.train.x[data.train.y == k].mean(0) for k in range(10)]  # real classes differ
  assert min(np.abs(a - b).sum() for i, a in enumerate(mean_digit) for b in mean_digit[i + 1:]) > 10
  np.testing.assert_array_equal(load_mnist_sample().test.y, data.test.y)  # the same split every time


def test_cifar10_from_its_python_batches_in_height_width_channel_order(tmp_path):
  images, labels = write_cifar10(tmp_path)
  data = load_cifar10(tmp_path, validation=4)
  assert data.shape == (32, 32, 3) and data.levels == 256
  assert data.train.x.shape == (11, 3072) and data.validation.x.shape == (4, 3072) and data.test.x.shape == (3, 3072)
  pixel = lambda split, i, row, col, channel: split.x[i].reshape(32, 32, 3)[row, col, channel] * 255
  assert pixel(data.train, 2, 5, 7, 1) == images[2, 1, 5, 7]  # channel 1 (green) of row 5, column 7
  assert pixel(data.validation, 0, 31, 0, 2) == images[11, 2, 31, 0]
  assert pixel(data.test, 1, 0, 31, 0) == images[16, 0, 0, 31]
  np.testing.assert_array_equal(np.concatenate([data.train.y, data.validation.y]), labels[:15])
  np.testing.assert_array_equal(data.test.y, labels[15:])


def test_missing_truncated_or_misshapen_cifar10_batches_are_clear_errors(tmp_path):
  write_cifar10(tmp_path)
  (tmp_path / "data_batch_3").unlink()
  with pytest.raises(FileNotFoundError, match="lacks data_batch_3: .*never downloads"):
    load_cifar10(tmp_path)
  whole = pickle.dumps({b"data": np.zeros((3, 3072), np.uint8), b"labels": [0, 1, 2]})
  (tmp_path / "data_batch_3").write_bytes(whole[: len(whole) // 2])
  with pytest.raises(ValueError, match="data_batch_3 is not a readable CIFAR-10 batch"):
    load_cifar10(tmp_path)
  (tmp_path / "data_batch_3").write_bytes(pickle.dumps({b"data": np.zeros((3, 1024), np.uint8), b"labels": [0, 1, 2]}))
  with pytest.raises(ValueError, match=r"data of shape \(3, 1024\) .* uint8 rows of 3072"):
    load_cifar10(tmp_path)
  (tmp_path / "data_batch_3").write_bytes(pickle.dumps({b"data": np.zeros((3, 3072), np.uint8), b"labels": [0, 1, 2]}))
  with pytest.raises(ValueError, match="validation=15 must be an integer that leaves some of the 15"):
    load_cifar10(tmp_path, validation=15)


def test_missing_or_broken_mnist_files_are_clear_errors(tmp_path):
  write_idx(tmp_path / "train-images-idx3-ubyte", np.zeros((2, 28, 28)))
  with pytest.raises(FileNotFoundError, match=r"lacks train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte \(.gz or not\).*never downloads"):
    load_mnist(tmp_path)
  with pytest.raises(FileNotFoundError, match="neither a folder of MNIST IDX files nor an .npz"):
    load_mnist(tmp_path / "nope.npz")
  (tmp_path / "bad").write_bytes(b"\0\0\x08\x01" + struct.pack(">I", 10) + b"123")
  with pytest.raises(ValueError, match=r"holds 11 bytes; its header \(10,\) promises 18"):
    read_idx(tmp_path / "bad")


def test_dequantised_points_stay_in_their_bins():
  x = jnp.asarray(RNG.integers(0, 17, (500, 64)) / 16, jnp.float32)
  y = dequantise(jax.random.key(0), x, 17)
  k = np.round(np.asarray(x) * 16)
  assert np.all(k / 17 <= np.asarray(y)) and np.all(np.asarray(y) < (k + 1) / 17)


def test_logit_transform_log_det_against_autodiff_and_the_logistic_closed_form():
  alpha, y = 0.05, jnp.asarray(RNG.uniform(size=(7, 3)), jnp.float32)
  z, log_det = logit_transform(y, alpha)
  jacobians = jax.vmap(jax.jacfwd(lambda v: logit_transform(v, alpha)[0]))(y)
  np.testing.assert_allclose(log_det, np.log(np.abs(np.linalg.det(jacobians))), rtol=1e-5)
  # z ~ Logistic(0, 1) ⇔ sigmoid(z) ~ U(0, 1): log q(y) = log(1 - 2α) everywhere on its support
  logistic = np.sum(scipy.stats.logistic.logpdf(np.asarray(z, np.float64)), -1)
  np.testing.assert_allclose(logistic + log_det, 3 * math.log(1 - 2 * alpha), atol=1e-5)


def test_nll_with_the_logit_transform_is_the_change_of_variables():
  model = Gaussian(dim=2)
  params = model.init(jax.random.key(0), jax.random.key(1), 1, method=model.sample)
  x = RNG.integers(0, 17, (300, 2)) / 16
  result = nll(model, params, x, levels=17, logit_alpha=0.05, key=jax.random.key(3))
  y = dequantise(jax.random.fold_in(jax.random.key(3), 2), jnp.asarray(x, jnp.float32), 17)
  z, log_det = logit_transform(y, 0.05)
  by_hand = -np.mean(scipy.stats.norm.logpdf(np.asarray(z)).sum(1) + np.asarray(log_det)) + 2 * math.log(17)
  np.testing.assert_allclose(result["nll"], by_hand, rtol=1e-5)
  assert "logit" in result["convention"] and "17-level" in result["convention"]
