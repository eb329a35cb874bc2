"""Data: toy targets with known density (mixtures, ring, grid) and images (the bundled 8×8 digits;
MNIST, Fashion-MNIST or CIFAR-10 from local files)."""

from gdiv.data.images import (CIFAR10_SHAPE, DIGITS_SHAPE, ImageData, Split, dequantise,
                              inverse_logit_transform, load_cifar10, load_digits, load_mnist, load_mnist_sample,
                              logit_transform,
                              read_idx)
from gdiv.data import nda
from gdiv.data.mixtures import GaussianMixture, grid, ring

__all__ = ["CIFAR10_SHAPE", "DIGITS_SHAPE", "GaussianMixture", "ImageData", "Split", "dequantise", "grid",
           "inverse_logit_transform", "load_cifar10", "load_digits", "load_mnist", "load_mnist_sample", "logit_transform", "nda", "read_idx",
           "ring"]
