"""No module of gdiv or experiments imports another in a circle, read statically from every import
statement, those inside functions included (a circle hides most easily there).

Importing a.b.c runs a/__init__ and a/b/__init__ first, so an import names every enclosing package
too, except the packages the importing module itself sits in (those are being imported already:
a submodule importing its siblings is the ordinary package pattern).
"""

import ast
import pathlib

REPO = pathlib.Path(__file__).resolve().parents[1]
ROOTS = ("gdiv", "experiments")


def _module_name(path: pathlib.Path) -> str:
  parts = path.relative_to(REPO).with_suffix("").parts
  return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _modules() -> dict[str, pathlib.Path]:
  return {_module_name(p): p for root in ROOTS for p in (REPO / root).rglob("*.py")}


def _imported(node: ast.AST, module: str, is_package: bool) -> list[str]:
  """Dotted names an import statement imports (a from-import's names may be modules themselves)."""
  if isinstance(node, ast.Import):
    return [alias.name for alias in node.names]
  if not isinstance(node, ast.ImportFrom):
    return []
  base = node.module or ""
  if node.level:  # relative: from the module's package
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = ".".join(package[:len(package) - node.level + 1] + ([base] if base else []))
  return [base] + [f"{base}.{alias.name}" for alias in node.names]


def import_graph() -> dict[str, set[str]]:
  """module -> the project modules its import statements run (enclosing packages included)."""
  modules, graph = _modules(), {}
  for name, path in modules.items():
    edges, own_packages = set(), {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
      for target in _imported(node, name, path.name == "__init__.py"):
        parts = target.split(".")
        for i in range(1, len(parts) + 1):
          prefix = ".".join(parts[:i])
          if prefix in modules and prefix != name and prefix not in own_packages:
            edges.add(prefix)
    graph[name] = edges
  return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
  """One import circle [a, b, ..., a], or [] when there is none (depth-first search)."""
  state, stack = {}, []

  def visit(node):
    state[node] = "open"
    stack.append(node)
    for nxt in sorted(graph.get(node, ())):
      if state.get(nxt) == "open":
        return stack[stack.index(nxt):] + [nxt]
      if nxt not in state and (cycle := visit(nxt)):
        return cycle
    state[node] = "done"
    stack.pop()
    return []

  for node in sorted(graph):
    if node not in state and (cycle := visit(node)):
      return cycle
  return []


def test_no_module_imports_another_in_a_circle():
  cycle = find_cycle(import_graph())
  assert not cycle, "import circle: " + " → ".join(cycle)


def test_the_circle_finder_sees_function_level_and_package_circles(tmp_path):
  """The finder itself: a circle through a function-level import and one through a package's
  __init__ are found; a submodule importing its sibling through its own package is not a circle."""
  assert find_cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
  assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) == []
  function_level = ast.parse("def f():\n  from gdiv.evaluation.exact import x\n")
  assert "gdiv.evaluation.exact" in _imported(function_level.body[0].body[0], "gdiv.divergences.checks", False)
  graph = import_graph()
  assert "gdiv.evaluation" in graph["gdiv.fitting"]  # `from gdiv.evaluation import ...` runs its __init__
  assert "gdiv.training" not in graph["gdiv.training.trainer"]  # its own package: already importing


# experiments.benchmark times the same steps in PyTorch through its companion module (torch is an
# optional extra, so those steps cannot live in gdiv).
COMPANIONS = {("experiments.benchmark", "experiments.benchmark_torch")}


def test_experiments_import_only_gdiv_and_configs_only_configs_and_gdiv():
  """Logic two studies share lives in gdiv; an entry point keeps its flags, configs and tables."""
  graph = import_graph()
  wrong = sorted((module, target) for module, targets in graph.items() if module.startswith("experiments.")
                 for target in targets if target.startswith("experiments")
                 and not target.startswith("experiments.configs") and (module, target) not in COMPANIONS)
  assert not wrong
  assert not [module for module in graph if module.startswith("gdiv") and any(t.startswith("experiments") for t in graph[module])]
