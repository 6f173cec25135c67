import threading
import time

import indexer.watch as watch_module
from indexer.build import build
from indexer.store import load_current


def test_watch_rebuilds_after_a_change_settles(settings, fake_embedder, monkeypatch):
    monkeypatch.setattr(watch_module, "build", lambda s: build(s, embedder=fake_embedder))
    thread = threading.Thread(
        target=watch_module.watch, args=(settings,), kwargs={"interval": 0.05, "debounce": 0.2, "max_cycles": 60}
    )
    thread.start()
    deadline = time.time() + 5
    while time.time() < deadline and not (settings.index_dir / "CURRENT").exists():
        time.sleep(0.05)
    first = load_current(settings.index_dir).name
    (settings.corpus_dir / "new.md").write_text("# New\nA new page about robotics certificates.\n")
    thread.join(timeout=10)
    index = load_current(settings.index_dir)
    assert index.name != first and "new" in index.doc_rows
