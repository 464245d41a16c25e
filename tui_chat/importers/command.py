"""`tui-chat import PATH`: detection, a progress bar on a terminal, the summary, the exit code.

The command line registers the subcommand and hands over here; everything the user reads is
made here, one sentence per problem, titles made inert for the terminal.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from tui_chat.importers.detect import READERS, detect_source
from tui_chat.importers.records import (
    ImportItem,
    ReadContext,
    SourceError,
    SourceName,
    conversations,
)
from tui_chat.importers.run import Done, Importer, ImportSummary
from tui_chat.sanitize import sanitize_for_terminal
from tui_chat.storage.store import ConversationStore

EXIT_OK = 0
EXIT_FAILED = 1
# A bar only for what lasts: a quick import prints its summary and nothing else.
PROGRESS_AFTER_SECONDS = 1.0
_REDRAW_SECONDS = 0.1
_BAR_CELLS = 24


@dataclass(frozen=True)
class ImportRequest:
    """What the user asked for on the command line."""

    path: Path
    source: SourceName | None
    dry_run: bool
    as_json: bool
    profile: str  # the profile new conversations get: the user's default


def run_import(request: ImportRequest, store: ConversationStore, out: TextIO, err: TextIO) -> int:
    """Import, print the summary (or JSON), and return the exit code."""
    try:
        if not request.path.exists():
            raise SourceError(f"{request.path} does not exist.")
        source, path = (
            (request.source, request.path)
            if request.source is not None
            else detect_source(request.path)
        )
    except SourceError as error:
        print(f"tui-chat: {sanitize_for_terminal(str(error))}", file=err)
        return EXIT_FAILED
    importer = Importer(store, profile=request.profile, dry_run=request.dry_run)
    read = importer.context_for(source)
    bar = _ProgressBar(err, read) if err.isatty() and not request.as_json else None
    items: Iterator[ImportItem] = READERS[source](path, read)
    failure: SourceError | None = None
    try:
        importer.run(source, items, bar.step if bar else None)
    except SourceError as error:
        failure = error  # a source cut short: what came before it is in, and said so below
    finally:
        if bar is not None:
            bar.clear()
    if failure is not None:
        print(f"tui-chat: {sanitize_for_terminal(str(failure))}", file=err)
    summary = importer.summary
    if failure is not None and not summary.seen:
        return EXIT_FAILED
    if not request.dry_run and (summary.imported or summary.updated):
        # Listing records the new files in the index, so the next start lists them at once.
        store.list_entries()
    if request.as_json:
        out.write(json.dumps(_as_json(source, request.dry_run, summary), indent=2) + "\n")
    else:
        out.write(describe(source, request.dry_run, summary))
    return EXIT_FAILED if summary.failed or failure is not None else EXIT_OK


def describe(source: str, dry_run: bool, summary: ImportSummary) -> str:
    """The summary a person reads: counts, then each failure with its reason."""
    would = "would be " if dry_run else ""
    lines = [
        f"From {source}: {conversations(summary.seen)} read; "
        f"{len(summary.imported):,} {would}imported, {len(summary.updated):,} {would}updated "
        f"({sum(d.new_messages for d in summary.updated):,} new messages), "
        f"{summary.present:,} already present, {len(summary.failed):,} failed."
    ]
    for failure in summary.failed:
        name = f"“{_inert(failure.title)}” ({_inert(failure.source_id)})"
        lines.append(f"  failed: {name}: {_inert(failure.reason)}")
    if dry_run:
        lines.append("Dry run: nothing was written.")
    return "\n".join(lines) + "\n"


def _inert(text: str) -> str:
    return sanitize_for_terminal(" ".join(text.split()))


def _as_json(source: str, dry_run: bool, summary: ImportSummary) -> dict[str, object]:
    def done(item: Done) -> dict[str, object]:
        return {
            "source_id": item.source_id,
            "id": item.conversation_id,
            "title": item.title,
            "new_messages": item.new_messages,
        }

    return {
        "source": source,
        "dry_run": dry_run,
        "imported": [done(d) for d in summary.imported],
        "updated": [done(d) for d in summary.updated],
        "already_present": summary.present,
        "failed": [
            {"source_id": f.source_id, "title": f.title, "reason": f.reason} for f in summary.failed
        ],
    }


class _ProgressBar:
    """One line on stderr, redrawn at most ten times a second once the import has run for a
    second: a bar of the share of the source read, and the conversations so far."""

    def __init__(self, err: TextIO, read: ReadContext) -> None:
        self.err = err
        self.read = read
        self.started = time.monotonic()
        self.drawn_at = 0.0
        self.count = 0
        self.shown = False

    def step(self) -> None:
        self.count += 1
        now = time.monotonic()
        if now - self.started < PROGRESS_AFTER_SECONDS or now - self.drawn_at < _REDRAW_SECONDS:
            return
        self.drawn_at = now
        self.shown = True
        fraction = self.read.fraction or 0.0
        filled = round(fraction * _BAR_CELLS)
        bar = "█" * filled + "░" * (_BAR_CELLS - filled)
        self.err.write(f"\r\x1b[2KImporting ▕{bar}▏ {fraction:4.0%}  {conversations(self.count)}")
        self.err.flush()

    def clear(self) -> None:
        if self.shown:
            self.err.write("\r\x1b[2K")
            self.err.flush()
