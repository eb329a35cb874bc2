"""Data: toy targets with known density (mixtures, ring, grid) and the bundled 8×8 digits."""

from gdiv.data.images import DIGITS_SHAPE, load_digits_split
from gdiv.data.mixtures import GaussianMixture, grid, ring

__all__ = ["DIGITS_SHAPE", "GaussianMixture", "grid", "load_digits_split", "ring"]
