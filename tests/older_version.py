"""Run an older tui-chat's file code on a file, to prove it keeps keys it does not know."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent


def resave_with_older_version(commit: str, file: Path, work: Path, unknown_key: str) -> None:
    """Load `file` with the reader of tui-chat at `commit`, retitle it and save it with that
    version's writer, as it does after any change. `unknown_key` is a message key the older
    version must not know (checked, so the test cannot pass by running the new code)."""
    older = work / "older"
    older.mkdir()
    archive = subprocess.run(
        ["git", "-C", str(REPOSITORY), "archive", commit, "tui_chat"],
        capture_output=True,
        check=True,
    )
    subprocess.run(["tar", "-x", "-C", str(older)], input=archive.stdout, check=True)
    resave = (
        "import sys; from pathlib import Path\n"
        "from tui_chat.storage.toml_read import conversation_from_toml\n"
        "from tui_chat.storage.toml_write import conversation_to_toml\n"
        "from tui_chat.storage.toml_format import MESSAGE_KEYS\n"
        "assert sys.argv[2] not in MESSAGE_KEYS, 'not the older version'\n"
        "path = Path(sys.argv[1])\n"
        "conv = conversation_from_toml(path.read_text(encoding='utf-8'), path)\n"
        "conv.title = 'renamed by the older version'\n"
        "path.write_text(conversation_to_toml(conv), encoding='utf-8')\n"
    )
    subprocess.run(
        [sys.executable, "-c", resave, str(file), unknown_key],
        cwd=older,
        env={**os.environ, "PYTHONPATH": str(older)},
        check=True,
        timeout=60,
    )
