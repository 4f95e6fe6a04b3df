"""Reading an uploaded scenario or table: raw JSON, xlsx, zip, CSV, or a multipart ``file``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from fastapi import Request
from starlette.concurrency import run_in_threadpool

from api.config import Settings
from api.errors import ApiError, Invalid

T = TypeVar("T")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FORMS = {
    "application/json": "json",
    XLSX: "xlsx",
    "application/zip": "zip",
    "application/x-zip-compressed": "zip",
    "text/csv": "csv",
}
UPLOAD_DOC = {
    "requestBody": {
        "content": {
            "application/json": {"schema": {"type": "object"}},
            XLSX: {"schema": {"type": "string", "format": "binary"}},
            "application/zip": {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                }
            },
        },
        "required": True,
    }
}


class Unsupported(ApiError):
    """415: a body of a type we do not read."""

    status = 415


async def read_upload(
    request: Request, default_form: str | None = None
) -> tuple[bytes, str, str | None]:
    """(bytes, form, filename) of the body; form is json, xlsx, zip or csv."""
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype == "multipart/form-data":
        form = await request.form()
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise Invalid("send the file in a multipart field named 'file'")
        name = upload.filename or "upload"
        suffix = name.rpartition(".")[2].lower()
        if suffix not in ("json", "xlsx", "zip", "csv"):
            raise Unsupported(f"{name}: give a .json, .xlsx, .zip or .csv file")
        return await upload.read(), suffix, name
    form_name = FORMS.get(ctype) or request.query_params.get("format")
    if not ctype and form_name is None:
        form_name = default_form
    if form_name is None:
        raise Unsupported(
            f"unsupported content type {ctype!r}: send "
            + ", ".join(sorted(FORMS))
            + " or multipart/form-data"
        )
    return await request.body(), form_name, None


async def off_the_loop(settings: Settings, read: Callable[..., T], *args) -> T:
    """``read(*args)`` in a worker thread, answered within ``settings.upload_seconds``.

    The event loop keeps serving other requests meanwhile. Past the time
    limit the request is answered 422 at once; the thread, whose work the
    readers' row and size limits bound, finishes on its own.
    """
    try:
        return await asyncio.wait_for(run_in_threadpool(read, *args), settings.upload_seconds)
    except TimeoutError:
        raise Invalid(
            f"the upload was not read within {settings.upload_seconds:g} s: nothing was changed;"
            " send a smaller file"
        ) from None
