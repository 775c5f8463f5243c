"""How fast the command line answers: ``berdaya --help`` and an argument error.

Issue 19, point 4: each within 1.2x of ``python -c "import mesa"`` (better: without
importing Mesa at all). Each command runs in a fresh process, interleaved with the
reference (reference, help, error, reference, ...), so a change in the machine's load
hits all three alike; the figure is the ratio of medians, with the min and max of the
pairs' own ratios.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from typing import Any

#: Target: a command's median over the reference's median.
START_LIMIT = 1.2


def _commands() -> dict[str, list[str]]:
    """The reference and the two commands, run with this interpreter's environment."""
    exe = shutil.which("berdaya", path=os.path.dirname(sys.executable))
    berdaya = [exe] if exe else [sys.executable, "-m", "berdaya"]
    return {
        "import mesa": [sys.executable, "-c", "import mesa"],
        "berdaya --help": [*berdaya, "--help"],
        "berdaya run --bogus": [*berdaya, "run", "--bogus"],
    }


def _seconds(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, capture_output=True, check=False)
    return time.perf_counter() - start


def time_startup(pairs: int = 7) -> dict[str, Any]:
    """Time the command line's start against ``import mesa``, interleaved.

    Args:
        pairs: Rounds of (reference, each command); at least 5 for a median.

    Returns:
        Per command: median seconds, the ratio of medians to the reference, the min
        and max of the rounds' ratios, and whether it meets :data:`START_LIMIT`.
    """
    commands = _commands()
    for command in commands.values():  # warm the file cache: not timed
        _seconds(command)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(pairs):
        for name, command in commands.items():
            times[name].append(_seconds(command))
    ref = times["import mesa"]
    out: dict[str, Any] = {"pairs": pairs, "limit": START_LIMIT}
    for name, values in times.items():
        rounds = [v / r for v, r in zip(values, ref, strict=True)]
        ratio = statistics.median(values) / statistics.median(ref)
        out[name] = {
            "median_s": statistics.median(values),
            "ratio": ratio,
            "ratio_min": min(rounds),
            "ratio_max": max(rounds),
            "met": ratio <= START_LIMIT,
        }
    return out


def startup_lines(result: dict[str, Any]) -> list[str]:
    """The start-up figures as printed lines, one a command."""
    ref = result["import mesa"]["median_s"]
    lines = [
        f"command-line start, {result['pairs']} interleaved rounds against "
        f'python -c "import mesa" ({ref * 1000:.0f} ms median):'
    ]
    for name in ("berdaya --help", "berdaya run --bogus"):
        r = result[name]
        verdict = "met" if r["met"] else "NOT met"
        lines.append(
            f"  {name}: {r['median_s'] * 1000:.0f} ms, {r['ratio']:.2f}x "
            f"(rounds {r['ratio_min']:.2f}-{r['ratio_max']:.2f}); target <= "
            f"{result['limit']}x: {verdict}"
        )
    return lines
