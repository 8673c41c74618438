"""The FAQ: entries and the city profile, the search engine over them, embeddings and evaluation."""
