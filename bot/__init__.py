"""Madoguchi: a multilingual FAQ assistant for Japanese city halls (the `madoguchi` command)."""
