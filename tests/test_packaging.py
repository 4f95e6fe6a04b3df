"""The package as pip builds it: every module of the project, its migrations and pages.

The wheel was once built from a hand-written list of packages that missed
``planner.formulation`` and ``api.web.routes``: an installed (not editable) copy could
not plan. Here the wheel is built as a user's ``pip install .`` builds it and compared
with the repository's own files.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("planner", "models", "solvers", "api")


def test_the_wheel_holds_every_module_migration_and_page(tmp_path):
    # built from a copy of the tracked files, as a clone has them (pip builds in the
    # source folder, which would leave build/ in the repository)
    src = tmp_path / "src"
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    for f in tracked:
        if (ROOT / f).is_file():
            (src / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, src / f)
    out = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-q", "-w", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "is absent from the `packages` configuration" not in out.stderr
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    wanted = {
        f
        for f in tracked
        if f.split("/")[0] in PACKAGES
        and f.endswith((".py", ".html", ".css", ".js", ".svg", ".mako", ".ini"))
        and "__pycache__" not in f
    }
    assert wanted, "no tracked files found"
    assert sorted(wanted - names) == []
    assert {"planner/formulation/__init__.py", "api/web/routes/__init__.py"} <= names
    tops = {n.split("/")[0] for n in names}
    assert {t for t in tops if not t.endswith(".dist-info")} <= set(PACKAGES)  # no tests, no data
