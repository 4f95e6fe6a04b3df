"""Whole scenarios: build a ``models.Scenario`` from the rows, validate, import, export.

A scenario's id is its root confederation's id. Every write to a scenario
first calls ``lock`` (bumping its version: a row lock on PostgreSQL, the
write lock on SQLite), so writes to one scenario are serialised and the
whole-scenario validation that follows sees every committed change.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

import models
from api.db import utcnow
from api.errors import Conflict, Invalid, NotFound
from api.orm import TABLE_CLASSES, Confederation, Municipality, ScenarioRow, attr
from api.security import Principal
from api.services import audit, authz

SOURCE = models.Source("scenario", "{table}", first_row=1, has_header=False)
"""Problems from stored rows read ``needs:<row id>: column: message``."""


def get(session: Session, scenario_id: str) -> ScenarioRow:
    """The scenario or 404."""
    row = session.get(ScenarioRow, scenario_id)
    if row is None:
        raise NotFound(f"no scenario {scenario_id!r}")
    return row


def listing(session: Session, limit: int, offset: int) -> tuple[list[ScenarioRow], int]:
    """A page of scenarios and their total."""
    total = session.scalar(select(func.count()).select_from(ScenarioRow)) or 0
    rows = session.scalars(select(ScenarioRow).order_by(ScenarioRow.id).limit(limit).offset(offset))
    return list(rows), total


def scenario_of(session: Session, unit: str) -> str:
    """The scenario a municipality or confederation belongs to, or 404."""
    sid = session.scalar(select(Municipality.scenario_id).where(Municipality.id == unit))
    sid = sid or session.scalar(select(Confederation.scenario_id).where(Confederation.id == unit))
    if sid is None:
        raise NotFound(f"no municipality or confederation {unit!r}")
    return sid


def lock(session: Session, scenario_id: str) -> None:
    """Serialise writers of one scenario: bump its version (404 if it is gone)."""
    done = session.execute(
        update(ScenarioRow)
        .where(ScenarioRow.id == scenario_id)
        .values(version=ScenarioRow.version + 1, updated_at=utcnow())
    )
    if done.rowcount == 0:
        raise NotFound(f"no scenario {scenario_id!r}")


def meta_of(row: ScenarioRow) -> dict[str, Any]:
    """scenario.yaml's content for a stored scenario."""
    return {
        "name": row.name,
        "period": row.period,
        "description": row.description,
        "policy": row.policy or {},
    }


def stored_rows(session: Session, scenario_id: str) -> dict[str, list[tuple[int, dict]]]:
    """Every table's rows as (row id, SPEC row dict), in row-id order."""
    out: dict[str, list[tuple[int, dict]]] = {}
    for table, model in TABLE_CLASSES.items():
        names = models.TABLES[table].names
        cols = [model.pk] + [getattr(model, attr(c)) for c in names]
        result = session.execute(
            select(*cols).where(model.scenario_id == scenario_id).order_by(model.pk)
        )
        out[table] = [(r[0], dict(zip(names, r[1:], strict=True))) for r in result]
    return out


def build(session: Session, scenario_id: str, confederation: str | None = None) -> models.Scenario:
    """The stored scenario as a validated ``models.Scenario`` (422 listing problems if invalid).

    With ``confederation``, only that subtree: its confederations (it becomes
    the root), municipalities, their rows, links inside it and limits whose
    scope lies inside it.
    """
    row = get(session, scenario_id)
    rows = stored_rows(session, scenario_id)
    if confederation and confederation != scenario_id:
        rows = _subtree(rows, confederation)
    return _validated(meta_of(row), rows)


Labels = dict[tuple[str, int], str]
"""(table, row id) -> where the row came from, e.g. ``("needs", 97) -> "needs.csv:18"``."""


def validate(session: Session, scenario_id: str, labels: Labels | None = None) -> models.Scenario:
    """Validate the scenario as it stands in this transaction (call after a flush).

    Problems name stored rows ``table:<row id>``, or as ``labels`` says for
    rows that were just sent (so they name the sender's file and row).
    """
    row = get(session, scenario_id)
    return _validated(meta_of(row), stored_rows(session, scenario_id), labels)


def _validated(
    meta: dict, rows: dict[str, list[tuple[int, dict]]], labels: Labels | None = None
) -> models.Scenario:
    tables = {t: [r for _, r in rs] for t, rs in rows.items()}
    try:
        return models.from_tables(meta, tables, source=SOURCE)
    except models.ScenarioError as exc:
        problems = [_relabel(p, rows, labels or {}) for p in exc.problems if p.is_error]
        raise Invalid(
            "the scenario would not be valid: nothing was changed", problems=problems
        ) from None


def _relabel(p: models.Problem, rows: dict[str, list[tuple[int, dict]]], labels: Labels) -> str:
    """Row positions -> the sent row's label, or the row's own key (``needs:ashford/bread/1``).

    Never a database id: a problem names a row the user can find.
    """
    table = rows.get(p.file)
    if table and 1 <= p.row <= len(table):
        pk, row = table[p.row - 1]
        key = "/".join(str(row.get(k, "")) for k in models.TABLES[p.file].key)
        where = labels.get((p.file, pk)) or f"{p.file}:{key}"
        return f"{where}: {p.column}: {p.message}"
    return str(p)


def _subtree(
    rows: dict[str, list[tuple[int, dict]]], root: str
) -> dict[str, list[tuple[int, dict]]]:
    parent = {r["id"]: r["parent"] for _, r in rows["confederations"]}
    if root not in parent:
        raise NotFound(f"no confederation {root!r} in this scenario")

    def inside(conf: str) -> bool:
        seen = set()
        while conf and conf not in seen:
            if conf == root:
                return True
            seen.add(conf)
            conf = parent.get(conf, "")
        return False

    confs = {c for c in parent if inside(c)}
    towns = {r["id"] for _, r in rows["municipalities"] if r["confederation"] in confs}
    units = confs | towns
    out = dict(rows)
    out["confederations"] = [
        (pk, {**r, "parent": "" if r["id"] == root else r["parent"]})
        for pk, r in rows["confederations"]
        if r["id"] in confs
    ]
    out["municipalities"] = [(pk, r) for pk, r in rows["municipalities"] if r["id"] in towns]
    for t in ("capacities", "endowments", "needs", "mandates"):
        out[t] = [(pk, r) for pk, r in rows[t] if r["municipality"] in towns]
    out["links"] = [(pk, r) for pk, r in rows["links"] if r["from"] in towns and r["to"] in towns]
    out["limits"] = [(pk, r) for pk, r in rows["limits"] if r["scope"] in units]
    return out


def parse_upload(data: bytes, form: str, filename: str | None, max_rows: int) -> models.Scenario:
    """Bytes (json, xlsx or zip) -> a validated scenario; 422 with every problem otherwise."""
    try:
        scenario = models.loads(data, form, filename)
    except models.ScenarioError as exc:
        raise Invalid(
            "the scenario is not valid: nothing was imported",
            problems=[str(p) for p in exc.problems if p.is_error],
        ) from None
    except ValueError as exc:
        raise Invalid(str(exc)) from None
    check_rows({t: len(f) for t, f in scenario.tables().items()}, max_rows)
    return scenario


def check_rows(counts: dict[str, int], max_rows: int) -> None:
    """422 when a table has more rows than the limit."""
    over = [f"{t}: {n} rows (the limit is {max_rows})" for t, n in counts.items() if n > max_rows]
    if over:
        raise Invalid("too many rows", problems=over)


def root_of(scenario: models.Scenario) -> str:
    """The root confederation's id (422 unless there is exactly one)."""
    confs = scenario.confederations
    roots = list(confs.loc[confs["parent"] == "", "id"])
    if len(roots) != 1:
        raise Invalid(
            "a scenario needs exactly one root confederation (a row with an empty parent)",
            problems=[f"confederations:0: parent: {len(roots)} roots found"],
        )
    return roots[0]


def store(
    session: Session, principal: Principal, scenario: models.Scenario, replace: str | None = None
) -> ScenarioRow:
    """Import a scenario: create it, or replace the stored ``replace`` (same root id)."""
    authz.require_writer(principal)
    if not principal.is_admin and replace is None:
        raise authz.Forbidden("only an admin may import a new scenario")
    sid = root_of(scenario)
    if replace is not None:
        if sid != replace:
            raise Invalid(f"the document's root confederation is {sid!r}, not {replace!r}")
        authz.require_root_coordinator(session, principal, replace)
        lock(session, sid)
        row = get(session, sid)
        if not principal.is_admin:
            _assemblies_unchanged(stored_rows(session, sid), scenario)
        for model in TABLE_CLASSES.values():
            session.execute(delete(model).where(model.scenario_id == sid))
        action = "replace"
    else:
        if session.get(ScenarioRow, sid) is not None:
            raise Conflict(f"a scenario {sid!r} exists already; PUT /scenarios/{sid} replaces it")
        row = ScenarioRow(id=sid, name="", policy={})
        session.add(row)
        action = "import"
    _check_ids_free(session, scenario, sid)
    meta = scenario.meta.to_dict()
    row.name, row.period = meta["name"], meta.get("period", "")
    row.description, row.policy = meta.get("description", ""), meta["policy"]
    session.flush()
    doc = models.to_json(scenario)
    for table, model in TABLE_CLASSES.items():
        values = [{"scenario_id": sid, **{attr(c): v for c, v in r.items()}} for r in doc[table]]
        if values:
            session.execute(insert(model), values)
    audit.record(
        session,
        principal,
        action,
        "scenarios",
        sid,
        sid,
        after={"name": row.name, "hash": scenario.content_hash},
    )
    session.commit()
    return row


ASSEMBLY_TABLES = ("needs", "endowments", "capacities", "mandates")


def _assemblies_unchanged(old: dict[str, list[tuple[int, dict]]], new: models.Scenario) -> None:
    """403 when a replacement would change tables only assemblies may change."""
    doc = models.to_json(new)
    changed = []
    for table in ASSEMBLY_TABLES:
        diff = _rowset(r for _, r in old[table]) ^ _rowset(doc[table])
        changed += [f"{table}: {t}" for t in sorted({dict(r)["municipality"] for r in diff})]
    if changed:
        raise authz.Forbidden(
            "only each municipality's assembly may change its needs, endowments, capacities and mandates",
            problems=changed,
        )


def _rowset(rows) -> set[tuple]:
    def norm(v):
        return float(v) if isinstance(v, int | float) and not isinstance(v, bool) else v

    return {tuple(sorted((k, norm(v)) for k, v in r.items())) for r in rows}


def _check_ids_free(session: Session, scenario: models.Scenario, sid: str) -> None:
    """Confederation and municipality ids are unique across scenarios: 409 on a clash."""
    clashes = []
    for table, model in (("confederations", Confederation), ("municipalities", Municipality)):
        ids = list(scenario.table(table)["id"])
        for chunk in range(0, len(ids), 500):
            taken = session.scalars(
                select(model.id).where(
                    model.id.in_(ids[chunk : chunk + 500]), model.scenario_id != sid
                )
            ).all()
            clashes += [f"{table}: id {i!r} belongs to another scenario" for i in taken]
    if clashes:
        raise Conflict("ids already used by another scenario", problems=clashes)


def export(session: Session, scenario_id: str, form: str) -> bytes:
    """The stored scenario as json, xlsx or zip bytes."""
    return models.dumps(build(session, scenario_id), form)


def update_meta(
    session: Session, principal: Principal, scenario_id: str, changes: dict
) -> ScenarioRow:
    """Change name, period, description or policy (validated like scenario.yaml)."""
    authz.require_root_coordinator(session, principal, scenario_id)
    lock(session, scenario_id)
    row = get(session, scenario_id)
    before = meta_of(row)
    after = {**before, **changes}
    try:
        meta = models.ScenarioMeta.model_validate(after)
    except ValidationError as exc:
        problems = [f"scenario:0: {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
        raise Invalid("invalid scenario metadata", problems=problems) from None
    clean = meta.to_dict()
    row.name, row.period = clean["name"], clean.get("period", "")
    row.description, row.policy = clean.get("description", ""), clean["policy"]
    session.flush()
    validate(session, scenario_id)
    audit.record(
        session, principal, "update", "scenarios", scenario_id, scenario_id, before, meta_of(row)
    )
    session.commit()
    return row


def remove(session: Session, principal: Principal, scenario_id: str) -> None:
    """Delete a scenario and its rows (admins only; plans and the audit log stay)."""
    if not principal.is_admin:
        raise authz.Forbidden("only an admin may delete a scenario")
    row = get(session, scenario_id)
    for model in TABLE_CLASSES.values():
        session.execute(delete(model).where(model.scenario_id == scenario_id))
    session.delete(row)
    audit.record(session, principal, "delete", "scenarios", scenario_id, scenario_id, meta_of(row))
    session.commit()


def counts(session: Session, scenario_id: str) -> dict[str, int]:
    """Rows per table."""
    return {
        t: session.scalar(select(func.count()).select_from(m).where(m.scenario_id == scenario_id))
        or 0
        for t, m in TABLE_CLASSES.items()
    }
