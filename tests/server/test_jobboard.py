"""The shared job board: one job at a time across processes, records readable by all, and the jobs of a
process that died recognised as dead (SQLite and a file lock; PostgreSQL and an advisory lock)."""

import subprocess
import sys
import time

import pytest

from server.jobboard import DEAD, LocalJobBoard, PgJobBoard
from tests.postgres import fresh_database

HOLD = """
import sys, time
sys.path.insert(0, {root!r})
from server.jobboard import {cls}
board = {cls}(*{args!r})
assert board.acquire({job!r}) is None
print("held", flush=True)
time.sleep(600)
"""


def job(job_id: str) -> dict:
    return {"id": job_id, "state": "running", "stage": "", "progress": 0.0, "started": time.time(),
            "finished": None, "summary": None, "error": None}  # fmt: skip


def hold_in_another_process(cls: str, args: tuple, job_id: str) -> subprocess.Popen:
    from pathlib import Path

    root = str(Path(__file__).resolve().parents[2])
    code = HOLD.format(root=root, cls=cls, args=args, job=job(job_id))
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "held"
    return proc


def check_board(board, cls: str, args: tuple) -> None:
    other = hold_in_another_process(cls, args, "other-job")
    try:
        holder = board.acquire(job("mine"))
        assert holder is not None and holder["id"] == "other-job"  # refused, naming the running job
        assert board.running_elsewhere()["id"] == "other-job" and board.recover() == []
        board.request_cancel("other-job")
        assert board.cancel_requested("other-job")
    finally:
        other.kill()  # a hard kill: the lock goes with the process
        other.wait()
    deadline = time.time() + 10
    while board.running_elsewhere() is not None:
        assert time.time() < deadline, "the dead process's lock was not released"
        time.sleep(0.1)
    record = board.get("other-job")
    assert record["state"] == "failed" and record["error"] == DEAD
    assert board.acquire(job("mine")) is None  # free again
    finished = job("mine") | {"state": "done", "finished": time.time(), "summary": {"chunks": 3}}
    board.save(finished)
    board.unlock()
    assert board.get("mine")["summary"] == {"chunks": 3} and board.get("nope") is None


def test_local_board_across_processes(tmp_path):
    args = (str(tmp_path / "s.sqlite"), str(tmp_path / "index" / ".reindex.lock"))
    check_board(LocalJobBoard(*args), "LocalJobBoard", args)


@pytest.mark.integration
def test_postgres_board_across_processes(postgres):
    url = fresh_database(postgres, "jobs")
    check_board(PgJobBoard(url), "PgJobBoard", (url,))


FINISHING = """
import sys, time
sys.path.insert(0, {root!r})
from server.jobboard import LocalJobBoard
board = LocalJobBoard(*{args!r})
assert board.acquire({job!r}) is None
board.save({done!r})
print("recorded done", flush=True)
time.sleep(0.3)  # between the job's last record and its lock dropped
board.unlock()
time.sleep(600)
"""


def test_a_job_recorded_done_whose_lock_is_still_held_is_waited_for(tmp_path):
    from pathlib import Path

    args = (str(tmp_path / "s.sqlite"), str(tmp_path / "index" / ".reindex.lock"))
    done = job("ending") | {"state": "done", "finished": time.time()}
    code = FINISHING.format(root=str(Path(__file__).resolve().parents[2]), args=args, job=job("ending"), done=done)
    other = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout.readline().strip() == "recorded done"
        board = LocalJobBoard(*args)
        assert board.acquire(job("next")) is None  # a client that saw "done" starts the next job at once
        assert board.get("next")["state"] == "running" and board.get("ending")["state"] == "done"
        board.unlock()
    finally:
        other.kill()
        other.wait()


class _EndsBetweenReads(LocalJobBoard):
    """A board on which the job read as running ends (is recorded done, its lock dropped) just before the lock
    is checked: the race of a status poll with the job's last step."""

    def running_elsewhere(self):
        self.save(job("ending") | {"state": "done", "finished": time.time()})
        return super().running_elsewhere()


def test_a_job_that_ends_while_its_status_is_read_is_not_taken_for_dead(tmp_path, monkeypatch):
    from server.api.reindex import ReindexJobs
    from server.settings import Settings

    started = []
    monkeypatch.setattr(ReindexJobs, "start", lambda self, changes=None: started.append(changes))
    args = (str(tmp_path / "s.sqlite"), str(tmp_path / "index" / ".reindex.lock"))
    jobs = ReindexJobs(Settings(_env_file=None), board=_EndsBetweenReads(*args))
    jobs.board.save(job("ending"))
    assert jobs.get("ending")["state"] == "done" and started == []  # no needless reindex of the corpus
    # A job recorded running whose process died (nobody holds the lock) is marked so, and the corpus indexed.
    dead = ReindexJobs(Settings(_env_file=None), board=LocalJobBoard(*args))
    dead.board.save(job("orphan"))
    assert dead.get("orphan")["error"] == DEAD and started == [None]
