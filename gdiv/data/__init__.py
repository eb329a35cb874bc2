"""Data: toy targets with known density (mixtures, ring, grid) and images (the bundled 8×8 digits;
MNIST or Fashion-MNIST from local files)."""

from gdiv.data.images import (DIGITS_SHAPE, ImageData, Split, dequantise, inverse_logit_transform,
                              load_digits, load_mnist, logit_transform, read_idx)
from gdiv.data import nda
from gdiv.data.mixtures import GaussianMixture, grid, ring

__all__ = ["DIGITS_SHAPE", "GaussianMixture", "ImageData", "Split", "dequantise", "grid",
           "inverse_logit_transform", "load_digits", "load_mnist", "logit_transform", "nda", "read_idx",
           "ring"]
