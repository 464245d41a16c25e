"""The shell's subcommands of `tui-chat`: ask, search and open, declared and run.

`cli.py` registers them with `add_shell_commands` and hands their runs to `run_shell_command`;
`open_app` starts the app for `tui-chat` itself, `open`, `-c` and piped text (app_start.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import TextIO

from tui_chat.attachments.reading import DEFAULT_LIMITS
from tui_chat.attachments.sizes import format_size
from tui_chat.config import Config, ConfigProblem
from tui_chat.paths import AppPaths
from tui_chat.sanitize import sanitize_for_terminal
from tui_chat.shell.app_start import read_piped, start_app
from tui_chat.storage.search import SearchResult
from tui_chat.storage.store import ConversationStore

# Run by run_shell_command; `open` starts the app, by open_app.
SHELL_COMMANDS = ("ask", "search")


def add_shell_commands(command: Callable[[str, str], argparse.ArgumentParser]) -> None:
    """Declare ask, search and open with `command(name, help)` (cli.py's subparser factory)."""
    asking = command("ask", "send one message and print the reply as it streams, then exit")
    asking.add_argument(
        "prompt", nargs="*", help="the message (piped standard input is sent after it)"
    )
    which = asking.add_mutually_exclusive_group()
    which.add_argument(
        "-c",
        "--continue",
        dest="continue_latest",
        action="store_true",
        help="continue the most recently updated conversation",
    )
    which.add_argument("--conversation", metavar="ID", help="continue this conversation")
    asking.add_argument("-m", "--model", help="the model to ask (default: the profile's)")
    asking.add_argument("--profile", help="the profile (server) to ask, from config.toml")
    asking.add_argument("--system", metavar="TEXT", help="the system prompt for this conversation")
    asking.add_argument("--no-save", dest="save", action="store_false", help="keep nothing on disk")
    asking.add_argument(
        "-u", "--usage", action="store_true", help="then print tokens, cost and model to stderr"
    )
    asking.add_argument(
        "--attach",
        metavar="FILE",
        action="append",
        default=[],
        help="send a text file or a PNG, JPEG, GIF or WebP image with the message (repeatable; "
        f"text up to {format_size(DEFAULT_LIMITS.text_bytes)}, images up to "
        f"{format_size(DEFAULT_LIMITS.image_bytes)})",
    )
    asking.add_argument(
        "--markdown",
        action="store_true",
        help="on a terminal, show the reply rendered as Markdown as it streams (a pipe gets it "
        "exact)",
    )

    search = command("search", "find conversations whose title or messages hold QUERY")
    search.add_argument("query", help="the text to look for (case-insensitive)")
    search.add_argument("--json", action="store_true", help="one JSON array, for scripts")

    opening = command("open", "start the app on one conversation")
    opening.add_argument("id", help="the conversation id (see `tui-chat list` or `search`)")


def take_prompt_words(args: argparse.Namespace, extra: list[str]) -> bool:
    """`tui-chat ask hi -m x there`: argparse ends the prompt's words at the first option and
    leaves the words after it over (its `parse_intermixed_args` refuses a parser with
    subcommands); they are the prompt's too, in the order typed. False when `extra` is taken
    or empty; True when something is left that is not understood (an unknown option)."""
    if not extra:
        return False
    if args.command != "ask" or any(word.startswith("-") for word in extra):
        return True
    args.prompt.extend(extra)
    return False


def run_shell_command(
    args: argparse.Namespace, paths: AppPaths, config: Config, problems: list[ConfigProblem]
) -> int:
    """Run ask or search; returns the exit code. Raises UserError and storage errors, which
    cli.py says in one sentence."""
    if args.command == "ask":
        # Imported here: the flow and the engine are not needed to list or search.
        from tui_chat.shell.ask import EXIT_INTERRUPTED, AskRequest, ask

        try:
            request = AskRequest(
                prompt=" ".join(args.prompt),
                piped=read_piped(sys.stdin),
                continue_latest=args.continue_latest,
                conversation_id=args.conversation,
                model=args.model,
                profile=args.profile,
                system=args.system,
                save=args.save,
                usage=args.usage,
                markdown=args.markdown,
                attach=tuple(args.attach),
            )
            return ask(request, paths, config, problems)
        except KeyboardInterrupt:  # before the reply started (while reading a pipe, say)
            return EXIT_INTERRUPTED
    results = ConversationStore(paths).search(args.query)
    if args.json:
        sys.stdout.write(json.dumps([_result_json(r) for r in results], indent=2) + "\n")
    else:
        _print_results(results, sys.stdout)
    return 0


def open_app(
    args: argparse.Namespace, paths: AppPaths, config: Config, problems: list[ConfigProblem]
) -> int:
    """`tui-chat`, `tui-chat -c`, `tui-chat open ID`, `... | tui-chat`: the full-screen app."""
    return start_app(
        paths,
        config,
        problems,
        open_id=args.id if args.command == "open" else None,
        open_latest=args.open_latest,
        piped=read_piped(sys.stdin),
    )


def _result_json(result: SearchResult) -> dict[str, object]:
    hit = result.first_message_hit or result.hits[0]
    return {
        "id": result.conversation_id,
        "title": result.title,
        "updated": result.updated.isoformat() if result.updated else None,
        "hits": len(result.hits),
        "snippet": hit.snippet,
        "message_index": hit.message_index,
    }


def _print_results(results: list[SearchResult], out: TextIO) -> None:
    if not results:
        out.write("No conversation matches.\n")
        return
    for result in results:
        hits = len(result.hits)
        hit = result.first_message_hit or result.hits[0]
        updated = result.updated.astimezone().strftime("%Y-%m-%d %H:%M") if result.updated else "?"
        # Ids and titles come from files other programs may write: shown inert, on one line.
        shown_id = sanitize_for_terminal(" ".join(result.conversation_id.split()))
        title = sanitize_for_terminal(" ".join(result.title.split()))
        out.write(f"{shown_id}  {updated}  {hits} hit{'s' if hits != 1 else ''}  {title}\n")
        out.write(f"    {hit.snippet}\n")
