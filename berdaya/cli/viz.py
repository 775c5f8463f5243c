"""``berdaya viz``: serve the app in the browser."""

from __future__ import annotations

import argparse
import importlib.util
import sys

from berdaya.cli import options as o


def add(p: argparse.ArgumentParser) -> None:
    """The arguments of ``berdaya viz``."""
    p.add_argument(
        "--port", type=int, default=8765, help="port to serve on (default: %(default)s)"
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default: %(default)s, this machine only)",
    )
    p.add_argument(
        "--mesa",
        action="store_true",
        help="serve Mesa's own SolaraViz page of the model instead (needs Altair: "
        "pip install 'berdaya[viz]')",
    )
    p.add_argument(
        "--allow-remote",
        action="store_true",
        help="allow a --host other than localhost (the app has no login)",
    )


def run(args: argparse.Namespace) -> int:
    """Serve the app (refusing a remote host unless allowed)."""
    if not 1 <= args.port <= 65535:
        raise ValueError(f"--port must be between 1 and 65535 (got {args.port})")
    from berdaya.viz.serve import MESA_PAGE, is_loopback, serve

    if args.mesa and importlib.util.find_spec("altair") is None:
        raise ValueError(
            "--mesa: Mesa's page needs Altair, which is not installed; "
            "pip install 'berdaya[viz]'"
        )

    if not is_loopback(args.host):
        if not args.allow_remote:
            raise ValueError(
                f"--host {args.host!r} serves the app beyond this machine, to anyone "
                "who can reach it (it has no login); add --allow-remote to mean it"
            )
        print(
            f"berdaya viz: warning: listening on {args.host}: anyone who can reach it "
            "can use the app and run models",
            file=sys.stderr,
        )
    if args.mesa:
        return serve(args.host, args.port, MESA_PAGE)
    return serve(args.host, args.port)


VERB = o.Verb(
    "viz",
    "serve the app in the browser (network, charts, comparison)",
    add,
    run,
    "Serve the Solara app: `solara run viz/app.py` on HOST:PORT (with --mesa, Mesa's "
    "SolaraViz page of the model, viz/mesa_page.py).",
    examples=("berdaya viz --port 8765", "berdaya viz --mesa"),
)
