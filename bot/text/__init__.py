"""Text analysis: Japanese words, the six languages, romaji and kana spellings."""
