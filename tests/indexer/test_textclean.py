from indexer.textclean import parse_text

PAGE = """[ Skip to content ](https://example.edu/#main)
[ All Programs](https://example.edu/programs/)
[ Apply now](https://example.edu/apply/)
# Data Science
The [Data Science](https://example.edu/ds) program trains analysts for industry.
Overview
Admissions
Costs
Campus Location Boston
Duration
2 Year(s)
Overview
Admissions
Costs
  * [ Overview ](https://example.edu/#overview)
  * [ Admissions ](https://example.edu/#admissions)
Overview
## Why study here
The program has small classes and strong industry partners in the city.
The program has small classes and strong industry partners in the city.
#### Fall Entry
Early Action | December 1
---|---
Domestic applicants | August 1
Related Articles
Some other article thumbnail
"""


def test_navigation_and_boilerplate_are_dropped_and_link_text_kept():
    blocks = parse_text(PAGE)
    text = "\n".join(b.text for b in blocks)
    assert "Skip to content" not in text and "Apply now" not in text and "All Programs" not in text
    assert "https://" not in text
    assert "The Data Science program trains analysts for industry." in text
    assert "Some other article" not in text  # footer after "Related Articles" is cut


def test_repeated_menu_runs_are_removed_but_real_heading_kept():
    blocks = parse_text(PAGE)
    texts = [b.text for b in blocks]
    assert texts.count("Admissions") == 0
    headings = [b.text for b in blocks if b.kind == "heading"]
    assert "Overview" in headings and "Why study here" in headings and "Fall Entry" in headings


def test_duplicate_paragraph_dropped():
    blocks = parse_text(PAGE)
    assert sum("small classes" in b.text for b in blocks) == 1


def test_tables_and_label_value_runs():
    blocks = parse_text(PAGE)
    rows = [b.text for b in blocks if b.kind == "row"]
    assert rows == ["Early Action | December 1", "Domestic applicants | August 1"]
    kv = [b.text for b in blocks if b.kind == "kv"]
    assert kv and "Duration\n2 Year(s)" in kv[0]


def test_question_lines_become_headings_and_wrapped_lines_join():
    text = "What does it cost?\n\nThe program costs a lot of money and\ntakes two years to finish.\n"
    blocks = parse_text(text)
    assert blocks[0].kind == "heading" and blocks[0].text == "What does it cost?"
    assert blocks[1].kind == "para"
    assert blocks[1].text == "The program costs a lot of money and takes two years to finish."


def test_a_numbered_faq_question_heads_its_answer_but_a_list_of_questions_stays_a_list():
    text = (
        "Common questions\n\n1. Can I study part time?\n   • Yes, most students take two courses a term.\n"
        "2. Is housing offered?\n   • Only in the first year.\n\nAsk yourself before you apply:\n"
        "- Do I enjoy field work?\n- Can I relocate?\n\nThe programme suits people who travel.\n"
    )
    blocks = parse_text(text)
    headings = [b.text for b in blocks if b.kind == "heading"]
    assert headings[1:3] == ["Can I study part time?", "Is housing offered?"]
    items = [b.text for b in blocks if b.kind == "item"]
    assert items[:2] == ["Yes, most students take two courses a term.", "Only in the first year."]
    assert "Do I enjoy field work?" in items and "Can I relocate?" in items


def test_a_line_stating_a_value_is_not_taken_for_a_heading():
    text = (
        "How to Apply\nSpring\nPriority Deadline: March 3\n\nSend every document through the portal.\n\n"
        "Optional Costs\nStudio Fee – $40 – $90 per term\n\nFees are billed with tuition.\n\n"
        "Visiting Scholars\nOpen House\n\nCome and meet the faculty in the spring.\n"
    )
    blocks = parse_text(text)
    headings = [b.text for b in blocks if b.kind == "heading"]
    assert "Priority Deadline: March 3" not in headings and "Studio Fee – $40 – $90 per term" not in headings
    assert "Open House" in headings  # a plain label over a paragraph still opens a section
    body = "\n".join(b.text for b in blocks if b.kind != "heading")
    assert "Priority Deadline: March 3" in body and "Studio Fee – $40 – $90 per term" in body


def test_a_table_with_a_header_row_names_each_value_by_its_column():
    text = (
        "Wage estimates:\n\nHeadcount (1) | Mean hourly pay |\nMean yearly pay (2) |\n---|---|---|\n"
        "48,210 | $31.20 | $64,900 |\n\nIntake dates:\n\nEarly Round | November 3\n---|---\nLate Round | March 9\n"
    )
    blocks = parse_text(text)
    rows = [b for b in blocks if b.kind == "row"]
    named = [b for b in rows if b.header]
    assert [b.header for b in named] == [("Headcount", "Mean hourly pay", "Mean yearly pay")]
    assert named[0].text == "48,210 | $31.20 | $64,900"
    # The header lines head the table as one line of column names: no row of data to quote.
    assert "Headcount | Mean hourly pay | Mean yearly pay" in [b.text for b in blocks if b.kind == "heading"]
    assert not [b for b in rows if "Headcount" in b.text]
    # A first row of data over the separator reads like the row under it: no column names, and it stays a row.
    assert not [b for b in rows if "Late Round" in b.text][0].header
    assert [b for b in rows if "Early Round" in b.text]


def test_a_table_saved_a_cell_per_line_becomes_rows_with_column_names():
    cells = ["Percentile", "10%", "50% (Median)", "90%", "Hourly Pay", "$14.10", "$22.80", "$41.05"]
    cells += ["Yearly Pay (2)", "$29,330", "$47,420", "$85,380"]
    text = "Pay by percentile:\n" + "\n".join(f"{c} |" for c in cells) + "\nSource: a survey of employers.\n"
    rows = [b for b in parse_text(text) if b.kind == "row"]
    assert [b.text for b in rows] == [
        "Percentile | 10% | 50% (Median) | 90% |",
        "Hourly Pay | $14.10 | $22.80 | $41.05 |",
        "Yearly Pay (2) | $29,330 | $47,420 | $85,380 |",
    ]
    assert rows[2].header == ("Percentile", "10%", "50% (Median)", "90%")


def test_a_long_run_of_cell_lines_that_is_no_table_is_read_once(monkeypatch):
    # Each start inside the run was tried again before: a page of such lines took minutes to parse.
    import indexer.textclean as textclean

    calls = []
    as_rows = textclean._as_rows
    monkeypatch.setattr(textclean, "_as_rows", lambda cells: calls.append(len(cells)) or as_rows(cells))
    blocks = parse_text("\n".join(f"word{i} |" for i in range(500)))
    assert calls == [500]
    assert sum(b.text.count("word") for b in blocks) == 500  # every line kept


def test_lines_of_layout_marks_only_are_dropped():
    # A saved catalog page keeps the "|" cells of its empty layout table, each on a line of its own.
    text = "|\n|\nAdmission Requirements\n|\nApplicants need a bachelor's degree and a 3.0 GPA.\n|\n"
    blocks = parse_text(text)
    assert [b.text for b in blocks] == ["Admission Requirements", "Applicants need a bachelor's degree and a 3.0 GPA."]


def test_a_line_after_one_stating_its_own_value_heads_what_follows():
    # A flattened table: each occupation's row ends with its pay, then the next occupation's name.
    text = (
        "Surveyors measure land.\n\nAssociate's degree $68,540\nmap-makers Cartographers\n\n"
        "Cartographers draw maps from survey data.\n"
    )
    blocks = parse_text(text)
    assert ("para", "Associate's degree $68,540") in [(b.kind, b.text) for b in blocks]
    assert ("heading", "map-makers Cartographers") in [(b.kind, b.text) for b in blocks]
