"""Reading and checking study configurations (YAML) before anything is loaded or trained.

Every error names the offending key by its dotted path and the allowed values, and suggests the closest
known key for a typo (``uap.max_itr: unknown key; did you mean 'max_iter'?``).
"""
from __future__ import annotations

import difflib
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml


class ConfigError(ValueError):
    """A study configuration that cannot be run; the message names the key."""


def read_config(path: str | Path) -> dict[str, Any]:
    """Read a YAML configuration file into a mapping.

    :raises FileNotFoundError: No such file.
    :raises ConfigError: Not YAML, or not a mapping.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"Configuration file not found: {path}")
    try:
        config = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as error:
        raise ConfigError(f"{path} is not valid YAML: {error}") from error
    if not isinstance(config, dict):
        raise ConfigError(f"{path} must hold a mapping of sections (dataset, model, uap, ...), got {type(config).__name__}.")
    return config


def unknown_key_message(where: str, key: Any, allowed: Iterable[str]) -> str:
    """``"where.key: unknown key; did you mean 'x'? Allowed: ..."``."""
    allowed = sorted(allowed)
    close = closest(str(key), allowed)
    hint = f" did you mean {close!r}?" if close else ""
    return f"{_join(where, key)}: unknown key;{hint} allowed: {', '.join(allowed)}."


def closest(name: str, allowed: Iterable[str]) -> str | None:
    """The allowed name a typo most likely meant: a close spelling, or one that ``name`` begins."""
    allowed = list(allowed)
    close = difflib.get_close_matches(name, allowed, n=1, cutoff=0.6)
    if close:
        return close[0]
    starting = [option for option in allowed if option.startswith(name) or name.startswith(option)]
    return starting[0] if len(starting) == 1 else None


def _join(where: str, key: Any) -> str:
    return f"{where}.{key}" if where else str(key)


class Section:
    """One mapping of a configuration with its dotted location, read through checked getters.

    :param mapping: The mapping (``None`` is an empty section).
    :param where: Its dotted path, e.g. ``"uap"``.
    :param allowed: The keys it may hold; any other key is an error.
    """

    def __init__(self, mapping: Any, where: str, allowed: Iterable[str]) -> None:
        if mapping is None:
            mapping = {}
        if not isinstance(mapping, Mapping):
            raise ConfigError(f"{where or 'the configuration'} must be a mapping, got {mapping!r}.")
        self.mapping, self.where = dict(mapping), where
        for key in self.mapping:
            if key not in set(allowed):
                raise ConfigError(unknown_key_message(where, key, allowed))

    def name(self, key: str) -> str:
        """The dotted path of ``key``."""
        return _join(self.where, key)

    def has(self, key: str) -> bool:
        return key in self.mapping

    def raw(self, key: str, default: Any = None) -> Any:
        return self.mapping.get(key, default)

    def required(self, key: str) -> Any:
        if key not in self.mapping:
            raise ConfigError(f"{self.name(key)} is required.")
        return self.mapping[key]

    def section(self, key: str, allowed: Iterable[str]) -> Section:
        return Section(self.mapping.get(key), self.name(key), allowed)

    def string(self, key: str, default: str | None = None, choices: Iterable[str] | None = None) -> str | None:
        value = self.mapping.get(key, default)
        if value is None:
            return None
        if not isinstance(value, str):
            raise ConfigError(f"{self.name(key)} must be a string, got {value!r}.")
        if choices is not None and value not in set(choices):
            close = closest(value, choices)
            hint = f" Did you mean {close!r}?" if close else ""
            raise ConfigError(f"{self.name(key)}: unknown value {value!r}; choose from {sorted(choices)}.{hint}")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.mapping.get(key, default)
        if not isinstance(value, bool):
            raise ConfigError(f"{self.name(key)} must be true or false, got {value!r}.")
        return value

    def number(
        self, key: str, default: float | None = None, *, integer: bool = False, low: float | None = None,
        high: float | None = None, low_open: bool = False, allow_none: bool = False,
    ) -> float | int | None:
        return check_number(self.mapping.get(key, default), self.name(key), integer=integer, low=low, high=high,
                            low_open=low_open, allow_none=allow_none)

    def numbers(self, key: str, default: Iterable[float], **bounds: Any) -> tuple[float, ...]:
        values = self.mapping.get(key, list(default))
        if not isinstance(values, (list, tuple)) or not values:
            raise ConfigError(f"{self.name(key)} must be a non-empty list of numbers, got {values!r}.")
        return tuple(check_number(v, f"{self.name(key)}[{i}]", **bounds) for i, v in enumerate(values))

    def strings(self, key: str, default: Iterable[str], choices: Iterable[str] | None = None) -> tuple[str, ...]:
        values = self.mapping.get(key, list(default))
        if isinstance(values, str):
            values = [values]
        if not isinstance(values, (list, tuple)) or not all(isinstance(v, (str, int)) for v in values):
            raise ConfigError(f"{self.name(key)} must be a list of names, got {values!r}.")
        values = tuple(str(v) for v in values)
        if choices is not None:
            unknown = [v for v in values if v not in set(choices)]
            if unknown:
                raise ConfigError(f"{self.name(key)}: unknown value(s) {unknown}; choose from {sorted(choices)}.")
        return values


def check_number(
    value: Any, name: str, *, integer: bool = False, low: float | None = None, high: float | None = None,
    low_open: bool = False, allow_none: bool = False,
) -> float | int | None:
    """``value`` as a number within bounds, else a ConfigError naming ``name``."""
    if value is None and allow_none:
        return None
    kind = "an integer" if integer else "a number"
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (integer and not float(value).is_integer()):
        raise ConfigError(f"{name} must be {kind}, got {value!r}.")
    if not math.isfinite(value):
        raise ConfigError(f"{name} must be finite, got {value!r}.")
    if low is not None and (value <= low if low_open else value < low):
        raise ConfigError(f"{name} must be {'>' if low_open else '>='} {low:g}, got {value!r}.")
    if high is not None and value > high:
        raise ConfigError(f"{name} must be <= {high:g}, got {value!r}.")
    return int(value) if integer else float(value)
