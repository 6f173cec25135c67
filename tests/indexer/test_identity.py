"""A document's identity: one rule, collisions refused by name, and no build ever duplicates a chunk."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from indexer.build import build
from indexer.settings import IndexSettings
from indexer.store import load_current

STEMS = ["welding", "Welding", "robot-ms", "robot_ms", "career guide"]
SUFFIXES = [".txt", ".TXT", ".md", ".html"]
SENTENCES = [
    "The welding engineering master's takes 30 credits.",
    "Robotics graduates earn a median of $96,000.",
    "Applications for spring close on November 1.",
    "The capstone pairs each student with a plant.",
]


def write(corpus: Path, name: str, body: str) -> None:
    text = f"<html><body><h1>{name}</h1><p>{body}</p></body></html>" if name.lower().endswith(".html") else body
    (corpus / name).write_text(text)


def test_colliding_files_are_refused_by_name_and_never_doubled(tmp_path, fake_embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write(corpus, "guide.txt", SENTENCES[0] * 20)
    write(corpus, "Guide.TXT", SENTENCES[1] * 20)
    write(corpus, "guide.md", SENTENCES[2] * 20)
    cfg = IndexSettings(corpus_dir=corpus, index_dir=tmp_path / "index", _env_file=None)
    first = build(cfg, embedder=fake_embedder)
    assert first.added == 1 and len(first.skipped) == 2
    assert any(
        m.startswith("guide.txt: same document id 'guide' as Guide.TXT") and "rename" in m for m in first.skipped
    )
    counts = []
    for _ in range(3):  # later builds do not double the collided document
        write(corpus, "other.txt", SENTENCES[3] * (20 + len(counts)))  # something changes: a new version each time
        build(cfg, embedder=fake_embedder)
        index = load_current(tmp_path / "index")
        counts.append(sum(1 for c in index.chunks if c.doc_id == "guide"))
    assert counts[0] == counts[1] == counts[2]


def test_front_matter_doc_id_does_not_change_identity(tmp_path, fake_embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "page.md").write_text("---\ndoc_id: something-else\ntitle: Page\n---\n" + SENTENCES[0] * 20)
    cfg = IndexSettings(corpus_dir=corpus, index_dir=tmp_path / "index", _env_file=None)
    build(cfg, embedder=fake_embedder)
    again = build(cfg, embedder=fake_embedder)
    assert (again.added, again.removed, again.unchanged) == (0, 0, 1)  # no phantom "1 added, 1 removed"
    assert [d["doc_id"] for d in load_current(tmp_path / "index").documents] == ["page"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    files=st.lists(
        st.tuples(st.sampled_from(STEMS), st.sampled_from(SUFFIXES), st.sampled_from(SENTENCES)),
        min_size=1,
        max_size=6,
    ),
    edits=st.lists(st.integers(0, 5), max_size=3),
)
def test_no_build_ever_duplicates_a_chunk(files, edits, fake_embedder):
    root = Path(tempfile.mkdtemp(prefix="pqa-identity-"))
    try:
        corpus = root / "corpus"
        corpus.mkdir()
        for stem, suffix, body in files:
            write(corpus, stem + suffix, body * 12)
        cfg = IndexSettings(corpus_dir=corpus, index_dir=root / "index", _env_file=None)
        for step in [None, *edits]:
            if step is not None:  # edit one file between builds
                names = sorted(p.name for p in corpus.iterdir())
                write(corpus, names[step % len(names)], SENTENCES[step % 4] * (13 + step))
            build(cfg, embedder=fake_embedder)
            index = load_current(root / "index")
            ids = [c.chunk_id for c in index.chunks]
            assert len(ids) == len(set(ids))
            doc_ids = [d["doc_id"] for d in index.documents]
            assert len(doc_ids) == len(set(doc_ids))
            assert sum(d["chunks"] for d in index.documents) == len(index.chunks)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_a_skipped_file_left_unchanged_is_no_reason_to_rebuild(tmp_path, fake_embedder):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write(corpus, "guide.txt", SENTENCES[0] * 20)
    (corpus / "broken.txt").write_bytes(bytes(range(256)) * 40)  # binary: skipped by every build
    cfg = IndexSettings(corpus_dir=corpus, index_dir=tmp_path / "index", _env_file=None)
    assert build(cfg, embedder=fake_embedder).published
    again = build(cfg, embedder=fake_embedder)
    assert not again.published and again.embedded == 0
