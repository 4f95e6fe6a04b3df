"""The registry of backends: ``get(name, **options)``, ``list()``, ``add(cls)``, ``available()``."""

from __future__ import annotations

import builtins
import warnings

from solvers._base import Backend
from solvers._highs import HighsBackend
from solvers._kept import KeptPoolBackend
from solvers._pulp import PulpBackend
from solvers._scipy import ScipyBackend

DEFAULT = "highs"
_BACKENDS: dict[str, type[Backend]] = {}


def add(cls: type[Backend]) -> type[Backend]:
    """Register a Backend subclass under ``cls.name`` (warns when it shadows one); returns it."""
    if not (isinstance(cls, type) and issubclass(cls, Backend)) or not getattr(cls, "name", None):
        raise TypeError("add() takes a Backend subclass with a name")
    key = cls.name.lower()
    if key in _BACKENDS and _BACKENDS[key] is not cls:
        warnings.warn(
            f"solver {key!r}: {cls.__qualname__} replaces {_BACKENDS[key].__qualname__}",
            UserWarning,
            stacklevel=2,
        )
    _BACKENDS[key] = cls
    return cls


def list(only_available: bool = True) -> builtins.list[str]:  # noqa: A001 - the registry verb
    """Registered backend names, the default first; only those that run here by default."""
    return [k for k, cls in _BACKENDS.items() if not only_available or cls.is_available()]


def available() -> dict[str, bool]:
    """Every registered name -> whether it runs here."""
    return {k: cls.is_available() for k, cls in _BACKENDS.items()}


def backend_class(name: str) -> type[Backend]:
    """The class registered under ``name``; ValueError listing the valid names if none."""
    cls = _BACKENDS.get(str(name).lower())
    if cls is None:
        raise ValueError(f"unknown solver {name!r}; valid: {', '.join(_BACKENDS)}")
    return cls


def get(name: str = DEFAULT, **options) -> Backend:
    """A new backend instance by name; RuntimeError if that solver is not installed here."""
    cls = backend_class(name)
    if not cls.is_available():
        here = ", ".join(list()) or "none"
        raise RuntimeError(f"solver {cls.name!r} is not available here; available: {here}")
    return cls(**options)


for _cls in (HighsBackend, ScipyBackend, PulpBackend, KeptPoolBackend):
    add(_cls)
