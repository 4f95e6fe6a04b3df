"""The page handlers: sign in, municipality, plans, confederation, rule comparison.

Handlers read and write only through ``api.services`` (the same calls,
checks and audit as the JSON API); whether a button is shown is asked of
the services' own authorisation checks, and the services refuse anyway.
"""

from __future__ import annotations

import gzip
import secrets
from collections.abc import Callable
from functools import lru_cache
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, RedirectResponse, Response
from sqlalchemy import select
from starlette.concurrency import run_in_threadpool

import models
from api.deps import SessionDep, SettingsDep
from api.errors import Forbidden, Invalid, NotFound, PreconditionFailed, Unauthorized
from api.orm import Confederation, PlanRow
from api.security import Principal
from api.services import authz, compare, ratification, rows, scenarios, tokens
from api.services import plans as plan_service
from api.services.kinds import KINDS
from api.web import auth, tables, views, why
from api.web.auth import PREFIX, MaybePrincipal, PageRoute, WebPrincipal
from api.web.pages import redirect, render

router = APIRouter(prefix=PREFIX, route_class=PageRoute, include_in_schema=False)
assets = APIRouter(include_in_schema=False)

SOLVED = ("optimal", "shortfall")
MAX_UPLOAD = 5 * 2**20


def _allowed(check: Callable[[], Any]) -> bool:
    """Whether a service's authorisation check passes (to decide which actions to offer)."""
    try:
        check()
    except (Forbidden, Unauthorized):
        return False
    return True


def may_run(session, principal: Principal, conf: str) -> bool:
    """May this principal request a plan of ``conf``? (asks ``authz``, as ``plans.request`` does)."""

    def check() -> None:
        authz.require_writer(principal)
        authz.require_coordinator(session, principal, conf)

    return _allowed(check)


def may_compare(session, principal: Principal, conf: str | None = None) -> bool:
    """Whether this principal may ask for a rule comparison (``compare.request_rules``'s rule)."""
    if principal.role == "assembly":
        return False
    if principal.role == "coordinator" and conf:
        return _allowed(lambda: authz.require_coordinator(session, principal, conf))
    return True


def may_vote(principal: Principal, town: str | None) -> bool:
    """Whether this is the town's own assembly (``ratification.record``'s check)."""
    return bool(town) and _allowed(lambda: authz.require_assembly(principal, town, "tally"))


def _safe_next(url: str | None) -> str | None:
    if url and url.startswith(PREFIX + "/") and not url.startswith("//") and "\\" not in url:
        return url
    return None


def home_of(principal: Principal) -> str:
    """Where a role starts."""
    if principal.role == "assembly" and principal.municipality:
        return f"{PREFIX}/municipalities/{quote(principal.municipality)}"
    if principal.role == "coordinator" and principal.confederation:
        return f"{PREFIX}/confederations/{quote(principal.confederation)}"
    return f"{PREFIX}/overview"


# -- assets ---------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _plotly() -> tuple[bytes, bytes, str]:
    import plotly
    from plotly.offline import get_plotlyjs

    raw = get_plotlyjs().encode()
    return raw, gzip.compress(raw, 6), plotly.__version__


def plotly_url() -> str:
    """The versioned URL of plotly's JavaScript (cached for a year: a new version, a new URL)."""
    import plotly

    return f"{PREFIX}/assets/plotly-{plotly.__version__}.min.js"


@assets.get(PREFIX + "/assets/plotly-{version}.min.js")
def plotly_js(version: str, request: Request) -> Response:
    """plotly.js from the installed plotly package (no CDN), gzipped when the browser accepts it."""
    raw, packed, current = _plotly()
    if version != current:
        return RedirectResponse(plotly_url(), status_code=307)
    headers = {
        "Cache-Control": "public, max-age=31536000, immutable",
        "Vary": "Accept-Encoding",
        "X-Content-Type-Options": "nosniff",
    }
    if "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(packed, media_type="text/javascript; charset=utf-8", headers=headers)
    return Response(raw, media_type="text/javascript; charset=utf-8", headers=headers)


@assets.get("/", include_in_schema=False)
def root() -> RedirectResponse:
    """The pages start at /web/."""
    return RedirectResponse(PREFIX + "/", status_code=307)


# -- signing in -----------------------------------------------------------------------------


@router.get("/")
def home(request: Request, principal: MaybePrincipal) -> Response:
    """Each role's own start page (or the sign-in form)."""
    if principal is None:
        return redirect(auth.sign_in_url(), 303)
    return redirect(home_of(principal), 303)


@router.get("/signin")
def sign_in_form(
    request: Request, principal: MaybePrincipal, next: str = "", expired: int = 0
) -> Response:
    """The sign-in form: one token field."""
    return render(
        request,
        "signin.html",
        principal,
        next=_safe_next(next) or "",
        message="Your sign-in has ended (the token was revoked or its delegate recalled). "
        "Sign in again."
        if expired
        else "",
    )


@router.post("/signin")
def sign_in(
    request: Request,
    session: SessionDep,
    token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    """Check the token with the API's own service; keep it in an HttpOnly, SameSite=Strict cookie."""
    token = token.strip()
    try:
        principal = tokens.authenticate(session, token)
    except Unauthorized as exc:
        message = "Enter your token." if not token else f"That token does not work: {exc.detail}."
        return render(
            request,
            "signin.html",
            None,
            status_code=401,
            next=_safe_next(next) or "",
            error=message,
        )
    response = redirect(_safe_next(next) or home_of(principal), 303)
    auth.set_token_cookie(response, request, token)
    return response


@router.post("/signout")
def sign_out() -> Response:
    """Forget the cookie."""
    response = redirect(auth.sign_in_url() + "?signed_out=1", 303)
    auth.clear_token_cookie(response)
    return response


@router.get("/overview")
def overview(request: Request, session: SessionDep, principal: WebPrincipal) -> Response:
    """Every scenario: its confederations and municipalities, and its latest plans."""
    found, _ = scenarios.listing(session, 100, 0)
    out = []
    for sc in found:
        confs, _ = rows.listing(session, KINDS["confederations"], sc.id, 10_000, 0)
        towns, _ = rows.listing(session, KINDS["municipalities"], sc.id, 10_000, 0)
        plans, _ = plan_service.listing(session, 5, 0, confederation=sc.id, purpose="proposal")
        out.append(
            {"scenario": sc, "confederations": confs, "municipalities": towns, "plans": plans}
        )
    return render(request, "overview.html", principal, scenarios=out)


# -- the municipality -----------------------------------------------------------------------


def _plans_for(session, confs: list[str], limit: int = 10) -> list[PlanRow]:
    """The proposals of these confederations, newest first."""
    found: list[PlanRow] = []
    for conf in confs:
        got, _ = plan_service.listing(session, limit, 0, confederation=conf, purpose="proposal")
        found += got
    return sorted(found, key=lambda p: p.id, reverse=True)[:limit]


def _town_page(
    request: Request,
    session,
    principal: Principal,
    town: str,
    status_code: int = 200,
    problems: dict[str, Any] | None = None,
) -> Response:
    data = tables.town_data(session, principal, town)
    plans = _plans_for(session, data.confederations)
    saved = request.query_params.get("saved")
    problems = problems or {}
    groups, etags = {}, {}
    for t in tables.OWN:
        problem = problems.get(t) or {}
        blanks = tables.BLANK_ROWS if data.editable[t] else 0
        groups[t] = tables.edit_groups(data, t, problem.get("posted"), blanks)
        etags[t] = problem.get("etag") or data.etags[t]
    return render(
        request,
        "municipality.html",
        principal,
        status_code=status_code,
        d=data,
        town=data.town,
        plans=plans,
        latest=next((p for p in plans if p.status in SOLVED), None),
        saved=saved if saved in tables.OWN else None,
        saved_rows=request.query_params.get("rows"),
        problems=problems,
        groups=groups,
        etags=etags,
        own=tables.OWN,
        titles=tables.TITLES,
        blank_rows=tables.BLANK_ROWS,
        mandate_kinds=models.MANDATE_KINDS,
        pending=why.pending(session, town),  # reconciliations waiting for its assembly
    )


@router.get("/municipalities/{town}")
def municipality(
    town: str, request: Request, session: SessionDep, principal: WebPrincipal
) -> Response:
    """Needs by tier, endowments, capacities, mandates; edit, upload, download."""
    return _town_page(request, session, principal, town)


def _check_table(table: str) -> None:
    if table not in tables.OWN:
        raise NotFound(f"no table {table!r} here (tables: {', '.join(tables.OWN)})")


async def _save(
    request: Request,
    session,
    principal: Principal,
    settings,
    town: str,
    table: str,
    data: bytes,
    filename: str,
    if_match: str,
    label: str | None = None,
    rows_shown: list[int] | None = None,
    posted: list[dict] | None = None,
) -> Response:
    def run() -> Response:
        try:
            n = tables.save(
                session,
                principal,
                settings,
                town,
                table,
                data,
                filename,
                if_match or None,
                label,
                rows_shown,
            )
        except (Invalid, PreconditionFailed) as exc:
            session.rollback()
            problem = {
                "detail": exc.detail,
                "problems": exc.problems or [],
                "stale": isinstance(exc, PreconditionFailed),
                "posted": posted,
                "etag": if_match,
            }
            return _town_page(request, session, principal, town, exc.status, {table: problem})
        return redirect(
            f"{PREFIX}/municipalities/{quote(town)}?saved={table}&rows={n}#{table}", 303
        )

    return await run_in_threadpool(run)


@router.post("/municipalities/{town}/{table}")
async def edit_table(
    town: str,
    table: str,
    request: Request,
    session: SessionDep,
    principal: WebPrincipal,
    settings: SettingsDep,
) -> Response:
    """Save the edit table: the rows as shown (removed and empty rows left out)."""
    _check_table(table)
    form = await request.form()
    found, shown = tables.form_rows(table, town, form)
    posted = [{"n": n, **r} for n, r in zip(shown, found, strict=True)]
    data = tables.to_csv(table, found)
    return await _save(
        request,
        session,
        principal,
        settings,
        town,
        table,
        data,
        f"{table}.csv",
        str(form.get("etag", "")),
        label=f"the {table} table",
        rows_shown=shown,
        posted=posted,
    )


@router.post("/municipalities/{town}/{table}/upload")
async def upload_table(
    town: str,
    table: str,
    request: Request,
    session: SessionDep,
    principal: WebPrincipal,
    settings: SettingsDep,
    file: Annotated[UploadFile | None, File()] = None,
    etag: Annotated[str, Form()] = "",
) -> Response:
    """Replace the table with an uploaded .csv or .xlsx; every bad row is named."""
    _check_table(table)
    if file is None or not file.filename:
        raise Invalid("choose a .csv or .xlsx file to upload")
    data = await file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        raise Invalid(f"{file.filename}: the file is larger than {MAX_UPLOAD // 2**20} MiB")
    return await _save(
        request, session, principal, settings, town, table, data, file.filename, etag
    )


@router.get("/municipalities/{town}/data.xlsx")
def download_workbook(town: str, session: SessionDep, principal: WebPrincipal) -> Response:
    """The municipality's needs, endowments, capacities and mandates as one workbook."""
    data = tables.town_data(session, principal, town)
    return Response(
        tables.workbook(data),
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={
            "Content-Disposition": f'attachment; filename="{town}.xlsx"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/municipalities/{town}/{table}.csv")
def download_csv(town: str, table: str, session: SessionDep, principal: WebPrincipal) -> Response:
    """One of the municipality's tables as CSV."""
    _check_table(table)
    data = tables.town_data(session, principal, town)
    return Response(
        tables.to_csv(table, data.tables[table]),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{town}-{table}.csv"',
            "Cache-Control": "no-store",
        },
    )


# -- plans ----------------------------------------------------------------------------------


def _visible_confs(session, principal: Principal) -> list[str] | None:
    """The confederations whose plans a role is shown first (None: all)."""
    if principal.role == "assembly" and principal.municipality:
        town = rows.find(session, KINDS["municipalities"], None, principal.municipality)
        return authz.ancestors(session, town.confederation)
    return None


@router.get("/plans")
def plan_list(request: Request, session: SessionDep, principal: WebPrincipal) -> Response:
    """Proposals, newest first (an assembly's: those of its confederations)."""
    confs = _visible_confs(session, principal)
    if confs is None:
        found, _ = plan_service.listing(session, 50, 0, purpose="proposal")
    else:
        found = _plans_for(session, confs, 50)
    jobs = {p.id: plan_service.job_of(session, p.id) for p in found}
    return render(request, "plans.html", principal, plans=found, jobs=jobs)


def status_of(session, plan: PlanRow) -> dict[str, Any]:
    """What the pages poll: the plan's status and its job's progress."""
    job = plan_service.job_of(session, plan.id)
    return {
        "id": plan.id,
        "status": plan.status,
        "final": plan.status in plan_service.FINAL,
        "message": (plan.message or "")[:300],
        "job": None
        if job is None
        else {"id": job.id, "state": job.state, "progress": job.progress, "attempts": job.attempts},
    }


@router.get("/plans/{plan_id}/status")
def plan_status(plan_id: int, session: SessionDep, principal: WebPrincipal) -> JSONResponse:
    """Polled by the pages while a plan is queued or running."""
    return JSONResponse(
        status_of(session, plan_service.get(session, plan_id)),
        headers={"Cache-Control": "no-store"},
    )


@router.get("/plans/{plan_id}")
def plan_page(
    plan_id: int,
    request: Request,
    session: SessionDep,
    principal: WebPrincipal,
    town: str | None = None,
) -> Response:
    """One plan for one municipality, beside everyone; ratification and the vote."""
    plan = plan_service.get(session, plan_id)
    doc = plan.input or {}
    town_names = views.names(doc, "municipalities")
    if town not in town_names:
        town = principal.municipality if principal.municipality in town_names else None
    if town is None and town_names:
        town = next(iter(town_names))
    result = plan.result if plan.status in SOLVED else None
    ctx: dict[str, Any] = {
        "plan": plan,
        "summary": plan_service.summary(plan),
        "status": status_of(session, plan),
        "town": town,
        "town_names": town_names,
        "units": views.units(doc),
        "item_names": views.names(doc, "items"),
        "result": result,
        "tier_names": views.TIER_NAMES,
    }
    if result:
        sat = views.satisfaction(result, town)
        ctx.update(
            satisfaction=sat,
            satisfaction_figure=views.satisfaction_figure(sat, town_names.get(town)),
            mine=views.town_plan(result, doc, town) if town else None,
            all_limits=views.limits_of(result, doc, town),
        )
    if plan.purpose == "proposal":
        tally = ratification.result(session, plan)
        mine = next((t for t in tally["tallies"] if t["municipality"] == town), None)
        ctx.update(
            ratification=tally,
            my_tally=mine,
            can_vote=tally["state"] == "open" and may_vote(principal, town),
            voted=request.query_params.get("voted") == "1",
        )
    ctx.update(why.plan_context(session, principal, plan, town))  # explanations, conflicts
    return render(request, "plan.html", principal, charts=bool(result), **ctx)


def _count(value: str, name: str) -> int:
    try:
        n = int(value.strip() or "0")
    except ValueError:
        raise Invalid(
            f"{name}: give a whole number of voters",
            problems=[f"tally:0: {name}: not a whole number: {value!r}"],
        ) from None
    if n < 0:
        raise Invalid(
            f"{name}: cannot be negative", problems=[f"tally:0: {name}: must not be negative"]
        )
    return n


@router.post("/plans/{plan_id}/tally")
def record_tally(
    plan_id: int,
    session: SessionDep,
    principal: WebPrincipal,
    town: Annotated[str, Form()],
    yes: Annotated[str, Form()] = "0",
    no: Annotated[str, Form()] = "0",
    abstain: Annotated[str, Form()] = "0",
) -> Response:
    """The assembly records its citizens' votes (the service checks it is theirs and counts)."""
    ratification.record(
        session,
        principal,
        plan_id,
        town,
        _count(yes, "yes"),
        _count(no, "no"),
        _count(abstain, "abstain"),
    )
    return redirect(f"{PREFIX}/plans/{plan_id}?town={quote(town)}&voted=1#ratification", 303)


# -- the confederation ----------------------------------------------------------------------


@router.get("/confederations/{conf_id}")
def confederation(
    conf_id: str,
    request: Request,
    session: SessionDep,
    principal: WebPrincipal,
    plan: int | None = None,
) -> Response:
    """Satisfaction per municipality, flows, limits, jobs, and (coordinators) run a plan."""
    conf = rows.find(session, KINDS["confederations"], None, conf_id)
    children = list(
        session.scalars(
            select(Confederation).where(Confederation.parent == conf.id).order_by(Confederation.id)
        )
    )
    towns, _ = rows.listing(
        session, KINDS["municipalities"], conf.scenario_id, 10_000, 0, confederation=conf.id
    )
    recent, _ = plan_service.listing(session, 10, 0, confederation=conf.id, purpose="proposal")
    jobs = {p.id: plan_service.job_of(session, p.id) for p in recent}
    shown = None
    if plan is not None:
        shown = plan_service.get(session, plan)
        if shown.confederation != conf.id:
            raise NotFound(f"plan {plan} is not a plan of {conf.id!r}")
    else:
        shown = next((p for p in recent if p.status in SOLVED), None)
    ctx: dict[str, Any] = {
        "conf": conf,
        "ancestors": authz.ancestors(session, conf.id)[1:],
        "children": children,
        "towns": towns,
        "recent": recent,
        "jobs": jobs,
        "statuses": {p.id: status_of(session, p) for p in recent},
        "shown": shown,
        "can_run": may_run(session, principal, conf.id),
        "can_compare": may_compare(session, principal, conf.id),
        "rules": models.RULES,
        "default_rule": (scenarios.get(session, conf.scenario_id).policy or {}).get(
            "rule", "leximin"
        ),
        "idempotency_key": secrets.token_urlsafe(16),
        "requested": request.query_params.get("requested"),
    }
    charts = False
    if shown is not None and shown.status in SOLVED and shown.result:
        doc, result = shown.input, shown.result
        rows_ = views.per_municipality(result, doc)
        tiers = views.tiers_of(result)
        sankey, flow_items = views.sankey(result, doc)
        ctx.update(
            result=result,
            units=views.units(doc),
            item_names=views.names(doc, "items"),
            town_names=views.names(doc, "municipalities"),
            per_town=rows_,
            tiers=tiers,
            tier_names=views.TIER_NAMES,
            towns_figure=views.municipalities_figure(rows_, tiers),
            sankey_figure=sankey,
            flow_items=flow_items,
            all_flows=views.flows(result),
            limits=views.limits_of(result, doc, None),
            ratification=ratification.result(session, shown),
        )
        charts = True
    return render(request, "confederation.html", principal, charts=charts, **ctx)


@router.post("/confederations/{conf_id}/plans")
def run_plan(
    conf_id: str,
    session: SessionDep,
    principal: WebPrincipal,
    settings: SettingsDep,
    rule: Annotated[str, Form()] = "",
    time_limit: Annotated[str, Form()] = "",
    idempotency_key: Annotated[str, Form()] = "",
) -> Response:
    """Queue a plan (the service checks the coordinator covers this confederation)."""
    limit = None
    if time_limit.strip():
        try:
            limit = float(time_limit)
        except ValueError:
            raise Invalid(
                "time limit: give a number of seconds",
                problems=[f"form:0: time_limit: not a number: {time_limit!r}"],
            ) from None
    plan, _ = plan_service.request(
        session,
        principal,
        settings,
        conf_id,
        rule or None,
        "highs",
        limit,
        idempotency_key[:200] or None,
    )
    return redirect(f"{PREFIX}/confederations/{quote(conf_id)}?requested={plan.id}#jobs", 303)


@router.post("/jobs/{job_id}/cancel")
def cancel_job(job_id: int, session: SessionDep, principal: WebPrincipal) -> Response:
    """Cancel a queued or running plan."""
    job = plan_service.cancel(session, principal, job_id)
    plan = plan_service.get(session, job.plan_id)
    return redirect(f"{PREFIX}/confederations/{quote(plan.confederation)}#jobs", 303)


# -- rule comparison ------------------------------------------------------------------------


def _comparisons(session, limit: int = 10) -> list[dict]:
    found, _ = plan_service.listing(session, 200, 0, purpose="analysis")
    seen: dict[int, dict] = {}
    for p in found:
        if p.comparison_id is None:
            continue
        entry = seen.setdefault(
            p.comparison_id,
            {
                "id": p.comparison_id,
                "confederation": p.confederation,
                "rules": [],
                "at": p.created_at,
            },
        )
        entry["rules"].append(p.rule)
    return sorted(seen.values(), key=lambda c: c["id"], reverse=True)[:limit]


@router.get("/compare")
def compare_form(request: Request, session: SessionDep, principal: WebPrincipal) -> Response:
    """Choose a confederation and rules; recent comparisons."""
    confs = list(
        session.scalars(select(Confederation).order_by(Confederation.scenario_id, Confederation.id))
    )
    if principal.role == "coordinator":
        confs = [c for c in confs if authz.covers(session, principal.confederation or "", c.id)]
    return render(
        request,
        "compare.html",
        principal,
        confederations=confs,
        rules=models.RULES,
        can_compare=may_compare(session, principal),
        comparisons=_comparisons(session),
    )


@router.post("/compare")
async def request_comparison(
    request: Request, session: SessionDep, principal: WebPrincipal, settings: SettingsDep
) -> Response:
    """Queue one analysis plan per chosen rule (the service checks the role)."""
    form = await request.form()
    conf = str(form.get("confederation", ""))
    chosen = [str(r) for r in form.getlist("rules")]

    def run() -> Response:
        comp = compare.request_rules(session, principal, settings, conf, chosen or None)
        return redirect(f"{PREFIX}/comparisons/{comp.id}", 303)

    return await run_in_threadpool(run)


@router.get("/comparisons/{comp_id}/status")
def comparison_status(comp_id: int, session: SessionDep, principal: WebPrincipal) -> JSONResponse:
    """Polled while the rules are being solved."""
    view = compare.rules(session, compare.get(session, comp_id))
    return JSONResponse(
        {
            "id": comp_id,
            "final": view["state"] == "done",
            "status": view["state"],
            "rules": [{"rule": r["rule"], "status": r["status"]} for r in view["rules"]],
        },
        headers={"Cache-Control": "no-store"},
    )


@router.get("/comparisons/{comp_id}")
def comparison(
    comp_id: int, request: Request, session: SessionDep, principal: WebPrincipal
) -> Response:
    """The rules side by side: lowest ratio per tier, metrics, worst-off per municipality."""
    comp = compare.get(session, comp_id)
    view = compare.rules(session, comp)
    solved = [r for r in view["rules"] if r["status"] in SOLVED]
    first = next((plan_service.get(session, r["plan_id"]) for r in view["rules"]), None)
    doc = first.input if first is not None else {}
    tiers = sorted(
        {int(t) for r in solved for t in ((r.get("metrics") or {}).get("min_ratio") or {})}
    )
    return render(
        request,
        "comparison.html",
        principal,
        charts=bool(solved),
        comp=comp,
        view=view,
        solved=solved,
        tiers=tiers,
        tier_names=views.TIER_NAMES,
        metrics=views.METRICS,
        figure=views.comparison_figure(view) if solved else None,
        towns_figure=views.comparison_towns_figure(
            view, views.names(doc, "municipalities"), tiers[-1]
        )
        if solved and tiers
        else None,
        town_names=views.names(doc, "municipalities"),
    )
