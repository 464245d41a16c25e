"""A conversation too long for its model: which oldest messages a fork leaves out so the request
fits the model's context window with room for the reply.

The cut is made from our own token count (the one `TokenCounter`), against the window the
server named in its error or, failing that, the one the price book knows. The server's "N tokens
over" alone is not enough: some servers give no figure, and ours and theirs count differently.
"""

from __future__ import annotations

from dataclasses import dataclass

from tui_chat.domain.conversation import Conversation
from tui_chat.engine.errors import ChatError
from tui_chat.engine.prices import PriceBook
from tui_chat.engine.tokens import TokenCounter

SHORTENED_SUFFIX = " (shortened)"
# Room left for the reply when the profile sets no max_tokens: a quarter of the window, at most
# this many tokens.
REPLY_ROOM_TOKENS = 4096
# Our count of a model tiktoken does not know is an estimate (open models' tokenisers differ by
# 5-20%): leave this share of the budget unused.
ESTIMATE_MARGIN = 0.15


@dataclass(frozen=True)
class ShorterFork:
    """A plan to retry in a fork without the `drop` oldest messages of the prompt.

    `over_by` is how far the prompt exceeds the window (the server's figure, else our own count
    when the window is known, else None); `estimated` says the figure is ours.
    """

    drop: int
    kept_tokens: int
    over_by: int | None
    window: int | None
    estimated: bool

    @property
    def question(self) -> str:
        """The offer, in one short paragraph (it must fit a dialog at 80x24)."""
        figure = ""
        if self.over_by is not None:
            about = "about " if self.estimated else ""
            window = f" the {self.window:,}-token window" if self.window else " the window"
            tokens = "token" if self.over_by == 1 else "tokens"
            figure = f" (it is {about}{self.over_by:,} {tokens} over{window})"
        plural = "message" if self.drop == 1 else "messages"
        return (
            f"Retry in a new fork without the {self.drop} oldest {plural}{figure}? "
            "The original conversation is kept."
        )

    def fork(self, conversation: Conversation) -> Conversation:
        """The fork: the prompt without its `drop` oldest messages (the failed reply, last in
        `conversation`, is left out), titled as shortened once however often it is shortened."""
        prompt_length = len(conversation.messages) - 1
        fork = conversation.fork_before(prompt_length)
        fork.messages = fork.messages[self.drop :]
        title = conversation.display_title.removesuffix(SHORTENED_SUFFIX)
        fork.title = f"{title}{SHORTENED_SUFFIX}"
        return fork


def plan_shorter_fork(
    conversation: Conversation,
    failure: ChatError,
    *,
    counter: TokenCounter,
    prices: PriceBook,
    base_url: str | None,
    reply_tokens: int | None,
) -> ShorterFork | None:
    """How to retry `conversation` (whose last message is the failed reply) in a fork that fits;
    None when even its last message alone would not fit.

    `reply_tokens` is the profile's max_tokens (None: leave a quarter of the window, at most
    REPLY_ROOM_TOKENS). Without any window known, the fork keeps the newest half by tokens.
    """
    model, system = conversation.model, conversation.system
    prompt = conversation.messages[:-1]
    if len(prompt) < 2:
        return None
    count = counter.count_messages(model, system, prompt)
    window = failure.context_window or prices.context_window(model, base_url)
    over_by, estimated = failure.over_by_tokens, False
    if over_by is None and window is not None and count.tokens > window:
        over_by, estimated = count.tokens - window, True
    if window is not None:
        room = reply_tokens if reply_tokens is not None else min(window // 4, REPLY_ROOM_TOKENS)
        budget = window - room
        if failure.over_by_tokens is not None:
            # The server counts differently: hold our count to its figure too.
            budget = min(budget, count.tokens - failure.over_by_tokens - room)
    else:
        budget = count.tokens // 2
    if count.approximate:
        budget = int(budget * (1 - ESTIMATE_MARGIN))
    if budget >= count.tokens:
        budget = count.tokens // 2  # by our count it fits, yet the server refused: halve it
    drop = counter.oldest_messages_to_drop(model, prompt, count.tokens - budget)
    if drop <= 0 or drop >= len(prompt):
        return None
    kept = counter.count_messages(model, system, prompt[drop:]).tokens
    if kept > budget:
        return None  # the question alone is too long: no fork can help
    return ShorterFork(
        drop=drop, kept_tokens=kept, over_by=over_by, window=window, estimated=estimated
    )
