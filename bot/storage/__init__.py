"""The database: the conversation log, feedback, staff accounts and their migrations."""
