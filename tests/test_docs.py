"""The user docs: links only to files the repository has, and figures that match the code."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

ROOT = Path(__file__).resolve().parents[1]
DOCS = [ROOT / "README.md", ROOT / "api" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def test_every_link_in_the_docs_names_a_file_of_the_repository():
    for doc in DOCS:
        for target in LINK.findall(doc.read_text()):
            if re.match(r"[a-z]+://", target):
                continue
            path = (doc.parent / target).resolve()
            assert path.is_relative_to(ROOT), f"{doc.name} links outside the repository: {target}"
            assert path.exists(), f"{doc.name} links to {target}, which the repository lacks"


def test_the_readme_and_the_format_reference_do_not_send_readers_outside():
    # docs/PLANNING.md is the engine's page (its owner rewrites it with the engine)
    for doc in (d for d in DOCS if d.name != "PLANNING.md"):
        assert "../shared" not in doc.read_text(), doc
        assert "SPEC" not in doc.read_text(), doc  # the project's own reference is docs/FORMAT.md
    assert "[docs/FORMAT.md](docs/FORMAT.md)" in (ROOT / "README.md").read_text()


def test_the_documented_ranges_are_the_ones_checked():
    import models
    from models._normalise import MAX_MAGNITUDE
    from models._validate import SPREAD

    text = (ROOT / "docs" / "FORMAT.md").read_text()
    assert f"magnitude at most **{MAX_MAGNITUDE:.0e}**".replace("e+", "e") in text
    assert f"magnitude at least **{models.SOLVER_ZERO:.0e}**".replace("e-0", "e-") in text
    lo, hi = models.COEFFICIENT_RANGE
    assert "1e-6 to 1e6 in magnitude" in text and (lo, hi) == (1e-6, 1e6)
    assert "largest / smallest at most 1e12" in text and SPREAD == 1e12


def test_the_readme_shows_what_validate_prints():
    from planner.cli import app

    out = CliRunner().invoke(app, ["validate", str(ROOT / "data" / "valley")]).output
    readme = (ROOT / "README.md").read_text()
    shown = readme.split(".venv/bin/planner validate data/valley\n```\n\n```\n", 1)[1].split("```")[
        0
    ]
    for line in shown.strip().splitlines()[1:]:
        assert line in out.splitlines(), (line, out)
