"""The FAQ: corpus, plan extraction and the Japanese-aware matcher."""
