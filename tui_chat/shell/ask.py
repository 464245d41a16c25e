"""`tui-chat ask`: one message from the shell, its reply streamed to stdout and saved.

The reply is asked for, recorded and saved by the same `ReplyFlow` as in the app, so an exchange
made here is a normal conversation file that the app lists and `ask -c` continues. Nothing here
imports Textual: the command starts as fast as a plain openai script.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from tui_chat.attachments.reading import read_attachment
from tui_chat.config import Config, ConfigProblem, Profile
from tui_chat.domain.attachments import Attachment
from tui_chat.domain.conversation import Conversation, Message, usd
from tui_chat.engine.attachment_parts import ImageLoader
from tui_chat.engine.client import ChatClient
from tui_chat.engine.events import TextDelta
from tui_chat.engine.prices import PriceBook
from tui_chat.engine.tokens import TokenCounter
from tui_chat.flow import (
    FlowEvent,
    ReplyFlow,
    ReplyUpdated,
    Saved,
    SaveFailed,
    mark_unfinished_replies,
    save_conversation,
)
from tui_chat.paths import AppPaths
from tui_chat.sanitize import sanitize_for_terminal
from tui_chat.shell.reply_output import ReplyWriter
from tui_chat.storage.attachments import ImageStore
from tui_chat.storage.store import ConversationStore, id_typed_by_user
from tui_chat.user_error import UserError

EXIT_OK = 0
EXIT_ERROR = 1
# What a shell reports for a process ended by ctrl+c (128 + SIGINT), so `&&` chains stop.
EXIT_INTERRUPTED = 130


@dataclass(frozen=True)
class AskRequest:
    """What `tui-chat ask` was asked to do, from its arguments and standard input."""

    prompt: str
    piped: str | None = None  # standard input, when it is not a terminal
    continue_latest: bool = False
    conversation_id: str | None = None
    model: str | None = None
    profile: str | None = None
    system: str | None = None
    save: bool = True
    usage: bool = False
    markdown: bool = False  # on a terminal, show the complete reply rendered
    attach: tuple[str, ...] = ()  # files to send with the message (--attach, repeatable)


def message_text(prompt: str, piped: str | None) -> str:
    """The prompt, then the piped text marked as such; the piped text alone without a prompt."""
    if not piped:
        return prompt
    if not prompt:
        return piped
    return f"{prompt}\n\n<stdin>\n{piped.removesuffix(chr(10))}\n</stdin>"


def ask(request: AskRequest, paths: AppPaths, config: Config, problems: list[ConfigProblem]) -> int:
    """Send the message, stream the reply to stdout, save both; returns the exit code.
    Raises UserError and storage errors (unknown conversation, unreadable file)."""
    text = message_text(request.prompt, request.piped)
    if not text.strip() and not request.attach:
        raise UserError("nothing to ask: give a prompt, or pipe text in.")
    with _image_folder(paths, request.save) as images:
        # Every file is read before anything is sent: one refused, nothing goes.
        attachments = _attachments(request.attach, images)
        return _ask(request, text, attachments, images, paths, config, problems)


@contextlib.contextmanager
def _image_folder(paths: AppPaths, save: bool) -> Iterator[ImageStore]:
    """Where the images attached now are put: the data folder's; with --no-save a temporary
    folder, removed afterwards, since nothing may be kept on disk."""
    if save:
        yield ImageStore(paths.attachments_dir)
        return
    with tempfile.TemporaryDirectory(prefix="tui-chat-") as folder:
        yield ImageStore(Path(folder) / "attachments")


def _image_loader(images: ImageStore, paths: AppPaths) -> ImageLoader:
    """Reads the images attached now from `images`, and those of a continued conversation's
    earlier messages from the data folder (they differ with --no-save)."""
    kept = ImageStore(paths.attachments_dir)
    if kept.folder == images.folder:
        return images.read

    def load(attachment: Attachment) -> bytes:
        if images.path_of(attachment).exists():
            return images.read(attachment)
        return kept.read(attachment)

    return load


def _attachments(paths: tuple[str, ...], images: ImageStore) -> list[Attachment]:
    """The files named by --attach, read relative to the current folder. Raises
    AttachmentRefused (a UserError) with the reason for the first that cannot be attached."""
    return [read_attachment(path, cwd=Path.cwd(), blobs=images) for path in paths]


def _ask(
    request: AskRequest,
    text: str,
    attachments: list[Attachment],
    images: ImageStore,
    paths: AppPaths,
    config: Config,
    problems: list[ConfigProblem],
) -> int:
    store = ConversationStore(paths)
    conversation = _conversation(request, store, config)
    profile = _profile(request, conversation, config)
    conversation.add(Message(role="user", content=text, attachments=attachments))
    if any(problem.whole_file for problem in problems):
        _refuse_without_config(conversation, store if request.save else None)
    client = ChatClient(profile, load_image=_image_loader(images, paths))
    shell = _ShellListener(ReplyWriter(sys.stdout, markdown=request.markdown), sys.stderr)
    flow = ReplyFlow(
        conversation,
        client,
        store=store if request.save else None,
        counter=TokenCounter(),  # counts stay estimates: loading encodings costs half a second
        prices=PriceBook(config.prices),
        listener=shell,
    )
    try:
        outcome = asyncio.run(_run(flow, client, shell.writer))
    except KeyboardInterrupt:
        # ctrl+c cancelled the flow, which saved the partial reply marked interrupted.
        shell.end_of_reply()
        kept = ": the partial reply is saved, marked interrupted" if request.save else ""
        shell.say(f"stopped{kept}.")
        return EXIT_INTERRUPTED
    shell.end_of_reply()
    if isinstance(outcome, int):
        return outcome
    reply = outcome
    if request.usage:
        shell.say(usage_line(reply, conversation.model))
    if reply.error:
        shell.say(reply.error)
    failed = reply.finish_reason in ("error", "cut") or shell.save_failed
    return EXIT_ERROR if failed else EXIT_OK


def _refuse_without_config(conversation: Conversation, store: ConversationStore | None) -> None:
    """The config could not be read, so every profile is a default one: sending now could give
    the user's words (a log, a diff) to a server they did not choose. Keep them and say so."""
    kept = ""
    if store is not None:
        report = save_conversation(store, conversation)
        if report.error is not None:
            raise report.error
        kept = f" (your message is saved in conversation {conversation.id})"
    raise UserError(
        "nothing was sent: the config cannot be read, so which server should get your message "
        f"is unknown; fix it and ask again{kept}."
    )


async def _run(flow: ReplyFlow, client: ChatClient, writer: ReplyWriter) -> Message | int:
    """The flow's reply, or the exit code when something stopped it early: the reader of stdout
    went away (`| head -1`: no error), or the terminal hung up or the process was told to end
    (SIGHUP, SIGTERM: 128 + the signal's number). Stopped, the flow saves the partial reply
    marked interrupted; ctrl+c stops it too, and asyncio.run turns it into KeyboardInterrupt."""
    reply = asyncio.create_task(flow.run())
    stopped_with: list[int] = []

    def stop(code: int) -> None:
        stopped_with.append(code)
        reply.cancel()

    writer.on_reader_gone = lambda: stop(EXIT_OK)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGHUP, signal.SIGTERM):
        loop.add_signal_handler(signum, stop, 128 + signum)
    try:
        return await reply
    except asyncio.CancelledError:
        if stopped_with and reply.cancelled():
            return stopped_with[0]
        raise
    finally:
        await client.aclose()


def _conversation(request: AskRequest, store: ConversationStore, config: Config) -> Conversation:
    """The conversation to add the message to: a given one, the latest, or a new one."""
    if request.conversation_id is not None:
        conversation = store.load(id_typed_by_user(request.conversation_id))
    elif request.continue_latest:
        latest = store.most_recent()
        if latest is None:
            raise UserError("there is no conversation to continue yet: ask without -c first.")
        conversation = store.load(latest.id)
    else:
        profile = _named_profile(request.profile, config)
        conversation = Conversation.new(
            profile=profile.name, model=config.model_for(profile), system=config.system_prompt
        )
    mark_unfinished_replies(conversation)
    if request.system is not None:
        conversation.system = request.system
    return conversation


def _profile(request: AskRequest, conversation: Conversation, config: Config) -> Profile:
    """The profile to ask on (--profile switches a continued conversation to it, with its default
    model unless -m names one), with --model applied."""
    if request.profile is not None and request.profile != conversation.profile:
        profile = _named_profile(request.profile, config)
        conversation.profile = profile.name
        conversation.model = config.model_for(profile)
    else:
        profile = config.profile(conversation.profile)
    if request.model:
        conversation.model = request.model
    return profile


def _named_profile(name: str | None, config: Config) -> Profile:
    # Named on the command line, a profile must exist: the fallback the app uses when a file
    # names a removed profile would send the words to a server the user did not choose.
    if name is not None and name not in config.profiles:
        known = ", ".join(sorted(config.profiles))
        raise UserError(f"there is no profile named {name!r} (profiles: {known}).")
    return config.profile(name)


def usage_line(reply: Message, model: str) -> str:
    """`-u`: tokens in and out, the cost (`?` when the price is unknown), the model."""
    usage = reply.usage
    mark = "~" if usage is not None and usage.estimated else ""
    if usage is None:  # the request failed: nothing was generated
        tokens = "no tokens"
    else:
        tokens = f"{mark}{usage.prompt_tokens} in, {mark}{usage.completion_tokens} out"
    cost = usd(reply.cost_usd) if reply.cost_usd is not None else "?"
    return f"{tokens}, {cost}, {reply.model or model}"


class _ShellListener:
    """Turns the flow's events into the reply on stdout and sentences on stderr."""

    def __init__(self, writer: ReplyWriter, err: TextIO) -> None:
        self.writer = writer
        self.err = err
        self.save_failed = False
        # Said once the reply has ended: on a terminal, stderr would cut into the reply's lines.
        self._notes: list[str] = []

    def __call__(self, event: FlowEvent) -> None:
        if isinstance(event, ReplyUpdated):
            if isinstance(event.event, TextDelta):
                self.writer.write(event.event.text)
        elif isinstance(event, SaveFailed):
            self.save_failed = True
            self._notes.append(str(event.error))
        elif isinstance(event, Saved):
            self.save_failed = False  # a later save wrote everything
            if event.outcome.message:
                self._notes.append(event.outcome.message)

    def end_of_reply(self) -> None:
        """End the reply's output, then say what happened to the file meanwhile."""
        self.writer.finish()
        for note in dict.fromkeys(self._notes):  # a refusing disk says the same at each save
            self.say(note)

    def say(self, sentence: str) -> None:
        """One line on stderr, made inert: it may quote the server or a file name."""
        print(f"tui-chat: {sanitize_for_terminal(sentence)}", file=self.err, flush=True)
