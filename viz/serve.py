"""Starting the app: ``berdaya viz`` runs ``solara run viz/app.py`` as a subprocess.

The server keeps to this machine unless told otherwise: it listens on 127.0.0.1 by
default (another address needs ``--allow-remote``), it downloads nothing from Solara's
CDN (:func:`berdaya.viz.assets.serve_cache_only`), and it neither reports usage nor asks
PyPI for a newer Solara.
"""

from __future__ import annotations

import ipaddress
import os
import subprocess
import sys
from pathlib import Path

from berdaya.viz.assets import ensure_assets

APP = Path(__file__).resolve().with_name("app.py")
#: Mesa's own ``SolaraViz`` page of the model (``berdaya viz --mesa``).
MESA_PAGE = APP.with_name("mesa_page.py")
# Our own assets (``custom.css``, read into the page's head before the app renders)
STATIC = Path(__file__).resolve().with_name("static")

# Solara reports usage to a tracking service unless told not to; the app never needs it.
# Solara looks for ``custom.css`` in the extra asset locations first. Its banner ("This
# website runs on Solara") is English in either language of the app: not shown.
QUIET_ENV = {
    "SOLARA_TELEMETRY_MIXPANEL_ENABLE": "False",
    "SOLARA_THEME_SHOW_BANNER": "False",
    "SOLARA_ASSETS_EXTRA_LOCATIONS": str(STATIC),
}
#: The server's environment: quiet; Reacton's fast renderer (``REACTON_FAST=1``, an
#: option of the Reacton Solara runs on), which walks only the components whose state
#: changed: a step updates some 60 widgets instead of every one of the page's 1,000
#: (about a sixth of a step's server time); and the opening page drawn as the server
#: starts (``berdaya.viz.app.WARM_UP_ENV``).
SERVER_ENV = {**QUIET_ENV, "REACTON_FAST": "1", "BERDAYA_WARM_UP": "1"}


def viz_command(
    host: str = "127.0.0.1", port: int = 8765, app: Path = APP
) -> list[str]:
    """The command that serves the app.

    Args:
        host: Address to listen on.
        port: Port to listen on.
        app: The Solara page to serve (berdaya's app unless told otherwise).

    Returns:
        ``python -m solara run <viz/app.py> --host H --port N`` (production mode, no
        browser opened, no version check against PyPI).
    """
    return [
        sys.executable,
        "-m",
        "solara",
        "run",
        str(app),
        "--host",
        host,
        "--port",
        str(port),
        "--production",
        "--no-open",
        "--no-check-version",
    ]


def is_loopback(host: str) -> bool:
    """Whether an address to listen on keeps the app to this machine.

    Args:
        host: ``localhost``, an IPv4 or IPv6 address, or a host name.

    Returns:
        True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1); False for any
        other, ``0.0.0.0`` and host names included.
    """
    name = host.strip()
    if name.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def serve(host: str = "127.0.0.1", port: int = 8765, app: Path = APP) -> int:
    """Serve the app until interrupted.

    Args:
        host: Address to listen on.
        port: Port to listen on.
        app: The Solara page to serve (berdaya's app unless told otherwise).

    Returns:
        The server's exit status (0 after Ctrl-C).
    """
    ensure_assets()
    print(f"berdaya viz: serving the app at http://{host}:{port} (Ctrl-C stops it)")
    sys.stdout.flush()
    proc = subprocess.Popen(
        viz_command(host, port, app), env={**os.environ, **SERVER_ENV}
    )
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        return 0
