"""Rasa-side components. Importable from the Rasa environment with only rasa and fugashi."""

from bot.nlu import action_response
from bot.nlu.tokenizer import JapaneseTokenizer

# Rasa imports this package when it loads the model, before it serves: the place to make
# its check of action replies cheap (see action_response).
action_response.install()

__all__ = ["JapaneseTokenizer"]
