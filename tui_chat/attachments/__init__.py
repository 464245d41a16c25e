"""Reading files a user attaches to a message, and finding them to attach (no Textual)."""
