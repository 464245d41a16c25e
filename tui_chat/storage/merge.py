"""Three-way merge of a conversation changed both here and elsewhere since it was read.

Conversations mostly grow at the end, so the merge handles what really happens when two tui-chat
windows, an editor or `git pull` touch the same file: one side (or both) appended messages, and
settings (title, pin, tags, model...) changed on at most one side. Messages are matched by
(created, role, content). Anything else is a conflict: the caller keeps both versions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from tui_chat.domain.conversation import Conversation, Message

MessageKey = tuple[datetime, str, str, int]

# Settings merged field by field: the side that changed a field since the common base wins;
# both changing it differently is a conflict.
MERGED_FIELDS = ("title", "profile", "model", "system", "pinned", "tags", "extra")


@dataclass(frozen=True)
class MergeResult:
    """The merged settings and message list, and how many messages came from the other side."""

    fields: dict[str, object]
    messages: list[Message]
    created: datetime
    updated: datetime
    theirs_added: int


def message_keys(messages: list[Message]) -> list[MessageKey]:
    """(created, role, content, n): n tells apart identical messages sent in the same second."""
    seen: dict[tuple[datetime, str, str], int] = {}
    keys: list[MessageKey] = []
    for message in messages:
        plain = (message.created, message.role, message.content)
        seen[plain] = seen.get(plain, 0) + 1
        keys.append((*plain, seen[plain]))
    return keys


def merge_conversations(
    base: Conversation | None, ours: Conversation, theirs: Conversation
) -> MergeResult | None:
    """Merge `ours` (being saved) with `theirs` (on disk now), given `base` (what we last read
    or wrote). Message objects of `ours` are kept (not copied) so a caller can update in place.
    Returns None when the two cannot be merged without losing someone's change."""
    fields: dict[str, object] = {}
    for name in MERGED_FIELDS:
        mine, other = getattr(ours, name), getattr(theirs, name)
        if mine == other:
            fields[name] = mine
        elif base is None:
            return None
        elif mine == getattr(base, name):
            fields[name] = other
        elif other == getattr(base, name):
            fields[name] = mine
        else:
            return None

    messages = _merge_messages(base, ours.messages, theirs.messages)
    if messages is None:
        return None
    ours_ids = {id(m) for m in ours.messages}
    theirs_added = sum(1 for m in messages if id(m) not in ours_ids)
    return MergeResult(
        fields=fields,
        messages=messages,
        created=min(ours.created, theirs.created),
        updated=max(ours.updated, theirs.updated),
        theirs_added=theirs_added,
    )


def _merge_messages(
    base: Conversation | None, ours: list[Message], theirs: list[Message]
) -> list[Message] | None:
    """Union of both sides' messages minus what one side removed (an edit is a removal plus an
    addition). None when both sides removed or edited messages, or they reordered them."""
    our_keys, their_keys = message_keys(ours), message_keys(theirs)
    if our_keys == their_keys:
        return list(ours)
    # Without a base nothing counts as removed: the union loses nothing.
    base_keys = set(message_keys(base.messages)) if base else set(our_keys) & set(their_keys)
    our_removed = base_keys - set(our_keys)
    their_removed = base_keys - set(their_keys)
    if our_removed and their_removed:
        return None  # both sides edited or deleted history: only a person can say what wins
    mine = [(k, m) for k, m in zip(our_keys, ours, strict=True) if k not in their_removed]
    other = [(k, m) for k, m in zip(their_keys, theirs, strict=True) if k not in our_removed]
    other_keys = {k for k, _ in other}
    mine_keys = {k for k, _ in mine}
    anchors_mine = [k for k, _ in mine if k in other_keys]
    anchors_other = [k for k, _ in other if k in mine_keys]
    if anchors_mine != anchors_other:
        return None  # the shared messages are in a different order: a rewrite, not an append
    merged: list[Message] = []
    i = j = 0
    while i < len(mine) or j < len(other):
        mine_only = i < len(mine) and mine[i][0] not in other_keys
        other_only = j < len(other) and other[j][0] not in mine_keys
        if mine_only and other_only:
            # Both sides added here: interleave by time, ours first on a tie.
            if other[j][1].created < mine[i][1].created:
                merged.append(other[j][1])
                j += 1
            else:
                merged.append(mine[i][1])
                i += 1
        elif mine_only:
            merged.append(mine[i][1])
            i += 1
        elif other_only:
            merged.append(other[j][1])
            j += 1
        else:  # the same anchor on both sides: keep our object (it may carry newer fields)
            merged.append(mine[i][1])
            i += 1
            j += 1
    return merged
