"""Read documents of each supported format into blocks, with their metadata.

Metadata (title, source, kind) comes from YAML front matter at the top of a text or markdown file,
or from a sidecar ``NAME.meta.yaml`` beside any file; without either, the title falls back to the
first heading, then to the file name.
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

import yaml

from .blocks import Block, ParsedDocument
from .errors import DocumentError
from .textclean import parse_text

logger = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".md", ".markdown"}
HTML_SUFFIXES = {".html", ".htm"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | {".pdf", ".docx"}
SIDECAR_SUFFIX = ".meta.yaml"
MAX_LINE_CHARS = 200_000  # a longer "line" is data or an attack, not prose
MAX_DOCX_UNCOMPRESSED = 200 * 1024 * 1024  # zip bombs: refuse before python-docx inflates them
FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)


def is_sidecar(path: Path) -> bool:
    return path.name.endswith(SIDECAR_SUFFIX)


def doc_id_for(relative: Path) -> str:
    """The one rule for a document's identity: its path inside the corpus, lower case, dashes, no extension.

    Builds, uploads and deletes all use it; two files that map to the same id collide and the later one is
    refused (see ``build.scan_corpus`` and the upload check). Front matter cannot change it.
    """
    stem = relative.with_suffix("").as_posix()
    return re.sub(r"[^a-z0-9]+", "-", stem.lower()).strip("-") or "document"


def content_hash(data: bytes, meta: dict) -> str:
    digest = hashlib.sha256(data)
    digest.update(repr(sorted(meta.items())).encode())
    return digest.hexdigest()


def _sidecar_meta(path: Path) -> dict:
    sidecar = path.with_name(path.name + SIDECAR_SUFFIX)
    if not sidecar.is_file():
        return {}
    try:
        meta = yaml.safe_load(sidecar.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise DocumentError(f"{sidecar.name}: metadata is not valid YAML ({exc})") from exc
    if not isinstance(meta, dict):
        raise DocumentError(f"{sidecar.name}: metadata must be a mapping of title/source/kind")
    return meta


def _decode(data: bytes, name: str) -> str:
    if b"\x00" in data[:8192]:
        raise DocumentError(f"{name}: looks like binary data, not text; skipped")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
        logger.warning("%s: not valid UTF-8; read as Windows-1252", name)
        return text


def _split_front_matter(text: str, name: str) -> tuple[dict, str]:
    m = FRONT_MATTER.match(text)
    if not m:
        return {}, text
    try:
        meta = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as exc:
        raise DocumentError(f"{name}: front matter is not valid YAML ({exc})") from exc
    if not isinstance(meta, dict):
        meta = {}
    return meta, text[m.end() :]


def _html_blocks(html: str) -> tuple[list[Block], str | None]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(html, "html.parser")
    page_title = soup.title.get_text(" ", strip=True) if soup.title else None
    for tag in soup(["script", "style", "noscript", "nav", "header", "footer", "aside", "form", "template", "svg"]):
        tag.decompose()
    blocks: list[Block] = []
    headers: dict[int, tuple[str, ...]] = {}  # each table's column names, from its header row
    body = soup.body or soup
    for el in body.find_all(["h1", "h2", "h3", "h4", "h5", "h6", "p", "li", "tr", "dt", "dd", "pre", "blockquote"]):
        if el.find_parent(["li", "p", "tr", "pre", "blockquote"]) is not None and el.name not in ("tr",):
            continue  # nested: its text is part of the enclosing block
        text = re.sub(r"\s+", " ", el.get_text(" ", strip=True)).strip()
        if not text:
            continue
        if el.name.startswith("h"):
            blocks.append(Block("heading", text, level=int(el.name[1])))
        elif el.name == "tr":
            found = [c for c in el.find_all(["td", "th"]) if c.get_text(strip=True)]
            cells = [re.sub(r"\s+", " ", c.get_text(" ", strip=True)) for c in found]
            if not cells:
                continue
            table = id(el.find_parent("table"))
            header = headers.get(table, ())
            if all(c.name == "th" for c in found):
                headers[table], header = tuple(cells), ()  # a header row names the columns of the rows under it
            blocks.append(Block("row", " | ".join(cells), header=header if len(header) == len(cells) else ()))
        elif el.name == "li":
            blocks.append(Block("item", text))
        else:
            blocks.append(Block("para", text))
    if not blocks:  # pages of bare text in divs
        blocks = parse_text(body.get_text("\n"))
    return blocks, page_title


def _pdf_blocks(path: Path, max_pages: int) -> list[Block]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    raise DocumentError(f"{path.name}: PDF is encrypted; skipped")
            except Exception as exc:  # noqa: BLE001 - pypdf raises several types here
                raise DocumentError(f"{path.name}: PDF is encrypted; skipped") from exc
        if len(reader.pages) > max_pages:
            raise DocumentError(f"{path.name}: PDF has {len(reader.pages)} pages, over the limit of {max_pages}")
        blocks: list[Block] = []
        for number, page in enumerate(reader.pages, start=1):
            blocks.extend(parse_text(page.extract_text() or "", page=number))
        return blocks
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as exc:
        raise DocumentError(f"{path.name}: unreadable PDF ({exc}); skipped") from exc


def _docx_blocks(path: Path) -> tuple[list[Block], str | None]:
    import zipfile

    import docx

    try:
        with zipfile.ZipFile(path) as archive:
            inflated = sum(info.file_size for info in archive.infolist())
        if inflated > MAX_DOCX_UNCOMPRESSED:
            raise DocumentError(
                f"{path.name}: DOCX would inflate to {inflated / 1e6:.0f} MB (limit {MAX_DOCX_UNCOMPRESSED / 1e6:.0f} MB); skipped"
            )
    except zipfile.BadZipFile as exc:
        raise DocumentError(f"{path.name}: unreadable DOCX ({exc}); skipped") from exc
    try:
        document = docx.Document(str(path))
    except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
        raise DocumentError(f"{path.name}: unreadable DOCX ({exc}); skipped") from exc
    except Exception as exc:  # noqa: BLE001 - python-docx raises its own package errors
        raise DocumentError(f"{path.name}: unreadable DOCX ({exc}); skipped") from exc
    blocks: list[Block] = []
    for para in document.paragraphs:
        text = re.sub(r"\s+", " ", para.text).strip()
        if not text:
            continue
        style = (para.style.name or "").lower() if para.style is not None else ""
        if style == "title":
            blocks.append(Block("heading", text, level=1))
        elif m := re.match(r"heading (\d)", style):
            blocks.append(Block("heading", text, level=int(m.group(1))))
        elif "list" in style:
            blocks.append(Block("item", text))
        else:
            blocks.append(Block("para", text))
    for table in document.tables:
        for row in table.rows:
            cells = [re.sub(r"\s+", " ", c.text).strip() for c in row.cells]
            cells = [c for i, c in enumerate(cells) if c and c not in cells[:i]]
            if cells:
                blocks.append(Block("row", " | ".join(cells)))
    core_title = document.core_properties.title or None
    return blocks, core_title


def _parsed(name: str, parse, *args):
    """A parser's result; any error it raises becomes the one-line ``DocumentError`` the upload check and the
    indexer both report (a parser library may raise its own types: pypdf's ``LimitReachedError`` on a stream
    that inflates past its limit)."""
    try:
        return parse(*args)
    except DocumentError:
        raise
    except Exception as exc:  # noqa: BLE001 - whatever the parser raises, the file is skipped with its reason
        raise DocumentError(f"{name}: could not be read ({type(exc).__name__}: {exc}); skipped") from exc


def load_document(
    path: Path, corpus_dir: Path, *, max_file_mb: float = 50.0, max_pdf_pages: int = 2000
) -> ParsedDocument:
    """Read one file into a ParsedDocument, or raise DocumentError with a one-line reason."""
    relative = path.relative_to(corpus_dir)
    name = relative.as_posix()
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise DocumentError(f"{name}: unsupported file type {suffix or '(none)'}; skipped")
    data = _read(path, name, max_file_mb)
    meta = _sidecar_meta(path)
    blocks, fallback_title, front = _blocks(path, name, suffix, data, meta, max_pdf_pages)
    meta = {**front, **meta}
    if not any(b.kind != "heading" for b in blocks):
        raise DocumentError(f"{name}: no readable text found; skipped")
    first_heading = next((b.text for b in blocks if b.kind == "heading"), None)
    title = str(meta.get("title") or fallback_title or first_heading or path.stem.replace("-", " ").replace("_", " "))
    if meta.get("doc_id") and str(meta["doc_id"]) != doc_id_for(relative):
        logger.warning("%s: front-matter doc_id %r ignored; a document's id comes from its path", name, meta["doc_id"])
    return ParsedDocument(
        doc_id=doc_id_for(relative),
        path=name,
        title=title.strip(),
        source=str(meta.get("source") or meta.get("url") or name),
        kind=str(meta.get("kind") or suffix.lstrip(".")),
        content_hash=content_hash(data, {k: str(v) for k, v in meta.items()}),
        blocks=blocks,
        aliases=parse_aliases(meta.get("aliases")),
    )


def _read(path: Path, name: str, max_file_mb: float) -> bytes:
    """The file's bytes, or DocumentError (too large, gone, unreadable, empty)."""
    try:
        size = path.stat().st_size
        if size > max_file_mb * 1024 * 1024:
            raise DocumentError(f"{name}: {size / 1e6:.1f} MB is over the {max_file_mb:g} MB limit; skipped")
        data = path.read_bytes()
    except FileNotFoundError as exc:
        raise DocumentError(f"{name}: vanished while indexing; skipped") from exc
    except PermissionError as exc:
        raise DocumentError(f"{name}: permission denied; skipped") from exc
    except IsADirectoryError as exc:
        raise DocumentError(f"{name}: is a folder; skipped") from exc
    if not data.strip():
        raise DocumentError(f"{name}: empty file; skipped")
    return data


def _blocks(
    path: Path, name: str, suffix: str, data: bytes, meta: dict, max_pdf_pages: int
) -> tuple[list[Block], str | None, dict]:
    """The blocks of a file by its type, the title its format states (HTML, DOCX), and its front matter."""
    if suffix in TEXT_SUFFIXES:
        front, text = _split_front_matter(_decode(data, name), name)
        if _looks_binary(text):
            raise DocumentError(f"{name}: looks like binary data, not text; skipped")
        longest = max((len(line) for line in text.splitlines()), default=0)
        if longest > MAX_LINE_CHARS:
            raise DocumentError(
                f"{name}: has a line of {longest:,} characters (limit {MAX_LINE_CHARS:,}); not prose; skipped"
            )
        return parse_text(text, title={**front, **meta}.get("title")), None, front
    if suffix in HTML_SUFFIXES:
        try:
            blocks, title = _html_blocks(_decode(data, name))
        except RecursionError as exc:
            raise DocumentError(f"{name}: HTML is nested too deeply to read; skipped") from exc
        return blocks, title, {}
    if suffix == ".pdf":
        return _parsed(name, _pdf_blocks, path, max_pdf_pages), None, {}
    blocks, title = _parsed(name, _docx_blocks, path)
    return blocks, title, {}


def parse_aliases(value: object) -> list[str]:
    """Front matter ``aliases:`` as a YAML list or a comma-separated string: other names of the subject."""
    if value is None:
        return []
    items = value if isinstance(value, list) else str(value).split(",")
    return [str(item).strip() for item in items if str(item).strip()][:50]


def _looks_binary(text: str) -> bool:
    """Binary garbage saved with a text extension: many control or replacement characters."""
    sample = text[:20000]
    if not sample:
        return False
    bad = sum(1 for ch in sample if ch == "\ufffd" or (ord(ch) < 32 and ch not in "\n\r\t\f"))
    return bad / len(sample) > 0.05
