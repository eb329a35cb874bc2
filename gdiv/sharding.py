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


def check_batch_divisible(batch_size: int, mesh: Mesh) -> None:
  devices = mesh.shape[DATA_AXIS]
  if batch_size % devices:
    raise ValueError(f"The batch of {batch_size} cannot be split evenly over {devices} devices: "
                     f"use a batch size divisible by {devices}.")


def replicate(tree, mesh: Mesh):
  """Place every array of `tree` on all devices of the mesh."""
  return jax.device_put(tree, NamedSharding(mesh, PartitionSpec()))


def shard_batches(sample_batch: Callable[[jax.Array], jax.Array], mesh: Mesh) -> Callable:
  """sample_batch, with its output split along the first axis over the mesh's 'data' axis."""
  sharding = NamedSharding(mesh, PartitionSpec(DATA_AXIS))
  return lambda key: jax.lax.with_sharding_constraint(sample_batch(key), sharding)


def split_leading_axis(tree, mesh: Mesh):
  """Place every array of `tree` split along its first axis over the mesh's one axis."""
  (axis,) = mesh.axis_names
  for leaf in jax.tree.leaves(tree):
    if leaf.shape[0] % mesh.shape[axis]:
      raise ValueError(f"A leading axis of {leaf.shape[0]} cannot be split evenly over "
                       f"{mesh.shape[axis]} devices: use a multiple of {mesh.shape[axis]}.")
  return jax.device_put(tree, NamedSharding(mesh, PartitionSpec(axis)))
