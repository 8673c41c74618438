"""The staff pages, one router per area: sign-in, review queue, FAQ editor, records."""
