"""Importers: other tools' conversations turned into tui-chat conversation files.

One module per source (`chatgpt`, `elia`, `oterm`, `llm`, `aichat`), each reading that tool's
own files read-only and yielding `ImportedConversation`s (or `BrokenConversation`s for the ones
it cannot read); `detect` picks the source by content and `run` writes through the
ConversationStore, adding only what is new. No Textual here: the command line drives it.
"""
