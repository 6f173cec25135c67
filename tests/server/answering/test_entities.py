"""Names linked to documents: titles, aliases, acronyms, the source's site; unknown subjects."""

from server.answering.entities import _named_groups, acronyms
from server.answering.question import SUBJECT_MARKERS, Mention, analyse
from tests.server.answering.conftest import build_state

LAKEVIEW = "lakeview-robotics"
HARBOR = "harbor-tech-data-science"


def test_acronyms_of_a_program_inside_a_longer_title_run():
    # The program's initials without the degree before it, a hyphenated word counting as two.
    keys = acronyms("Kessler College - MSN Night-Shift Acute Care Nursing tuition")
    assert {"nsacn", "msnnsacn"} <= keys and "ms" not in keys


def test_acronyms_of_a_degree_in_its_field():
    # "in" joins a degree to its field, and a degree written as initials gives all its letters.
    assert "msgd" in acronyms("Ridgeway University - Master of Science in Game Design")
    assert "msq" in acronyms("Ridgeway University (Palmer School) - MS in Quantitative Methods deadlines")
    assert "mapl" in acronyms("Ridgeway University - MA in Public Leadership")


def test_acronyms_of_title_runs():
    assert "osu" in acronyms("Oregon State University - Master's Degrees in Robotics")
    assert "uk" in acronyms("University of Kentucky - Manufacturing Systems Engineering MS")
    assert "mnri" in acronyms("University of Minnesota Robotics Institute (MnRI) - Admissions")


def test_names_link_by_title_acronym_alias_and_site(linker):
    for name in ("Lakeview State", "LSU", "Lakeview Robotics", "lakeviewstate"):
        mention = linker.link(name, True)
        assert mention is not None and mention.doc_ids == {LAKEVIEW} and mention.lead, name
    assert linker.link("Harbor Institute of Technology", True).doc_ids == {HARBOR}
    assert linker.link("HIT", True).doc_ids == {HARBOR}
    assert linker.link("harbortech", True).doc_ids == {HARBOR}
    # A degree prefix joined to the acronym ("MS-HIT") is the same name, and not part of the question's focus.
    joined = linker.link("MS-HIT", False)
    assert joined.doc_ids == {HARBOR} and joined.by_name


def test_a_name_the_corpus_never_uses_is_unknown(linker):
    mention = linker.link("Stanford", True)
    assert mention is not None and not mention.known and mention.subject


def test_unknown_subject_is_reported_but_an_aside_is_not(linker):
    assert analyse("What is the tuition at Stanford?", linker).unknown_subjects == ["Stanford"]
    aside = analyse("I studied in Brazil. Is the GRE required for Lakeview State's robotics MS?", linker)
    assert aside.unknown_subjects == []
    assert aside.entities == (frozenset({LAKEVIEW}),)


def test_two_schools_make_two_entities_and_a_comparison(linker):
    question = analyse(
        "Which needs more credits, Lakeview State's robotics MS or Harbor Tech's data science MS?", linker
    )
    assert set(question.entities) == {frozenset({LAKEVIEW}), frozenset({HARBOR})}
    assert question.compare and question.kind == "count"


def test_corpus_terms_read_the_bm25_index(small_index, small_state):
    rows = small_index.lexical.rows_with("kinemat")  # "Kinematics", stemmed as BM25 stores it
    assert len(rows) and all("Kinematics" in small_index.chunks[int(r)].text for r in rows)
    assert len(small_index.lexical.rows_with("zzzunknown")) == 0
    terms = small_state.linker.terms
    assert terms.docs_with("gre") == {LAKEVIEW}
    assert terms.used_in("weld", {"welding-engineers-career"}) and not terms.used_in("weld", {LAKEVIEW})
    assert terms.spells_out(HARBOR, "gpa") and not terms.spells_out(LAKEVIEW, "gpa")


def test_names_typed_in_lower_case_link_but_acronyms_and_words_do_not(linker):
    from server.answering.question import analyse

    assert analyse("how much is tuition at harbortech?", linker).entities == (frozenset({HARBOR}),)
    assert analyse("whats the final deadline at lakeview state", linker).entities == (frozenset({LAKEVIEW}),)
    assert analyse("what do graduates hit in their first year?", linker).entities == ()  # "hit" is a word here


def test_two_names_joined_by_and_are_two_entities(linker):
    from server.answering.question import analyse

    question = analyse("Compare the GRE policies of Lakeview State and Harbor Tech.", linker)
    assert set(question.entities) == {frozenset({LAKEVIEW}), frozenset({HARBOR})} and question.compare
    assert question.focus == ("gre",)  # "compare" and "policies" say how it is asked


def test_a_subject_in_initials_that_a_page_spells_out_is_not_refused(linker):
    # The Harbor page writes "grade point average" in full: "GPA" as a subject is about that page.
    mention = linker.link("GPA", True)
    assert mention is not None and mention.known and HARBOR in mention.doc_ids
    assert linker.link("QXZ", True).known is False  # initials spelled out nowhere stay unknown


def test_a_program_name_only_another_school_uses_qualifies_the_subject(school_linker):
    # "DPT" is written only in Pinecrest's title; the question is about Marlow's program, not Pinecrest's.
    question = analyse("What's the application deadline for Marlow College's DPT?", school_linker)
    assert question.entities == (frozenset({"marlow-dpt-faq", "marlow-counseling-ms"}),)
    # Named on its own, the program still links to the page that uses it.
    alone = analyse("When do DPT applications close?", school_linker)
    assert alone.entities == (frozenset({"pinecrest-dpt"}),)


def test_a_follow_up_may_move_to_another_page_of_the_same_school(school_linker):
    in_focus = frozenset({"marlow-dpt-faq"})
    words = analyse("How many credits is the counselor education M.S.?", school_linker).tokens
    assert school_linker.school_pages(in_focus, words) == in_focus | {"marlow-counseling-ms"}
    # Words no other page of the school has in its title keep the pages in focus; another school is never added.
    assert school_linker.school_pages(in_focus, ("deadlin", "observ")) == in_focus
    assert school_linker.school_pages(frozenset({"pinecrest-dpt"}), words) == {"pinecrest-dpt"}


def test_a_name_in_an_aside_starts_no_entity(school_linker):
    question = analyse("I studied at Pinecrest University. What does Marlow College's DPT cost?", school_linker)
    assert question.entities == (frozenset({"marlow-dpt-faq", "marlow-counseling-ms"}),)


def test_a_comparison_keeps_every_school_it_names(school_linker):
    question = analyse("Which DPT wants more letters: Marlow College or Pinecrest University's?", school_linker)
    assert set().union(*question.entities) >= {"marlow-dpt-faq", "pinecrest-dpt"} and question.compare


def test_a_short_name_from_the_site_links_even_when_its_words_are_common(school_linker):
    mention = school_linker.link("K-More", True)
    assert mention is not None and mention.doc_ids == {"kenmore-state-chemistry"}


def test_a_run_of_names_links_by_its_words_when_the_whole_names_nothing(school_linker):
    # A degree abbreviation the pages never write ("PhD") beside a school's name: the school is the entity.
    question = analyse("How much does a Kenmore PhD student pay?", school_linker)
    assert question.entities == (frozenset({"kenmore-state-chemistry"}),)
    # A word of the run that names nothing and is no abbreviation keeps the run one unknown name.
    unknown = analyse("How much does Glenmoor Kenmore's program cost?", school_linker)
    assert unknown.unknown_subjects == ["Glenmoor Kenmore"]


def test_an_aside_yields_to_the_name_the_question_itself_uses(school_linker):
    # Neither name is marked as the subject ("the Marlow DPT" follows "the"): the asking sentence's own name wins.
    question = analyse("I live near Pinecrest University. Which hours apply in the Marlow DPT?", school_linker)
    assert set().union(*question.entities) <= {"marlow-dpt-faq", "marlow-counseling-ms"}
    assert "marlow-dpt-faq" in set().union(*question.entities)
    # An aside sharing documents with the question's name is kept: it narrows nothing away.
    same = analyse("I like Marlow College. Which hours apply in the Marlow DPT?", school_linker)
    assert "marlow-dpt-faq" in set().union(*same.entities)


def test_a_comparison_within_one_school_keeps_the_program_each_side_names(school_linker):
    # "Physical Therapy" names one Marlow page; the other side, no name, is a word of the school's other page.
    question = analyse(
        "Which Marlow College program needs more hours: Physical Therapy or counselor education?", school_linker
    )
    assert set(question.entities) == {frozenset({"marlow-dpt-faq"}), frozenset({"marlow-counseling-ms"})}
    # Not a comparison: the named program alone.
    single = analyse("How many hours does Marlow College's Counselor Education program need?", school_linker)
    assert single.entities == (frozenset({"marlow-counseling-ms"}),)


def test_only_one_schools_pages_make_a_side_of_a_comparison(school_linker):
    assert school_linker.one_school(frozenset({"marlow-dpt-faq", "marlow-counseling-ms"}))
    assert not school_linker.one_school(frozenset({"marlow-dpt-faq", "pinecrest-dpt"}))
    # In a comparison a name that several schools' titles use ("MS", "DPT") is no side of its own; a school's is.
    kenmore = Mention("Kenmore State", False, frozenset({"kenmore-state-chemistry"}), by_name=True, lead=True)
    marlow = Mention("Marlow", True, frozenset({"marlow-counseling-ms"}), by_name=True, lead=True)
    degree = Mention("DPT", False, frozenset({"marlow-dpt-faq", "pinecrest-dpt"}), by_name=True, lead=True)
    groups = _named_groups([kenmore, marlow, degree], [marlow.doc_ids], True, school_linker.one_school)
    assert groups == [marlow.doc_ids, kenmore.doc_ids]
    # One school's pages named that way are a side.
    one = Mention("DPT", False, frozenset({"pinecrest-dpt"}), by_name=True, lead=True)
    groups = _named_groups([kenmore, marlow, one], [marlow.doc_ids], True, school_linker.one_school)
    assert groups == [marlow.doc_ids, kenmore.doc_ids, one.doc_ids]
    # With no subject, the school is the entity, whichever comes first; a name several schools share starts none.
    assert _named_groups([degree, kenmore], [], False, school_linker.one_school) == [kenmore.doc_ids]
    assert _named_groups([kenmore, degree], [], False, school_linker.one_school) == [kenmore.doc_ids]


def test_a_degree_word_beside_a_schools_name_still_names_the_school(linker):
    # "Lakeview MS" names Lakeview as "Lakeview" does (the school, so a follow-up naming it switches to it).
    mention = linker.link("Lakeview MS", True)
    assert mention is not None and mention.lead and mention.doc_ids == {LAKEVIEW}


def test_a_short_form_that_pages_write_as_a_word_is_no_name(tmp_path):
    # "U.S." opens the careers office's titles but is a word in the school's text; "A&M" is written by its own page.
    # "GMAT" is in one title and written by more other pages: a word too, unless it is the question's subject.
    pages = {
        "office-court-reporters": ("U.S. Office of Careers - Court Reporters", "Court reporters earn a salary."),
        "kenmore-chemistry": ("Kenmore State University - MS in Chemistry", "U.S. applicants send no TOEFL score."),
        "tamar-am-nursing": ("Tamar A&M University - MSN", "Tamar A&M admits nurses each fall."),
        "kessler-mba": ("Kessler College - Full-Time MBA GMAT requirements", "The GMAT is required for the MBA."),
        "kessler-mha": ("Kessler College - Master of Health Administration (MHA)", "Send GMAT or GRE scores."),
        "kessler-fees": ("Kessler College - Fees", "US residents pay less. Applicants outside the US pay more."),
        "tamar-fees": ("Tamar A&M University - Fees", "US residents pay the lower rate."),
        "tamar-mha": ("Tamar A&M University - MHA admission", "No GMAT score is needed for the MHA."),
    }
    linker = build_state(tmp_path, pages).linker
    assert linker.link("U.S.", True) is None
    question = analyse("Do U.S. applicants to Kenmore State need the TOEFL?", linker)
    assert question.entities == (frozenset({"kenmore-chemistry"}),)
    assert linker.link("A&M", True).doc_ids == {"tamar-am-nursing", "tamar-mha", "tamar-fees"}
    assert linker.link("GMAT", False) is None
    # "US", a short form of one title ("U.S. Office…") that more other pages write, names no page: at most
    # it is a word of those pages' text.
    us = linker.link("US", False)
    assert us is None or (not us.by_name and "office-court-reporters" not in us.doc_ids)
    question = analyse("How do Kessler's MHA and Tamar A&M's MHA differ on GMAT scores?", linker)
    assert question.entities == (frozenset({"kessler-mha"}), frozenset({"tamar-mha"}))


def test_initials_a_title_spells_name_the_program_not_what_is_asked(tmp_path):
    pages = {
        "kessler-msn": (
            "Kessler College - MSN Night-Shift Acute Care Nurse Practitioner costs",
            "The MSN takes 45 credits.",
        ),
        "tamar-art": ("Tamar Institute at Austin - Studio Art MFA", "Teaching assistants are paid monthly."),
    }
    linker = build_state(tmp_path, pages).linker
    assert linker.titles_spell(frozenset({"kessler-msn"}), "np")  # "… Nurse Practitioner" ends its run
    assert not linker.titles_spell(frozenset({"tamar-art"}), "ta")  # "Tamar Institute at Austin": not one run
    question = analyse("How many credits is Kessler's acute care NP program?", linker)
    assert "np" not in question.focus and "credit" in question.focus
    assert "ta" in analyse("Are TA posts paid at Tamar Institute?", linker).focus


def test_a_degree_asked_by_its_initials_links_and_leaves_the_focus(tmp_path):
    pages = {
        "kessler-mqe": ("Kessler College - MS in Quantum Engineering deadlines", "Fall applications close May 2."),
        "kessler-art": ("Kessler College - Studio Art MFA", "Portfolios are due in January."),
    }
    question = analyse("Which deadline should I use for the Kessler MSQE?", build_state(tmp_path, pages).linker)
    assert question.entities == (frozenset({"kessler-mqe"}),)
    assert "msqe" not in question.focus


def test_a_name_links_to_the_titles_that_write_its_words_in_its_order(tmp_path):
    # Both titles hold "University" and "Kessler"; only one writes "University of Kessler".
    pages = {
        "kessler-msw": ("University of Kessler School of Social Work - MSW FAQ", "Most students take 15 credits."),
        "kessler-state-counseling": ("Kessler State University - School Counseling MS", "The MS takes 60 credits."),
    }
    linker = build_state(tmp_path, pages).linker
    assert linker.link("University of Kessler", True).doc_ids == {"kessler-msw"}
    assert linker.link("Kessler State University", True).doc_ids == {"kessler-state-counseling"}
    # Words no title writes in this order still link to every title holding them.
    assert linker.link("Kessler University", True).doc_ids == {"kessler-msw", "kessler-state-counseling"}


def test_a_title_word_asked_in_another_form_stays_what_is_asked(tmp_path):
    # "employed" and "Employment" stem alike; the title names the page, the question asks how many are employed.
    pages = {
        "wages-welders": (
            "Labor Survey Office Employment and Wages - Underwater Welders, 2031",
            "Employment: 4,210; Mean annual wage: $71,300.",
        ),
    }
    linker = build_state(tmp_path, pages).linker
    asked = analyse("How many underwater welders were employed per the Labor Survey Office?", linker)
    assert "employ" in asked.focus
    assert "welder" not in asked.focus  # written as the title writes it: it names the page
    named = analyse("What does the Labor Survey Office employment page say about underwater welders?", linker)
    assert "employ" not in named.focus


def test_a_side_of_a_contrast_both_titled_stays_what_is_asked(tmp_path):
    # The page's title names both options, so the option asked for tells its units apart; it does not name the page.
    pages = {
        "harwell-me-plans": (
            "Harwell University (Marine Engineering) - MS thesis and non-thesis plans",
            "Thesis option: 31 credit hours. Non-thesis option: 34 credit hours.",
        ),
        "harwell-me-thesis": (
            "Harwell University (Civil Engineering) - MS thesis guide",
            "The thesis is defended before a committee of three.",
        ),
    }
    linker = build_state(tmp_path, pages).linker
    asked = analyse("How many credit hours is Harwell's non-thesis MS in marine engineering?", linker)
    assert {"thesi", "nonthesi"} <= set(asked.focus)
    assert "marin" not in asked.focus  # a title word on one side of no contrast still names the page
    guide = analyse("Who sits on the committee for Harwell's civil engineering thesis?", linker)
    assert "thesi" not in guide.focus  # that title names one side only: it names the page


def test_a_schools_first_name_typed_in_lower_case_links_as_the_subject(tmp_path):
    pages = {
        "brantley-msn": ("Brantley University (School of Nursing) - MSN tuition", "Tuition is $990 per credit."),
        "corrow-msn": ("Corrow College - Nursing MSN admission", "Corrow admits nurses each fall."),
    }
    linker = build_state(tmp_path, pages).linker
    assert linker.lowercase_names("what's the tuition at brantley", SUBJECT_MARKERS) == [("brantley", True)]
    assert analyse("what's the tuition at brantley", linker).doc_ids == {"brantley-msn"}
    # A word of a page's name that does not start it ("nursing"), or one that is not the subject, is no name.
    assert linker.lowercase_names("what's the tuition for nursing", SUBJECT_MARKERS) == []
    assert linker.lowercase_names("brantley was my first choice", SUBJECT_MARKERS) == []


def test_initials_typed_in_lower_case_link_only_as_the_subject(tmp_path):
    pages = {
        "ndu-msn": ("North Dunmore University (NDU) - MSN admission", "NDU admits nurses each spring."),
        "corrow-msn": ("Corrow College - Nursing MSN admission", "Corrow admits nurses each fall."),
    }
    linker = build_state(tmp_path, pages).linker
    assert linker.lowercase_names("whats the gre requirement for ndu nursing", SUBJECT_MARKERS) == [("ndu", True)]
    assert analyse("whats the gre requirement for ndu nursing", linker).doc_ids == {"ndu-msn"}
    assert linker.lowercase_names("ndu nursing gre", SUBJECT_MARKERS) == []  # initials are often words too
    assert linker.lowercase_names("when is the deadline for the ndu msn", SUBJECT_MARKERS) == [("ndu", True)]


def test_what_a_later_title_segment_names_links_in_lower_case_as_the_subject(tmp_path):
    pages = {
        "wages-turbine": (
            "Labor Survey Office Wage Estimates - Tidal Turbine Technicians, May 2031",
            "Mean annual wage: $68,450.",
        ),
        "harwell-energy": ("Harwell University - Tidal energy MS", "Students build turbine models."),
    }
    linker = build_state(tmp_path, pages).linker
    question = analyse("What was the mean annual wage for tidal turbine technicians in May 2031?", linker)
    assert question.doc_ids == {"wages-turbine"}
    assert linker.lowercase_names("tidal turbine technicians earn well", SUBJECT_MARKERS) == []  # not the subject


def test_a_schools_initials_beside_a_program_abbreviation_link_the_school_when_not_the_subject(tmp_path):
    pages = {
        "wexford-ds-tuition": (
            "University of Wexford (Data Science Masters) - Tuition",
            "Tuition for the MSDS is $1,150 a credit.",
        ),
        "kessler-msds": ("Kessler College - MS in Data Science tuition", "Tuition is $880 a credit."),
        "tamar-analytics": ("Tamar Institute - Analytics careers", "Many MSDS graduates become analysts."),
    }
    linker = build_state(tmp_path, pages).linker
    # "UW MSDS" names nothing as a whole; "UW" names Wexford, and "MSDS" after "the" is no subject.
    assert analyse("How much does the UW MSDS cost per credit?", linker).doc_ids == {"wexford-ds-tuition"}
