"""Data-parallel training through jax.sharding: the batch is split over a `data` mesh axis.

Parameters and optimizer states are replicated; every step's batch is
constrained to be sharded along its first axis, and XLA's SPMD partitioner
inserts the gradient all-reduce. The step and the loop do not change: only
where arrays live does.

Several processes (hosts): `initialize_processes` joins them through
jax.distributed before any computation; `make_mesh` then spans every
process's devices, every process runs the same program on the same
host-side values, and `replicate` / `split_leading_axis` build global arrays
from them (each process fills its own devices' shards), so the run is the
one-process run, bit for bit up to the reductions' order.
"""

from __future__ import annotations

from typing import Callable

import jax
import numpy as np
from absl import logging
from jax.sharding import Mesh, NamedSharding, PartitionSpec

DATA_AXIS = "data"


def initialize_processes(coordinator_address: str | None = None, num_processes: int | None = None,
                         process_id: int | None = None) -> None:
  """Join a multi-process run (jax.distributed.initialize): before any computation, in every
  process. Arguments left None are read from the cluster's environment (SLURM, Open MPI,
  Cloud TPU, ...); CPU devices exchange data through gloo."""
  jax.config.update("jax_cpu_collectives_implementation", "gloo")
  jax.distributed.initialize(coordinator_address, num_processes, process_id)


def request_cpu_devices(count: int) -> None:
  """Expose `count` CPU devices (one per core, for runs to split over), if JAX has not started yet;
  a process that already computed (an entry point called from Python) keeps the devices it has."""
  try:
    jax.config.update("jax_num_cpu_devices", count)
  except RuntimeError:
    logging.warning("JAX has already started in this process: it keeps its %d devices, not the %d "
                    "asked for (those apply to a new process).", jax.device_count(), count)


def is_writer() -> bool:
  """Whether this process writes files: process 0 of a multi-process run (the only one else)."""
  return jax.process_index() == 0


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


def is_key(x) -> bool:
  """Whether x is an array of typed PRNG keys (jax.random.key)."""
  return jax.dtypes.issubdtype(getattr(x, "dtype", None), jax.dtypes.prng_key)


def through_key_data(fn: Callable[[jax.Array], jax.Array]) -> Callable[[jax.Array], jax.Array]:
  """fn for any array: a typed key array goes through its raw uint32 data and is wrapped again."""
  def apply(x):
    if is_key(x):
      return jax.random.wrap_key_data(fn(jax.random.key_data(x)), impl=jax.random.key_impl(x))
    return fn(x)
  return apply


def place(tree, sharding: NamedSharding):
  """Every array of `tree` (the same values in every process) as one global array laid out by
  `sharding`; each process fills the shards of its own devices."""
  def put(x):
    host = np.asarray(x)
    return jax.make_array_from_callback(host.shape, sharding, lambda index: host[index])
  return jax.tree.map(through_key_data(put), tree)


def to_host(tree):
  """Every array of `tree` whole on the host, in every process (device_get; across processes an
  all-gather, so every process must call it)."""
  if jax.process_count() == 1:
    return jax.device_get(tree)
  from jax.experimental import multihost_utils

  return jax.tree.map(through_key_data(lambda x: multihost_utils.process_allgather(x, tiled=True)), tree)


def replicate(tree, mesh: Mesh):
  """Place every array of `tree` on all devices of the mesh (of every process)."""
  return place(tree, NamedSharding(mesh, PartitionSpec()))


def shard_batches(sample_batch: Callable[[jax.Array], jax.Array], mesh: Mesh) -> Callable:
  """sample_batch, with its output split along the first axis over the mesh's 'data' axis."""
  sharding = NamedSharding(mesh, PartitionSpec(DATA_AXIS))
  return lambda key: jax.lax.with_sharding_constraint(sample_batch(key), sharding)


def split_leading_axis(tree, mesh: Mesh, what: str = "leading axis"):
  """Place every array of `tree` split along its first axis over the mesh's one axis."""
  for leaf in jax.tree.leaves(tree):
    check_divisible(leaf.shape[0], mesh, what)
  return place(tree, NamedSharding(mesh, PartitionSpec(*mesh.axis_names)))
