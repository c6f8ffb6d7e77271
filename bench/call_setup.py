#!/usr/bin/env python
"""Call setup time: from the client's click on "Call now" to ICE "connected", in real browsers.

Run by hand (not part of the test suite), from the project root:

    .venv/bin/python bench/call_setup.py --runs 10

What it does:

1. creates a throwaway database (embedded SQLite in a temporary directory by default, or
   ``--database-url``; with ``--redis-url`` the channel layer is channels-redis), migrates it,
   and creates with the ORM a verified professional and a verified client with tokens;
2. starts ``manage.py serve`` (daphne plus the embedded scheduler, what the embedded default
   runs) on a free port;
3. opens headless Chromium (the system ``chromium``, fake camera and microphone, the flags of
   the browser tests) with two contexts; the professional signs in and turns online on the
   dashboard and stays there;
4. N times: the client opens the professional's page, clicks "Call now" (t0), the
   professional's incoming-call dialog is accepted as soon as it shows, and the time is taken
   when the client's RTCPeerConnection reaches ICE "connected" (t1) and when both do; then the
   client hangs up and both wait for the end.

Prints per run and the median, p90, min and max of: click -> ringing on the professional's
screen, click -> client ICE connected, click -> both connected, and accept -> client ICE
connected (the part that is signaling and ICE only, without the accept click's timing).
"""

# A bench, not the service: our own subprocess, fixed local URLs, throwaway credentials.
# ruff: noqa: S603
from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-only-password-1234"
DOMAIN = "@bench-call.invalid"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--use-fake-ui-for-media-stream",
    "--use-fake-device-for-media-stream",
    "--disable-features=WebRtcHideLocalIpsWithMdns",
]
ICE_CONNECTED = """() => {
  const call = window.__atendeCall;
  const pc = call && call.session.connection();
  return Boolean(pc) && ['connected', 'completed'].includes(pc.iceConnectionState);
}"""


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--runs", type=int, default=10, help="calls to set up (default 10)")
    p.add_argument("--database-url", default="", help="default: SQLite in a temporary directory")
    p.add_argument("--redis-url", default="", help="default: none (in-memory channel layer)")
    p.add_argument("--chromium", default=shutil.which("chromium") or "", help="Chromium binary")
    p.add_argument("--keep-logs", action="store_true", help="keep the server log and print where")
    return p.parse_args()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(
    port: int, process: subprocess.Popen[bytes], log: Path, seconds: float = 60
) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the server exited:\n{log.read_text()[-3000:]}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    sys.exit(f"the server did not listen on {port}:\n{log.read_text()[-3000:]}")


def seed() -> tuple[str, str, int]:
    """A professional (offline, switch off) and a client with plenty of tokens."""
    import django

    django.setup()
    from calls.tests.factories import client, professional

    pro = professional(
        price=5,
        online=False,
        display_name="Bench Pro",
        email="pro@bench-call.invalid",
        password=PASSWORD,
    )
    payer = client(
        balance=100_000,
        display_name="Bench Client",
        email="client@bench-call.invalid",
        password=PASSWORD,
    )
    return str(pro.email), str(payer.email), int(pro.pk)


def sign_in(page: Any, email: str, next_path: str) -> None:
    page.goto(f"/signin?next={next_path}")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_test_id("socket-status").and_(page.locator("[data-state='connected']")).wait_for()


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def main() -> None:
    args = parse_args()
    if not args.chromium:
        sys.exit("needs the system Chromium (`chromium` on PATH) or --chromium")
    workdir = Path(tempfile.mkdtemp(prefix="bench-call-"))
    env = os.environ.copy()
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}",
            "REDIS_URL": args.redis_url,
            "CELERY_BROKER_URL": "",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "SESSION_COOKIE_SECURE": "false",
            "CSRF_COOKIE_SECURE": "false",
            "LOG_LEVEL": env.get("LOG_LEVEL", "WARNING"),
        }
    )
    os.environ.update(env)
    python = sys.executable
    subprocess.run(
        [python, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True
    )
    pro_email, client_email, pro_id = seed()

    port = free_port()
    log = workdir / "server.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [python, "manage.py", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for_port(port, server, log)
        results = run_browsers(args, f"http://127.0.0.1:{port}", pro_email, client_email, pro_id)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        if args.keep_logs:
            print(f"server log: {log}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    report(results)


def run_browsers(
    args: argparse.Namespace, base_url: str, pro_email: str, client_email: str, pro_id: int
) -> list[dict[str, float]]:
    from playwright.sync_api import sync_playwright

    results = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        contexts = [browser.new_context(base_url=base_url, locale="en-US") for _ in range(2)]
        pro_page, client_page = (context.new_page() for context in contexts)
        sign_in(pro_page, pro_email, "/professional")
        pro_page.get_by_test_id("accepting-switch").check()
        pro_page.locator("[data-testid='pro-status'][data-status='online']").wait_for()
        sign_in(client_page, client_email, f"/professionals/{pro_id}")
        for run in range(1, args.runs + 1):
            client_page.goto(f"/professionals/{pro_id}")
            call_now = client_page.get_by_test_id("call-now")
            call_now.wait_for(timeout=30_000)
            t0 = time.monotonic()
            call_now.click()
            accept = pro_page.get_by_test_id("accept-call")
            accept.wait_for(timeout=30_000)
            ringing = time.monotonic()
            accept.click()
            accepted = time.monotonic()
            client_page.wait_for_function(ICE_CONNECTED, timeout=30_000, polling=10)
            client_connected = time.monotonic()
            pro_page.wait_for_function(ICE_CONNECTED, timeout=30_000, polling=10)
            both = max(client_connected, time.monotonic())
            row = {
                "ringing": ringing - t0,
                "client": client_connected - t0,
                "both": both - t0,
                "after_accept": client_connected - accepted,
            }
            results.append(row)
            print(
                f"run {run:>3}: ringing {row['ringing'] * 1000:7.0f} ms"
                f"  client ICE {row['client'] * 1000:7.0f} ms"
                f"  both {row['both'] * 1000:7.0f} ms"
                f"  accept->ICE {row['after_accept'] * 1000:7.0f} ms",
                flush=True,
            )
            client_page.get_by_test_id("hang-up").click()
            client_page.get_by_test_id("call-summary").wait_for()
            pro_page.get_by_test_id("call-summary").wait_for()
        browser.close()
    return results


def report(results: list[dict[str, float]]) -> None:
    if not results:
        return
    print()
    print(
        f"{'measure':<32}{'median':>10}{'p90':>10}{'min':>10}{'max':>10}  (ms, {len(results)} runs)"
    )
    labels = {
        "ringing": "click -> pro's dialog shows",
        "client": "click -> client ICE connected",
        "both": "click -> both ICE connected",
        "after_accept": "accept -> client ICE connected",
    }
    for key, label in labels.items():
        values = [row[key] * 1000 for row in results]
        print(
            f"{label:<32}{statistics.median(values):>10.0f}{percentile(values, 0.9):>10.0f}"
            f"{min(values):>10.0f}{max(values):>10.0f}"
        )


if __name__ == "__main__":
    main()
