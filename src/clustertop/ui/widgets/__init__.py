"""Textual widgets and cells the screens share."""
