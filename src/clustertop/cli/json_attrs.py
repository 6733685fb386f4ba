"""The plain part of a JSON writer: attributes copied under their own names."""

from __future__ import annotations

from typing import Any


def attrs(source: object, *names: str) -> dict[str, Any]:
    """`source`'s attributes `names`, each under its own name, in that order.

    Keys that rename or convert a value stay written out beside it; tests/test_json_fields.py
    checks that every field of a model dataclass lands in its writer's output.
    """
    return {name: getattr(source, name) for name in names}
