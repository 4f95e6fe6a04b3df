"""``planner demo``: load the example, make demo tokens, plan once, print how to use it."""

from __future__ import annotations

from pathlib import Path

import typer
from sqlalchemy import Engine, select, update

import models
from api.config import Settings
from api.db import make_sessionmaker, utcnow
from api.errors import ApiError
from api.orm import Delegate, ScenarioRow, Token
from api.security import Principal
from api.services import delegates, plans, scenarios, tokens
from api.worker import run_pending

DEMO = "demo"


def prepare(settings: Settings, engine: Engine, data: Path, url: str) -> None:
    """Load ``data`` unless its scenario is stored, renew the demo tokens, solve one plan."""
    sessions = make_sessionmaker(engine)
    system = Principal.system(DEMO)
    try:
        scenario = models.load(data)
    except models.ScenarioError as exc:
        for p in exc.problems:
            typer.echo(str(p), err=True)
        raise typer.Exit(2) from None
    sid = scenarios.root_of(scenario)
    with sessions() as s:
        if s.get(ScenarioRow, sid) is None:
            try:
                scenarios.store(s, system, scenario)
            except ApiError as exc:
                typer.echo(f"cannot load {data}: {exc.detail}", err=True)
                for p in exc.problems or []:
                    typer.echo(f"  {p}", err=True)
                raise typer.Exit(2) from None
            typer.echo(f"loaded {data} as scenario {sid!r}")
        s.execute(
            update(Token)
            .where(Token.label == DEMO, Token.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
        s.commit()
        issued = [  # (role, for whom, secret)
            ("admin", "everything (except mandates)", _issue(s, system, "admin")),
            ("analyst", "reads everything", _issue(s, system, "analyst")),
        ]
        towns = scenarios.stored_rows(s, sid)["municipalities"]
        for _, town in towns:
            issued.append(
                (
                    "assembly",
                    f"{town['id']} ({town['name'] or town['id']})",
                    _issue(s, system, "assembly", town["id"]),
                )
            )
        first = towns[0][1]["id"]
        d = s.scalars(
            select(Delegate).where(Delegate.confederation == sid, Delegate.recalled_at.is_(None))
        ).first()
        d = d or delegates.name(s, system, first, "Demo delegate", sid)
        issued.append(
            (
                "coordinator",
                f"{sid} (delegate {d.name} of {d.municipality})",
                _issue(s, system, "coordinator", delegate_id=d.id),
            )
        )
        plan, _ = plans.request(s, system, settings, sid)
    run_pending(settings, engine)
    with sessions() as s:
        plan = plans.get(s, plan.id)
        typer.echo(f"plan {plan.id} of {sid!r}: {plan.status} (input {plan.input_hash[:12]})")
    width = max(len(who) for _, who, _ in issued)
    typer.echo(
        f"\ndemo tokens: sign in at {url}/web/ with one, or send it as"
        " 'Authorization: Bearer <token>'"
    )
    typer.echo(f"  {'role':<12} {'for':<{width}}  token")
    for role, who, secret in issued:
        typer.echo(f"  {role:<12} {who:<{width}}  {secret}")
    typer.echo(f"\nweb pages        {url}/web/")
    typer.echo(f"interactive docs {url}/docs")
    typer.echo(f"plan {plan.id:<11} {url}/web/plans/{plan.id}  (JSON: {url}/plans/{plan.id})")


def _issue(s, system: Principal, role: str, municipality: str | None = None, **kw) -> str:
    """A fresh demo token's secret (labelled, so the next demo run revokes it)."""
    return tokens.issue(s, system, role, municipality, label=DEMO, **kw)[1]
