"""Textual screens: the grid, the host screen, cluster views and modals."""
