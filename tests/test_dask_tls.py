"""Sweeps on a Dask cluster that speaks only TLS (issue 18, point 7).

A certificate authority and a certificate for 127.0.0.1 are made with ``openssl``; a
``LocalCluster`` of one worker process listens on ``tls://127.0.0.1`` and lets in only
clients with a certificate that authority signed. ``--cluster tls://...`` with the
``--cluster-tls-*`` files runs the sweep there, with the results of a local sweep; a
client without them, or with another authority's, is refused in one line.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from berdaya.cli import main
from berdaya.experiments import read_results

distributed = pytest.importorskip("distributed")
pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl")

SPEC = """
scenario = "kedungkandang-2008"
replications = 2
seed = 5
[set]
n_households = 120
months = 4
[levers]
kelurahan_involvement = [0.0, 1.0]
[outcomes]
keep = ["powerless_poor"]
"""


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _authority(folder: Path, name: str) -> dict[str, Path]:
    """A CA and a certificate it signed for 127.0.0.1, as PEM files in ``folder``."""
    folder.mkdir()
    subj = ["-subj", f"/CN={name}"]
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
             "-out", "ca.pem", "-days", "2", *subj, cwd=folder)  # fmt: skip
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "node.key", "-out",
             "node.csr", "-subj", "/CN=127.0.0.1", cwd=folder)  # fmt: skip
    (folder / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl("x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", "node.pem", "-days", "2", "-extfile",
             "ext.cnf", cwd=folder)  # fmt: skip
    return {
        "ca": folder / "ca.pem",
        "cert": folder / "node.pem",
        "key": folder / "node.key",
    }


@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory):
    root = tmp_path_factory.mktemp("tls")
    pem = _authority(root / "ours", "berdaya-test-ca")
    other = _authority(root / "theirs", "another-ca")
    files = {k: str(v) for k, v in pem.items()}
    security = distributed.Security(
        tls_ca_file=files["ca"],
        tls_scheduler_cert=files["cert"],
        tls_scheduler_key=files["key"],
        tls_worker_cert=files["cert"],
        tls_worker_key=files["key"],
        tls_client_cert=files["cert"],
        tls_client_key=files["key"],
        require_encryption=True,
    )
    cluster = distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=True,
        protocol="tls://",
        host="127.0.0.1",
        security=security,
        dashboard_address=None,
    )
    try:
        yield cluster.scheduler_address, pem, other
    finally:
        cluster.close()


def _tls(pem: dict[str, Path]) -> list[str]:
    return [f"--cluster-tls-{k}={v}" for k, v in pem.items()]


def test_a_sweep_runs_on_a_tls_cluster_as_here(tls_cluster, tmp_path, capsys):
    address, pem, _ = tls_cluster
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC)
    here, there = tmp_path / "here", tmp_path / "there"
    assert main(["sweep", str(spec), "--out", str(here), "--workers", "1"]) == 0
    args = ["sweep", str(spec), "--out", str(there), "--cluster", address]
    assert main([*args, *_tls(pem)]) == 0, capsys.readouterr().err
    pd.testing.assert_frame_equal(read_results(there), read_results(here))


def test_another_authority_is_refused_in_one_line(tls_cluster, tmp_path, capsys):
    address, _, other = tls_cluster
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC)
    out = tmp_path / "out"
    args = ["sweep", str(spec), "--out", str(out), "--cluster", address]
    code = main([*args, "--cluster-timeout", "3", *_tls(other)])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1, err
    assert f"--cluster: cannot reach a Dask scheduler at {address}" in err
    assert not out.exists()


def test_tls_without_certificates_says_what_to_give(tls_cluster, tmp_path, capsys):
    address, _, _ = tls_cluster
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC)
    code = main(
        ["sweep", str(spec), "--out", str(tmp_path / "o"), "--cluster", address]
    )
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1, err
    assert f"--cluster {address}: no TLS configuration; give --cluster-tls-ca" in err


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["--cluster", "tcp://127.0.0.1:8786", "--cluster-tls-ca", "ca.pem"],
            "are for --cluster tls://HOST:PORT (got --cluster tcp://127.0.0.1:8786)",
        ),
        (
            ["--cluster", "tls://127.0.0.1:8786", "--cluster-tls-ca", "absent.pem"],
            "--cluster-tls-ca: 'absent.pem' is not a file",
        ),
        (
            ["--cluster", "tls://127.0.0.1:8786", "--cluster-tls-key", "/dev/null"],
            "--cluster-tls-key: '/dev/null' is not a file",
        ),
        (
            ["--cluster", "udp://127.0.0.1:8786"],
            "must be 'local' or a scheduler address like tcp://HOST:8786 or tls://",
        ),
    ],
)
def test_bad_tls_options_are_refused_before_connecting(
    args, expected, tmp_path, capsys
):
    spec = tmp_path / "s.toml"
    spec.write_text(SPEC)
    code = main(["sweep", str(spec), "--out", str(tmp_path / "o"), *args])
    err = capsys.readouterr().err
    assert code == 2 and len(err.splitlines()) == 1 and expected in err, err
    assert not (tmp_path / "o").exists()
