"""Fixtures of the API tests (a plugin module: ``pytest_plugins = ["api_fixtures"]``).

Every API test runs twice: on SQLite (always) and on PostgreSQL (when
``COMMUNE_TEST_POSTGRES_URL`` names a server, or one answers at
postgresql://postgres@127.0.0.1:5432/; skipped otherwise). Each test
session makes a fresh database ``commune_test_<random>`` on that server and
drops it afterwards; each test starts from empty tables.
"""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

import models
from api import migrate
from api.config import Settings
from api.db import make_engine, make_sessionmaker
from api.main import create_app
from api.security import Principal
from api.services import delegates, scenarios, tokens
from api.worker import run_pending

ROOT = Path(__file__).resolve().parent.parent
VALLEY = ROOT / "data" / "valley"
PG_DEFAULT = "postgresql://postgres@127.0.0.1:5432/"
_VALLEY: list[models.Scenario] = []


def valley() -> models.Scenario:
    """data/valley, read once per test session (scenarios are immutable)."""
    if not _VALLEY:
        _VALLEY.append(models.load(VALLEY))
    return _VALLEY[0]


TOWNS = ("ashford", "birchwood", "cedar_falls", "dunmore", "elmstead", "fernhill")


def valley_with_tokens(url: str) -> dict[str, dict[str, str]]:
    """Store the valley in the database at ``url`` (migrated first); request headers
    carrying an ``admin`` and an ``assembly`` (ashford) token."""
    engine = make_engine(Settings(database_url=url).sqlalchemy_url)
    migrate.upgrade(engine)
    with make_sessionmaker(engine)() as s:
        scenarios.store(s, Principal.system("test"), models.load("data/valley"))
        heads = {
            who: {"Authorization": "Bearer " + tokens.issue(s, Principal.system("t"), *args)[1]}
            for who, args in (("admin", ("admin",)), ("assembly", ("assembly", "ashford")))
        }
    engine.dispose()
    return heads


def postgres_server() -> str | None:
    """The PostgreSQL server URL to test on, or None when none answers."""
    url = os.environ.get("COMMUNE_TEST_POSTGRES_URL") or PG_DEFAULT
    try:
        import psycopg

        psycopg.connect(url.replace("+psycopg", ""), connect_timeout=2).close()
    except Exception:  # noqa: BLE001 - any failure means: no server here
        if os.environ.get("COMMUNE_TEST_POSTGRES_URL"):
            raise
        return None
    return url


def _with_db(server: str, name: str) -> str:
    base = server.rsplit("/", 1)[0] if server.count("/") > 2 else server.rstrip("/")
    return f"{base}/{name}"


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database(request, tmp_path_factory) -> Iterator[tuple[str, str]]:
    """(kind, template): a migrated SQLite file to copy, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("db") / "template.db"
        engine = make_engine(f"sqlite:///{path}")
        migrate.upgrade(engine)
        engine.dispose()
        yield "sqlite", str(path)
        return
    with postgres_database("commune_test") as url:
        engine = make_engine(Settings(database_url=url).sqlalchemy_url)
        migrate.upgrade(engine)
        engine.dispose()
        yield "postgresql", url


@contextmanager
def postgres_database(prefix: str) -> Iterator[str]:
    """The URL of a fresh, empty PostgreSQL database, dropped afterwards.

    Skips the test when no server answers (``.ci/run`` starts one).
    """
    server = postgres_server()
    if server is None:
        pytest.skip("no PostgreSQL server (set COMMUNE_TEST_POSTGRES_URL)")
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin = make_engine(_with_db(server, "postgres")).execution_options(
        isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield _with_db(server, name)
    finally:
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


TABLES = (
    "audit_log, course_votes, course_sets, reconciliation_decisions, reconciliations, tallies, jobs, plans, comparisons, tokens, delegates, mandates, limits, links, "
    "needs, endowments, capacities, process_io, processes, items, municipalities, confederations, scenarios"
)


@pytest.fixture
def db_url(database, tmp_path) -> str:
    """A database URL with the schema and no rows."""
    kind, template = database
    if kind == "sqlite":
        path = tmp_path / "commune.db"
        shutil.copy(template, path)
        return f"sqlite:///{path}"
    engine = make_engine(Settings(database_url=template).sqlalchemy_url)
    with engine.begin() as c:  # DELETE is far quicker than TRUNCATE on tiny tables
        c.execute(text("SET LOCAL session_replication_role = replica"))  # past the audit trigger
        for table in TABLES.split(", "):
            c.execute(text(f"DELETE FROM {table}"))
        c.execute(text("SELECT setval(oid, 1, false) FROM pg_class WHERE relkind = 'S'"))
    engine.dispose()
    return template


@pytest.fixture
def settings(db_url) -> Settings:
    """Settings of the app under test (no migration at start-up: the database has the schema)."""
    return Settings(database_url=db_url, auto_migrate=False, max_body_bytes=2 * 2**20, max_rows=500)


@pytest.fixture
def app(settings):
    """The application."""
    application = create_app(settings)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app) -> Iterator[TestClient]:
    """A TestClient of the app."""
    with TestClient(app) as c:
        yield c


@dataclass
class World:
    """The valley loaded, and a token (as request headers) for every kind of principal."""

    app: object
    client: TestClient
    h: dict[str, dict[str, str]] = field(default_factory=dict)
    delegate_ids: dict[str, int] = field(default_factory=dict)

    def session(self):
        """A database session of the app."""
        return self.app.state.sessions()

    def run_jobs(self) -> int:
        """Solve every queued job in-process (as a worker would)."""
        return run_pending(self.app.state.settings, self.app.state.engine)

    def token(
        self, role: str, municipality: str | None = None, delegate_id: int | None = None
    ) -> dict[str, str]:
        """Headers of a fresh token."""
        with self.session() as s:
            _, secret = tokens.issue(s, Principal.system("test"), role, municipality, delegate_id)
        return {"Authorization": f"Bearer {secret}"}

    def signed_in(self, who: str = "coord:valley") -> TestClient:
        """The client, signed in to the pages with ``who``'s token (its cookie)."""
        c = self.client
        c.cookies.clear()
        secret = self.h[who]["Authorization"].removeprefix("Bearer ")
        r = c.post(
            "/web/signin",
            data={"token": secret},
            headers={"Origin": "http://testserver"},
            follow_redirects=False,
        )
        assert r.status_code == 303, r.text
        return c

    def plan(self, conf: str = "valley", who: str = "coord:valley", **body) -> dict:
        """Request a plan and solve it; the GET /plans/{id} body."""
        r = self.client.post(f"/confederations/{conf}/plans", json=body, headers=self.h[who])
        assert r.status_code == 202, r.text
        self.run_jobs()
        return self.client.get(f"/plans/{r.json()['plan']['id']}", headers=self.h[who]).json()


@pytest.fixture
def world(app, client) -> World:
    """The valley scenario stored; tokens: admin, analyst, assembly:<town>, coord:<conf>."""
    w = World(app, client)
    with w.session() as s:
        scenarios.store(s, Principal.system("test"), valley())
        for conf, town in (("valley", "ashford"), ("upper", "birchwood"), ("lower", "dunmore")):
            w.delegate_ids[conf] = delegates.name(
                s, Principal.system("test"), town, f"delegate of {conf}", conf
            ).id
    w.h["admin"] = w.token("admin")
    w.h["analyst"] = w.token("analyst")
    for town in TOWNS:
        w.h[f"assembly:{town}"] = w.token("assembly", town)
    for conf, d in w.delegate_ids.items():
        w.h[f"coord:{conf}"] = w.token("coordinator", delegate_id=d)
    return w


def spy_on_solves(monkeypatch) -> list[dict]:
    """The extra options of every solve from now on (what ``planner.solve`` hands the engine)."""
    import planner.core

    seen: list[dict] = []
    real = planner.core.solve_formulation

    def spy(*args, **options):
        seen.append(options)
        return real(*args, **options)

    monkeypatch.setattr(planner.core, "solve_formulation", spy)
    return seen
