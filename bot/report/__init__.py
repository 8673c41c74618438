"""Monthly reports on how residents use the assistant, for city staff."""
