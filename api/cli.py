"""The ``planner`` command line, extended with the service: serve, worker, token, db, demo.

``planner`` is ``planner.cli.app`` (validate, solve, export, generate, ...)
plus these commands; the console script points here (``api.cli:main``).
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from api.config import Settings, get_settings
from planner.cli import app

db_app = typer.Typer(help="The database: migrations.", no_args_is_help=True, rich_markup_mode=None)
token_app = typer.Typer(
    help="Bearer tokens: create, list, revoke.", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(db_app, name="db")
app.add_typer(token_app, name="token")

DATA = Path(__file__).resolve().parent.parent / "data" / "valley"


def _engine(settings: Settings):
    from api import migrate
    from api.db import make_engine

    engine = make_engine(settings.sqlalchemy_url)
    migrate.upgrade(engine)
    return engine


@db_app.command("upgrade")
def db_upgrade(revision: Annotated[str, typer.Argument(help="target revision")] = "head") -> None:
    """Create or migrate the database (COMMUNE_DATABASE_URL) to the newest schema."""
    from api import migrate
    from api.db import make_engine

    settings = get_settings()
    engine = make_engine(settings.sqlalchemy_url)
    migrate.upgrade(engine, revision)
    typer.echo(f"{settings.database_url}: at revision {migrate.current(engine)}")


@db_app.command("current")
def db_current() -> None:
    """Print the database's schema revision."""
    from api import migrate
    from api.db import make_engine

    typer.echo(migrate.current(make_engine(get_settings().sqlalchemy_url)) or "(empty database)")


@token_app.command("create")
def token_create(
    role: Annotated[str, typer.Option(help="assembly, coordinator, analyst or admin")],
    municipality: Annotated[
        str | None,
        typer.Option(
            help="assembly: its municipality; coordinator: the municipality naming a new delegate"
        ),
    ] = None,
    confederation: Annotated[
        str | None,
        typer.Option(
            help="coordinator: the confederation of the delegate's council (default: the "
            "--municipality's own confederation)"
        ),
    ] = None,
    delegate: Annotated[str | None, typer.Option(help="coordinator: the delegate's name")] = None,
    label: Annotated[str, typer.Option(help="a note shown in the audit log")] = "",
) -> None:
    """Make a token and print it (it is shown once and stored only hashed)."""
    from api.services import tokens

    settings = get_settings()
    engine = _engine(settings)
    from api.db import make_sessionmaker
    from api.errors import ApiError
    from api.security import Principal

    with make_sessionmaker(engine)() as s:
        try:
            delegate_id = None
            if role == "coordinator":
                delegate_id = _find_or_name_delegate(s, confederation, delegate, municipality)
                municipality = None
            _tok, secret = tokens.issue(
                s, Principal.system(), role, municipality, delegate_id, label
            )
        except ApiError as exc:
            typer.echo(f"error: {exc.detail}", err=True)
            for p in exc.problems or []:
                typer.echo(f"  {p}", err=True)
            raise typer.Exit(2) from None
    typer.echo(secret)


def _find_or_name_delegate(
    s, confederation: str | None, name: str | None, municipality: str | None
) -> int:
    """The active delegate ``name`` of ``confederation``'s council, named first by ``municipality`` if new."""
    from sqlalchemy import select

    from api.errors import Invalid
    from api.orm import Delegate, Municipality
    from api.security import Principal
    from api.services import delegates

    if not name:
        raise Invalid("a coordinator token needs --delegate NAME")
    if not confederation:
        if not municipality:
            raise Invalid(
                "a coordinator token needs --confederation, or --municipality (its own "
                "confederation is then the council)"
            )
        town = s.scalar(select(Municipality).where(Municipality.id == municipality))
        if town is None:
            raise Invalid(f"no municipality {municipality!r}")
        confederation = town.confederation
    q = select(Delegate).where(
        Delegate.confederation == confederation,
        Delegate.name == name,
        Delegate.recalled_at.is_(None),
    )
    if municipality:
        q = q.where(Delegate.municipality == municipality)
    found = s.scalars(q).first()
    if found is not None:
        return found.id
    if not municipality:
        raise Invalid(
            f"no active delegate {name!r} of {confederation!r}: pass --municipality to name one"
        )
    return delegates.name(s, Principal.system(), municipality, name, confederation).id


@token_app.command("list")
def token_list() -> None:
    """List tokens (never their secrets)."""
    from api.db import make_sessionmaker
    from api.security import Principal
    from api.services import tokens

    with make_sessionmaker(_engine(get_settings()))() as s:
        found, _ = tokens.listing(s, Principal.system(), 10_000, 0)
        for t in found:
            state = "revoked" if t.revoked_at else "active"
            typer.echo(
                f"{t.id}\t{t.role}\t{t.municipality or t.confederation or '-'}\t{state}\t{t.label}"
            )


@token_app.command("revoke")
def token_revoke(token_id: int) -> None:
    """Revoke a token by id."""
    from api.db import make_sessionmaker
    from api.security import Principal
    from api.services import tokens

    with make_sessionmaker(_engine(get_settings()))() as s:
        tokens.revoke(s, Principal.system(), token_id)
    typer.echo(f"revoked token {token_id}")


@app.command()
def worker() -> None:
    """Run a worker: solve queued plans until stopped (SIGTERM gives the current job back)."""
    from api.worker import serve_forever

    logging.basicConfig(level=logging.INFO, format="%(asctime)s worker %(message)s")
    # the migration check at start-up is not the worker's news: Alembic's plugin and
    # context lines at INFO filled the demo's terminal; its warnings still show
    logging.getLogger("alembic").setLevel(logging.WARNING)
    settings = get_settings()
    _engine(settings).dispose()
    serve_forever(settings)


def start_workers(n: int) -> list[subprocess.Popen]:
    """``n`` worker processes (``planner worker``), sharing this environment."""
    return [_worker_process() for _ in range(n)]


def _worker_process() -> subprocess.Popen:
    env = {**os.environ, "COMMUNE_SERVER_PID": str(os.getpid())}  # it dies with this server
    return subprocess.Popen([sys.executable, "-m", "api.cli", "worker"], env=env)


def _supervise(
    procs: list[subprocess.Popen], stop: threading.Event, stopping: Callable[[], bool]
) -> None:
    """Restart a worker that exits while the server runs (its job is queued again)."""
    while not stop.wait(2.0):
        if stopping():
            return
        for i, p in enumerate(procs):
            if p.poll() is not None:
                typer.echo(f"worker {p.pid} exited ({p.returncode}); starting another", err=True)
                procs[i] = _worker_process()


def stop_workers(procs: list[subprocess.Popen], grace: float = 10.0) -> None:
    """SIGTERM every worker (each gives its job back), wait ``grace`` seconds, then kill."""
    for p in procs:
        if p.poll() is None:
            p.terminate()
    end = time.monotonic() + grace
    for p in procs:
        try:
            p.wait(max(0.1, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    workers: Annotated[int, typer.Option(help="worker processes to start (0: none)")] = 1,
) -> None:
    """Serve the HTTP API (docs at /docs) with its worker processes.

    SIGTERM or SIGINT (Ctrl-C) shuts the server down gracefully and then
    stops the workers.
    """
    # uvicorn re-raises the signal once it has shut down; with the default SIGTERM
    # action that would end this process before it could stop its workers, so this
    # command installs its own handlers, which uvicorn calls after its own.
    import uvicorn

    settings = get_settings()
    _engine(settings).dispose()
    server = uvicorn.Server(
        uvicorn.Config("api.main:create_app", factory=True, host=host, port=port, log_level="info")
    )

    def _on_signal(signum: int, _frame: Any) -> None:
        server.should_exit = True  # before uvicorn runs (or again after it re-raises): stop

    previous = {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    procs = start_workers(workers)
    stop = threading.Event()
    supervisor = threading.Thread(
        target=_supervise, args=(procs, stop, lambda: server.should_exit), daemon=True
    )
    supervisor.start()
    try:
        server.run()
    finally:
        stop.set()
        supervisor.join(5)
        stop_workers(procs)
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@app.command()
def demo(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8000,
    data: Annotated[Path, typer.Option(help="scenario to load if the database has none")] = DATA,
    no_serve: Annotated[
        bool, typer.Option("--no-serve", help="prepare and plan, then exit")
    ] = False,
) -> None:
    """Create or migrate the database, load the valley, print demo tokens, plan once, serve."""
    from api.demo import prepare

    settings = get_settings()
    engine = _engine(settings)
    prepare(settings, engine, data, f"http://{host}:{port}")
    engine.dispose()
    if not no_serve:
        serve(host=host, port=port, workers=1)


def main() -> None:  # pragma: no cover - console entry
    """Entry point of the ``planner`` console script."""
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
