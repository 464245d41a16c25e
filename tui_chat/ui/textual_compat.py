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
   words in the draft. `finish_earlier_keys` lets the focused widget catch up first.
3. Wrapping. TextArea re-wraps its whole text on every resize and whenever its scroll bar comes
   or goes, though the wrap depends on the width alone; `SteadyWrapTextArea` skips those
   (through TextArea's private `wrapped_document._width` and handlers).
"""

from __future__ import annotations

import asyncio
import contextlib
from enum import StrEnum
from typing import Any, cast
from weakref import WeakKeyDictionary

from textual import events
from textual._ansi_sequences import ANSI_SEQUENCES_KEYS
from textual.app import App
from textual.binding import BindingsMap
from textual.widget import Widget
from textual.widgets import Input, TextArea

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


async def finish_earlier_keys(app: App[Any], event: events.Key, *, limit: float = 2.0) -> None:
    """Before the app runs a priority binding for `event`, wait until the focused widget has
    handled the keys it was already given (they sit in its message queue).

    `limit` only guards against a widget that never gets to its queue (it is closing): the
    key is then handled as Textual would have handled it.
    """
    focused = app.focused
    if focused is None or event.is_forwarded or event.is_printable:
        return  # no priority binding here is a printable key: typing stays cheap
    active = app.screen.active_bindings.get(event.key)
    if active is None or not active.binding.priority:
        return
    caught_up: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def mark() -> None:
        if not caught_up.done():
            caught_up.set_result(None)

    if focused.call_later(mark):  # runs after the messages already queued for the widget
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(caught_up, limit)


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
