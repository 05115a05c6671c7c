"""Documentation citations: every ``docs/<page>.md`` the code cites exists, no file outside the repository is cited.

Code comments and docstrings explain reference behaviour by citing pages of ``docs/``. The prose the project was
written from (the reference specification: ``model.md``, ``engine-and-memory.md``, ``training.md``, ``data.md``,
``evaluation.md``, in a ``spec`` folder) is not part of the repository, so a citation of it cannot be followed.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = REPO / "docs"
SCANNED = ("aot_plus", "evaluation", "scripts", "configs", "tests")
SUFFIXES = {".py", ".md", ".yaml", ".yml", ".sh", ".txt", ".cfg", ".toml"}
THIS_FILE = Path(__file__).resolve()

DOCS_CITATION = re.compile(r"\bdocs/([A-Za-z0-9_-]+\.md)\b")
# A spec file named without a folder (``docs/model.md`` is fine, ``model.md`` alone is not), the spec folder, or a
# numbered spec section ("spec 2.2", "Spec 7.3", "spec section 3").
SPEC_CITATION = re.compile(
    r"(?<![\w/.-])(?:model|engine-and-memory|training|data|evaluation)\.md\b"
    r"|shared/spec\b|\.\./spec\b"
    r"|\bspec(?:ification)?\s*(?:§|section\s*|sections\s*)?\d",
    re.IGNORECASE)
MARKDOWN_LINK = re.compile(r"\]\(([^)#\s]+\.md)(?:#[^)]*)?\)")


def scanned_files() -> list[Path]:
    """Text files of the package, the evaluator, scripts, configs and tests, plus the top-level README."""
    files = [REPO / "README.md"]
    for top in SCANNED:
        for path in sorted((REPO / top).rglob("*")):
            if path.suffix in SUFFIXES and path.is_file() and path.resolve() != THIS_FILE \
                    and "__pycache__" not in path.parts:
                files.append(path)
    return files


def spec_citations(text: str) -> list[str]:
    """The citations of files outside the repository found in ``text``."""
    return [m.group(0) for m in SPEC_CITATION.finditer(text)]


def test_scanner_finds_spec_citations_and_spares_docs_pages():
    bad = ["(``training.md`` 2.1)", "see data.md section 2", "spec evaluation.md B6", "Spec 7.3: first call",
           "Behaviour follows `shared/spec/data.md`.", "rules are in `../spec/evaluation.md`",
           "``engine-and-memory.md``", "(spec model.md section 7)", "Weight decay (spec 2.2)"]
    for text in bad:
        assert spec_citations(text), text
    good = ["(``docs/model.md``, Encoders)", "[docs/training.md](../../docs/training.md)",
            "importlib.util.spec_from_file_location", "module_from_spec(spec)", "evaluation/README.md",
            "``docs/metrics.md``", "a spec'd value"]
    for text in good:
        assert not spec_citations(text), text
    assert DOCS_CITATION.findall("see ``docs/datasets.md`` and docs/clip-sampling.md") == \
        ["datasets.md", "clip-sampling.md"]


def test_no_file_cites_the_spec():
    found = []
    for path in scanned_files():
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            for citation in spec_citations(line):
                found.append(f"{path.relative_to(REPO)}:{number}: {citation}")
    assert not found, "citations of files outside the repository (cite a docs/ page instead):\n" + "\n".join(found)


def test_every_cited_docs_page_exists():
    cited: dict[str, list[str]] = {}
    for path in scanned_files():
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            for page in DOCS_CITATION.findall(line):
                cited.setdefault(page, []).append(f"{path.relative_to(REPO)}:{number}")
    assert cited, "no docs/ citation found: the scanner is broken"
    missing = {page: where for page, where in cited.items() if not (DOCS / page).is_file()}
    assert not missing, f"cited docs pages that do not exist: {missing}"


SECTION_CITATION = re.compile(r"\bdocs/([A-Za-z0-9_-]+\.md)`*\)?, ([A-Z][A-Za-z -]*[A-Za-z])")


def test_cited_sections_exist():
    """``docs/<page>.md``, Section: some heading of that page contains the section name."""
    missing = []
    for path in scanned_files():
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            for page, section in SECTION_CITATION.findall(line):
                doc = DOCS / page
                if not doc.is_file():
                    continue  # reported by test_every_cited_docs_page_exists
                headings = [h.lower() for h in doc.read_text(encoding="utf-8").splitlines() if h.startswith("#")]
                if not any(section.lower() in h for h in headings):
                    missing.append(f"{path.relative_to(REPO)}:{number}: docs/{page}, {section}")
    assert not missing, "cited sections without a matching heading:\n" + "\n".join(missing)


@pytest.mark.parametrize("page", sorted(p.name for p in DOCS.glob("*.md")))
def test_docs_links_resolve_and_cite_no_spec(page):
    text = (DOCS / page).read_text(encoding="utf-8")
    for target in MARKDOWN_LINK.findall(text):
        if "://" not in target:
            assert (DOCS / target).resolve().is_file(), f"docs/{page} links to missing {target}"
    assert not re.search(r"shared/spec|\.\./spec\b|engine-and-memory\.md|\bdata\.md|\bevaluation\.md", text), page


def test_docs_index_lists_every_page():
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    listed = set(MARKDOWN_LINK.findall(index))
    pages = {p.name for p in DOCS.glob("*.md")} - {"README.md"}
    assert pages <= listed, f"docs/README.md does not list {sorted(pages - listed)}"
