"""Residents' messages with personal data: generated from templates (``templates``) and the
two hand-written sets (``dev.jsonl``, ``test.jsonl``, read by ``leaks``)."""

from tests.personal_data.templates import personal_data_cases, secret_forms

__all__ = ["personal_data_cases", "secret_forms"]
