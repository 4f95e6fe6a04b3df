"""The command line's service commands: db, token, demo; and packaging sanity."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import api
import models
from api.cli import app
from api.config import get_settings

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("COMMUNE_DATABASE_URL", f"sqlite:///{tmp_path}/cli.db")
    get_settings.cache_clear()
    runner = CliRunner()
    yield lambda *args: runner.invoke(app, list(args))
    get_settings.cache_clear()


def test_packages_resolve_inside_the_repository():
    assert Path(api.__file__).resolve().is_relative_to(ROOT)
    assert Path(models.__file__).resolve().is_relative_to(ROOT)


def test_db_upgrade_and_current(cli):
    from alembic.script import ScriptDirectory

    from api.migrate import alembic_config

    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    assert "(empty database)" in cli("db", "current").output
    r = cli("db", "upgrade")
    assert r.exit_code == 0 and head in r.output
    assert cli("db", "current").output.strip() == head


def test_token_create(cli):
    r = cli("token", "create", "--role", "admin")
    assert r.exit_code == 0 and r.output.strip().startswith("cm_")
    r = cli("token", "create", "--role", "assembly", "--municipality", "ashford")
    assert r.exit_code == 2 and "municipality" in r.output
    r = cli("token", "create", "--role", "wizard")
    assert r.exit_code == 2
    r = cli(
        "token",
        "create",
        "--role",
        "coordinator",
        "--confederation",
        "valley",
        "--delegate",
        "Dana",
    )
    assert r.exit_code == 2 and "--municipality" in r.output
    assert "admin" in cli("token", "list").output
    assert "revoked token 1" in cli("token", "revoke", "1").output


def test_demo_prepares_loads_plans_and_prints_tokens(cli):
    r = cli("demo", "--no-serve", "--data", str(ROOT / "data" / "valley"))
    assert r.exit_code == 0, r.output
    assert "loaded" in r.output and "plan 1 of 'valley': shortfall" in r.output
    out = r.output
    assert "http://127.0.0.1:8000/web/" in out and "http://127.0.0.1:8000/docs" in out
    tokens = dict(  # role and whom it is for -> the token printed beside them
        (" ".join(line.split()[:2]), line.split()[-1])
        for line in out.splitlines()
        if line.strip().startswith(("admin ", "analyst ", "assembly ", "coordinator "))
    )
    assert all(t.startswith("cm_") for t in tokens.values())
    assert {"admin everything", "analyst reads", "assembly ashford", "assembly fernhill"} <= set(
        tokens
    )
    assert "coordinator valley" in tokens and len(tokens) == 2 + 6 + 1
    r = cli("demo", "--no-serve", "--data", str(ROOT / "data" / "valley"))
    assert r.exit_code == 0 and "loaded" not in r.output and "plan 2" in r.output
    r = cli(
        "token",
        "create",
        "--role",
        "coordinator",
        "--confederation",
        "upper",
        "--delegate",
        "Bo",
        "--municipality",
        "ashford",
    )
    assert r.exit_code == 0 and r.output.startswith("cm_")
    r = cli(
        "token", "create", "--role", "coordinator", "--confederation", "upper", "--delegate", "Bo"
    )
    assert r.exit_code == 0  # the same delegate, found by name


def test_a_delegate_named_without_a_confederation_sits_in_the_municipalitys_own(cli):
    from api.services import delegates

    assert cli("demo", "--no-serve").exit_code == 0
    r = cli(
        "token", "create", "--role", "coordinator", "--municipality", "ashford", "--delegate", "Ana"
    )
    assert r.exit_code == 0, r.output
    from api.db import make_engine, make_sessionmaker

    engine = make_engine(get_settings().sqlalchemy_url)
    with make_sessionmaker(engine)() as s:
        found, _ = delegates.listing(s, 100, 0)
        ana = next(d for d in found if d.name == "Ana")
        assert (ana.municipality, ana.confederation) == ("ashford", "upper")  # Ashford's own
    engine.dispose()
