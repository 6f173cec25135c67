import zipfile
from pathlib import Path

import pytest

from indexer.errors import DocumentError
from indexer.loaders import load_document


def minimal_pdf(pages: list[str]) -> bytes:
    """A tiny valid PDF with one line of text per page (no PDF library needed to write it)."""
    objects = ["<< /Type /Catalog /Pages 2 0 R >>", None]
    kids = []
    for text in pages:
        content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
        page_no = len(objects) + 1
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {page_no + 1} 0 R "
            f"/Resources << /Font << /F1 {page_no + 2} 0 R >> >> >>"
        )
        objects.append(f"<< /Length {len(content)} >>\nstream\n{content.decode()}\nendstream")
        objects.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
        kids.append(f"{page_no} 0 R")
    objects[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(kids)} >>"
    out = b"%PDF-1.4\n"
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{obj}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return out


def test_front_matter_metadata(tmp_path: Path):
    f = tmp_path / "a.md"
    f.write_text(
        "---\ntitle: My Program\nsource: https://x.edu/p\nkind: program-page\n---\n# Heading\nSome text here.\n"
    )
    doc = load_document(f, tmp_path)
    assert (doc.title, doc.source, doc.kind, doc.doc_id) == ("My Program", "https://x.edu/p", "program-page", "a")


def test_title_falls_back_to_heading_then_file_name(tmp_path: Path):
    (tmp_path / "with-heading.md").write_text("# The Heading\nBody text of the document.\n")
    (tmp_path / "plain_notes.txt").write_text("just some body text without any heading at all, long enough.\n")
    assert load_document(tmp_path / "with-heading.md", tmp_path).title == "The Heading"
    assert load_document(tmp_path / "plain_notes.txt", tmp_path).title == "plain notes"


def test_sidecar_metadata(tmp_path: Path):
    (tmp_path / "page.html").write_text("<html><body><p>Hello world of programs.</p></body></html>")
    (tmp_path / "page.html.meta.yaml").write_text("title: Side Title\nsource: https://s.edu\n")
    doc = load_document(tmp_path / "page.html", tmp_path)
    assert doc.title == "Side Title" and doc.source == "https://s.edu"


def test_html_drops_scripts_and_nav(tmp_path: Path):
    (tmp_path / "p.html").write_text(
        "<html><head><title>T</title><script>alert(1)</script></head><body><nav><a>Menu</a></nav>"
        "<h1>Program</h1><p>Tuition is $10,000.</p><table><tr><td>Deadline</td><td>May 1</td></tr></table>"
        "<footer>Copyright</footer></body></html>"
    )
    doc = load_document(tmp_path / "p.html", tmp_path)
    texts = [(b.kind, b.text) for b in doc.blocks]
    assert ("heading", "Program") in texts and ("para", "Tuition is $10,000.") in texts
    assert ("row", "Deadline | May 1") in texts
    assert not any("alert" in t or "Menu" in t or "Copyright" in t for _, t in texts)


def test_pdf_keeps_page_numbers(tmp_path: Path):
    (tmp_path / "d.pdf").write_bytes(minimal_pdf(["First page talks about tuition.", "Second page covers deadlines."]))
    doc = load_document(tmp_path / "d.pdf", tmp_path)
    pages = {b.page for b in doc.blocks}
    assert pages == {1, 2}
    assert any("deadlines" in b.text and b.page == 2 for b in doc.blocks)


def test_encrypted_pdf_is_refused_clearly(tmp_path: Path):
    from pypdf import PdfReader, PdfWriter

    (tmp_path / "plain.pdf").write_bytes(minimal_pdf(["Secret text."]))
    writer = PdfWriter()
    for page in PdfReader(tmp_path / "plain.pdf").pages:
        writer.add_page(page)
    writer.encrypt("password")
    with (tmp_path / "locked.pdf").open("wb") as fh:
        writer.write(fh)
    with pytest.raises(DocumentError, match=r"locked.pdf: PDF is encrypted"):
        load_document(tmp_path / "locked.pdf", tmp_path)


def test_docx_headings_and_tables(tmp_path: Path):
    import docx

    d = docx.Document()
    d.add_heading("Costs", level=1)
    d.add_paragraph("The program costs $5,000 per term.")
    table = d.add_table(rows=1, cols=2)
    table.rows[0].cells[0].text = "Deadline"
    table.rows[0].cells[1].text = "June 1"
    d.save(tmp_path / "x.docx")
    doc = load_document(tmp_path / "x.docx", tmp_path)
    kinds = [(b.kind, b.text) for b in doc.blocks]
    assert ("heading", "Costs") in kinds and ("row", "Deadline | June 1") in kinds


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("empty.txt", b"   \n", "empty.txt: empty file"),
        ("garbage.txt", bytes(range(256)) * 40, "garbage.txt: looks like binary data"),
        ("broken.pdf", b"%PDF-1.4 not really a pdf", "broken.pdf: unreadable PDF"),
        ("broken.docx", b"PK\x03\x04 nope", "broken.docx: unreadable DOCX"),
        ("image.png", b"\x89PNG", "image.png: unsupported file type .png"),
    ],
)
def test_bad_files_give_one_line_messages(tmp_path: Path, name, data, message):
    (tmp_path / name).write_bytes(data)
    with pytest.raises(DocumentError) as err:
        load_document(tmp_path / name, tmp_path)
    assert str(err.value).startswith(message) and "\n" not in str(err.value)


def test_non_utf8_text_is_read(tmp_path: Path):
    (tmp_path / "latin.txt").write_bytes("Café tuition is €5,000 for the résumé course.".encode("cp1252"))
    doc = load_document(tmp_path / "latin.txt", tmp_path)
    assert "Café" in doc.blocks[0].text


def test_vanished_file(tmp_path: Path):
    with pytest.raises(DocumentError, match="gone.txt: vanished"):
        load_document(tmp_path / "gone.txt", tmp_path)


def test_docx_zip_bomb_like_garbage(tmp_path: Path):
    with zipfile.ZipFile(tmp_path / "z.docx", "w") as z:
        z.writestr("nothing.txt", "x")
    with pytest.raises(DocumentError, match="z.docx: unreadable DOCX"):
        load_document(tmp_path / "z.docx", tmp_path)


def test_docx_zip_bomb_is_refused_before_inflating(tmp_path: Path):
    with zipfile.ZipFile(tmp_path / "bomb.docx", "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("word/document.xml", b"\0" * (210 * 1024 * 1024))
    assert (tmp_path / "bomb.docx").stat().st_size < 1_000_000
    with pytest.raises(DocumentError, match=r"bomb.docx: DOCX would inflate to 220 MB"):
        load_document(tmp_path / "bomb.docx", tmp_path)


def test_pdf_with_thousands_of_pages_is_bounded(tmp_path: Path):
    (tmp_path / "huge.pdf").write_bytes(minimal_pdf([f"Page {i}" for i in range(2100)]))
    with pytest.raises(DocumentError, match=r"huge.pdf: PDF has 2100 pages, over the limit of 2000"):
        load_document(tmp_path / "huge.pdf", tmp_path, max_pdf_pages=2000)


def test_deeply_nested_html_is_refused_or_read(tmp_path: Path):
    (tmp_path / "deep.html").write_text("<div>" * 50_000 + "<p>Deep content about tuition.</p>" + "</div>" * 50_000)
    try:
        doc = load_document(tmp_path / "deep.html", tmp_path)
    except DocumentError as exc:
        assert str(exc) == "deep.html: HTML is nested too deeply to read; skipped"
    else:
        assert any("Deep content about tuition." in b.text for b in doc.blocks)


def test_giant_single_line_is_refused(tmp_path: Path):
    (tmp_path / "line.txt").write_text("word " * 100_000)
    with pytest.raises(DocumentError, match=r"line.txt: has a line of 500,000 characters"):
        load_document(tmp_path / "line.txt", tmp_path)


def test_oversize_file_is_skipped(tmp_path: Path):
    (tmp_path / "big.txt").write_text("Some text. " * 20_000)
    with pytest.raises(DocumentError, match=r"big.txt: 0.2 MB is over the 0.1 MB limit"):
        load_document(tmp_path / "big.txt", tmp_path, max_file_mb=0.1)


def test_a_parser_library_error_is_one_skipped_file_with_the_same_message_at_upload_and_indexer(tmp_path, monkeypatch):
    from pypdf.errors import LimitReachedError

    from indexer import loaders
    from server.api.reindex import check_upload
    from server.errors import InvalidRequest
    from server.settings import Settings

    def inflating(path, max_pages):  # what pypdf does with a stream that inflates past its limit
        raise LimitReachedError("limit reached while decompressing")

    monkeypatch.setattr(loaders, "_pdf_blocks", inflating)
    (tmp_path / "brochure.pdf").write_bytes(b"%PDF-1.4 not empty")
    with pytest.raises(DocumentError) as indexer_error:
        load_document(tmp_path / "brochure.pdf", tmp_path)
    assert str(indexer_error.value) == (
        "brochure.pdf: could not be read (LimitReachedError: limit reached while decompressing); skipped"
    )
    with pytest.raises(InvalidRequest) as upload_error:
        check_upload("brochure.pdf", b"%PDF-1.4 not empty", Settings(_env_file=None))
    assert str(upload_error.value) == str(indexer_error.value)


def test_html_table_rows_carry_the_names_of_their_columns(tmp_path: Path):
    (tmp_path / "fees.html").write_text(
        "<html><body><h1>Fees</h1><table>"
        "<tr><th>Term</th><th>Tuition</th><th>Studio fee</th></tr>"
        "<tr><td>Autumn</td><td>$7,400</td><td>$85</td></tr>"
        "<tr><th>Summer</th><td>$2,150</td><td>$40</td></tr>"
        "</table><table><tr><td>Orientation</td><td>August 20</td></tr></table></body></html>"
    )
    rows = [b for b in load_document(tmp_path / "fees.html", tmp_path).blocks if b.kind == "row"]
    assert rows[0].text == "Term | Tuition | Studio fee" and rows[0].header == ()
    assert rows[1].header == ("Term", "Tuition", "Studio fee") == rows[2].header  # a row's own label cell too
    assert rows[3].header == ()  # another table, without a header row
