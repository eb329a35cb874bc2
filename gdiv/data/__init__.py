"""Data: toy targets with known density (mixtures, ring, grid)."""

from gdiv.data.mixtures import GaussianMixture, grid, ring

__all__ = ["GaussianMixture", "grid", "ring"]
