"""A small corpus of three invented schools' pages, indexed with the fake embedder (no model, fast)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from indexer.build import build
from indexer.settings import IndexSettings
from indexer.store import load_current
from server.answering.index_service import IndexState
from server.answering.weights import Weights

PAGES = Path(__file__).resolve().parent / "pages"
# Hand-set weights that rank by the focus and the asked kind: the unit tests never read the shipped, fitted file
# (whose figures are the integration tests' business).
UNIT_TEST_WEIGHTS = Weights(
    unit={"bias": -4.0, "focus": 4.0, "kind": 2.0, "semantic": 1.0, "lexical": 1.0, "leadin": 1.0},
    decision={"bias": -2.0, "dense": 4.0, "focus": 2.0},
    second_unit_margin=0.5,
)


@pytest.fixture(scope="session")
def small_index(tmp_path_factory):
    from tests.conftest import FakeEmbedder

    root = tmp_path_factory.mktemp("small")
    shutil.copytree(PAGES, root / "corpus")
    settings = IndexSettings(corpus_dir=root / "corpus", index_dir=root / "index", _env_file=None)
    summary = build(settings, embedder=FakeEmbedder())
    assert summary.published and summary.added == 3
    return load_current(root / "index")


def build_state(root: Path, pages: dict[str, tuple[str, str]]) -> IndexState:
    """A state over pages written for one test ({doc_id: (title, text)}), indexed with the fake embedder."""
    from tests.conftest import FakeEmbedder

    (root / "corpus").mkdir()
    for doc_id, (title, text) in pages.items():
        (root / "corpus" / f"{doc_id}.md").write_text(f'---\ntitle: "{title}"\n---\n{text}\n', encoding="utf-8")
    build(IndexSettings(corpus_dir=root / "corpus", index_dir=root / "index", _env_file=None), embedder=FakeEmbedder())
    index = load_current(root / "index")
    return IndexState.build(index, UNIT_TEST_WEIGHTS, (index.name, 0.0))


@pytest.fixture(scope="session")
def small_state(small_index) -> IndexState:
    return IndexState.build(small_index, UNIT_TEST_WEIGHTS, (small_index.name, 0.0))


@pytest.fixture(scope="session")
def linker(small_state):
    return small_state.linker


# Invented pages of invented schools (program switches within a school, names as students write them).
SCHOOL_PAGES = {
    "marlow-dpt-faq": (
        "Marlow College - Physical Therapy Doctorate FAQs",
        "How many observation hours are needed? Forty hours of shadowing a licensed therapist.\n",
    ),
    "marlow-counseling-ms": (
        "Marlow College - M.S. in Counselor Education requirements",
        "The clinical mental health counseling track requires 60 credits.\n",
    ),
    "pinecrest-dpt": (
        "Pinecrest University - DPT admission requirements",
        "DPT applications close on October 1 each year.\n",
    ),
    "kenmore-state-chemistry": (
        "Kenmore State University (Chemistry) - Graduate admissions",
        "Applicants to the state's chemistry programs send three letters.\n"
        "The department admits students to its master's and doctoral tracks once a year, in the autumn term. "
        "Each applicant is read by two faculty members from the division closest to the stated research "
        "interest, and a third reader joins when the first two disagree. Interviews are held online in "
        "late winter for applicants on the short list, and decisions follow within a month of the interview. "
        "Teaching assistantships cover tuition and pay a monthly stipend for nine months of each year. "
        "Summer support comes from research grants and is arranged with the advisor. Students who arrive "
        "with a master's degree may transfer up to twelve credits after their first year. The qualifying "
        "examination is taken at the end of the second year and may be repeated once.\n"
        "Transcripts must show the following laboratory skills:\n\n"
        "# Core laboratory skills\n\n- Titration\n- Infrared spectroscopy\n\nInstrument Skills\n- Gas chromatography\n",
        "https://chem.k-more.edu/grad",
    ),
}


@pytest.fixture(scope="session")
def school_linker(school_state):
    return school_state.linker


@pytest.fixture(scope="session")
def school_state(tmp_path_factory) -> IndexState:
    """Two pages of one school and one each of two others, indexed with the fake embedder."""
    from tests.conftest import FakeEmbedder

    root = tmp_path_factory.mktemp("schools")
    (root / "corpus").mkdir()
    for doc_id, (title, text, *source) in SCHOOL_PAGES.items():
        front = f'title: "{title}"\n' + "".join(f'source: "{s}"\n' for s in source)
        (root / "corpus" / f"{doc_id}.md").write_text(f"---\n{front}---\n{text}", encoding="utf-8")
    build(IndexSettings(corpus_dir=root / "corpus", index_dir=root / "index", _env_file=None), embedder=FakeEmbedder())
    index = load_current(root / "index")
    return IndexState.build(index, UNIT_TEST_WEIGHTS, (index.name, 0.0))
