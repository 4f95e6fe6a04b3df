"""Generic create/read/update/delete/replace for every row resource of ``kinds.KINDS``.

Each write: authorise (object level, before and after the change) -> lock
the scenario -> apply -> validate the whole scenario with ``models`` ->
audit -> commit. Rows of versioned kinds (needs, endowments) carry an ETag;
changing or deleting one needs ``If-Match`` (428 without, 412 when stale,
with the current row in the body so nothing is lost).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

import models
from api.errors import Conflict, Invalid, NotFound, PreconditionFailed, PreconditionRequired
from api.orm import Municipality, attr
from api.security import Principal
from api.services import audit, scenarios
from api.services.kinds import Kind

Hook = Callable[[Session, Any], None]


def spec(kind: Kind, obj: Any) -> dict:
    """The row as a SPEC row dict."""
    return {c: getattr(obj, attr(c)) for c in kind.columns}


def public(kind: Kind, obj: Any) -> dict:
    """The row as the API shows it: ``id`` (row id for unnamed rows) and SPEC columns."""
    out = spec(kind, obj)
    if kind.lookup == "pk":
        out = {"id": obj.pk, **out}
    if kind.versioned:
        out["version"] = obj.version
    return out


def etag(kind: Kind, obj: Any) -> str:
    """The row's strong ETag."""
    return f'"{kind.table}-{obj.pk}-{getattr(obj, "version", 0)}"'


def _scope_clause(kind: Kind, scope: str | None):
    m = kind.model
    if kind.scope == "municipality":
        return m.municipality == scope
    return m.scenario_id == scope if scope else True


def scenario_for(session: Session, kind: Kind, scope: str) -> str:
    """The scenario a scope belongs to (404 for an unknown municipality or scenario)."""
    if kind.scope == "municipality":
        sid = session.scalar(select(Municipality.scenario_id).where(Municipality.id == scope))
        if sid is None:
            raise NotFound(f"no municipality {scope!r}")
        return sid
    return scenarios.get(session, scope).id


def listing(
    session: Session, kind: Kind, scope: str | None, limit: int, offset: int, **filters: Any
) -> tuple[list[Any], int]:
    """A page of rows in a scope (in row order) and the total; ``filters`` are equalities."""
    if scope is not None:
        scenario_for(session, kind, scope)
    m = kind.model
    q = select(m).where(_scope_clause(kind, scope))
    for name, value in filters.items():
        if value is not None:
            q = q.where(getattr(m, attr(name)) == value)
    total = session.scalar(select(func.count()).select_from(q.subquery())) or 0
    rows = session.scalars(q.order_by(m.pk).limit(limit).offset(offset)).all()
    return list(rows), total


def find(session: Session, kind: Kind, scope: str | None, ident: Any) -> Any:
    """One row by its path id, or 404."""
    m = kind.model
    q = select(m).where(getattr(m, kind.lookup) == ident)
    if scope is not None and kind.scope != "tree":
        q = q.where(_scope_clause(kind, scope))
    obj = session.scalar(q)
    if obj is None:
        where = f" of {scope!r}" if scope and kind.scope != "tree" else ""
        raise NotFound(f"no {kind.table} row {ident!r}{where}")
    return obj


def _existing(session: Session, kind: Kind, sid: str, row: dict) -> Any:
    m = kind.model
    q = select(m)
    if kind.scope != "tree":
        q = q.where(m.scenario_id == sid)
    for k in kind.key:
        q = q.where(getattr(m, attr(k)) == row[k])
    return session.scalar(q)


def _flush(session: Session, kind: Kind, row: dict) -> None:
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"{kind.table} {kind.key_of(row)} exists already") from None
    except StaleDataError:
        session.rollback()
        raise PreconditionFailed(f"{kind.table} {kind.key_of(row)} changed meanwhile") from None


def _required(kind: Kind, row: dict) -> None:
    """422 when a required column is missing (None)."""
    schema = models.TABLES[kind.table]
    missing = [c for c in kind.columns if schema[c].required and row.get(c) is None]
    if missing:
        raise Invalid(
            f"{kind.table}: required column(s) missing",
            problems=[f"{kind.table}:0: {c}: required, may not be empty" for c in missing],
        )


def check_if_match(kind: Kind, obj: Any, if_match: str | None) -> None:
    """Versioned rows: 428 without If-Match, 412 (current row in the body) when stale."""
    if not kind.versioned:
        return
    if if_match is None:
        raise PreconditionRequired(
            f"send If-Match with the ETag of {kind.table} row {obj.pk} (from GET), or *"
        )
    if not matches(if_match, etag(kind, obj)):
        raise PreconditionFailed(
            f"{kind.table} row {obj.pk} has changed since you read it; nothing was changed",
            extra={"current": public(kind, obj)},
            headers={"ETag": etag(kind, obj)},
        )


def matches(if_match: str, current: str) -> bool:
    """RFC 9110 If-Match: ``*`` or one of a list of (strong) tags."""
    tags = [t.strip().removeprefix("W/") for t in if_match.split(",")]
    return "*" in tags or current in tags


def _exclusive(kind: Kind, before: dict, changes: dict) -> dict:
    """Setting one of a pair (quantity / per_capita) clears the other unless both are given."""
    out = dict(changes)
    for f in kind.exclusive:
        if out.get(f) is not None:
            for other in kind.exclusive:
                if other != f and other not in changes:
                    out[other] = None
    return out


def create(
    session: Session,
    principal: Principal,
    kind: Kind,
    sid: str,
    data: dict,
    then: Hook | None = None,
) -> Any:
    """Add one row to scenario ``sid``; 409 if its key exists, 422 if the scenario would be invalid."""
    _required(kind, data)
    kind.check(session, principal, sid, None, data)
    scenarios.lock(session, sid)
    old = _existing(session, kind, sid, data)
    if old is not None:
        raise Conflict(
            f"{kind.table} {kind.key_of(data)} exists already",
            extra={"existing": public(kind, old)},
        )
    obj = kind.model(scenario_id=sid, **{attr(c): v for c, v in data.items()})
    session.add(obj)
    _flush(session, kind, data)
    if then:
        then(session, obj)
    scenarios.validate(session, sid)
    audit.record(
        session, principal, "create", kind.table, kind.key_of(data), sid, None, public(kind, obj)
    )
    session.commit()
    return obj


def update(
    session: Session,
    principal: Principal,
    kind: Kind,
    obj: Any,
    changes: dict,
    if_match: str | None = None,
    then: Hook | None = None,
) -> Any:
    """Change some columns of a row (If-Match for versioned kinds)."""
    sid = obj.scenario_id
    before = spec(kind, obj)
    after = {**before, **_exclusive(kind, before, changes)}
    _required(kind, after)
    kind.check(session, principal, sid, before, after)
    scenarios.lock(session, sid)
    session.refresh(obj)
    check_if_match(kind, obj, if_match)
    before_public = public(kind, obj)
    after = {**spec(kind, obj), **_exclusive(kind, before, changes)}
    for c, v in after.items():
        setattr(obj, attr(c), v)
    _flush(session, kind, after)
    if then:
        then(session, obj)
    scenarios.validate(session, sid)
    audit.record(
        session,
        principal,
        "update",
        kind.table,
        kind.key_of(after),
        sid,
        before_public,
        public(kind, obj),
    )
    session.commit()
    return obj


def remove(
    session: Session,
    principal: Principal,
    kind: Kind,
    obj: Any,
    if_match: str | None = None,
    then: Hook | None = None,
) -> None:
    """Delete a row; 422 if something still refers to it."""
    sid = obj.scenario_id
    before = spec(kind, obj)
    kind.check(session, principal, sid, before, None)
    scenarios.lock(session, sid)
    session.refresh(obj)
    check_if_match(kind, obj, if_match)
    shown = public(kind, obj)
    if then:
        then(session, obj)
    session.delete(obj)
    _flush(session, kind, before)
    scenarios.validate(session, sid)
    audit.record(session, principal, "delete", kind.table, kind.key_of(before), sid, shown, None)
    session.commit()


def collection_etag(session: Session, kind: Kind, scope: str) -> str:
    """The ETag of all of a scope's rows of one kind.

    A digest of every row's id and columns (and, for versioned kinds, its
    version), so it changes with any edit of the list, and for needs and
    endowments whenever one of its rows' own ETags does.
    """
    m = kind.model
    cols = [m.pk] + [getattr(m, attr(c)) for c in kind.columns]
    if kind.versioned:
        cols.append(m.version)
    rows = session.execute(select(*cols).where(_scope_clause(kind, scope)).order_by(m.pk)).all()
    digest = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()[:16]
    return f'"{kind.table}-{scope}-{digest}"'


def in_file_order(problems: list[str]) -> list[str]:
    """``file:row: ...`` lines by file, then row number (so 9 comes before 10)."""

    def key(line: str) -> tuple[str, int]:
        where = line.partition(": ")[0]  # needs.csv:18, or the edit table's "row 18"
        head = where.rstrip("0123456789")
        return head, int(where[len(head) :] or 0)

    return sorted(problems, key=key)


def _validate_with(
    session: Session, sid: str, labels: dict, pending: list[str], table: str
) -> None:
    """Validate the scenario; every problem at once, those already found in the file included."""
    try:
        scenarios.validate(session, sid, labels)
    except Invalid as exc:
        if not pending:
            raise
        raise Invalid(exc.detail, problems=in_file_order(pending + (exc.problems or []))) from None
    if pending:
        raise Invalid(f"the {table} are not valid; nothing was changed", problems=pending)


def replace(
    session: Session,
    principal: Principal,
    kind: Kind,
    scope: str,
    rows: list[dict],
    if_match: str | None,
    max_rows: int,
    origins: list[str] | None = None,
    pending: list[str] | None = None,
) -> list[Any]:
    """Make a municipality's rows of one kind exactly ``rows`` (matched by key, so unchanged rows keep their ETag).

    Works for every table kept per municipality (needs, endowments,
    capacities, mandates). ``If-Match`` must carry the list's ETag (or
    ``*``): 428 without, 412 when stale, with the current rows in the body
    so nothing is lost. ``origins`` names where each row was sent from
    (``needs.csv:18``): problems about a sent row name it so, not by row id.
    ``pending``: problems already found in what was sent (its bad rows left
    out of ``rows``); the rest are checked against the whole scenario all
    the same, and every problem is reported at once, nothing changed.
    """
    scenarios.check_rows({kind.table: len(rows)}, max_rows)
    sid = scenario_for(session, kind, scope)
    rows = [{**r, "municipality": scope} for r in rows]
    if origins is None or len(origins) != len(rows):
        origins = [f"{kind.table}:{i}" for i in range(1, len(rows) + 1)]
    for r in rows or [{"municipality": scope}]:
        kind.check(session, principal, sid, None, r)
    seen: dict[str, int] = {}
    dupes = []
    for i, r in enumerate(rows):
        k = kind.key_of(r)
        if k in seen:
            dupes.append(f"{origins[i]}: -: duplicate of {origins[seen[k]]} ({k})")
        seen.setdefault(k, i)
    if dupes:
        raise Invalid("duplicate keys: nothing was changed", problems=dupes)
    scenarios.lock(session, sid)
    if if_match is None:
        raise PreconditionRequired(f"send If-Match with the ETag of the {kind.table} list, or *")
    current = collection_etag(session, kind, scope)
    if not matches(if_match, current):
        found = session.scalars(
            select(kind.model).where(_scope_clause(kind, scope)).order_by(kind.model.pk)
        )
        raise PreconditionFailed(
            f"{scope}'s {kind.table} changed since you read them; nothing was changed",
            extra={"current": [public(kind, o) for o in found]},
            headers={"ETag": current},
        )
    old = {
        kind.key_of(spec(kind, o)): o
        for o in session.scalars(select(kind.model).where(_scope_clause(kind, scope)))
    }
    before = [public(kind, o) for o in old.values()]
    out = []
    for r in rows:
        obj = old.pop(kind.key_of(r), None)
        if obj is None:
            obj = kind.model(scenario_id=sid)
            session.add(obj)
        for c in kind.columns:
            if getattr(obj, attr(c), None) != r.get(c) or obj.pk is None:
                setattr(obj, attr(c), r.get(c))
        out.append(obj)
    for obj in old.values():
        session.delete(obj)
    _flush(session, kind, {k: scope for k in kind.key})
    labels = {(kind.table, obj.pk): where for obj, where in zip(out, origins, strict=True)}
    _validate_with(session, sid, labels, pending or [], kind.table)
    audit.record(
        session,
        principal,
        "replace",
        kind.table,
        scope,
        sid,
        before,
        [public(kind, o) for o in out],
    )
    session.commit()
    return out
