"""Every place where tui-chat leans on Textual's private parts, kept together until Textual
covers them: its input path (alt+Enter, key order) and TextArea's wrapping.

Checked against Textual 8.2.8 (`CHECKED_TEXTUAL_VERSIONS`); pyproject pins the range to it and
tests/test_keys.py fails loudly when the installed Textual is another version, so each fix
here is looked at again, and dropped once Textual carries its own.

1. alt+Enter. Most terminals (xterm, tmux, screen, VTE) send alt+Enter as ESC CR. Textual 8.2.8
   has no entry for that sequence: after a pause it re-reads it as ESC then CR and drops the
   alt, so the composer saw plain `enter` and sent the message instead of breaking the line.
   `recognise_alt_enter` adds the sequence to Textual's (private) table of key sequences.
2. Key order. Keys that arrive in one read (a paste of keys, fast typing over SSH, `tmux
   send-keys`) could be applied out of order: a text widget inserts printable keys in its own
   key handler, while its bound keys (backspace, arrows, ctrl+u) travel up to the app, which
   runs the binding only after the following characters were already inserted (Textualize/
   textual issue 6605; the approach of PR 6631, not released, is used here). `KeyOrderInput`
   and `KeyOrderTextArea` run the focused widget's own non-priority binding inside its key
   handler, in the order the keys came. The other way round, a priority binding (ctrl+q,
   ctrl+n, ctrl+e) ran in the app as soon as its key was read, before the focused widget had
   inserted the characters typed just before it: "words" + ctrl+q in one read quit without the
   words in the draft; and a key that moves the focus (`/` in the list) was followed by keys
   already sent to the old focus. `KeysInOrder` hands the app one key at a time.
3. Wrapping. TextArea re-wraps its whole text on every resize and whenever its scroll bar comes
   or goes, though the wrap depends on the width alone; `SteadyWrapTextArea` skips those
   (through TextArea's private `wrapped_document._width` and handlers).
4. One toast taken down. Textual can clear every toast (`clear_notifications`) but not one:
   `withdraw_notification` does what a click on a toast does (`App._unnotify`), to a toast
   found in the private `App._notifications`, so a warning goes once its problem is fixed.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable
from enum import StrEnum
from typing import Any, cast
from weakref import WeakKeyDictionary

from textual import events
from textual._ansi_sequences import ANSI_SEQUENCES_KEYS
from textual.app import App
from textual.binding import BindingsMap
from textual.widget import Widget
from textual.widgets import Input, TextArea

from tui_chat.sanitize import sanitize_for_terminal

CHECKED_TEXTUAL_VERSIONS: tuple[str, ...] = ("8.2.8",)
"""Textual versions the suite ran on with these fixes (pyproject's range must match)."""

ALT_ENTER_SEQUENCES: tuple[str, ...] = ("\x1b\r",)
"""What terminals send for alt+Enter. (ESC LF is alt+ctrl+j: Textual already reads it as
ctrl+j, which plays the same part as alt+Enter in both layouts of the composer.)"""


class _AltKeys(StrEnum):
    # Textual's table maps a sequence to a tuple of `Keys` members and reads only `.value`;
    # its own `Keys` enum has no alt+enter member, so this one stands in for it.
    ALT_ENTER = "alt+enter"


def recognise_alt_enter() -> None:
    """Make ESC CR arrive as the `alt+enter` key at once, instead of a late plain `enter`."""
    table = cast(dict[str, Any], ANSI_SEQUENCES_KEYS)
    for sequence in ALT_ENTER_SEQUENCES:
        table[sequence] = (_AltKeys.ALT_ENTER,)


# The focused widget's own bindings with the app's keymap applied, made once per widget and
# keymap (`App.set_keymap` installs a new dict): Textual's `active_bindings` rebuilds every
# ancestor's map and asks each action's state on every key, about a millisecond a key here.
_OWN_BINDINGS: WeakKeyDictionary[Widget, tuple[object, BindingsMap]] = WeakKeyDictionary()


def _own_bindings(widget: Widget) -> BindingsMap:
    keymap = widget.app._keymap
    cached = _OWN_BINDINGS.get(widget)
    if cached is not None and cached[0] is keymap:
        return cached[1]
    bindings = widget._bindings.copy()
    if keymap:
        bindings.apply_keymap(keymap)
    _OWN_BINDINGS[widget] = (keymap, bindings)
    return bindings


async def run_own_binding_first(widget: Widget, event: events.Key) -> bool:
    """Run `widget`'s own non-priority binding for this key now, in its own key handler.

    Returns True (and stops the event) when it did; otherwise the key goes on as Textual would
    send it (printable text to the widget, other bindings up the chain). This is what the app
    does for the focused widget's bindings (`App._check_bindings`), only without the detour.
    Priority bindings were already tried by the app before the key reached the widget.
    """
    if event.is_printable:
        return False  # text: the widget's own handler inserts it, already in order
    for binding in _own_bindings(widget).key_to_bindings.get(event.key, ()):
        if not binding.priority and await widget.app.run_action(binding.action, widget):
            event.stop()
            event.prevent_default()
            return True
    return False


class KeysInOrder:
    """Hands the app one key at a time: a key read in the same burst as the one before it waits
    until that one is done, so every key acts as if it had been typed on its own.

    Textual forwards each key to whatever has the focus when the app reads it, and runs
    bindings only when a key has bubbled back up to the app. Keys read in one burst were
    therefore all sent to the widget focused before the first of them acted: `/restart` typed
    fast in the list renamed a conversation (the `r` reached the list before `/` had moved the
    focus to the filter), and a priority key (ctrl+q, ctrl+n) ran before the characters typed
    just ahead of it were in the composer. Here a key is done when the widget it went to
    stopped it, when it bubbled back to the app (bindings ran), or when a priority binding took
    it; then, after the focus changes its action asked for, the next key goes.

    `LIMIT` only guards against a key that ends nowhere (a widget closing with it in its
    queue, or an ancestor that stops it): the keys behind it then go on as Textual would.
    """

    LIMIT = 0.5

    def __init__(self, app: App[Any], dispatch: Callable[[events.Key], Awaitable[None]]) -> None:
        self._app = app
        self._dispatch = dispatch  # Textual's own handling of a key read from the terminal
        self._held: deque[events.Key] = deque()
        self._current: events.Key | None = None
        self._give_up: asyncio.TimerHandle | None = None

    async def key_read(self, event: events.Key) -> None:
        """A key from the terminal: handle it now, or after the keys read before it."""
        if self._current is not None:
            self._held.append(event)
            return
        await self._handle(event)

    def key_bubbled_to_app(self, event: events.Key) -> None:
        """The app has run its bindings for a forwarded key: that key is done."""
        if event is self._current:
            self._done_soon(event)

    async def _handle(self, event: events.Key) -> None:
        app = self._app
        self._current = event
        loop = asyncio.get_running_loop()
        self._give_up = loop.call_later(self.LIMIT, self._done_soon, event)
        target = app.focused or app.screen
        await self._dispatch(event)
        if not event.is_forwarded:
            self._done_soon(event)  # a priority binding took it, in the app, just now
        elif not target.call_later(self._check_stopped, event):
            self._done_soon(event)  # the widget has gone: nothing will handle it

    def _check_stopped(self, event: events.Key) -> None:
        # Runs on the widget after it handled the key; a key it did not stop bubbles on.
        if event._stop_propagation:
            self._done_soon(event)

    def _done_soon(self, event: events.Key) -> None:
        # Queued on the app: after the focus changes the key's action queued there.
        if event is self._current:
            self._app.call_later(self._done, event)

    async def _done(self, event: events.Key) -> None:
        if event is not self._current:
            return
        self._current = None
        if self._give_up is not None:
            self._give_up.cancel()
            self._give_up = None
        while self._held and self._current is None:
            await self._handle(self._held.popleft())


class KeyOrderInput(Input):
    """Textual's `Input`, with its bound keys applied in the order they were typed."""

    async def _on_key(self, event: events.Key) -> None:
        await run_own_binding_first(self, event)
        # Otherwise Input's own handler inserts the character (dispatch walks the MRO).


class KeyOrderTextArea(TextArea):
    """Textual's `TextArea`, with its bound keys applied in the order they were typed."""

    async def _on_key(self, event: events.Key) -> None:
        await run_own_binding_first(self, event)


class SteadyWrapTextArea(KeyOrderTextArea):
    """A `KeyOrderTextArea` that re-wraps its text only when its width changes.

    The composer's height changes as the user types (it grows with the text), and its scroll
    bar has a gutter of its own (app.tcss): after a 5 MB paste each re-wrap was a second or two
    of work for nothing.
    """

    def _wrapped_at_current_width(self) -> bool:
        return self.wrapped_document._width == self.wrap_width

    def _on_resize(self, event: events.Resize) -> None:  # type: ignore[override]  # takes the event
        if self._wrapped_at_current_width():
            event.prevent_default()
            self._refresh_size()

    def _watch_show_vertical_scrollbar(self) -> None:
        if self._wrapped_at_current_width():
            self.scroll_cursor_visible()
        else:
            super()._watch_show_vertical_scrollbar()


def withdraw_notification(app: App[Any], message: str) -> None:
    """Take down the toasts showing `message` (as given to `notify`, which shows it made inert,
    as `sanitize_for_terminal` does) before their timeout."""
    shown = sanitize_for_terminal(message)
    for notification in list(app._notifications):
        if notification.message == shown:
            app._unnotify(notification)
