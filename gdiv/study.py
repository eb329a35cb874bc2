"""From a config and its hyper-parameter sweep to a paper's table: plan, train, aggregate.

  points × seeds ──► groups (same shapes; differ in seed and in `sweepable`
  values such as learning rates or penalty weights) ──► one vmapped program
  each (gdiv.sweeps, runs split over devices) ──► per run: metrics and
  samples ──► per point: mean ± standard error over the seeds that stayed
  finite, and how many diverged.

An experiment joins by describing itself as an `Experiment`: how to build the
trainer and the data from a config, and how to evaluate a finished state.
This module knows nothing of science; experiments.sweep is its command line.
"""

from __future__ import annotations

import importlib
import json
import math
import pathlib
import re
import runpy
import time
from typing import Any, Callable, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import ml_collections
import numpy as np
from absl import logging

from gdiv import hyper, sharding, sweeps
from gdiv.checkpoints import Checkpointer
from gdiv.runner import PROGRESS_EVERY_S, run_sweep
from gdiv.training import Trainer, TrainState
from gdiv.workdir import Workdir

# Fields that never distinguish two groups: they are bookkeeping, or set per run.
RUN_FIELDS = ("seed", "seeds")
MAX_LABEL = 80  # characters of a point's values kept in its folder name


class Experiment(NamedTuple):
  """What an experiment module exposes to the runner.

  sweepable: config fields that may differ between runs of one program (they
    reach `make_trainer` as traced scalars: learning rates, penalty weights).
  validate(config): raise ValueError naming the field and the fix.
  make_trainer(config, **hparams): the Trainer; `hparams` overrides config
    fields of `sweepable` with traced values.
  data(config) -> (sample_batch(key) -> batch, example_batch).
  evaluate(config, trainer, state) -> (metrics {name: float}, samples array).
  figure(path, points, rows): optional; draws the study's figure from the
    runs' samples (runs/POINT/seed_S/samples.npz beside `path`).
  report(points, rows) -> str: optional; markdown appended to results.md (the
    experiment's own view of the rows, e.g. a matrix).
  runs_in_turn(config) -> bool: optional; True trains a group's runs one after
    another on each device instead of vectorised (convolutional models on CPU;
    gdiv.sweeps.make_sweep says why).
  recipe(config) -> {field: value}: optional; the fields a point's training recipe sets
    (gdiv.training.recipe_fields). A field the sweep sets for the point keeps the
    sweep's value; the others join the point's values, so its table row shows them.
  """

  sweepable: tuple[str, ...]
  validate: Callable[[ml_collections.ConfigDict], None]
  make_trainer: Callable[..., Trainer]
  data: Callable[[ml_collections.ConfigDict], tuple[Callable, jax.Array]]
  evaluate: Callable[[ml_collections.ConfigDict, Trainer, TrainState], tuple[dict, np.ndarray]]
  figure: Callable[[Any, Sequence["Point"], Sequence[dict]], None] | None = None
  report: Callable[[Sequence["Point"], Sequence[dict]], str] | None = None
  runs_in_turn: Callable[[ml_collections.ConfigDict], bool] | None = None
  recipe: Callable[[ml_collections.ConfigDict], dict] | None = None


class Point(NamedTuple):
  index: int
  values: dict          # the overrides from get_hyper
  config: ml_collections.ConfigDict
  label: str            # a folder-safe name


class Group(NamedTuple):
  """Runs that differ only in seed and `traced` fields: one compiled program."""

  index: int
  runs: list[tuple[Point, int]]   # (point, seed)
  traced: tuple[str, ...]         # sweepable fields that vary between its points

  @property
  def name(self) -> str:
    return f"group_{self.index:03d}"

  @property
  def config(self) -> ml_collections.ConfigDict:
    """The configuration its runs share (up to seeds and traced fields)."""
    return self.runs[0][0].config


def point_config(base: ml_collections.ConfigDict, values: dict) -> ml_collections.ConfigDict:
  """`base` with the overrides of one point (dotted names reach nested fields)."""
  config = base.copy_and_resolve_references()
  with config.unlocked():
    for field, value in values.items():
      parent, _, leaf = field.rpartition(".")
      node = config
      for part in filter(None, parent.split(".")):
        node = node[part]
      if leaf not in node:
        raise ValueError(f"get_hyper sweeps config.{field}, which the config does not have.")
      node[leaf] = value
  return config


def _label(index: int, values: dict) -> str:
  """A folder name: the point's index (unique), then its values, shortened to stay a valid name."""
  text = ",".join(f"{k}={v}" for k, v in values.items())
  text = re.sub(r"[^A-Za-z0-9._=,+-]+", "-", text)[:MAX_LABEL]
  return f"{index:03d}" + (f"_{text}" if text else "")


def _point(index: int, values: dict, base: ml_collections.ConfigDict, experiment: Experiment) -> Point:
  """One point: the sweep's values, then the fields its recipe sets that the sweep does not."""
  config = point_config(base, values)
  if experiment.recipe is not None:
    from_recipe = {k: v for k, v in experiment.recipe(config).items() if k not in values}
    if from_recipe:
      return Point(index, {**values, **from_recipe}, point_config(base, {**values, **from_recipe}),
                   _label(index, values))
  return Point(index, dict(values), config, _label(index, values))


def plan(base: ml_collections.ConfigDict, points: Sequence[dict], seeds: int,
         experiment: Experiment) -> tuple[list[Point], list[Group]]:
  """Points, and groups of (point, seed) runs that one vmapped program can train."""
  if not isinstance(seeds, int) or seeds < 1:
    raise ValueError(f"config.seeds must be a positive integer; got {seeds!r}.")
  sweepable = experiment.sweepable
  resolved = [_point(i, v, base, experiment) for i, v in enumerate(points)]
  by_shape: dict[str, list[Point]] = {}
  for point in resolved:
    shape = {k: v for k, v in point.config.to_dict().items() if k not in (*sweepable, *RUN_FIELDS)}
    by_shape.setdefault(json.dumps(shape, sort_keys=True, default=str), []).append(point)
  groups = []
  for members in by_shape.values():
    traced = tuple(f for f in sweepable if len({m.config[f] for m in members}) > 1)
    groups.append(Group(len(groups), [(p, s) for p in members for s in range(seeds)], traced))
  return resolved, groups


def summarise(values: Sequence[float]) -> dict:
  """Mean and standard error (std with ddof 1 over √n) of the finite runs' values."""
  x = np.asarray([v for v in values if v is not None], np.float64)
  if x.size == 0:
    return {"mean": None, "se": None, "n": 0}
  spread = x.size > 1 and bool(np.all(np.isfinite(x)))
  se = float(x.std(ddof=1) / math.sqrt(x.size)) if spread else None
  return {"mean": float(x.mean()), "se": se, "n": int(x.size)}


def format_mean_se(summary: dict) -> str:
  """'6.3 ± 0.5': the standard error to two significant digits, the mean to the same place."""
  mean, se = summary["mean"], summary["se"]
  if mean is None:
    return "—"
  if se is None or not math.isfinite(se):
    return f"{mean:.4g}"
  if se == 0:
    return f"{mean:.4g} ± 0"
  decimals = min(6, max(0, 1 - math.floor(math.log10(se))))
  return f"{mean:.{decimals}f} ± {se:.{decimals}f}"


class Progress:
  """One log line at most every few seconds over the whole sweep: points done, rate, ETA."""

  def __init__(self, groups: Sequence[Group]):
    self.total_points = len({p.index for g in groups for p, _ in g.runs})
    self.total = sum(len(g.runs) * g.config.steps for g in groups)
    self.done, self.trained, self.points_done = 0, 0, 0
    self.start, self.last = time.perf_counter(), -math.inf

  def advance(self, run_steps: int, what: str, trained: bool = True) -> None:
    """`run_steps` more done (trained now, or found finished in the workdir)."""
    self.done += run_steps
    self.trained += run_steps if trained else 0
    now = time.perf_counter()
    if now - self.last >= PROGRESS_EVERY_S or self.done == self.total:
      rate = self.trained / max(now - self.start, 1e-9)
      eta = f"ETA {(self.total - self.done) / rate:.0f} s" if rate > 0 else "no steps trained yet"
      logging.info("sweep: %d/%d points done; %s; %.0f run-steps/s, %s", self.points_done,
                   self.total_points, what, rate, eta)
      self.last = now


def run_key(seed: int) -> jax.Array:
  """The PRNG key a run of `seed` starts from (its trainer's init key)."""
  return jax.random.key(seed)


def _run_keys(seeds: Sequence[int]) -> jax.Array:
  return jnp.stack([run_key(s) for s in seeds])


def _pad(items: list, multiple: int) -> list:
  """Repeat the last item so the length divides over `multiple` devices (extras are dropped)."""
  return items + [items[-1]] * (-len(items) % multiple)


def train_group(experiment: Experiment, group: Group, *, workdir: Workdir, progress: Progress,
                mesh: jax.sharding.Mesh | None = None) -> list[dict]:
  """Train a group as one program (resuming its checkpoint) and evaluate each run."""
  base = group.config
  steps = base.steps
  runs = _pad(group.runs, mesh.size if mesh is not None else 1)
  hparams = {f: jnp.asarray([p.config[f] for p, _ in runs], jnp.float32) for f in group.traced}
  sample_batch, example_batch = experiment.data(base)
  build = lambda **h: experiment.make_trainer(base, **h)

  def on_chunk(step: int, n: int, metrics: dict, diverged_at: np.ndarray) -> None:
    for r, (point, seed) in enumerate(group.runs):
      record = {"step": step, "point": point.label, "seed": seed,
                **{k: float(np.nanmean(v[r])) for k, v in metrics.items()}}
      if diverged_at[r] != sweeps.HEALTHY:
        record["diverged_at"] = int(diverged_at[r])
      workdir.log_metrics(record)
    progress.advance(n * len(group.runs), f"{group.name} at step {step}/{steps}")

  checkpointer = Checkpointer(workdir.checkpoint_dir(group.name), keep=2)
  state = run_sweep(build, sample_batch, example_batch, _run_keys([s for _, s in runs]), hparams,
                    steps=steps, log_every=base.log_every, checkpoint_every=base.checkpoint_every,
                    checkpointer=checkpointer, mesh=mesh, on_chunk=on_chunk,
                    on_resume=lambda step: progress.advance(step * len(group.runs),
                                                            f"{group.name} resumed", False),
                    in_turn=experiment.runs_in_turn is not None and experiment.runs_in_turn(base))
  checkpointer.close()
  state = sharding.to_host(state)  # every process evaluates every run; process 0 writes
  results, trainers = [], {}
  for r, (point, seed) in enumerate(group.runs):
    diverged_at = int(state.diverged_at[r])
    result = {"point": point.index, "seed": seed, "diverged_at": None, "metrics": None}
    if diverged_at != sweeps.HEALTHY:
      result["diverged_at"] = diverged_at
    else:
      config = point_config(point.config, {"seed": seed}) if "seed" in point.config else point.config
      trainer = trainers.setdefault(point.index, experiment.make_trainer(point.config))
      run_state = jax.tree.map(lambda x: x[r], state.runs)
      metrics, samples = experiment.evaluate(config, trainer, run_state)
      result["metrics"] = {k: float(v) for k, v in metrics.items()}
      workdir.save_samples(np.asarray(samples), subdir=f"runs/{point.label}/seed_{seed}")
    results.append(result)
  return results


def aggregate(points: Sequence[Point], run_results: Sequence[dict], seeds: int) -> list[dict]:
  """Per point: its values, every seed's metrics, mean, standard error, diverged count."""
  rows = []
  for point in points:
    runs = sorted((r for r in run_results if r["point"] == point.index), key=lambda r: r["seed"])
    finite = [r["metrics"] for r in runs if r["metrics"] is not None]
    names = list(finite[0]) if finite else []
    rows.append({"point": point.label, "values": point.values, "seeds": list(range(seeds)),
                 "runs": [{k: r[k] for k in ("seed", "diverged_at", "metrics")} for r in runs],
                 "diverged": sum(r["diverged_at"] is not None for r in runs),
                 "summary": {m: summarise([f[m] for f in finite]) for m in names}})
  return rows


def _cell(value: Any) -> str:
  return f"{value:g}" if isinstance(value, float) else str(value)


def results_table(title: str, rows: Sequence[dict], protocol: dict, seeds: int,
                  published: dict | None = None) -> str:
  """results.md: one row per point (mean ± s.e. over seeds), the protocol, published rows."""
  fields = list(dict.fromkeys(k for r in rows for k in r["values"]))
  metrics = list(dict.fromkeys(m for r in rows for m in r["summary"]))
  lines = [f"# {title}", "",
           f"Mean ± standard error over seeds 0..{seeds - 1} (runs that diverged are counted, "
           "not averaged).", "",
           "| " + " | ".join(fields + metrics + ["diverged"]) + " |",
           "|" + "---|" * (len(fields) + len(metrics) + 1)]
  for r in rows:
    cells = [_cell(r["values"].get(f, "")) for f in fields]
    cells += [format_mean_se(r["summary"][m]) if m in r["summary"] else "—" for m in metrics]
    lines.append("| " + " | ".join(cells + [f"{r['diverged']}/{seeds}"]) + " |")
  if published:
    lines += ["", f"Published: {published['title']}", "",
              "| " + " | ".join(["row"] + list(published["columns"])) + " |",
              "|" + "---|" * (len(published["columns"]) + 1)]
    lines += ["| " + " | ".join([label] + list(values)) + " |"
              for label, values in published["rows"].items()]
  lines += ["", "Protocol (every field the rows share): "
            + ", ".join(f"{k}={_cell(v)}" for k, v in protocol.items()) + "."]
  return "\n".join(lines) + "\n"


def shared_fields(points: Sequence[Point]) -> dict:
  """The config fields with one value over every point: the protocol a table states."""
  dicts = [p.config.to_dict() for p in points]
  return {k: v for k, v in dicts[0].items()
          if k not in RUN_FIELDS and all(d.get(k) == v for d in dicts[1:])}


def run_study(experiment: Experiment, base: ml_collections.ConfigDict, points: Sequence[dict], *,
              workdir: Workdir, title: str, published: dict | None = None,
              mesh: jax.sharding.Mesh | None = None, only_groups: Sequence[int] | None = None
              ) -> dict | None:
  """Train every group (skipping finished ones), write results.json and results.md.

  only_groups: train just these groups (several processes can share a workdir,
  each with its own groups); the tables are written, and returned, once every
  group has finished, else None.
  """
  seeds = base.seeds
  resolved, groups = plan(base, points, seeds, experiment)
  for point in resolved:
    experiment.validate(point.config)
  progress = Progress(groups)
  all_results, missing = [], []
  for group in groups:
    finished = workdir.path / "groups" / f"{group.name}.json"
    if only_groups is not None and group.index not in only_groups and not finished.exists():
      missing.append(group.name)
      continue
    if finished.exists():
      results = json.loads(finished.read_text())
      progress.advance(group.config.steps * len(group.runs), f"{group.name} finished earlier",
                       trained=False)
    else:
      logging.info("sweep: %s, %d runs (%s) as one program%s", group.name, len(group.runs),
                   ", ".join(sorted({p.label for p, _ in group.runs})),
                   f", traced: {', '.join(group.traced)}" if group.traced else "")
      results = train_group(experiment, group, workdir=workdir, progress=progress, mesh=mesh)
      workdir.write_json(f"groups/{group.name}.json", results)
    progress.points_done += len({p.index for p, _ in group.runs})
    all_results += results
  if missing:
    logging.info("sweep: %s not finished (left to other processes); run again without "
                 "--groups to write the tables once they are.", ", ".join(missing))
    return None
  if progress.trained == 0:
    logging.info("sweep: every group in %s is complete: nothing to train; the tables are written again "
                 "from their results.", workdir.path)
  rows = aggregate(resolved, all_results, seeds)
  protocol = shared_fields(resolved)
  results = {"title": title, "experiment": base.experiment, "seeds": list(range(seeds)),
             "protocol": protocol, "points": rows, "published": published}
  table = results_table(title, rows, protocol, seeds, published)
  if experiment.report is not None:
    table += experiment.report(resolved, rows)
  workdir.write_results(results, table)
  if experiment.figure is not None and sharding.is_writer():
    experiment.figure(workdir.path / "samples.png", resolved, rows)
  return results


_EXPERIMENTS: dict[str, Experiment] = {}


def register_experiment(name: str, experiment: Experiment) -> Experiment:
  """Make `experiment` the one a study config's `config.experiment = name` trains (a user's file, with
  --import, registers its own this way: a new ablation needs no fork); returns it."""
  if name in _EXPERIMENTS and _EXPERIMENTS[name] is not experiment:
    raise ValueError(f"An experiment named {name!r} is already registered; pick another name.")
  _EXPERIMENTS[name] = experiment
  return experiment


def experiment_named(name: str) -> Experiment:
  """The registered experiment `name`, else experiments/NAME.py's EXPERIMENT."""
  if name not in _EXPERIMENTS:
    try:
      module = importlib.import_module(f"experiments.{name}")
    except ModuleNotFoundError:
      raise ValueError(f"config.experiment={name!r}: no registered experiment and no module "
                       f"experiments/{name}.py (registered: {', '.join(sorted(_EXPERIMENTS)) or 'none'}; a "
                       "user's file registers one with gdiv.study.register_experiment, on the command "
                       "line --import=FILE).") from None
    if not hasattr(module, "EXPERIMENT"):
      raise ValueError(f"experiments.{name} does not expose EXPERIMENT (gdiv.study.Experiment): it cannot "
                       "run in a sweep yet.")
    _EXPERIMENTS[name] = module.EXPERIMENT
  return _EXPERIMENTS[name]


def load_study(config, filename: str) -> tuple[Experiment, list[dict], dict | None, str]:
  """(experiment, points, published rows or None, title) of a study config file."""
  if "experiment" not in config or "seeds" not in config:
    raise ValueError(f"{filename} must set config.experiment (the experiment that trains it) and "
                     "config.seeds (the number of seeds, 0..N-1).")
  experiment = experiment_named(config.experiment)
  namespace = runpy.run_path(filename.split(":")[0])
  points = hyper.expand(namespace.get("get_hyper"))
  published = namespace["get_published"](config) if "get_published" in namespace else None
  doc = (namespace.get("__doc__") or "").strip()
  title = doc.splitlines()[0].rstrip(".") if doc else pathlib.Path(filename).stem
  return experiment, points, published, title


def sweep_mesh() -> jax.sharding.Mesh | None:
  """A mesh over every device for the run axis, or None on one device."""
  return sharding.make_mesh(axis_name="runs") if jax.device_count() > 1 else None
