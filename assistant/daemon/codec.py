"""Typed results to JSON and back, so the daemon client hands out the same objects
as the in-process backend.

`dump` turns dataclasses, lists, tuples, dicts, dates and paths into JSON values;
`load(T, value)` rebuilds a `T` from the annotations of its dataclass fields. Only
types that results are made of are supported; anything else is a programming error,
caught by the round-trip tests of every result type.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import types
import typing
from datetime import date, datetime
from pathlib import Path
from typing import Any


def dump(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: dump(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [dump(v) for v in value]
    if isinstance(value, dict):
        return {str(k): dump(v) for k, v in value.items()}
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    if value is None or isinstance(value, str | int | float | bool):
        return value
    raise TypeError(f"cannot send a {type(value).__name__} to a client")


def load(kind: Any, value: Any) -> Any:
    """`value` (from `dump`) as an instance of the type `kind`."""
    if kind is Any or kind is object:
        return value
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        options = typing.get_args(kind)
        if value is None and type(None) in options:
            return None
        chosen = [o for o in options if o is not type(None)]
        if len(chosen) != 1:
            raise TypeError(f"cannot load the union {kind}")
        return load(chosen[0], value)
    if origin is typing.Literal:
        return value
    if origin is collections.abc.Sequence:  # what a signature accepts; a list is one
        return [load(typing.get_args(kind)[0], v) for v in value]
    if origin in (list, tuple, dict) or kind in (list, tuple, dict):
        return _load_container(kind, origin, value)
    if isinstance(kind, type) and dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        given = {
            f.name: load(hints[f.name], value[f.name])
            for f in dataclasses.fields(kind)
            if f.init and f.name in value
        }
        return kind(**given)
    if kind is datetime:
        return datetime.fromisoformat(value)
    if kind is date:
        return date.fromisoformat(value)
    if kind is Path:
        return Path(value)
    if kind is float and isinstance(value, int):
        return float(value)
    if kind in (str, int, float, bool, type(None)):
        return value
    raise TypeError(f"cannot load a {kind}")


def _load_container(kind: Any, origin: Any, value: Any) -> Any:
    args = typing.get_args(kind)
    if (origin or kind) is dict:
        item = args[1] if args else Any
        return {k: load(item, v) for k, v in value.items()}
    if (origin or kind) is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(load(args[0], v) for v in value)
        if args:
            return tuple(load(a, v) for a, v in zip(args, value, strict=True))
        return tuple(value)
    item = args[0] if args else Any
    return [load(item, v) for v in value]
