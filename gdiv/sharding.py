"""Data-parallel training through jax.sharding: the batch is split over a `data` mesh axis.

Parameters and optimizer states are replicated; every step's batch is
constrained to be sharded along its first axis, and XLA's SPMD partitioner
inserts the gradient all-reduce. The step and the loop do not change: only
where arrays live does. On several hosts, call `jax.distributed.initialize()`
first (see README); `make_mesh` then spans every process's devices.
"""

from __future__ import annotations

from typing import Callable

import jax
from jax.sharding import Mesh, NamedSharding, PartitionSpec

DATA_AXIS = "data"


def make_mesh(num_devices: int | None = None, axis_name: str = DATA_AXIS) -> Mesh:
  """A 1-D mesh over the first `num_devices` devices (all by default)."""
  available = jax.device_count()
  num_devices = available if num_devices is None else num_devices
  if not 1 <= num_devices <= available:
    raise ValueError(f"Asked for {num_devices} devices; {available} are visible. On CPU, "
                     "XLA_FLAGS=--xla_force_host_platform_device_count=N makes N of them.")
  # Auto axes: XLA propagates the batch sharding through the step and inserts the reductions.
  return jax.make_mesh((num_devices,), (axis_name,), devices=jax.devices()[:num_devices],
                       axis_types=(jax.sharding.AxisType.Auto,))


def check_divisible(size: int, mesh: Mesh, what: str = "batch") -> None:
  """Raise a clear error unless `size` (of the batch, or of a sweep's runs) splits over the mesh."""
  (axis,) = mesh.axis_names
  devices = mesh.shape[axis]
  if size % devices:
    raise ValueError(f"The {what} of {size} cannot be split evenly over {devices} devices: "
                     f"use a {what} size divisible by {devices}.")


def replicate(tree, mesh: Mesh):
  """Place every array of `tree` on all devices of the mesh."""
  return jax.device_put(tree, NamedSharding(mesh, PartitionSpec()))


def shard_batches(sample_batch: Callable[[jax.Array], jax.Array], mesh: Mesh) -> Callable:
  """sample_batch, with its output split along the first axis over the mesh's 'data' axis."""
  sharding = NamedSharding(mesh, PartitionSpec(DATA_AXIS))
  return lambda key: jax.lax.with_sharding_constraint(sample_batch(key), sharding)


def split_leading_axis(tree, mesh: Mesh, what: str = "leading axis"):
  """Place every array of `tree` split along its first axis over the mesh's one axis."""
  for leaf in jax.tree.leaves(tree):
    check_divisible(leaf.shape[0], mesh, what)
  return jax.device_put(tree, NamedSharding(mesh, PartitionSpec(*mesh.axis_names)))
