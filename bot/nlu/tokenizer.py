"""A Japanese tokenizer for Rasa 3.6, built on fugashi with unidic-lite.

Written like Rasa's own ``JiebaTokenizer``: the optional table of municipal terms is copied
into the model storage at training time, so a trained model carries it and does not depend
on the file that was used to train it.
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.tokenizers.tokenizer import Token, Tokenizer
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.text.japanese import CompoundTable, analyze

logger = logging.getLogger(__name__)

TERMS_FILE_NAME = "terms.yml"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_TOKENIZER, is_trainable=True)
class JapaneseTokenizer(Tokenizer):
    """Splits Japanese (and mixed Japanese/Latin) text into words with their lemmas.

    Text is NFKC-normalised before analysis; ``Token.text`` is the normalised surface,
    ``Token.lemma`` the dictionary form (引越し and 引っ越し share 引っ越し), and offsets
    point into the message as the user typed it.
    """

    @staticmethod
    def supported_languages() -> list[str] | None:
        return ["ja"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # Path to a `term: lemma` table of words to keep whole (and synonyms).
            "terms_path": None,
            "intent_tokenization_flag": False,
            "intent_split_symbol": "_",
            "token_pattern": None,
        }

    @staticmethod
    def required_packages() -> list[str]:
        return ["fugashi", "unidic_lite"]

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        terms: CompoundTable | None = None,
    ) -> None:
        super().__init__(config)
        self._model_storage = model_storage
        self._resource = resource
        self._terms = terms

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> JapaneseTokenizer:
        terms_path = config.get("terms_path")
        terms = CompoundTable.from_file(terms_path) if terms_path else None
        return cls(config, model_storage, resource, terms)

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> JapaneseTokenizer:
        terms = None
        try:
            with model_storage.read_from(resource) as directory:
                stored = Path(directory) / TERMS_FILE_NAME
                if stored.exists():
                    terms = CompoundTable.from_file(stored)
        except ValueError:
            logger.debug("No stored term table for %s; using none.", cls.__name__)
        return cls(config, model_storage, resource, terms)

    def train(self, training_data: TrainingData) -> Resource:
        """Copies the term table into the model so that loading does not need the source."""
        terms_path = self._config.get("terms_path")
        if terms_path:
            with self._model_storage.write_to(self._resource) as directory:
                shutil.copyfile(terms_path, Path(directory) / TERMS_FILE_NAME)
        return self._resource

    def tokenize(self, message: Message, attribute: str) -> list[Token]:
        text = message.get(attribute)
        tokens = [Token(m.text, m.start, m.end, lemma=m.lemma) for m in analyze(text, self._terms)]
        return self._apply_token_pattern(tokens)
