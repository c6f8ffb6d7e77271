"""Our TURN credentials against a real coturn (Debian's ``coturn`` package).

Starts ``turnserver`` on a free local port with the REST API secret, and asks
``turnutils_uclient`` for an allocation with the credentials ``calls.ice`` hands browsers.
Skipped when coturn is not installed, except in CI, where it must be (see .ci/run).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from calls.ice import turn_credentials

SECRET = "coturn-test-secret"
USER_ID = 42
# The client prints this once its allocation succeeded (then it keeps sending test packets
# for a dozen seconds, which these tests do not need); a refusal prints the other.
ALLOCATED = "Total connect time"
REFUSED = "Cannot complete Allocation"
# What turnserver logs once it listens.
READY = "Total General servers"

INSTALLED = shutil.which("turnserver") is not None and shutil.which("turnutils_uclient") is not None

# Outside CI a machine without coturn skips these; in CI they run, and fail if it is missing.
if not INSTALLED and not os.environ.get("CI"):
    pytestmark = pytest.mark.skip(reason="coturn is not installed (apt-get install coturn)")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def turn_port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    assert INSTALLED, "CI must install coturn (turnserver and turnutils_uclient), see .ci/run"
    directory: Path = tmp_path_factory.mktemp("coturn")
    port = free_port()
    log = directory / "turnserver.log"
    server = subprocess.Popen(
        [
            "turnserver",
            # Our options only, not the machine's /etc/turnserver.conf.
            "-n",
            f"--listening-port={port}",
            "--listening-ip=127.0.0.1",
            "--relay-ip=127.0.0.1",
            "--use-auth-secret",
            f"--static-auth-secret={SECRET}",
            "--realm=atende.test",
            "--no-tls",
            "--no-dtls",
            "--no-cli",
            "--log-file=stdout",
            "--simple-log",
            "--allow-loopback-peers",
            f"--userdb={directory / 'turndb'}",
            f"--pidfile={directory / 'turnserver.pid'}",
        ],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 10
        while READY not in log.read_text() and time.monotonic() < deadline:
            assert server.poll() is None, log.read_text()
            time.sleep(0.1)
        yield port
    finally:
        server.terminate()
        server.wait(timeout=10)


def allocate(port: int, username: str, password: str) -> str:
    """Ask coturn for a relay allocation; what the client said (ALLOCATED or REFUSED)."""
    # -n 1 -m 1: one client sending one packet; -c: no RTCP; -e/-X: loopback peer and relay.
    arguments = ["-p", str(port), "-u", username, "-w", password, "-n", "1", "-m", "1", "-c"]
    arguments += ["-e", "127.0.0.1", "-X", "127.0.0.1"]
    client = subprocess.Popen(
        ["turnutils_uclient", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert client.stdout is not None
        for line in client.stdout:
            if ALLOCATED in line:
                return ALLOCATED
            if REFUSED in line:
                return REFUSED
        return f"client exited with {client.wait()}"
    finally:
        client.kill()
        client.wait(timeout=10)


def test_coturn_accepts_the_credentials_we_issue(turn_port: int) -> None:
    username, password = turn_credentials(
        secret=SECRET, user_id=USER_ID, expires_at=int(time.time()) + 600
    )

    assert allocate(turn_port, username, password) == ALLOCATED


def test_coturn_refuses_a_wrong_password(turn_port: int) -> None:
    username, _ = turn_credentials(
        secret=SECRET, user_id=USER_ID, expires_at=int(time.time()) + 600
    )
    _, other_secret_password = turn_credentials(
        secret="another-secret", user_id=USER_ID, expires_at=int(time.time()) + 600
    )

    assert allocate(turn_port, username, other_secret_password) == REFUSED


def test_coturn_refuses_expired_credentials(turn_port: int) -> None:
    username, password = turn_credentials(
        secret=SECRET, user_id=USER_ID, expires_at=int(time.time()) - 5
    )

    assert allocate(turn_port, username, password) == REFUSED
