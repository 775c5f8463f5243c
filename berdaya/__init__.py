"""berdaya: an agent-based model of community empowerment in Indonesia's P2KP.

The repository's top-level folders install as the sub-packages of this one (pyproject's
``package-dir``): ``berdaya.model``, ``berdaya.agents``, ``berdaya.scenarios``,
``berdaya.experiments`` and ``berdaya.viz``. This package holds what belongs to the whole:
the version.
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

__all__ = ["__version__"]

_HERE = Path(__file__).resolve().parent


def _version() -> str:
    """The version of pyproject.toml: from the installed metadata, else from the file.

    An install (editable or not) records pyproject's version in its metadata; a copy of
    the source tree that was never installed reads pyproject.toml itself.
    """
    try:
        return metadata.version("berdaya")
    except metadata.PackageNotFoundError:
        pass
    try:
        with (_HERE.parent / "pyproject.toml").open("rb") as fh:
            return str(tomllib.load(fh)["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return "0+unknown"


__version__ = _version()
