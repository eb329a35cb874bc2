"""Model families (Flax modules) and critics."""

from gdiv.models.base import Model, check_data_shape
from gdiv.models.gaussian import Gaussian
from gdiv.models.mlp import MLP, MLPCritic, MLPGenerator

__all__ = ["Gaussian", "MLP", "MLPCritic", "MLPGenerator", "Model", "check_data_shape"]
