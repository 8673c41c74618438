"""The staff pages under /admin: review queue, FAQ editor and audit trail, behind a sign-in."""
