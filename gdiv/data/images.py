"""Image data that ships with the code: scikit-learn's bundled 8×8 digits (no download)."""

from __future__ import annotations

import numpy as np

DIGITS_SHAPE = (8, 8)
MAX_PIXEL = 16.0  # scikit-learn's digits are integers 0..16


def load_digits_split(seed: int = 0, test_fraction: float = 0.25):
  """((x_train, y_train), (x_test, y_test)), x float32 in [0, 1] flattened to (n, 64)."""
  from sklearn.datasets import load_digits

  digits = load_digits()
  x = digits.data.astype(np.float32) / MAX_PIXEL
  order = np.random.default_rng(seed).permutation(len(x))
  n_test = int(len(x) * test_fraction)
  test, train = order[:n_test], order[n_test:]
  return (x[train], digits.target[train]), (x[test], digits.target[test])
