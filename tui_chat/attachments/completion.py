"""What an `@` prefix in the composer could complete to: files and folders, found fast.

Only the one folder the prefix points into is listed (never a walk into subfolders), with
`os.scandir`, which gives each entry's type without a `stat` per file; a listing stops after
`MAX_SCANNED` entries so a folder of millions cannot hold the caller up.
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# How many matches are offered, and how many entries of one folder are looked at at most.
MAX_COMPLETIONS = 200
MAX_SCANNED = 100_000


@dataclass(frozen=True)
class Completion:
    """One file or folder the prefix could become; `text` is what replaces the prefix (a
    folder's ends in `/`, so accepting it lists the folder next)."""

    text: str
    is_folder: bool


def list_completions(prefix: str, cwd: Path, *, limit: int = MAX_COMPLETIONS) -> list[Completion]:
    """Files and folders whose path starts with `prefix` (relative to `cwd`, or under `~/`,
    or absolute), folders first, then by name (case aside), at most `limit`.

    Hidden entries are offered only when the name typed so far starts with `.`. Matching is
    case-sensitive first; when nothing matches, case-insensitively. Folders that cannot be
    listed give no completions, never an error.
    """
    folder_part, _, typed = prefix.rpartition("/")
    if "/" in prefix:
        folder_part += "/"
    folder = Path(cwd) / os.path.expanduser(folder_part) if folder_part else Path(cwd)
    show_hidden = typed.startswith(".")
    typed_folded = typed.casefold()
    # (is a file, name folded, name, is a folder): sorts folders first, then by name.
    exact: list[tuple[bool, str, str, bool]] = []
    folded: list[tuple[bool, str, str, bool]] = []
    try:
        with os.scandir(folder) as entries:
            for entry in _entries(entries, show_hidden):
                name_folded = entry.name.casefold()
                if entry.name.startswith(typed):
                    target = exact
                elif name_folded.startswith(typed_folded):
                    target = folded
                else:
                    continue
                is_folder = _is_folder(entry)
                target.append((not is_folder, name_folded, entry.name, is_folder))
    except OSError:
        return []
    # The first `limit` of tens of thousands without sorting them all.
    best = heapq.nsmallest(limit, exact or folded)
    return [
        Completion(folder_part + name + "/" * is_folder, is_folder) for *_, name, is_folder in best
    ]


def _entries(entries: Iterator[os.DirEntry[str]], show_hidden: bool) -> Iterator[os.DirEntry[str]]:
    """At most MAX_SCANNED entries; hidden ones only when asked for."""
    for scanned, entry in enumerate(entries):
        if scanned >= MAX_SCANNED:
            return
        if show_hidden or not entry.name.startswith("."):
            yield entry


def _is_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()  # follows symlinks: a link to a folder lists like one
    except OSError:
        return False
