import time

from server.answering.sessions import SessionStore, Turn


def test_history_is_bounded_and_ordered(tmp_path):
    store = SessionStore(tmp_path / "s.sqlite", max_turns=3)
    for i in range(5):
        store.append("abc", Turn(f"m{i}", f"q{i}", "t", "a", True))
    assert [t.message for t in store.history("abc", limit=10)] == ["m2", "m3", "m4"]
    assert store.exists("abc") and not store.exists("nope")


def test_expired_sessions_are_forgotten(tmp_path):
    store = SessionStore(tmp_path / "s.sqlite", ttl_seconds=0.05)
    store.append("old", Turn("m", "q", "t", "a", True))
    time.sleep(0.1)
    assert not store.exists("old")
    assert store.purge_expired() == 1
    assert store.history("old") == []


def test_a_corrupted_store_is_moved_aside_and_rebuilt(tmp_path, caplog):
    path = tmp_path / "s.sqlite"
    path.write_bytes(b"this is not a sqlite database" * 100)
    store = SessionStore(path)
    store.append("x", Turn("m", "q", "t", "a", True))  # logged, not raised
    assert [t.message for t in store.history("x")] == ["m"]  # kept in a new, empty store
    assert "moved aside and rebuilt empty" in caplog.text
    assert len(list(tmp_path.glob("s.sqlite.damaged-*"))) == 1


def test_a_store_corrupted_while_serving_is_rebuilt_and_new_conversations_keep_their_context(tmp_path, caplog):
    path = tmp_path / "s.sqlite"
    store = SessionStore(path)
    store.append("before", Turn("m0", "q", "t", "a", True))
    assert store.history("before")  # committed, and read through this thread's connection
    path.write_bytes(b"garbage, not a database" * 4096)  # damaged under the running server
    for name in ("s.sqlite-wal", "s.sqlite-shm"):
        (tmp_path / name).unlink(missing_ok=True)
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(1) as other:  # another serving thread opens its connection on the damaged file
        assert not other.submit(store.exists, "before").result()  # the damage is met: the store is rebuilt
        store.append("after", Turn("m1", "q", "t", "a", True))
        store.flush()
        store.append("after", Turn("m2", "q", "t", "a", True))
        store.flush()
        history = other.submit(store.history, "after").result()
    assert [t.message for t in history] == ["m1", "m2"]  # a follow-up finds its conversation
    assert [t.message for t in store.history("after")] == ["m1", "m2"]  # the first thread reconnected too
    assert "moved aside and rebuilt empty" in caplog.text


def test_a_turn_is_readable_at_once_and_committed_by_the_writer(tmp_path):
    store = SessionStore(tmp_path / "s.sqlite")
    store.append("abc", Turn("m1", "q1", "", "a1", True, state={"question": "q1"}))
    assert store.exists("abc") and store.last("abc").state == {"question": "q1"}  # before any commit
    store.close()  # drains the writer
    reopened = SessionStore(tmp_path / "s.sqlite")
    assert [t.message for t in reopened.history("abc")] == ["m1"]


def test_many_threads_append_without_losing_a_turn(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    store = SessionStore(tmp_path / "s.sqlite", max_turns=100)

    def talk(i: int) -> None:
        for j in range(10):
            store.append(f"s{i}", Turn(f"m{j}", "q", "", "a", True))
            assert store.last(f"s{i}").message == f"m{j}"  # each follow-up sees the turn before it

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(talk, range(16)))
    for i in range(16):
        assert [t.message for t in store.history(f"s{i}", limit=100)] == [f"m{j}" for j in range(10)]


def test_a_damaged_turn_is_skipped_and_logged(tmp_path, caplog):
    import sqlite3

    store = SessionStore(tmp_path / "s.sqlite")
    store.append("abc", Turn("m1", "q1", "", "a1", True, state={"question": "q1"}))
    store.append("abc", Turn("m2", "q2", "", "a2", True, state={"question": "q2"}))
    store.close()
    with sqlite3.connect(tmp_path / "s.sqlite") as db:
        db.execute("UPDATE turns SET data = 'not json' WHERE n = 2")
    store = SessionStore(tmp_path / "s.sqlite")
    assert store.last("abc").message == "m1"  # the newest readable turn
    assert [t.message for t in store.history("abc")] == ["m1"]
    assert "damaged turn" in caplog.text


def test_expired_sessions_are_purged_while_running(tmp_path, monkeypatch):
    import server.answering.sessions as sessions

    monkeypatch.setattr(sessions, "PURGE_EVERY_SECONDS", 0.0)
    store = SessionStore(tmp_path / "s.sqlite", ttl_seconds=0.05)
    store.append("old", Turn("m", "q", "t", "a", True))
    store.flush()
    time.sleep(0.1)
    store.append("new", Turn("m", "q", "t", "a", True))  # the writer purges after this commit
    store.flush()
    store.close()
    import sqlite3

    with sqlite3.connect(tmp_path / "s.sqlite") as db:
        assert [r[0] for r in db.execute("SELECT id FROM sessions")] == ["new"]


def test_processes_sharing_the_file_see_a_turn_as_soon_as_it_is_answered(tmp_path):
    # --workers N: two stores on one file stand for two processes; the follow-up may reach the other one.
    a = SessionStore(tmp_path / "s.sqlite", sync=True)
    b = SessionStore(tmp_path / "s.sqlite", sync=True)
    assert a.append("s", Turn("first", "q", "t", "a", True), new=True) == 1
    assert b.exists("s") and b.last("s").message == "first"  # no flush: committed before append returned
    assert b.append("s", Turn("second", "q", "t", "a", True)) == 2
    assert [t.message for t in a.history("s", flush=False)] == ["first", "second"]
    a.close()
    b.close()
