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


PLAN_0003 = (  # a plan row as revision 0003 stores it (no precise column), and its job
    "INSERT INTO plans (id, scenario_id, confederation, purpose, rule, solver, time_limit, "
    "input, input_hash, software_version, status, message, actor, request_hash, created_at) "
    "VALUES ({id}, 'valley', 'valley', 'proposal', 'leximin', 'highs', 60, '{{}}', 'h', 'v', "
    "'queued', '', 'test', '', CURRENT_TIMESTAMP)"
)
JOB = (
    "INSERT INTO jobs (plan_id, state, attempts, cancel_requested, progress, error, created_at) "
    "VALUES ({id}, 'queued', 0, false, '', '', CURRENT_TIMESTAMP)"
)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_db(request, tmp_path):
    """The URL of an empty database: a SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/migrate.db"
        return
    from api_fixtures import postgres_database

    with postgres_database("commune_migrate") as url:
        yield url


def _plans_and_jobs_kept(engine) -> None:
    """After a downgrade: the two plans rows and the first one's job are still there."""
    from sqlalchemy import text

    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM plans")).scalar() == 2
        assert c.execute(text("SELECT plan_id FROM jobs")).scalars().all() == [1]


def test_migration_0004_adds_precise_to_stored_plans_and_downgrades(empty_db):
    from sqlalchemy import inspect, text

    from api import migrate
    from api.config import Settings
    from api.db import make_engine

    engine = make_engine(Settings(database_url=empty_db).sqlalchemy_url)
    try:
        migrate.upgrade(engine, "0003_courses")
        assert "precise" not in {c["name"] for c in inspect(engine).get_columns("plans")}
        with engine.begin() as c:
            c.execute(text(PLAN_0003.format(id=1)))
            c.execute(text(JOB.format(id=1)))
        migrate.upgrade(engine, "0004_precise")
        assert migrate.current(engine) == "0004_precise"
        column = next(c for c in inspect(engine).get_columns("plans") if c["name"] == "precise")
        assert column["nullable"] is False
        with engine.begin() as c:  # a row written without the column gets the server default
            c.execute(text(PLAN_0003.format(id=2)))
        with engine.begin() as c:  # (SQL: the ORM's plans have later columns than 0004's)
            stored = c.execute(text("SELECT precise FROM plans ORDER BY id")).scalars().all()
            assert [bool(p) for p in stored] == [False, False]
            c.execute(text("UPDATE plans SET precise = true WHERE id = 2"))
        with engine.connect() as c:
            assert c.execute(text("SELECT id FROM plans WHERE precise")).scalars().all() == [2]
        migrate.downgrade(engine, "0003_courses")
        assert migrate.current(engine) == "0003_courses"
        assert "precise" not in {c["name"] for c in inspect(engine).get_columns("plans")}
        _plans_and_jobs_kept(engine)
        migrate.upgrade(engine)
        with engine.connect() as c:
            assert c.execute(text("SELECT count(*) FROM plans WHERE precise")).scalar() == 0
    finally:
        engine.dispose()


def test_migration_0005_adds_exact_to_stored_plans_and_downgrades(empty_db):
    from sqlalchemy import inspect, text

    from api import migrate
    from api.config import Settings
    from api.db import make_engine

    engine = make_engine(Settings(database_url=empty_db).sqlalchemy_url)
    try:
        migrate.upgrade(engine, "0004_precise")
        assert "exact" not in {c["name"] for c in inspect(engine).get_columns("plans")}
        with engine.begin() as c:  # a plan row as revision 0004 stores it, and its job
            c.execute(text(PLAN_0003.format(id=1)))
            c.execute(text(JOB.format(id=1)))
        migrate.upgrade(engine, "0005_exact")
        assert migrate.current(engine) == "0005_exact"
        column = next(c for c in inspect(engine).get_columns("plans") if c["name"] == "exact")
        assert column["nullable"] is False
        with engine.begin() as c:  # a row written without the column gets the server default
            c.execute(text(PLAN_0003.format(id=2)))
        with engine.begin() as c:  # (SQL: the ORM's plans have later columns than 0005's)
            stored = c.execute(text("SELECT exact FROM plans ORDER BY id")).scalars().all()
            assert [bool(p) for p in stored] == [False, False]
            c.execute(text("UPDATE plans SET exact = true WHERE id = 2"))
        with engine.connect() as c:
            assert c.execute(text("SELECT id FROM plans WHERE exact")).scalars().all() == [2]
        migrate.downgrade(engine, "0004_precise")
        assert migrate.current(engine) == "0004_precise"
        columns = {c["name"] for c in inspect(engine).get_columns("plans")}
        assert "exact" not in columns and "precise" in columns
        _plans_and_jobs_kept(engine)
        migrate.upgrade(engine)
        with engine.connect() as c:
            assert c.execute(text("SELECT count(*) FROM plans WHERE exact")).scalar() == 0
    finally:
        engine.dispose()


def test_migration_0006_adds_certify_and_certificate_to_stored_plans_and_downgrades(empty_db):
    from sqlalchemy import inspect, text

    from api import migrate
    from api.config import Settings
    from api.db import make_engine, make_sessionmaker
    from api.orm import PlanRow

    engine = make_engine(Settings(database_url=empty_db).sqlalchemy_url)
    try:
        migrate.upgrade(engine, "0005_exact")
        columns = {c["name"] for c in inspect(engine).get_columns("plans")}
        assert "exact" in columns and not {"certify", "certificate"} & columns
        with engine.begin() as c:  # a plan row as revision 0005 stores it, and its job
            c.execute(text(PLAN_0003.format(id=1)))
            c.execute(text(JOB.format(id=1)))
        migrate.upgrade(engine)
        assert migrate.current(engine) == "0006_certify"
        columns = {c["name"]: c for c in inspect(engine).get_columns("plans")}
        assert columns["certify"]["nullable"] is True
        assert columns["certificate"]["nullable"] is True
        with engine.begin() as c:  # a row written without the columns: not certified, none
            c.execute(text(PLAN_0003.format(id=2)))
        cert = {"levels": 4, "passed": True, "seconds": 0.1, "failed": [], "undecided": []}
        with make_sessionmaker(engine)() as s:
            plans = list(s.query(PlanRow).order_by(PlanRow.id))
            assert [(p.certify, p.certificate) for p in plans] == [(False, None)] * 2
            s.get(PlanRow, 2).certify = True
            s.get(PlanRow, 2).certificate = cert
            s.commit()
        with make_sessionmaker(engine)() as s:  # the JSON comes back as it went in
            assert s.get(PlanRow, 2).certificate == cert
        with engine.connect() as c:
            assert c.execute(text("SELECT id FROM plans WHERE certify")).scalars().all() == [2]
        migrate.downgrade(engine, "0005_exact")
        assert migrate.current(engine) == "0005_exact"
        columns = {c["name"] for c in inspect(engine).get_columns("plans")}
        assert not {"certify", "certificate"} & columns and "exact" in columns
        _plans_and_jobs_kept(engine)
        migrate.upgrade(engine)
        with engine.connect() as c:
            assert c.execute(text("SELECT count(*) FROM plans WHERE certify")).scalar() == 0
            assert (
                c.execute(text("SELECT count(*) FROM plans WHERE certificate IS NULL")).scalar()
                == 2
            )
    finally:
        engine.dispose()


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
