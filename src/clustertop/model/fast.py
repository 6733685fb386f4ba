"""Frozen slotted records built without one object.__setattr__ call per field (large fleets)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from operator import attrgetter
from typing import Any, TypeVar

_T = TypeVar("_T")
_NO_DEFAULT = object()


def _twin(cls: type[Any]) -> tuple[type[Any], tuple[str, ...]]:
    """A plain class with `cls`'s slots in their order, whose __init__ takes what `cls`'s does
    and stores each field with a plain attribute store.

    A frozen dataclass's __init__ calls object.__setattr__ once per field (its own __setattr__
    refuses): 40,000 GPUs of 19 fields are 760,000 such calls a reading at 5,000 x 8. The twin
    stores them at the cost of a local variable each; then, in the same __init__, its instance
    becomes a `cls` by __class__ assignment, which CPython allows between classes of the same
    slots and bases: the result is a `cls` like any other (==, hash, repr, frozen)."""
    fields = dataclasses.fields(cls)
    names = tuple(f.name for f in fields)
    if getattr(cls, "__slots__", None) != names or cls.__bases__ != (object,):
        raise TypeError(f"{cls.__name__}: not a slotted dataclass of its own fields")
    if hasattr(cls, "__post_init__") or not all(f.init for f in fields):
        raise TypeError(f"{cls.__name__}: its __init__ does more than store its fields")
    space: dict[str, Any] = {"_NO_DEFAULT": _NO_DEFAULT, "_CLS": cls}
    params, body = [], []
    for f in fields:
        if f.default is not dataclasses.MISSING:
            space[f"_d_{f.name}"] = f.default
            params.append(f"{f.name}=_d_{f.name}")
            body.append(f"    self.{f.name} = {f.name}")
        elif f.default_factory is not dataclasses.MISSING:
            space[f"_f_{f.name}"] = f.default_factory
            params.append(f"{f.name}=_NO_DEFAULT")
            body.append(
                f"    self.{f.name} = _f_{f.name}() if {f.name} is _NO_DEFAULT else {f.name}"
            )
        else:
            params.append(f.name)
            body.append(f"    self.{f.name} = {f.name}")
    # Last, the record becomes a `cls` (the call then gives a `cls`: type.__call__ checks the
    # new object's type before __init__ only).
    body.append("    self.__class__ = _CLS")
    # The text is made of the dataclass's own field names only (identifiers): nothing read.
    exec(f"def __init__(self, {', '.join(params)}):\n" + "\n".join(body), space)
    twin = type(f"_{cls.__name__}Twin", (), {"__slots__": names, "__init__": space["__init__"]})
    return twin, names


def maker(cls: type[_T]) -> type[_T]:
    """A constructor of the frozen slotted dataclass `cls` that takes the same arguments and
    gives an equal record, at a fraction of the cost (see _twin). Typed as `cls` so that its
    calls are checked as `cls`'s are; call it, nothing else (it is not `cls` itself)."""
    twin, _ = _twin(cls)
    return twin  # its instances are made `cls`es by its __init__


def replacer(cls: type[_T]) -> Callable[..., _T]:
    """dataclasses.replace for records of `cls`, without its per-call field lookups and
    keyword building: `replace(record, name=value, ...)`."""
    twin, names = _twin(cls)
    values_of = attrgetter(*names)
    index = {name: i for i, name in enumerate(names)}

    def replace(record: _T, /, **changes: Any) -> _T:
        values = list(values_of(record))
        for name, value in changes.items():
            values[index[name]] = value
        return twin(*values)  # type: ignore[no-any-return]

    replace.__doc__ = f"dataclasses.replace of a {cls.__name__}."
    return replace


__all__ = ["maker", "replacer"]
