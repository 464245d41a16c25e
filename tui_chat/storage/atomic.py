"""The one way tui-chat writes a file: temp file in the same folder, fsync, rename.

A process killed at any moment leaves either the old file or the new one, never a torn one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path

from tui_chat.storage.errors import StorageError


def atomic_write_bytes(path: Path, data: bytes, *, mode: int = 0o600, durable: bool = True) -> None:
    """Replace `path` with `data` atomically, the new file created with `mode`.

    `durable=False` skips the two fsyncs (the file and its folder): the file is still never
    torn for other processes, but a power cut may lose it. Only for a bulk import, which writes
    thousands of files whose words the source still holds and makes them durable at once at
    its end (`os.sync()`): 13 ms of fsync per file would be two minutes for 10,000."""
    path = Path(path)
    descriptor, temp_name = tempfile.mkstemp(
        prefix=f".{path.name}.", suffix=".tmp", dir=path.parent
    )
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.chmod(temp_name, mode)
        os.replace(temp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    if durable:
        _fsync_directory(path.parent)


def make_private_dir(path: Path, *, mode: int = 0o700) -> None:
    """Create `path` and any missing parents with `mode` (pathlib gives parents the umask's)."""
    path = Path(path)
    missing = []
    while not path.exists():
        missing.append(path)
        if path.parent == path:
            break
        path = path.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made by another process meanwhile
            folder.mkdir(mode=mode)


def remove_stale_temp_files(folder: Path, older_than_seconds: float) -> int:
    """Delete temp files that `atomic_write_bytes` left when its process was killed mid-write.

    Only names this module makes (`.<name>.<random>.tmp`) and only old ones, so a write in
    progress in another process is never disturbed. Returns how many were removed.
    """
    removed = 0
    cutoff = time.time() - older_than_seconds
    try:
        candidates = list(Path(folder).glob(".*.tmp"))
    except OSError:
        return 0
    for candidate in candidates:
        with contextlib.suppress(OSError):  # gone already, or not ours to remove
            if candidate.is_file() and candidate.stat().st_mtime < cutoff:
                candidate.unlink()
                removed += 1
    return removed


def delete_file(path: Path) -> bool:
    """Unlink `path`; False when it was gone already. Raises StorageError."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    except OSError as error:
        raise StorageError.from_os_error("delete", path, error) from None
    return True


def atomic_write_text(path: Path, text: str, *, mode: int = 0o600) -> None:
    """Replace `path` with UTF-8 `text` atomically."""
    atomic_write_bytes(path, text.encode("utf-8"), mode=mode)


def _fsync_directory(directory: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    if os.name != "posix":
        return
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
