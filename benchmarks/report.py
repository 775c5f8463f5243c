"""Machine information, the printed table and the JSON file of a benchmark run."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("numpy", "scipy", "networkx", "mesa", "pandas", "pydantic", "berdaya")


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def _cpu_model() -> str | None:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or None


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
            cwd=Path(__file__).resolve().parent,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip()


def machine_info() -> dict[str, Any]:
    """Describe the machine, interpreter, package versions and code revision.

    Returns:
        A JSON-ready mapping.
    """
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    status = _git("status", "--porcelain", "--untracked-files=no")
    return {
        "python": sys.version.split()[0],
        "implementation": platform.python_implementation(),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu": _cpu_model(),
        "nproc": usable,
        "cpu_count": os.cpu_count(),
        "versions": {p: _version(p) for p in PACKAGES},
        "git_commit": _git("rev-parse", "HEAD"),
        "git_dirty": None if status is None else bool(status),
    }


def timestamp() -> str:
    """Return the current time in UTC, ISO 8601."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def _fmt(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)


def table(results: list[dict[str, Any]]) -> str:
    """Render the results as a fixed-width table.

    Args:
        results: Reference and P2KP figures, each with an optional ``memory`` entry
            and (P2KP) a ``ratio_to_reference`` and ``ratio_to_reference_as_shipped``.

    Returns:
        The table, one line a row.
    """
    width = max(26, *(len(r["label"]) for r in results))
    head = (
        f"{'case':<{width}} {'size':>10} {'steps':>6} {'build s':>8} {'ms/step':>9} "
        f"{'unit-steps/s':>13} {'peak MiB':>9} {'dRSS MiB':>9} {'ratio':>7} "
        f"{'ratio 10x10':>11}"
    )
    lines = [head, "-" * len(head)]
    for r in results:
        mem = r.get("memory") or {}
        ratio = r.get("ratio_to_reference")
        shipped = r.get("ratio_to_reference_as_shipped")
        lines.append(
            f"{r['label']:<{width}} {r['units']:>10,} {r['steps']:>6} "
            f"{r['build_s']:>8.3f} {r['step_ms']:>9.2f} "
            f"{r['units_steps_per_s']:>13,.0f} {_fmt(mem.get('peak_mb'), '.1f'):>9} "
            f"{r['maxrss_delta_mb']:>9.1f} "
            f"{'-' if ratio is None else f'{ratio:,.0f}x':>7} "
            f"{'-' if shipped is None else f'{shipped:,.0f}x':>11}"
        )
    return "\n".join(lines)


def write_json(path: Path, payload: dict[str, Any]) -> Path:
    """Write the payload as indented JSON, creating the folder (atomic replace).

    Args:
        path: Destination file.
        payload: JSON-ready mapping.

    Returns:
        The path written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path
