"""Storage: conversations as TOML files on disk. Knows nothing of Textual or openai."""
