"""The effective settings: each declared once, loaded, checked and rendered."""
