"""End to end over real HTTP: ``planner serve`` and ``planner worker`` as real processes.

A whole cycle (assemblies enter needs, the coordinator plans, assemblies
ratify, the plan is adopted); a worker killed mid-solve whose job completes
after a restart; a running job cancelled and one stopped at its time limit.
Everything talks to localhost only.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

import models
import planner
from api.config import Settings
from api.db import make_engine, make_sessionmaker
from api.orm import Job
from api.security import Principal
from api.services import plans, scenarios

pytest_plugins = ["api_fixtures"]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]
CLI = [sys.executable, "-m", "api.cli"]
VALLEY = Path(__file__).resolve().parent.parent / "data" / "valley"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def env_for(db_url: str, **extra: str) -> dict[str, str]:
    env = {**os.environ, "COMMUNE_DATABASE_URL": db_url, "COMMUNE_CHECK_PLANS": "1"}
    env.update({f"COMMUNE_{k.upper()}": v for k, v in extra.items()})
    return env


def start(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    out = log.open("w")
    return subprocess.Popen(
        CLI + args, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
    )


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


def wait_for(predicate, timeout: float, what: str):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_whole_cycle_over_http(db_url, tmp_path):
    env = env_for(db_url)
    admin = subprocess.run(
        CLI + ["token", "create", "--role", "admin"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    port = free_port()
    server = start(["serve", "--port", str(port), "--workers", "1"], env, tmp_path / "serve.log")
    try:
        http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        wait_for(lambda: _up(http), 60, "the server")
        auth = {"Authorization": f"Bearer {admin}"}
        r = http.post(
            "/scenarios",
            content=models.dumps(models.load(VALLEY), "json"),
            headers={**auth, "content-type": "application/json"},
        )
        assert r.status_code == 201, r.text
        towns = [m["id"] for m in http.get("/municipalities", headers=auth).json()["data"]]
        assembly = {}
        for town in towns:
            secret = http.post(
                "/tokens", json={"role": "assembly", "municipality": town}, headers=auth
            ).json()["token"]
            assembly[town] = {"Authorization": f"Bearer {secret}"}
        # assemblies enter their needs: each raises its tier-2 needs by a tenth
        for town, h in assembly.items():
            listed = http.get(f"/municipalities/{town}/needs?limit=1000", headers=h)
            rows = [
                {k: x[k] for k in ("item", "tier", "quantity", "per_capita")}
                for x in listed.json()["data"]
            ]
            for x in rows:
                if x["tier"] == 2:
                    x["quantity"], x["per_capita"] = (
                        (x["quantity"] * 1.1, None)
                        if x["quantity"] is not None
                        else (None, x["per_capita"] * 1.1)
                    )
            r = http.put(
                f"/municipalities/{town}/needs",
                json=rows,
                headers={**h, "If-Match": listed.headers["etag"]},
            )
            assert r.status_code == 200, r.text

        # the first assembly names a delegate to its own council, which sends her on to the
        # council of the whole confederation; there she plans
        def token_of(delegate: dict) -> dict:
            url = f"/delegates/{delegate['id']}/tokens"
            secret = http.post(url, json={}, headers=assembly[towns[0]]).json()["token"]
            return {"Authorization": f"Bearer {secret}"}

        own = http.post(
            f"/municipalities/{towns[0]}/delegates",
            json={"name": "Dana"},
            headers=assembly[towns[0]],
        ).json()
        delegate = http.post(
            f"/municipalities/{towns[0]}/delegates",
            json={"name": "Dana", "confederation": "valley"},
            headers=token_of(own),
        ).json()
        coord = token_of(delegate)
        r = http.post(
            "/confederations/valley/plans",
            json={"rule": "leximin", "time_limit": 60},
            headers={**coord, "Idempotency-Key": "e2e"},
        )
        assert r.status_code == 202
        plan_id = r.json()["plan"]["id"]
        got = wait_for(lambda: _final(http, plan_id, coord), 120, "the plan")
        assert got["status"] in ("optimal", "shortfall") and got["job"]["state"] == "done"
        doc = http.get(f"/plans/{plan_id}/input", headers=coord).json()
        assert planner.check_plan(models.from_json(doc), got["plan"]) == []
        # assemblies ratify; all citizens' votes together adopt it
        for town, h in assembly.items():
            people = next(m["population"] for m in doc["municipalities"] if m["id"] == town)
            r = http.put(
                f"/plans/{plan_id}/tallies/{town}",
                json={"yes": int(people * 0.5), "no": int(people * 0.2), "abstain": 5},
                headers=h,
            )
            assert r.status_code == 200, r.text
        result = http.get(f"/plans/{plan_id}/ratification", headers=coord).json()
        assert result["state"] == "adopted" and result["towns"]["for"] == len(towns)
        # a worker that dies is replaced by the server's supervisor
        os.kill(int(got["job"]["worker"].rpartition(":")[2]), signal.SIGKILL)
        again = http.post(
            "/confederations/valley/plans", json={"rule": "utilitarian"}, headers=coord
        ).json()
        redone = wait_for(
            lambda: _final(http, again["plan"]["id"], coord), 120, "a plan after a worker died"
        )
        assert (
            redone["status"] in ("optimal", "shortfall")
            and redone["job"]["worker"] != got["job"]["worker"]
        )
        # the delegate is recalled: the token stops working at once
        http.post(f"/delegates/{delegate['id']}/recall", headers=assembly[towns[0]])
        assert http.get("/me", headers=coord).status_code == 401
    finally:
        stop(server)
    assert server.returncode is not None


def _up(http) -> bool:
    try:
        return http.get("/health").status_code == 200
    except httpx.HTTPError:
        return False


def _final(http, plan_id, h):
    got = http.get(f"/plans/{plan_id}", headers=h).json()
    return got if got["status"] not in ("queued", "running") else None


def _queue_plan(db_url: str, time_limit: float | None = None) -> tuple:
    settings = Settings(database_url=db_url)
    engine = make_engine(settings.sqlalchemy_url)
    sessions = make_sessionmaker(engine)
    with sessions() as s:
        if scenarios.listing(s, 1, 0)[1] == 0:
            scenarios.store(s, Principal.system("test"), models.load(VALLEY))
        plan, _ = plans.request(
            s, Principal.system("test"), settings, "valley", time_limit=time_limit
        )
    return engine, sessions, plan.id


def _job(sessions, plan_id):
    with sessions() as s:
        job = plans.job_of(s, plan_id)
        plan = plans.get(s, plan_id)
        return job, plan


def test_a_killed_worker_s_job_completes_after_restart(db_url, tmp_path):
    engine, sessions, plan_id = _queue_plan(db_url)
    first = start(["worker"], env_for(db_url, worker_delay="120"), tmp_path / "w1.log")
    try:
        job = wait_for(
            lambda: _running_with_pid(sessions, plan_id), 60, "the first worker to start solving"
        )
        assert job.worker.endswith(f":{first.pid}")
        child = int(re.search(r"process (\d+)", job.progress).group(1))
        first.kill()  # SIGKILL to the worker alone, mid-solve: its child must go by itself
        first.wait(10)
        wait_for(lambda: not _alive(child), 10, "the orphaned solving process to exit")
        job, plan = _job(sessions, plan_id)
        assert job.state == "running" and plan.result is None  # interrupted, nothing lost
    finally:
        stop(first)
    second = start(["worker"], env_for(db_url), tmp_path / "w2.log")
    try:
        wait_for(
            lambda: _job(sessions, plan_id)[1].status not in ("queued", "running"),
            90,
            "the job to complete after restart",
        )
    finally:
        stop(second)
    log = (tmp_path / "w2.log").read_text()
    # the worker says what it polls, and Alembic's start-up chatter stays out of its log
    assert "polling" in log and "alembic" not in log and "Context impl" not in log
    job, plan = _job(sessions, plan_id)
    assert (
        job.state == "done"
        and job.attempts == 2
        and plan.status == "shortfall"
        and plan.result["labour"]
    )
    engine.dispose()


def _running_with_pid(sessions, plan_id) -> Job | None:
    job, _ = _job(sessions, plan_id)
    return job if job.state == "running" and "process" in (job.progress or "") else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return not (stat.exists() and stat.read_text().split()[2] == "Z")


def test_cancel_and_time_limit_in_a_real_worker(db_url, tmp_path):
    engine, sessions, plan_id = _queue_plan(db_url, time_limit=60)
    worker = start(
        ["worker"], env_for(db_url, worker_delay="30", job_grace_seconds="1"), tmp_path / "w.log"
    )
    try:
        job = wait_for(lambda: _running_with_pid(sessions, plan_id), 60, "the worker to start")
        with sessions() as s:
            plans.cancel(s, Principal.system("test"), job.id)
        wait_for(lambda: _job(sessions, plan_id)[0].state == "cancelled", 20, "the cancellation")
        assert _job(sessions, plan_id)[1].status == "cancelled"
        _, _, limited = _queue_plan(db_url, time_limit=1)
        wait_for(lambda: _job(sessions, limited)[1].status == "time_limit", 30, "the time limit")
        assert _job(sessions, limited)[0].state == "failed"
    finally:
        stop(worker)
    engine.dispose()


def _children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (from /proc)."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                out.append(int(d.name))
    return out


def _running(pid: int) -> bool:
    """The process exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def up_with_two_workers(server: subprocess.Popen, port: int) -> list[int]:
    """Wait until the server on ``port`` answers and has its two workers; their pids."""
    http = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5)
    wait_for(lambda: _up(http), 60, "the server")
    return wait_for(
        lambda: (lambda found: found if len(found) == 2 else None)(_children(server.pid)),
        30,
        "two worker processes",
    )


def test_sigterm_stops_the_server_and_its_workers(tmp_path):
    env = env_for(f"sqlite:///{tmp_path}/serve.db")
    port = free_port()
    server = start(["serve", "--port", str(port), "--workers", "2"], env, tmp_path / "serve.log")
    try:
        workers = up_with_two_workers(server, port)
        os.kill(server.pid, signal.SIGTERM)  # the server alone, as a service manager would
        code = server.wait(10)
        wait_for(lambda: not any(map(_running, workers)), 5, "the workers to stop")
        assert code == 0, (tmp_path / "serve.log").read_text()[-2000:]  # a clean shutdown
    finally:
        try:
            os.killpg(server.pid, signal.SIGKILL)  # whatever is left of the group
        except ProcessLookupError:
            pass
        server.wait(5)
