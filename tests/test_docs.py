"""The README is a front door and every file that code or docs cite is in the repository."""

import pathlib
import re

REPO = pathlib.Path(__file__).resolve().parents[1]
TEXT_FILES = [p for root in ("gdiv", "experiments", "tests", "docs") for p in (REPO / root).rglob("*")
              if p.suffix in (".py", ".md")] + [REPO / "README.md"]


def test_every_relative_link_of_the_readme_and_docs_resolves():
  broken = [(str(page.relative_to(REPO)), link)
            for page in [REPO / "README.md", *(REPO / "docs").glob("*.md")]
            for link in re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", page.read_text())
            if not link.startswith("http") and not (page.parent / link).exists()]
  assert not broken


def test_every_docs_page_that_code_or_docs_name_exists():
  named = {(str(p.relative_to(REPO)), m) for p in TEXT_FILES for m in re.findall(r"\bdocs/[\w-]+\.md", p.read_text())}
  assert not [(where, page) for where, page in named if not (REPO / page).exists()]


def test_no_file_cites_reference_notes_that_are_not_in_the_repository():
  citing = [str(p.relative_to(REPO)) for p in TEXT_FILES if p.name != "test_docs.py"
            and re.search(r"\breferences/[\w-]+\.md", p.read_text())]
  assert not citing, "cite the paper itself: references/ is not part of the repository"


def test_the_readme_is_a_front_door_and_ci_runs_its_test_command():
  readme = (REPO / "README.md").read_text()
  assert len(readme.splitlines()) < 200
  commands = [line.strip() for line in readme.splitlines() if "python -m pytest" in line and line.startswith("    ")]
  assert len(commands) == 1 and commands[0] in (REPO / ".ci" / "run").read_text().splitlines()
