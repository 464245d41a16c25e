"""Where tui-chat keeps its files, per platform, with the overrides users can set."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs

APP_NAME = "tui-chat"
DATA_DIR_ENV = "TUI_CHAT_DATA_DIR"
CONFIG_FILE_ENV = "TUI_CHAT_CONFIG"


@dataclass(frozen=True)
class AppPaths:
    """The folders and files tui-chat reads and writes."""

    config_file: Path
    data_dir: Path

    @property
    def config_dir(self) -> Path:
        return self.config_file.parent

    @property
    def conversations_dir(self) -> Path:
        return self.data_dir / "conversations"

    @property
    def trash_dir(self) -> Path:
        return self.data_dir / "trash"

    @property
    def drafts_dir(self) -> Path:
        """What was typed in a composer but not sent yet, one text file per conversation."""
        return self.data_dir / "drafts"

    @property
    def exports_dir(self) -> Path:
        """Markdown exports written from the app, one file per conversation id."""
        return self.data_dir / "exports"

    @property
    def attachments_dir(self) -> Path:
        """Attached images, one file per content (`<sha256>.<ext>`), referenced by conversations."""
        return self.data_dir / "attachments"

    @property
    def cache_dir(self) -> Path:
        """Rebuildable caches (the conversation index): safe to delete at any time."""
        return self.data_dir / "cache"

    @property
    def user_themes_dir(self) -> Path:
        return self.config_dir / "themes"


def resolve_paths(
    *, data_dir: str | Path | None = None, config_file: str | Path | None = None
) -> AppPaths:
    """Command-line options win over environment variables, which win over platform defaults."""
    chosen_data = data_dir or os.environ.get(DATA_DIR_ENV) or platformdirs.user_data_dir(APP_NAME)
    chosen_config = (
        config_file
        or os.environ.get(CONFIG_FILE_ENV)
        or Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"
    )
    return AppPaths(
        config_file=Path(chosen_config).expanduser(),
        data_dir=Path(chosen_data).expanduser(),
    )
