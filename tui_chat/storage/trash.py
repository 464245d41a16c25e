"""The trash folder: where a deleted conversation's file waits until the trash is emptied.

A file keeps its name in the trash (`id~2`, `id~3`... when that name is taken), so restoring it
gives back the id it had. Nothing here locks or remembers what a file held: ConversationStore
calls these while it holds the folder, and forgets its snapshot of a trashed conversation.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
from pathlib import Path

from tui_chat.storage.atomic import delete_file
from tui_chat.storage.errors import ConversationNotFound, StorageError
from tui_chat.storage.index import SUFFIX, ConversationEntry, entry_from_file, scan

# `id~N`: the Nth file of one id in the trash, named so it does not replace the first.
_TRASH_CLASH = re.compile(r"^(?P<id>.+)~(?P<n>\d+)$")
# Errors from os.link on file systems without hard links (FAT, some NAS): rename instead.
_NO_LINKS = {errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EOPNOTSUPP}


def move_to_trash(source: Path, trash_folder: Path, conversation_id: str) -> str:
    """Move `source` into the trash; returns its name there (its id, or `id~N`)."""
    target = _free_name(trash_folder, conversation_id)
    _move(source, target, "move to the trash")
    return target.stem


def find_trashed(trash_folder: Path, trashed_id: str) -> Path:
    """The trashed file named `trashed_id`, or else the latest trashed copy of the conversation
    with that original id. Raises ConversationNotFound."""
    exact = trash_folder / f"{trashed_id}{SUFFIX}"
    if exact.exists():
        return exact
    clashes = [
        trash_folder / name
        for name, _ in scan(trash_folder)
        if (m := _TRASH_CLASH.match(name[: -len(SUFFIX)])) and m.group("id") == trashed_id
    ]
    if not clashes:
        raise ConversationNotFound(trashed_id, "the trash")
    return max(clashes, key=lambda p: p.stat().st_ctime_ns)


def move_out_of_trash(source: Path, folder: Path) -> str:
    """Move a trashed file back into `folder` under its original id (or `id~N` if that is taken
    meanwhile); returns the conversation id it has now."""
    match = _TRASH_CLASH.match(source.stem)
    wanted = match.group("id") if match else source.stem
    target = _free_name(folder, wanted)
    _move(source, target, "restore")
    return target.stem


def trashed_entries(trash_folder: Path) -> list[ConversationEntry]:
    """Trashed conversations (id = name in the trash), most recently trashed first."""
    found = [entry_from_file(trash_folder / name) for name, _ in scan(trash_folder)]
    ctimes = {}
    for entry in found:
        with contextlib.suppress(OSError):
            ctimes[entry.id] = entry.path.stat().st_ctime_ns
    return sorted(found, key=lambda e: -ctimes.get(e.id, 0))


def count_trashed(trash_folder: Path) -> int:
    """How many files the trash holds, from their names alone (no file is read)."""
    return sum(1 for _ in scan(trash_folder))


def delete_trashed_files(trash_folder: Path) -> int:
    """Delete every trashed file for good (the only place the store unlinks); returns how
    many."""
    return sum(delete_file(trash_folder / name) for name, _ in list(scan(trash_folder)))


def _free_name(folder: Path, conversation_id: str) -> Path:
    target = folder / f"{conversation_id}{SUFFIX}"
    number = 2
    while target.exists():
        target = folder / f"{conversation_id}~{number}{SUFFIX}"
        number += 1
    return target


def _move(source: Path, target: Path, action: str) -> None:
    try:
        # link + unlink never replaces a file that appeared at `target` meanwhile.
        os.link(source, target)
        os.unlink(source)
    except FileExistsError:
        raise StorageError(f"Could not {action} {source}: {target} appeared meanwhile.") from None
    except OSError as link_error:
        if not target.exists() and source.exists() and link_error.errno in _NO_LINKS:
            try:
                os.rename(source, target)
                return
            except OSError as error:
                raise StorageError.from_os_error(action, source, error) from None
        raise StorageError.from_os_error(action, source, link_error) from None
