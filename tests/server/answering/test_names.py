"""Names as students write them, matched against invented titles and URLs (no real school's page)."""

from __future__ import annotations

import pytest

from server.answering.names import LooseNames

DOCS = [
    (
        "redfield-nursing",
        "University of Redfield at Marlow (School of Nursing) - MSN admission",
        "https://nursing.redfield.edu/msn",
    ),
    ("redfield-law", "University of Redfield at Marlow - LL.M. key dates", "https://law.uredfield.edu/llm/dates"),
    ("kessler-cs", "Kessler Polytechnic Institute - MS in Computer Science", "https://cs.kesslerpoly.edu/ms"),
    ("north-plains", "Northern Plains State University - Master of Public Health", "https://www.nplains.edu/mph"),
    ("ostrava-ed", "Ostrava Valley College - M.Ed. FAQ", "https://ovc.edu/med/faq"),
    (
        "bls-counselors",
        "Bureau of Labor Statistics Handbook - Rehabilitation Counselors",
        "https://www.bls.gov/ooh/rc.htm",
    ),
    (
        "northern-vale",
        "University of Northern Vale (Engineering) - MS in Civil Engineering",
        "https://www.unv.edu/civil",
    ),
    ("harrow-arts", "Harrow College of Arts - MFA studio admission", "https://harrowarts.edu/mfa"),
    ("delmont-at", "Delmont A&T University - MS in Agricultural Engineering", "https://www.delmontat.edu/ms"),
]
VOCAB = {"redfield", "marlow", "nursing", "kessler", "polytechnic", "computer", "science", "plains", "state",
         "public", "health", "ostrava", "valley", "faq", "labor", "counselor", "northern", "vale", "civil",
         "harrow", "arts", "studio", "mfa", "phd", "dean", "data"}  # fmt: skip


@pytest.fixture(scope="module")
def names():
    docs = [{"doc_id": d, "title": t, "source": s} for d, t, s in DOCS]
    return LooseNames(docs, lambda word: word in VOCAB)


@pytest.mark.parametrize(
    ("name", "docs", "strong"),
    [
        ("UR Marlow", {"redfield-nursing", "redfield-law"}, True),  # initials of a run, then a whole name word
        ("URM", {"redfield-nursing", "redfield-law"}, False),  # initials of the whole lead, "of"/"at" skipped
        ("URedfield Law", {"redfield-law"}, True),  # initials joined to a word (the site's label)
        ("URedfield LL.M", {"redfield-law"}, True),  # dots dropped, a program word beside the school
        ("KPI", {"kessler-cs"}, False),
        ("Kessler Poly", {"kessler-cs"}, True),  # the start of a name word beside a whole one
        ("NPSU", {"north-plains"}, False),
        ("N Plains State", {"north-plains"}, True),
        ("Ostrava Valley's", {"ostrava-ed"}, True),  # a possessive
        ("Ostrava Vally", {"ostrava-ed"}, True),  # one letter off
        ("OVC", {"ostrava-ed"}, True),  # the site's label
        ("NU Vale", {"northern-vale"}, True),  # initials in any order beside a whole word
        ("Harrowarts", {"harrow-arts"}, True),
        ("A&T", {"delmont-at"}, True),  # no word a search reads, but a word of the school's name
    ],
)
def test_name_forms_link_to_their_documents(names, name, docs, strong):
    assert names.match(name) == (frozenset(docs), strong)


@pytest.mark.parametrize(
    "name", ["Stanford", "UCSD", "Redfield Tech Austin", "PhD", "MFA", "Dean", "Data", "BLS Austin"]
)
def test_names_nothing_in_the_corpus_is_about_stay_unlinked(names, name):
    assert names.match(name) == (frozenset(), False)


def test_generic_words_come_from_the_titles_and_a_refused_name_gets_its_nearest_documents(names):
    assert "university" in names.generic and "redfield" not in names.generic  # in 4 of 8 titles, and in 2
    assert set(names.near("Redfield Tech")) == {"redfield-nursing", "redfield-law"}
    assert names.near("Stanford") == []
