"""The server's processes under abuse: ``kill -9`` of ``planner serve`` leaves no worker behind.

Issue 18, point 7: workers polled the database forever after their server
was killed, and each restart added more. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

import os
import signal

import pytest
from test_api_e2e import _running, env_for, free_port, start, up_with_two_workers, wait_for

pytest_plugins = ["api_fixtures"]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


def test_workers_die_with_a_killed_server(db_url, tmp_path):
    env = env_for(db_url, worker_poll_seconds="0.2")
    port = free_port()
    server = start(["serve", "--port", str(port), "--workers", "2"], env, tmp_path / "serve.log")
    workers: list[int] = []
    try:
        workers = up_with_two_workers(server, port)
        os.kill(server.pid, signal.SIGKILL)  # no handler runs, no clean-up: kill -9
        server.wait(10)
        wait_for(lambda: not any(map(_running, workers)), 15, "the orphaned workers to stop")
    finally:
        for pid in [server.pid, *workers]:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        server.wait(5)
