"""Data: toy targets with known density (mixtures, ring, grid) and images (the bundled 8×8 digits;
MNIST, Fashion-MNIST or CIFAR-10 from local files)."""

from gdiv.data.images import (CIFAR10_SHAPE, DIGITS_SHAPE, IMAGE_DATASETS, MNIST_SHAPE, ImageData, Split,
                              dequantise, hwc, inverse_logit_transform, load_cifar10, load_digits, load_images,
                              load_mnist, load_mnist_sample, logit_transform, read_idx, stack_channels)
from gdiv.data import nda
from gdiv.data.mixtures import GaussianMixture, grid, ring

__all__ = ["CIFAR10_SHAPE", "DIGITS_SHAPE", "GaussianMixture", "IMAGE_DATASETS", "ImageData", "MNIST_SHAPE", "Split",
           "dequantise", "grid", "hwc", "inverse_logit_transform", "load_cifar10", "load_digits", "load_images",
           "load_mnist", "load_mnist_sample", "logit_transform", "nda", "read_idx", "ring", "stack_channels"]
