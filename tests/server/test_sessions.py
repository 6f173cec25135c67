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


def test_corrupted_store_is_survived(tmp_path, caplog):
    path = tmp_path / "s.sqlite"
    path.write_bytes(b"this is not a sqlite database" * 100)
    store = SessionStore(path)
    store.append("x", Turn("m", "q", "t", "a", True))  # logged, not raised
    assert store.history("x") == []
    assert "session store" in caplog.text
