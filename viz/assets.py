"""The browser files a Solara page loads, installed from the npm registry.

A Solara page loads its front end (the Vuetify app bundle, require.js, Font Awesome) from
``/_solara/cdn/...``; the Solara server answers from its cache folder and, on a miss,
downloads from a public CDN. Machines without that CDN (CI, an office behind a proxy) then
get a blank page. So before the app starts, :func:`ensure_assets` puts those packages in
the cache folder with npm, the ordinary client of the npm registry. The list is read from
Solara's own page template, so it follows a Solara upgrade; each package is fetched once.

The app's server itself never fetches from the CDN (:func:`serve_cache_only`): a file not
in the cache is a 404 at once, not a download on behalf of whoever asked (nor 7 seconds of
retries where there is no network).

Run ``python -m berdaya.viz.assets`` to install them by hand.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from pathlib import Path

import ipyvue
import solara
import solara.server
from solara.server import cdn_helper, settings

CDN_REF = re.compile(r"\{\{\s*cdn\s*\}\}/((?:@[\w.-]+/)?[\w.-]+)@(\d+\.\d+\.\d+)/")
PATH_REF = re.compile(r"^/?((?:@[\w.-]+/)?[\w.-]+)@(\d+\.\d+\.\d+)/")
#: A package a Solara widget template loads itself (``${this.getCdn()}/name@x.y.z/...``).
WIDGET_REF = re.compile(
    r"getCdn\(\)\}/((?:@[\w.-]+/)?[\w.-]+)@(\d+\.\d+\.\d+(?:-[0-9A-Za-z.]+)?)/"
)
#: The template of Solara's draggable grid under Vue 2 (``solara.GridDraggable``), which
#: Mesa's ``SolaraViz`` lays its charts out in. Its package is a Vue 2 plugin that cannot
#: load under Vue 3, where Mesa's page gets a plain grid instead (``viz/mesa_page.py``).
GRID_TEMPLATE = "gridlayout.vue"
VUE2_APP = "@widgetti/solara-vuetify-app"
VUE3_APP = "@widgetti/solara-vuetify3-app"


class AssetError(RuntimeError):
    """The front-end packages could not be installed (the message says why)."""


def cache_dir() -> Path:
    """The folder the Solara server serves ``/_solara/cdn/`` from."""
    return Path(settings.assets.proxy_cache_dir)


def needed() -> list[tuple[str, str]]:
    """The npm packages (name, version) the Solara page template loads.

    Only the app bundle of the Vue version in use is listed (Solara picks Vue 3 when
    ipyvue 3 is installed). Under Vue 2 the draggable grid that Mesa's ``SolaraViz`` lays
    its charts out in loads a package of its own, listed too: without it that page stays
    blank.

    Returns:
        Sorted (name, version) pairs.
    """
    template = Path(solara.server.__file__).parent / "templates" / "solara.html.j2"
    found = set(CDN_REF.findall(template.read_text(encoding="utf-8")))
    if settings.assets.fontawesome_enabled:
        match = PATH_REF.match(settings.assets.fontawesome_path)
        if match:
            found.add((match.group(1), match.group(2)))
    vue3 = ipyvue.__version__.startswith("3")
    unused = VUE2_APP if vue3 else VUE3_APP
    grid = Path(solara.__file__).parent / "widgets" / "vue" / GRID_TEMPLATE
    if not vue3 and grid.is_file():
        found.update(WIDGET_REF.findall(grid.read_text(encoding="utf-8")))
    return sorted(p for p in found if p[0] != unused)


def installed(name: str, version: str, cache: Path) -> bool:
    """Whether a package is complete in the cache (its package.json is written last)."""
    return (cache / f"{name}@{version}" / "package.json").is_file()


def _extract(tarball: Path, target: Path) -> None:
    """Unpack an npm tarball's ``package/`` folder as ``target`` (atomically)."""
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=target.parent))
    try:
        with tarfile.open(tarball) as tar:
            tar.extractall(staging, filter="data")
        root = staging / "package"
        if not (root / "package.json").is_file():
            raise AssetError(f"{tarball.name}: not an npm package tarball")
        if target.exists():
            shutil.rmtree(target)
        root.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def install(
    cache: Path | None = None,
    packages: list[tuple[str, str]] | None = None,
    run: Callable[..., subprocess.CompletedProcess] = subprocess.run,
) -> list[str]:
    """Fetch the missing packages with ``npm pack`` and unpack them into the cache.

    Args:
        cache: Cache folder (Solara's by default).
        packages: (name, version) pairs (those of :func:`needed` by default).
        run: Runs a command (``subprocess.run``; the tests pass a fake).

    Returns:
        The ``name@version`` of each package installed now.

    Raises:
        AssetError: npm is missing or a package could not be fetched.
    """
    cache = cache_dir() if cache is None else cache
    packages = needed() if packages is None else packages
    todo = [(n, v) for n, v in packages if not installed(n, v, cache)]
    if not todo:
        return []
    npm = shutil.which("npm")
    if npm is None:
        raise AssetError(
            "npm is not installed; the app's front end cannot be fetched "
            "(install Node.js and npm, or give the Solara server access to its CDN)"
        )
    done = []
    with tempfile.TemporaryDirectory(prefix="berdaya-assets-") as tmp:
        for name, version in todo:
            spec = f"{name}@{version}"
            proc = run(
                [npm, "pack", spec, "--pack-destination", tmp, "--silent"],
                capture_output=True,
                text=True,
                check=False,
            )
            if proc.returncode != 0:
                tail = (proc.stderr or proc.stdout or "").strip().splitlines()[-1:]
                raise AssetError(f"npm pack {spec} failed: {' '.join(tail)}")
            tarballs = [t for t in Path(tmp).glob("*.tgz")]
            if len(tarballs) != 1:
                raise AssetError(f"npm pack {spec} left {len(tarballs)} tarballs")
            target = cache / spec
            target.parent.mkdir(parents=True, exist_ok=True)
            _extract(tarballs[0], target)
            tarballs[0].unlink()
            done.append(spec)
    return done


def _no_download(url: str) -> bytes:
    """Stand-in for Solara's download from the CDN: the file is simply not there."""
    raise FileNotFoundError(f"{url}: the app serves its front end from its cache only")


def serve_cache_only() -> None:
    """Keep the Solara server from downloading what is not in its CDN cache folder.

    Solara's setting ``SOLARA_ASSETS_PROXY=false`` is no way to do this: it makes the
    page load its files from the public CDN in the browser instead. The proxy stays on
    (the page loads ``/_solara/cdn/...`` from this server, out of the cache folder that
    :func:`ensure_assets` fills), and its download on a miss, Solara's
    ``cdn_helper.fetch_from_cdn``, fails at once; the server answers 404.

    Raises:
        AssetError: This Solara has no such download to turn off (an upgrade moved it).
    """
    if not callable(getattr(cdn_helper, "fetch_from_cdn", None)):
        raise AssetError(
            "solara.server.cdn_helper.fetch_from_cdn is gone; berdaya cannot keep this "
            "Solara from downloading from its CDN"
        )
    cdn_helper.fetch_from_cdn = _no_download


def ensure_assets(log: Callable[[str], None] | None = None) -> bool:
    """Install the missing front-end packages; say so, and never raise.

    Args:
        log: Where to say what happens (stderr by default).

    Returns:
        Whether every package is in place.
    """
    say = log or (lambda text: print(text, file=sys.stderr))
    try:
        for spec in install():
            say(f"berdaya viz: installed the front-end package {spec}")
    except (AssetError, OSError, tarfile.TarError) as err:
        say(f"berdaya viz: warning: {err}")
        return False
    return True


if __name__ == "__main__":
    sys.exit(0 if ensure_assets(print) else 1)
