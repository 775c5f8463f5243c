"""berdaya: an agent-based model of community empowerment in Indonesia's P2KP.

The repository's top-level folders install as the sub-packages of this one (pyproject's
``package-dir``): ``berdaya.model``, ``berdaya.agents``, ``berdaya.scenarios``,
``berdaya.experiments`` and ``berdaya.viz``. This package holds what belongs to the whole:
the version and the way to the documents in ``docs/``.
"""

from __future__ import annotations

import tomllib
from importlib import metadata
from pathlib import Path

__all__ = ["DOCS", "__version__", "doc_path"]

#: The documents shipped with berdaya (``docs/`` in the repository).
DOCS = ("ODD.md", "validation.md", "scaling.md", "limits.md", "ARCHITECTURE.md")

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


def doc_path(name: str) -> Path:
    """Find one of berdaya's documents, in an installed wheel or in a source checkout.

    A wheel carries the documents as package data in ``berdaya/docs/``; an editable
    install or a source checkout has them in the repository's ``docs/`` folder, beside
    this package's folder.

    Args:
        name: The document's file name, one of :data:`DOCS` (``"ODD.md"``...).

    Returns:
        The path of the document.

    Raises:
        ValueError: ``name`` is not one of :data:`DOCS`.
        FileNotFoundError: The document is in neither place (the message names both).
    """
    if name not in DOCS:
        raise ValueError(f"document must be one of {', '.join(DOCS)} (got {name!r})")
    places = (_HERE / "docs", _HERE.parent / "docs")
    for folder in places:
        path = folder / name
        if path.is_file():
            return path
    raise FileNotFoundError(
        f"{name} is not installed with this copy of berdaya "
        f"(looked in {places[0]} and {places[1]})"
    )
