"""Loading scenario files (TOML) and overrides, with one-line errors.

A scenario file is a flat TOML table of parameter values, plus three optional keys of its
own: ``description`` (one line), ``base`` (the name of a shipped scenario it starts from)
and nothing else. Everything else must be a parameter of
:class:`~berdaya.scenarios.schema.Parameters`. Loading validates; nothing else parses.
"""

from __future__ import annotations

import difflib
import os
import stat
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from berdaya.scenarios.schema import Parameters, schema

META_KEYS = ("description", "base")
#: The largest scenario file read: a flat table of parameters takes a few kilobytes.
MAX_SCENARIO_BYTES = 1024 * 1024
#: The longest value or name quoted back in a message.
MAX_SHOWN = 60


class ScenarioError(ValueError):
    """A scenario file, name or override is not valid; the message is one line."""


@dataclass(frozen=True)
class LoadedScenario:
    """A validated scenario: its name, description, parameters and where it came from."""

    name: str
    description: str
    params: Parameters
    source: str
    overrides: dict[str, Any] = field(default_factory=dict)


def shipped() -> dict[str, Path]:
    """Return the scenarios shipped with berdaya, by name.

    Returns:
        Mapping from scenario name (file stem) to its TOML path.
    """
    folder = resources.files("berdaya.scenarios") / "shipped"
    return {
        Path(str(p)).stem: Path(str(p))
        for p in sorted(folder.iterdir(), key=lambda p: p.name)
        if p.name.endswith(".toml")
    }


def _suggest(name: str, options: list[str]) -> str:
    close = difflib.get_close_matches(name, options, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def shown(value: Any) -> str:
    """A value as quoted back in a one-line message: its repr, cut to a sane length.

    The repr escapes line breaks and control characters, so the message stays one line
    whatever a file or an option held.
    """
    text = repr(value)
    return text if len(text) <= MAX_SHOWN else f"{text[: MAX_SHOWN - 3]}..."


def format_validation_error(err: ValidationError, source: str) -> str:
    """Turn a pydantic error into one line naming the source, the field and what is allowed.

    Args:
        err: The validation error raised by :class:`Parameters`.
        source: Where the values came from (a file path, ``--set`` or a scenario name).

    Returns:
        A single line of text.
    """
    info = schema()
    first = err.errors()[0]
    loc = first.get("loc") or ()
    name = str(loc[0]) if loc else ""
    got = first.get("input")
    if first["type"] == "extra_forbidden":
        return (
            f"{source}: unknown field {shown(name)}{_suggest(name, list(info))}; "
            "`berdaya params` lists the fields"
        )
    if name in info:
        return (
            f"{source}: field '{name}' must be {info[name].allowed} (got {shown(got)})"
        )
    msg = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{source}: {msg}"


def plain(value: Any) -> Any:
    """The Python value a numpy scalar or 0-d array holds; any other value unchanged.

    Samplers and array code hand out ``np.int64``, ``np.float32``, ``np.bool_`` or
    ``np.array(3.0)`` where a number or a flag is meant; they count as the ``int``,
    ``float`` or ``bool`` they hold, and are then checked like one.

    Args:
        value: Any value.

    Returns:
        ``value.item()`` for a numpy scalar or 0-d array, else ``value`` itself.
    """
    if isinstance(value, np.generic) or (
        isinstance(value, np.ndarray) and value.ndim == 0
    ):
        return value.item()
    return value


def plain_values(values: dict[str, Any] | None) -> dict[str, Any]:
    """A copy of parameter values with numpy scalars as Python values (:func:`plain`)."""
    return {name: plain(value) for name, value in (values or {}).items()}


def check_seed(seed: Any, name: str = "seed", *, generators: bool = False) -> Any:
    """Check a run's seed, a numpy integer becoming a Python ``int``.

    An integer seed is below 2**64, so that it fits the files a run is written to.

    Args:
        seed: The seed given.
        name: Its name, for the message (``seed``, ``rng``).
        generators: Also allow what Mesa takes as ``rng`` besides an integer: ``None``,
            a ``numpy.random.Generator``, ``BitGenerator`` or ``SeedSequence``.

    Returns:
        The seed, an integer as a Python ``int``.

    Raises:
        ScenarioError: One line naming the seed and what is allowed.
    """
    value = plain(seed)
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < 2**64:
        return value
    if generators and (
        value is None
        or isinstance(
            value, np.random.Generator | np.random.BitGenerator | np.random.SeedSequence
        )
    ):
        return value
    allowed = "a non-negative integer below 2**64"
    if generators:
        allowed += ", a numpy Generator or SeedSequence, or None"
    raise ScenarioError(f"{name} must be {allowed} (got {shown(seed)})")


def validate(values: dict[str, Any], source: str, *, strict: bool = True) -> Parameters:
    """Validate parameter values against the schema.

    Numpy scalars and 0-d arrays count as the Python values they hold (:func:`plain`).

    Args:
        values: Parameter values (only those that differ from the defaults are needed).
        source: Where they came from, for the error message.
        strict: Refuse type coercion (a string where a number belongs); files use strict.

    Returns:
        The validated :class:`Parameters`.

    Raises:
        ScenarioError: One line naming the source, the field and what is allowed.
    """
    try:
        return Parameters.model_validate(plain_values(values), strict=strict)
    except ValidationError as err:
        raise ScenarioError(format_validation_error(err, source)) from None


def _read_bytes(path: Path, what: str, too_big: str) -> bytes:
    """The bytes of a regular file of at most MAX_SCENARIO_BYTES (+1 to see growth)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise
    except OSError as err:
        raise ScenarioError(f"{path}: cannot be read ({err.strerror})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ScenarioError(f"{path}: is a folder, not a {what}")
        if not stat.S_ISREG(info.st_mode):
            raise ScenarioError(
                f"{path}: is not a regular file (a device, pipe or socket); a {what} "
                "is a TOML file"
            )
        if info.st_size > MAX_SCENARIO_BYTES:
            raise ScenarioError(too_big)
        with os.fdopen(fd, "rb") as fh:
            fd = -1  # the file object closes it now
            return fh.read(MAX_SCENARIO_BYTES + 1)
    except OSError as err:
        raise ScenarioError(f"{path}: cannot be read ({err.strerror})") from None
    finally:
        if fd >= 0:
            os.close(fd)


def read_toml(path: Path, what: str = "scenario file") -> tuple[dict[str, Any], str]:
    """Read a small TOML file safely: a scenario file, or a sweep or national spec.

    The file is opened without blocking (a named pipe would wait for a writer) and
    checked on the open descriptor before a byte is read: a folder, a device such as
    ``/dev/zero``, a pipe or a socket, or a file over :data:`MAX_SCENARIO_BYTES`, is
    refused at once rather than read without end. The bytes must be UTF-8 (a byte-order
    mark is allowed) and TOML not nested without end.

    Args:
        path: The file.
        what: What the file is, for the messages ("scenario file", "sweep spec").

    Returns:
        The parsed table and the text it was parsed from.

    Raises:
        FileNotFoundError: There is no such file (the caller says what it looked for).
        ScenarioError: One line naming the file and what is wrong with it.
    """
    too_big = f"{path}: is larger than a {what} may be ({MAX_SCENARIO_BYTES:,} bytes)"
    data = _read_bytes(path, what, too_big)
    if len(data) > MAX_SCENARIO_BYTES:  # it grew since it was measured
        raise ScenarioError(too_big)
    try:
        text = data.decode("utf-8-sig")  # a byte-order mark from an editor is fine
    except UnicodeDecodeError as err:
        raise ScenarioError(
            f"{path}: is not UTF-8 text (byte 0x{data[err.start]:02x} at offset "
            f"{err.start}); a {what} is a TOML file"
        ) from None
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as err:
        raise ScenarioError(f"{path}: not valid TOML ({err})") from None
    except RecursionError:
        raise ScenarioError(
            f"{path}: not valid TOML (values nested too deeply)"
        ) from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return read_toml(path)[0]
    except FileNotFoundError:
        raise ScenarioError(f"{path}: no such scenario file") from None


def _values_of(path: Path, seen: tuple[str, ...] = ()) -> tuple[dict[str, Any], str]:
    """Read a scenario file and its ``base`` chain into one dict of values."""
    data = _read_toml(path)
    for key, value in data.items():
        if isinstance(value, dict):
            raise ScenarioError(
                f"{path}: field {shown(key)} is a table; scenario files are flat "
                "'name = value' lines"
            )
    description = data.pop("description", "")
    if not isinstance(description, str) or "\n" in description or "\r" in description:
        raise ScenarioError(
            f"{path}: field 'description' must be a string of one line "
            f"(got {shown(description)})"
        )
    base = data.pop("base", None)
    values: dict[str, Any] = {}
    if base is not None:
        ships = shipped()
        if not isinstance(base, str) or base not in ships:
            raise ScenarioError(
                f"{path}: field 'base' must be one of {', '.join(ships)} "
                f"(got {shown(base)})"
            )
        if base in seen:
            raise ScenarioError(f"{path}: field 'base' makes a cycle through '{base}'")
        values, _ = _values_of(ships[base], (*seen, base))
    values.update(data)
    return values, description


def parse_set(items: list[str] | None) -> dict[str, Any]:
    """Parse ``--set name=value`` strings; values are read as TOML literals.

    ``0.5`` is a number, ``4000`` an integer, ``true`` a boolean; anything that is not a
    TOML literal (``readiness``) is taken as a string.

    Args:
        items: Strings of the form ``name=value``.

    Returns:
        Mapping from name to parsed value.

    Raises:
        ScenarioError: An item without ``=`` or with an unknown name.
    """
    out: dict[str, Any] = {}
    names = list(schema())
    for item in items or []:
        name, sep, raw = item.partition("=")
        name, raw = name.strip(), raw.strip()
        if not sep or not name:
            raise ScenarioError(f"--set: {shown(item)} must look like name=value")
        if name not in names:
            raise ScenarioError(
                f"--set: unknown field {shown(name)}{_suggest(name, names)}; "
                "`berdaya params` lists the fields"
            )
        try:
            parsed = tomllib.loads(f"v = {raw}")
        except (tomllib.TOMLDecodeError, RecursionError):
            parsed = {}
        # one literal, or else the text as it is (not "0.3\nother = 1")
        out[name] = parsed["v"] if list(parsed) == ["v"] else raw
    return out


def _resolve(name_or_path: str | Path) -> tuple[Path, str]:
    """The file of a scenario given by shipped name or path, and the scenario's name."""
    ships = shipped()
    text = str(name_or_path)
    if not text.strip():
        raise ScenarioError(
            f"scenario name is empty: give a shipped scenario ({', '.join(ships)}) "
            "or a .toml file"
        )
    if text in ships:
        return ships[text], text
    path = Path(text)
    if path.suffix != ".toml" and not path.exists():
        raise ScenarioError(
            f"scenario {shown(text)} is neither a shipped scenario "
            f"({', '.join(ships)}) nor a .toml file"
        )
    return path, path.stem


def scenario_chain(name_or_path: str | Path) -> list[tuple[str | None, frozenset[str]]]:
    """The files a scenario is read from, itself first and then each ``base`` in turn.

    Args:
        name_or_path: A shipped scenario name or a path to a TOML file.

    Returns:
        A pair per file: its shipped name (``None`` for a file that is not shipped) and
        the parameters it sets itself (its ``description`` and ``base`` left out).

    Raises:
        ScenarioError: The scenario or a file of its chain cannot be read.
    """
    path, _ = _resolve(name_or_path)
    ships = shipped()
    chain: list[tuple[str | None, frozenset[str]]] = []
    name: str | None = str(name_or_path) if str(name_or_path) in ships else None
    while True:
        data = _read_toml(path)
        chain.append((name, frozenset(k for k in data if k not in META_KEYS)))
        base = data.get("base")
        seen = {n for n, _ in chain}
        if not isinstance(base, str) or base not in ships or base in seen:
            return chain  # the end, or a bad base that loading reports
        path, name = ships[base], base


def load_scenario(
    name_or_path: str | Path = "kedungkandang-2008",
    overrides: dict[str, Any] | None = None,
    *,
    overrides_source: str = "overrides",
) -> LoadedScenario:
    """Load a shipped scenario by name, or a TOML file by path, and apply overrides.

    Args:
        name_or_path: A shipped scenario name (see :func:`shipped`) or a path to a TOML file.
        overrides: Parameter values that replace the file's (for instance from ``--set``).
        overrides_source: What the overrides are called in a message about them (the
            command line says ``--set``).

    Returns:
        The validated scenario.

    Raises:
        ScenarioError: One line naming the file, the field and what is allowed.
    """
    path, name = _resolve(name_or_path)
    values, description = _values_of(path)
    params = validate(values, str(path))
    overrides = plain_values(overrides)
    if overrides:
        params = validate({**values, **overrides}, overrides_source)
    return LoadedScenario(name, description, params, str(path), overrides)
