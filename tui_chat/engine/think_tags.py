"""A leading `<think>…</think>` block in a reply's content, told apart from the answer.

Models served by plain servers (Qwen, DeepSeek-R1 through llama.cpp or Ollama without a reasoning
parser) write their reasoning into the content, wrapped in `<think>` tags, before the answer.
The tags arrive cut anywhere across deltas (`<thi` + `nk>`), so the splitter holds back only the
few characters that may still turn out to be a tag, and passes everything else on at once: the
answer after the block costs one check per delta, whatever its length.

Only a block at the very start (after optional blank space) is thinking: `<think>` later in an
answer is the model talking about the tag, and is left as text.
"""

from __future__ import annotations

from enum import Enum, auto

from tui_chat.engine.events import ReasoningDelta, TextDelta

OPEN_TAG = "<think>"
CLOSE_TAG = "</think>"


class _State(Enum):
    START = auto()  # nothing but blank space yet: a block may still open
    THINKING = auto()  # inside the block
    AFTER = auto()  # just after the block: the blank lines before the answer are dropped
    ANSWER = auto()  # everything from here on is the answer


class ThinkTagSplitter:
    """Feeds on content deltas, returns the reasoning and answer pieces they hold, in order."""

    def __init__(self) -> None:
        self._state = _State.START
        self._held = ""  # characters that may be the start of a tag, not yet passed on

    def feed(self, text: str) -> list[TextDelta | ReasoningDelta]:
        """The pieces of `text` that are known by now to be thinking or answer."""
        if self._state is _State.ANSWER:
            return [TextDelta(text)]
        text = self._held + text
        self._held = ""
        if self._state is _State.START:
            return self._start(text)
        if self._state is _State.THINKING:
            return self._thinking(text)
        return self._after(text)

    def finish(self) -> list[TextDelta | ReasoningDelta]:
        """What is still held when the stream ends: a thought cut off before `</think>` stays
        thinking; a reply that was only the start of a tag (`<thi`) was answer after all."""
        held, self._held = self._held, ""
        if not held:
            return []
        if self._state is _State.THINKING:
            return [ReasoningDelta(held)]
        if self._state is _State.START:
            return [TextDelta(held)]
        return []

    def _start(self, text: str) -> list[TextDelta | ReasoningDelta]:
        lead = text.lstrip()
        if len(lead) < len(OPEN_TAG) and OPEN_TAG.startswith(lead):
            self._held = text  # blank, or a tag still arriving
            return []
        if lead.startswith(OPEN_TAG):
            self._state = _State.THINKING
            return self._thinking(lead[len(OPEN_TAG) :])
        self._state = _State.ANSWER
        return [TextDelta(text)]

    def _thinking(self, text: str) -> list[TextDelta | ReasoningDelta]:
        end = text.find(CLOSE_TAG)
        if end >= 0:
            self._state = _State.AFTER
            last: list[TextDelta | ReasoningDelta] = [ReasoningDelta(text[:end])] if end else []
            return last + self._after(text[end + len(CLOSE_TAG) :])
        keep = _partial_tag_length(text, CLOSE_TAG)
        self._held = text[len(text) - keep :] if keep else ""
        thought = text[: len(text) - keep]
        return [ReasoningDelta(thought)] if thought else []

    def _after(self, text: str) -> list[TextDelta | ReasoningDelta]:
        answer = text.lstrip()
        if not answer:
            return []
        self._state = _State.ANSWER
        return [TextDelta(answer)]


def _partial_tag_length(text: str, tag: str) -> int:
    """The length of the longest end of `text` that is a proper beginning of `tag`."""
    for length in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-length:]):
            return length
    return 0
