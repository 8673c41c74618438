"""The corpus and profile as loaded from their files, reloaded when the files change.

A process keeps one `FaqDirectory` and so one copy of the corpus: the places that only look
things up (who answers for entry X), the staff editor and the FAQ engine's index all read it.
"""

from __future__ import annotations

import threading
from pathlib import Path

from bot.faq.corpus import Corpus, fingerprint
from bot.faq.profile import Profile


class FaqDirectory:
    def __init__(self, corpus_dir: Path, profile_path: Path, strict: bool = True) -> None:
        self.corpus_dir = Path(corpus_dir)
        self.profile_path = Path(profile_path)
        self.strict = strict
        self._lock = threading.Lock()
        self._fingerprint = ""
        self._corpus: Corpus | None = None

    def corpus(self) -> Corpus:
        with self._lock:
            current = fingerprint(self.corpus_dir, (self.profile_path,))
            if self._corpus is None or current != self._fingerprint:
                profile = Profile.load(self.profile_path)
                self._corpus = Corpus.load(self.corpus_dir, profile, strict=self.strict)
                self._fingerprint = current
            return self._corpus

    def contact_for(self, faq_id: str, lang: str) -> str:
        """The contact of the department in charge of ``faq_id`` (the general desk if none)."""
        corpus = self.corpus()
        entry = corpus.entries.get(faq_id)
        return corpus.profile.contact(entry.department if entry else None, lang)
