"""``python -m server insights [--days N] [--json]``: the owners' report without the server (the same as
/api/insights/unanswered and /api/insights/coverage), coverage measured now over the index in service."""

from __future__ import annotations

import argparse
import json
import logging

from .settings import Settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m server insights", description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=float, default=30.0, help="the period of the unanswered questions")
    parser.add_argument("--json", action="store_true", help="print JSON: {unanswered, coverage}")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from .answering.engine import QAEngine

    engine = QAEngine(Settings())
    engine.start()
    try:
        engine.check_coverage(engine.state())
        report = {"unanswered": engine.unanswered(args.days), "coverage": engine.coverage()}
    finally:
        engine.close()
    print(json.dumps(report, indent=2, ensure_ascii=False) if args.json else text(report))
    return 0


def text(report: dict) -> str:
    """The report for a terminal: feedback, the unanswered groups, then a line per document of coverage."""
    unanswered, coverage = report["unanswered"], report["coverage"]
    fb = unanswered["feedback"]
    lines = [f"Feedback (last {unanswered['days']:g} days): helpful {fb['up']}, not helpful {fb['down']}", ""]
    lines.append(f"Questions the pages could not answer: {unanswered['total']}")
    for g in unanswered["groups"]:
        about = f"“{g['name']}” (no document)" if g["name"] else " and ".join(d["title"] for d in g["documents"])
        lines.append(f"  {g['count']:>4}  {about or 'no document named'} · {g['fact_label']}")
        lines += [f"          “{e}”" for e in g["examples"]]
    lines += ["", f"What each page answers (index {coverage['version']}): ✓ answered, ✗ not stated"]
    for doc in coverage["documents"]:
        marks = "  ".join(f"{'✓' if c['answered'] else '✗'} {c['label']}" for c in doc["cells"])
        lines.append(f"  {doc['title']} [{doc['type']}]")
        lines.append(f"      {marks}")
    return "\n".join(lines)
