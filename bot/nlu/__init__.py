"""Rasa-side components. Importable from the Rasa environment with only rasa and fugashi."""

from bot.nlu.tokenizer import JapaneseTokenizer

__all__ = ["JapaneseTokenizer"]
