"""A router factory for row resources: list, create, read, update, delete (and bulk replace).

Used for items, links, limits (per scenario) and needs, endowments,
capacities, mandates (per municipality). Versioned rows send ``ETag`` and
need ``If-Match`` to change; their list sends the list's ETag, which a bulk
``PUT`` of the whole list needs as ``If-Match``.

(No ``from __future__ import annotations`` here: the route signatures
name the factory's schema arguments, which FastAPI must see as classes.)
"""

import json
import re
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request, Response, status
from pydantic import TypeAdapter, ValidationError
from starlette.concurrency import run_in_threadpool

from api.deps import PageDep, PrincipalDep, SessionDep, SettingsDep, page
from api.errors import Invalid
from api.routes._upload import read_upload
from api.schemas.common import ErrorOut, Page
from api.services import rows, uploads
from api.services.kinds import KINDS

IfMatch = Annotated[str | None, Header(description="the ETag from GET (or *)")]


def _etag_headers(kind, obj) -> dict[str, str]:
    return {"ETag": rows.etag(kind, obj)} if kind.versioned else {}


def _json_problems(exc: ValidationError, label: str) -> list[str]:
    """Pydantic errors of a JSON array of rows as ``label:n: column: message`` (rows from 1)."""
    out = []
    for e in exc.errors():
        loc = list(e.get("loc", ()))
        row = loc.pop(0) + 1 if loc and isinstance(loc[0], int) else 0
        out.append(f"{label}:{row}: {'.'.join(map(str, loc)) or '-'}: {e.get('msg', 'invalid')}")
    return out


def row_router(
    table: str,
    prefix: str,
    create_schema,
    update_schema,
    public_schema,
    tag: str,
    id_type=int,
    bulk: bool = False,
) -> APIRouter:
    """The router of one row resource under ``prefix`` (which holds ``{scope}``)."""
    kind = KINDS[table]
    name = re.search(r"\{(\w+)\}", prefix).group(1)
    Scope = Annotated[str, Path(alias=name, description=f"the {name} id")]  # noqa: N806
    Ident = Annotated[id_type, Path(alias="id", description="the row's id")]  # noqa: N806
    router = APIRouter(prefix=prefix, tags=[tag], responses={422: {"model": ErrorOut}})
    adapter = TypeAdapter(list[create_schema])
    label = table.replace("_", " ")

    one = TypeAdapter(create_schema)

    def _good_rows(exc: ValidationError, data: bytes, label: str, scope: str) -> uploads.Sent:
        """The rows that are well formed (to check against the scenario), and the others' problems.

        So that a bad cell and an unknown item are reported together. An error not
        about one row (the body is not a list of objects) is reported alone.
        """
        problems = _json_problems(exc, label)
        rows_of = [e.get("loc", ("",))[0] for e in exc.errors()]
        if not all(isinstance(r, int) for r in rows_of):
            raise Invalid("invalid rows: nothing was changed", problems=problems) from None
        bad = set(rows_of)
        raw = json.loads(data)
        good = [i for i in range(len(raw)) if i not in bad]
        return uploads.Sent(
            [data_of(scope, one.validate_python(raw[i])) for i in good],
            [f"{label}:{i + 1}" for i in good],
            problems,
        )

    def data_of(scope: Scope, body) -> dict:
        data = body.model_dump(by_alias=True)
        if kind.scope == "municipality":
            data["municipality"] = scope
        return data

    @router.get("", response_model=Page[public_schema], summary=f"List {label}")
    def list_rows(
        scope: Scope, session: SessionDep, _p: PrincipalDep, paging: PageDep, response: Response
    ) -> dict:
        found, total = rows.listing(session, kind, scope, paging.limit, paging.offset)
        if bulk:
            response.headers["ETag"] = rows.collection_etag(session, kind, scope)
        return page([rows.public(kind, o) for o in found], total, paging)

    @router.post(
        "",
        status_code=status.HTTP_201_CREATED,
        response_model=public_schema,
        summary=f"Add one of {label}",
    )
    def create_row(
        scope: Scope,
        body: create_schema,
        session: SessionDep,
        principal: PrincipalDep,
        response: Response,
    ) -> dict:
        sid = rows.scenario_for(session, kind, scope)
        obj = rows.create(session, principal, kind, sid, data_of(scope, body))
        response.headers.update(_etag_headers(kind, obj))
        return rows.public(kind, obj)

    @router.get("/{id}", response_model=public_schema, summary=f"Read one of {label}")
    def get_row(
        scope: Scope, ident: Ident, session: SessionDep, _p: PrincipalDep, response: Response
    ) -> dict:
        rows.scenario_for(session, kind, scope)
        obj = rows.find(session, kind, scope, ident)
        response.headers.update(_etag_headers(kind, obj))
        return rows.public(kind, obj)

    @router.patch("/{id}", response_model=public_schema, summary=f"Change one of {label}")
    def update_row(
        scope: Scope,
        ident: Ident,
        body: update_schema,
        session: SessionDep,
        principal: PrincipalDep,
        response: Response,
        if_match: IfMatch = None,
    ) -> dict:
        rows.scenario_for(session, kind, scope)
        obj = rows.find(session, kind, scope, ident)
        changes = body.model_dump(exclude_unset=True, by_alias=True)
        obj = rows.update(session, principal, kind, obj, changes, if_match)
        response.headers.update(_etag_headers(kind, obj))
        return rows.public(kind, obj)

    @router.delete(
        "/{id}", status_code=status.HTTP_204_NO_CONTENT, summary=f"Delete one of {label}"
    )
    def delete_row(
        scope: Scope,
        ident: Ident,
        session: SessionDep,
        principal: PrincipalDep,
        if_match: IfMatch = None,
    ) -> Response:
        rows.scenario_for(session, kind, scope)
        obj = rows.find(session, kind, scope, ident)
        rows.remove(session, principal, kind, obj, if_match)
        return Response(status_code=204)

    if not bulk:
        return router

    def parse(data: bytes, form: str, filename: str | None, scope: Scope) -> uploads.Sent:
        """The rows sent, each with where it came from (``needs.csv:18``, ``needs.json:3``)."""
        label = filename or f"{table}.{form}"
        if form == "json":
            try:
                items = adapter.validate_json(data)
            except ValidationError as exc:
                return _good_rows(exc, data, label, scope)
            return uploads.Sent(
                [data_of(scope, r) for r in items],
                [f"{label}:{i}" for i in range(1, len(items) + 1)],
            )
        return uploads.read_file(table, scope, data, label, partly=True)

    @router.put(
        "",
        response_model=list[public_schema],
        summary=f"Replace all {label}",
        openapi_extra={
            "requestBody": {
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "array",
                            "items": {"$ref": f"#/components/schemas/{create_schema.__name__}"},
                        }
                    },
                    "text/csv": {"schema": {"type": "string"}},
                    "multipart/form-data": {
                        "schema": {
                            "type": "object",
                            "properties": {"file": {"type": "string", "format": "binary"}},
                        }
                    },
                },
                "required": True,
            }
        },
    )
    async def replace_rows(
        scope: Scope,
        request: Request,
        session: SessionDep,
        principal: PrincipalDep,
        settings: SettingsDep,
        response: Response,
        if_match: IfMatch = None,
    ) -> list[dict[str, Any]]:
        """The whole list at once: a JSON array, a CSV (``text/csv``) or an uploaded .csv/.xlsx file.

        Rows are matched by key, so unchanged rows keep their ETag. Needs ``If-Match``
        with the list's ETag (from GET) or ``*``; 412 with the current rows when stale.
        Problems name the sent rows: ``needs.csv:18: quantity: ...`` (the file's own
        row, header = row 1) or ``needs.json:3: item: ...`` (a JSON array's n-th row).
        """
        data, form, filename = await read_upload(request, "json")
        new = parse(data, form, filename, scope)

        def run() -> list[dict]:
            out = rows.replace(
                session,
                principal,
                kind,
                scope,
                new.rows,
                if_match,
                settings.max_rows,
                origins=new.origins,
                pending=new.problems,
            )
            response.headers["ETag"] = rows.collection_etag(session, kind, scope)
            return [rows.public(kind, o) for o in out]

        return await run_in_threadpool(run)

    return router
