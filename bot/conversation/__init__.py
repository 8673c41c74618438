"""Conversations: topics, follow-ups and clarifying questions, decided in one place."""
