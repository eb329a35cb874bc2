r"""Check divergences and model families, the package's or a user's, with the test suite's properties.

  python -m experiments.check --import=my_divergences.py --divergences=my_pearson --families=laplace

Each name is run through gdiv.divergences.check or gdiv.models.check (the
properties are listed in gdiv/divergences/checks.py and gdiv/models/checks.py);
`all` checks every registered one. Prints a table of the properties that hold.
The first property that fails ends the run with one line naming the
divergence or family, the property, the inputs and the fix, for example:

  FATAL DivergenceCheckError: Divergence 'my_rkl' fails conjugate_is_sup: f*(t) = nan but
  sup_u {u·t - f(u)} = -4 at t = -20.0855 (t = g_f(v), v = -3). Fix: ...

With --workdir it also writes results.json ({name: [properties]}) and results.md.
"""

from __future__ import annotations

from absl import flags

from gdiv import cli, divergences, models
from gdiv.workdir import Workdir

FLAGS = flags.FLAGS

SMOKE_FLAGS = ("--divergences=hinge", "--workdir={workdir}")  # the protocol checks only: quick
BAD_FLAGS = (("--divergences=nope", "Unknown divergence 'nope'"),
             ("--import=no_such_gdiv_plugin", "no module named 'no_such_gdiv_plugin'"),
             ("--families=nope", "Unknown model family 'nope'"))


def define_flags():
  flags.DEFINE_list("divergences", [], "Divergences to check (registered names, or all).")
  flags.DEFINE_list("families", [], "Model families to check (registered names, or all).")
  flags.DEFINE_integer("family_dim", 2, "Data dimension the families are built with (≤ 2: "
                       "normalisation by quadrature; more: by importance sampling).", lower_bound=1)
  flags.DEFINE_string("workdir", None, "Optional: write results.json and results.md here.")


def _names(requested: list[str], registered: list[str]) -> list[str]:
  return registered if requested == ["all"] else requested


def main(argv):
  del argv
  div_names = _names(FLAGS.divergences, divergences.names())
  family_names = _names(FLAGS.families, models.names())
  if not div_names and not family_names:
    raise ValueError("Nothing to check: name something to check with --divergences=NAME,... or "
                     "--families=NAME,... (or all).")
  for name in div_names:
    divergences.get(name)  # unknown names list the known ones, before any check runs
  for name in family_names:
    models.get(name)
  held = {}
  for name in div_names:
    held[name] = divergences.check(name)
    print(f"divergence {name}: {len(held[name])} properties hold", flush=True)
  for name in family_names:
    held[name] = models.check(name, dim=FLAGS.family_dim)
    print(f"family {name}: {len(held[name])} properties hold", flush=True)
  rows = [f"| {name} | {'divergence' if name in div_names else 'model family'} | {', '.join(props)} |"
          for name, props in held.items()]
  table = "\n".join(["| name | kind | properties that hold |", "|---|---|---|", *rows])
  if FLAGS.workdir:
    Workdir(FLAGS.workdir).write_results(held, table + "\n")  # prints the table too
  else:
    print(table)


if __name__ == "__main__":
  cli.run(define_flags, main)
