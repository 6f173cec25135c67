"""One analysis of a message: answer kind, focus, names and whether they are the subject."""

import pytest

from server.answering.question import (
    analyse,
    answer_kind,
    asking_sentences,
    content_tokens,
    covers,
    lowercase_institutions,
    matches_kind,
    name_spans,
    word_forms,
)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("How much does the program cost?", "money"),
        ("What is the tuition per credit?", "money"),
        ("When is the spring deadline?", "date"),
        ("How long does the degree take?", "duration"),
        ("How quickly do graduates recoup the cost of tuition?", "duration"),  # the wh-phrase decides
        ("How many credits is the degree?", "count"),
        ("Which master's needs more credits, A or B?", "count"),
        ("What is the acceptance rate?", "percent"),
        ("What TOEFL score do I need?", "score"),
        ("What GRE percentile should I aim for?", "score"),  # a rank ("75th percentile"), not a share
        ("Is the GRE required?", "yesno"),
        ("Is the application fee waived?", "yesno"),  # "fee" does not make it a money question
        ("Who directs the robotics program?", "person"),
        ("Which courses are required?", "list"),
        ("Tell me about the program.", "description"),
        ("By how much can automation cut scrap rates?", "amount"),
        ("Where do graduates of the program work?", "description"),  # employers, not a place
        ("Where is the program taught?", "place"),  # a change: stated as a sum or a share
        ("How big is the research farm?", "measure"),  # stated as a number: "a 600-acre farm"
        ("How far is the field station from campus?", "measure"),
        ("How long should the personal statement be?", "measure"),  # pages or words, not a duration
        ("How long is the internship?", "duration"),
        ("How recent must my test scores be?", "duration"),  # "within three years": an age, a span of time
        # "What if …?" asks what follows, whatever value the condition names.
        ("What happens if my GPA drops below 3.0?", "description"),
        ("What if the deadline has passed?", "description"),
        # A clause that sets the asker's case comes first: the question proper decides.
        ("If my scores arrive after the deadline, will the committee still read my file?", "yesno"),
        ("Once I finish the degree, what do most graduates earn?", "money"),
        ("When I apply in March, how many letters do I send?", "count"),
        ("When is the fall deadline, and is it firm?", "date"),  # a wh-word, not a clause before the question
    ],
)
def test_answer_kind(text, kind):
    assert answer_kind(text) == kind


def test_the_sentences_before_the_question_state_the_askers_case():
    question = analyse("My degree is in forestry. Do I need the GRE?")
    forestry = content_tokens("forestry")[0]
    assert forestry in question.condition
    assert forestry not in question.focus
    assert analyse("Do I need the GRE?").condition == ()


def test_the_asking_sentence_is_the_one_with_a_question_mark():
    assert asking_sentences("I studied in Brazil. Do I need the GRE?") == ["Do I need the GRE?"]
    assert asking_sentences("Tell me about the program.") == ["Tell me about the program."]


def test_possessives_and_prepositions_make_a_name_the_subject():
    spans = dict(name_spans("What is the tuition at Stanford for Ohio's robotics program?"))
    assert spans == {"Stanford": True, "Ohio": True}
    assert dict(name_spans("What GPA does Kent State expect?")) == {"GPA": False, "Kent State": True}
    # A question word opening the sentence is not a name; "I" never is.
    assert name_spans("What do I need?") == []
    # A month ends a name ("the BLS May data").
    assert dict(name_spans("What did the BLS May 2024 survey find?")) == {"BLS": False, "May": False}


def test_a_school_typed_in_lower_case_is_a_name():
    assert lowercase_institutions("what's the tuition at the university of thornbury") == [
        ("university of thornbury", True)
    ]
    assert lowercase_institutions("does the college of marine science want the gre?") == [
        ("college of marine science", True)
    ]
    assert lowercase_institutions("my sister liked the college of marine science") == [
        ("college of marine science", False)
    ]
    # Fillers and stop words end it: "how much" is not part of the name.
    assert lowercase_institutions("institute of design how much is it") == [("institute of design", False)]
    assert lowercase_institutions("What does the University of Harwell charge?") == []  # name_spans reads it


def test_an_article_between_the_preposition_and_a_name_keeps_it_the_subject():
    assert dict(name_spans("What's the deadline for the Thornbury MBA?")) == {"Thornbury MBA": True}
    assert dict(name_spans("Is the Ashdale Law JD accredited?")) == {"Ashdale Law JD": True}
    # Initials and terms after an article are what is asked about, not whose page it is.
    assert dict(name_spans("Can I skip straight to the PhD level?")) == {"PhD": False}
    assert dict(name_spans("Why is the 1L budget higher?")) == {"1L": False}


def test_focus_drops_fillers_and_names(linker):
    question = analyse("What's the final application deadline for Lakeview State's robotics master's?", linker)
    assert question.kind == "date"
    assert set(question.focus) >= {"final", "applic"} and "deadlin" not in question.focus  # the kind says it
    assert "lakeview" not in question.focus and "what" not in question.focus and "master" not in question.focus


def test_small_talk_is_recognised_and_not_searched():
    assert analyse("Hello there").small_talk == "greeting"
    assert analyse("thanks a lot!").small_talk == "thanks"
    assert analyse("What can you do?").small_talk == "help"
    assert analyse("What does the program cost?").small_talk is None


def test_word_families_cover_each_other():
    assert covers("decis", {"decid"})  # decision / decide
    assert covers("applic", {"appli"})  # application / apply
    assert not covers("cost", {"coast"})


def test_synonyms_of_the_domain_cover_each_other():
    stems = lambda text: set(content_tokens(text))  # noqa: E731
    assert covers("earn", stems("The median base salary was $118,000."))
    assert covers("skip", stems("The GMAT is waived for strong applicants."))
    assert covers("charg", stems("Cost per credit: $925"))
    assert covers("grad", stems("Graduates of the class of 2025 earned $71,500."))
    assert not covers("spring", stems("The deadline for fall admission is April 15."))
    assert not covers("gmat", stems("The GRE is not required."))  # another test is not a synonym


def test_a_count_or_score_is_not_a_sum_or_a_year():
    from server.answering.question import matches_kind

    assert not matches_kind("Tuition: $395 per credit", "count")
    assert not matches_kind("Tuition for 2026-2027 is $1,420 per credit hour.", "count")
    assert not matches_kind("The GRE has not been required since 2021.", "score")
    assert matches_kind("The degree is 42 credits.", "count")
    assert matches_kind("Credits | 30", "count")
    assert matches_kind("A TOEFL iBT score of at least 90 is expected.", "score")
    assert matches_kind("Class profile — International students: 34%", "count")  # "how many are international?"


def test_a_verb_is_not_a_month():
    from server.answering.question import matches_kind

    assert matches_kind("Apply by May 1.", "date")
    assert not matches_kind("Students may apply early.", "date")


def test_an_amount_is_a_sum_or_a_share():
    from server.answering.question import matches_kind

    assert matches_kind("Automation cuts scrap by up to 18%.", "amount")
    assert matches_kind("Graduates save about $4,000 a year.", "amount")
    assert not matches_kind("Automation cuts scrap substantially.", "amount")


def test_a_duration_question_does_not_ask_about_its_own_verb(linker):
    question = analyse("How long does Lakeview State's robotics MS take to finish, part-time?", linker)
    assert question.kind == "duration"
    assert "finish" not in question.focus and "part" in " ".join(question.focus)  # the detail stays
    recent = analyse("How recent must my GRE scores be for Lakeview State's robotics MS?", linker)
    assert recent.kind == "duration" and "recent" not in recent.focus and "score" in recent.focus


def test_a_measure_question_asks_for_a_number_not_its_adjective(linker):
    from server.answering.question import matches_kind

    question = analyse("How big is Lakeview State's research farm?", linker)
    assert question.kind == "measure" and question.valued
    assert "big" not in question.focus and {"research", "farm"} <= set(question.focus)
    assert matches_kind("Students use a 600-acre research farm.", "measure")
    assert matches_kind("Awards range from $8,000 to $24,000 a year.", "measure")  # "how big are the awards?"
    assert not matches_kind("Students use a large research farm.", "measure")


@pytest.mark.parametrize(
    ("text", "earners"),
    [
        ("How much do urban planners earn?", ("urban", "planners")),
        ("What do school counselors make?", ("school", "counselors")),
        ("What is the salary of a data scientist in Ohio?", ("data", "scientist")),  # the place is not who
        ("What do logisticians in manufacturing earn?", ("logisticians",)),
        ("What do AI master's graduates earn?", ()),  # degree words, initials and "graduates" say nothing of who
        ("How much do HR managers earn?", ("managers",)),  # initials a page may spell out ("human resources")
        ("What do graduates earn?", ()),
        ("How much does the program cost?", ()),  # not a pay question
    ],
)
def test_who_a_pay_question_is_about(text, earners):
    assert analyse(text).earners == earners


@pytest.mark.parametrize(
    ("text", "earners", "asked"),
    [
        ("What's the job outlook for geologists?", ("geologists",), "job outlook"),
        ("Is there much demand for dental hygienists in Maine?", ("dental", "hygienists"), "job outlook"),
        ("What are the job prospects for graduates?", (), "job outlook"),  # people in general
        ("What is the pay of a dental hygienist?", ("dental", "hygienist"), "pay"),
    ],
)
def test_whose_outlook_a_question_asks(text, earners, asked):
    question = analyse(text)
    assert (question.earners, question.asked_of_earners) == (earners, asked)


def test_verbs_that_carry_the_question_are_not_its_topic(linker):
    assert analyse("What happens in Lakeview State's capstone?", linker).focus == ("capston",)
    assert "use" not in analyse("What software do Lakeview State robotics students use?", linker).focus
    # A date question names its kind with "deadline" (the page may say "apply by January 15"); the detail stays.
    question = analyse("When is the spring application deadline for Lakeview State?", linker)
    assert question.kind == "date" and set(question.focus) == {"spring", "applic"}


def test_minutes_are_a_duration():
    from server.answering.question import matches_kind

    assert matches_kind("Recorded auditions should be 20 to 30 minutes long.", "duration")


def test_a_question_asking_two_things_is_split_in_two():
    from server.answering.question import compound_parts

    assert compound_parts("What's the median salary, and what can senior engineers earn?") == [
        "What's the median salary?",
        "what can senior engineers earn?",
    ]
    assert compound_parts("How much is tuition and how long is the program?") == [
        "How much is tuition?",
        "how long is the program?",
    ]
    assert compound_parts("What are the research and teaching assistantships?") == [
        "What are the research and teaching assistantships?"
    ]


def test_quantifiers_are_not_what_is_asked_about():
    question = analyse("Which single course is required of everyone?")
    assert set(question.focus) == {"cours", "requir"}


def test_more_synonyms_of_the_domain():
    stems = lambda text: set(content_tokens(text))  # noqa: E731
    assert covers("big", stems("How large is the entering class?"))
    assert covers("incom", stems("How large is the entering class?"))
    assert covers("aid", stems("Financial support: a TEACH Grant of up to $4,000"))


def test_an_abbreviation_does_not_end_the_asking_sentence():
    message = "Do FAU's and St. Cloud State's programs require the GRE?"
    assert asking_sentences(message) == [message]
    assert dict(name_spans(message)) == {"FAU": True, "St. Cloud State": True, "GRE": False}


def test_after_a_colon_the_question_is_the_part_that_asks():
    # The part after the colon asks: it says what kind of answer is wanted.
    assert analyse("Back to Lakeview State: when is the spring deadline?").kind == "date"
    # The part after the colon only lists the options the question before it weighs.
    assert analyse("Which robotics MS has the earlier fall deadline: Lakeview State's or Harbor Tech's?").kind == "date"


def test_a_sum_asked_how_much_may_be_answered_by_a_share():
    from server.answering.question import analyse, matches_kind

    question = analyse("How much does tuition usually go up each year?")
    assert question.kind == "money"
    assert matches_kind("The board raises tuition by about 4% each year.", question.kind)
    assert matches_kind("Out-of-region students pay 175 percent of the resident rate.", question.kind)
    assert not matches_kind("Tuition is set each spring by the board.", question.kind)


def test_a_term_answers_when():
    assert matches_kind("New students are admitted in the spring term only.", "date")
    assert matches_kind("Cohorts start each Autumn.", "date")
    assert not matches_kind("Your GPA may not fall below a B average.", "date")  # "fall" as a verb


def test_word_forms_read_a_plural_as_its_singular_and_keep_other_endings():
    assert word_forms("Admissions and Employment") == {"admission", "and", "employment"}
    assert "employed" in word_forms("employed") and "employ" not in word_forms("employed")
    assert word_forms("non-thesis class") == {"non", "thesis", "class"}


@pytest.mark.parametrize(
    "text",
    [
        "Which grows faster, nursing or teaching?",
        "Which program has the earlier deadline: Ashby's or Corrin's?",
        "Is the stipend bigger for physics than for chemistry?",
        "Which costs more, the MBA or the MSF?",
    ],
)
def test_a_comparative_with_its_two_sides_is_a_comparison(text):
    assert analyse(text).compare


def test_a_comparative_without_two_sides_is_no_comparison():
    assert not analyse("Is the job market getting better for chemists?").compare
