"""The containers pane's Engine column: which engine (Docker, podman) runs each container."""

from __future__ import annotations

from clustertop.model import Container
from clustertop.model.engines import PODMAN_ENGINE, engine_of
from clustertop.ui.widgets.cells import DIM, Cell, text_cell


def engine_cell(ctr: Container) -> Cell:
    """'docker' dim, 'podman' plain; a rootless container of another user says so ('podman*')."""
    engine = engine_of(ctr)
    if engine != PODMAN_ENGINE:
        return text_cell(engine, DIM)
    return text_cell("podman*" if ctr.rootless_user else "podman")
