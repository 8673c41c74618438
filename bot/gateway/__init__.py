"""The web gateway: widget API, LINE webhook and staff pages, assembled in app.py."""
