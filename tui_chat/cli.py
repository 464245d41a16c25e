"""The `tui-chat` command: starts the app, or runs one of the small file commands.

Every user error (unknown id, broken file, unwritable folder) is one sentence on stderr and a
non-zero exit code, never a traceback. Config problems are warnings: the command still runs on
defaults.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TextIO

from tui_chat import __version__
from tui_chat.config import Config, load_config
from tui_chat.export import to_json, to_markdown
from tui_chat.importers.command import ImportRequest, run_import
from tui_chat.importers.records import SOURCES, conversations
from tui_chat.paths import AppPaths, resolve_paths
from tui_chat.sanitize import sanitize_for_terminal
from tui_chat.shell.commands import (
    SHELL_COMMANDS,
    add_shell_commands,
    open_app,
    run_shell_command,
    take_prompt_words,
)
from tui_chat.storage.errors import (
    ConversationFileError,
    ConversationNotFound,
    InvalidConversationId,
    StorageError,
)
from tui_chat.storage.index import ConversationEntry
from tui_chat.storage.store import ConversationStore, id_typed_by_user
from tui_chat.ui.actions import ACTION_IDS  # plain data: no Textual import
from tui_chat.user_error import UserError

EXIT_OK = 0
EXIT_ERROR = 1


def _global_options(parser: argparse.ArgumentParser, *, suppress: bool) -> None:
    """--data-dir and --config, accepted before or after the subcommand.

    On subcommands the default is SUPPRESS, so a value given before the subcommand is not reset.
    """
    default = argparse.SUPPRESS if suppress else None
    parser.add_argument(
        "--data-dir",
        metavar="DIR",
        default=default,
        help="where conversations, trash and cache live (env TUI_CHAT_DATA_DIR)",
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=default,
        help="the config file to read (env TUI_CHAT_CONFIG)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tui-chat",
        description=(
            "A keyboard-first terminal chat client for OpenAI and OpenAI-compatible servers. "
            "With no command, starts the app."
        ),
    )
    parser.add_argument("--version", action="version", version=f"tui-chat {__version__}")
    parser.add_argument(
        "-c",
        "--continue",
        dest="open_latest",
        action="store_true",
        help="start the app on the most recently updated conversation",
    )
    _global_options(parser, suppress=False)
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        _global_options(sub, suppress=True)
        return sub

    listing = command("list", "list conversations: id, updated, messages, model, title")
    listing.add_argument("--json", action="store_true", help="one JSON array, for scripts")

    export = command("export", "print one conversation to stdout")
    export.add_argument("id", help="the conversation id (see `tui-chat list`)")
    export.add_argument("--format", choices=("markdown", "json"), default="markdown")

    importing = command(
        "import", "import conversations from a ChatGPT export, Elia, oterm, llm or aichat"
    )
    importing.add_argument("path", help="the export, database, session file or sessions folder")
    importing.add_argument(
        "--from", dest="source", choices=SOURCES, help="the tool that wrote PATH (default: detect)"
    )
    importing.add_argument("--dry-run", action="store_true", help="say what would happen only")
    importing.add_argument("--json", action="store_true", help="the summary as JSON")

    command("paths", "show where config, conversations, trash and cache live")
    command("stats", "count conversations, messages, tokens and all-time spend")

    trash = command("trash", "list, restore or empty the trash")
    actions = trash.add_subparsers(dest="trash_action", metavar="ACTION", required=True)
    _global_options(actions.add_parser("list", help="list trashed conversations"), suppress=True)
    empty = actions.add_parser(
        "empty", help="delete them for good (asks first on a terminal; --yes does not ask)"
    )
    _global_options(empty, suppress=True)
    empty.add_argument("--yes", action="store_true", help="do not ask for a confirmation")
    restore = actions.add_parser("restore", help="move one back to the conversations")
    _global_options(restore, suppress=True)
    restore.add_argument("id", help="its name in the trash (see `tui-chat trash list`)")
    add_shell_commands(command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    if take_prompt_words(args, extra):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    paths = resolve_paths(data_dir=args.data_dir, config_file=args.config)
    config, problems = load_config(paths.config_file, action_ids=ACTION_IDS)
    opens_app = args.command in (None, "open")
    if not opens_app:  # the app shows them itself
        for problem in problems:
            print(f"tui-chat: warning: {sanitize_for_terminal(str(problem))}", file=sys.stderr)
    try:
        if opens_app:
            return open_app(args, paths, config, problems)
        if args.command in SHELL_COMMANDS:
            return run_shell_command(args, paths, config, problems)
        return _run(args, paths, config)
    except UserError as error:
        print(f"tui-chat: {sanitize_for_terminal(str(error))}", file=sys.stderr)
        return EXIT_ERROR
    except (
        ConversationFileError,
        ConversationNotFound,
        InvalidConversationId,
        StorageError,
    ) as error:
        print(f"tui-chat: {_sentence(str(error))}", file=sys.stderr)
        return EXIT_ERROR
    except BrokenPipeError:
        # `tui-chat list | head`: the reader went away, which is not an error of ours.
        sys.stderr.close()
        return EXIT_OK


def _sentence(text: str) -> str:
    # Errors quote file names, which another program (a sync, a git pull) may have chosen.
    text = " ".join(sanitize_for_terminal(text).split())
    return text if text.endswith((".", "!", "?")) else text + "."


def _run(args: argparse.Namespace, paths: AppPaths, config: Config) -> int:
    store = ConversationStore(paths)
    out = sys.stdout
    if args.command == "list":
        entries = store.list_entries()
        if args.json:
            out.write(json.dumps([_entry_json(e) for e in entries], indent=2) + "\n")
        else:
            _print_table(entries, out)
    elif args.command == "export":
        conv, _ = store.read_entry(id_typed_by_user(args.id))
        text = to_markdown(conv) if args.format == "markdown" else to_json(conv)
        out.write(_for_terminal(text, out))
    elif args.command == "paths":
        for label, path in (
            ("config file", paths.config_file),
            ("data", paths.data_dir),
            ("conversations", paths.conversations_dir),
            ("trash", paths.trash_dir),
            ("drafts", paths.drafts_dir),
            ("attachments", paths.attachments_dir),
            ("exports", paths.exports_dir),
            ("cache", paths.cache_dir),
            ("user themes", paths.user_themes_dir),
        ):
            out.write(f"{label + ':':15}{path}\n")
    elif args.command == "stats":
        stats = store.stats()
        out.write(f"conversations:    {stats.conversations}\n")
        out.write(f"messages:         {stats.messages}\n")
        out.write(f"tokens:           {stats.total_tokens}\n")
        out.write(f"spend (all time): {stats.spend.describe()}\n")
        if stats.broken_files:
            out.write(f"files that cannot be read: {stats.broken_files} (see `tui-chat list`)\n")
    elif args.command == "trash":
        return _trash(args, store, out)
    elif args.command == "import":
        request = ImportRequest(
            Path(args.path), args.source, args.dry_run, args.json, config.profile().name
        )
        return run_import(request, store, out, sys.stderr)
    return EXIT_OK


def _trash(args: argparse.Namespace, store: ConversationStore, out: TextIO) -> int:
    if args.trash_action == "list":
        _print_table(store.list_trash(), out)
    elif args.trash_action == "restore":
        restored = store.restore(id_typed_by_user(args.id))
        out.write(f"Restored as {restored}.\n")
    elif args.trash_action == "empty":
        trashed = store.count_trash()
        if (
            trashed
            and not args.yes
            and not _confirmed(f"Delete {conversations(trashed)} for good?")
        ):
            out.write("Nothing deleted.\n")
            return EXIT_ERROR
        # Also with nothing in the trash: images attached but never sent go once unused.
        emptied = store.empty_trash()
        deleted = [conversations(emptied.conversations)] if trashed else []
        if emptied.images:
            deleted.append(f"{emptied.images} unused image" + "s" * (emptied.images > 1))
        out.write(
            f"Deleted {' and '.join(deleted)} for good.\n" if deleted else "The trash is empty.\n"
        )
    return EXIT_OK


def _confirmed(question: str) -> bool:
    """Ask on the terminal, no by default. Without a terminal to ask on (a pipe, cron) nothing
    irreversible happens unasked: the user is told to add --yes."""
    if not sys.stdin.isatty():
        raise UserError(
            "nothing deleted: there is no terminal to confirm on, so add --yes to delete anyway."
        )
    # The question goes to stderr so that it shows even when stdout is redirected.
    print(f"{question} [y/N] ", end="", file=sys.stderr, flush=True)
    try:
        answer = sys.stdin.readline()
    except KeyboardInterrupt:  # ctrl+c at the question is a no
        print(file=sys.stderr)
        answer = ""
    return answer.strip().casefold() in ("y", "yes")


def _for_terminal(text: str, out: TextIO) -> str:
    """Exact text into a pipe or file; control sequences made inert on a terminal."""
    return sanitize_for_terminal(text) if out.isatty() else text


def _when(moment: datetime | None) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M") if moment else "?"


def _print_table(entries: list[ConversationEntry], out: TextIO) -> None:
    if not entries:
        out.write("No conversations.\n")
        return
    # An id is a file name, which may hold anything but `/`: shown inert like a title.
    ids = {entry.id: sanitize_for_terminal(" ".join(entry.id.split())) for entry in entries}
    width = max(len(shown) for shown in ids.values())
    out.write(f"{'ID':{width}}  {'UPDATED':16}  {'MSGS':>4}  {'MODEL':20}  TITLE\n")
    for entry in entries:
        shown_id = ids[entry.id]
        title = sanitize_for_terminal(" ".join(entry.display_title.split()))
        if entry.error:
            detail = sanitize_for_terminal(entry.error)
            out.write(f"{shown_id:{width}}  {_when(entry.updated):16}  BROKEN: {detail}\n")
            continue
        pin = "* " if entry.pinned else ""
        model = sanitize_for_terminal(entry.model)
        out.write(
            f"{shown_id:{width}}  {_when(entry.updated):16}  {entry.message_count:>4}  "
            f"{model:20}  {pin}{title}\n"
        )


def _entry_json(entry: ConversationEntry) -> dict[str, object]:
    return {
        "id": entry.id,
        "title": entry.title,
        "updated": entry.updated.isoformat() if entry.updated else None,
        "model": entry.model,
        "profile": entry.profile,
        "message_count": entry.message_count,
        "pinned": entry.pinned,
        "tags": list(entry.tags),
        "path": str(entry.path),
        "error": entry.error,
    }
