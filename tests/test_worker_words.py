"""A solve that fails in the worker's child process reports its error in words, never a traceback
(the traceback goes to the log)."""

import multiprocessing as mp
import os

from api import worker


def test_a_failed_child_sends_words_not_a_traceback(monkeypatch, caplog):
    def broken(*a, **k):
        raise RuntimeError("HiGHS returned garbage")

    monkeypatch.setattr(worker, "solve_document", broken)
    ours, theirs = mp.Pipe(duplex=False)
    worker._solve_child(theirs, {}, "leximin", "highs", 10.0, 0.0, os.getppid())
    kind, message = ours.recv()
    assert (kind, message) == ("error", "RuntimeError: HiGHS returned garbage")
    assert "Traceback" in caplog.text  # the details are logged
