#!/usr/bin/env python
"""Chat fan-out: one room, N WebSocket clients, M messages posted through the API.

Run by hand (not part of the test suite), from the project root:

    .venv/bin/python bench/chat_fanout.py --clients 100,500,1000 --messages 50

What it does:

1. drops and recreates the bench database (``--database-url``, default ``atende_bench_chat``),
   migrates it, flushes the bench Redis database (``--redis-url``, default db 9: the channel
   layer is channels-redis, as in production) and creates, with the ORM, a sender (org admin,
   with a password) and ``max(N)`` members of one organization; for each N a public channel is
   created through ``POST /api/v1/organizations/<org>/chat/rooms/`` by the sender, and N of the
   users are given seats in it (``RoomMember`` rows, in bulk);
2. starts ``--servers`` daphne processes (``daphne config.asgi:application``, what production
   runs; DEBUG off, throttles raised so the one sender is never refused) and a bare Python
   ``websockets`` broadcast server (this file with ``--bare-server``, a subprocess);
3. for each N, on each side (ours, then bare):
   - opens N WebSocket connections from a separate client process (``--client-procs``), each
     authenticated as a distinct user with a JWT access token (``?token=``, minted with
     simplejwt; the sender's own token comes from ``POST /api/v1/auth/token/``), subscribes
     each to ``chat.room.<id>`` and waits for every ``realtime.subscribed``;
   - sends M messages from one sender, one at a time, one every ``--interval`` ms (0: as fast
     as the previous answer allows); ours through ``POST /api/v1/chat/rooms/<id>/messages/``
     (keep-alive HTTP, Bearer token), bare through a control socket on which the server
     answers once it has broadcast; each message carries its sequence number in ``client_id``
     and the sender records the moment it issued the request;
   - every client records the arrival of every ``chat.message.created`` frame; delivery
     latency = arrival - the moment the request was issued (one monotonic clock, one machine);
4. prints, per N and side: delivered/expected, latency p50/p99/max, deliveries per second
   (all deliveries / (last arrival - first request)), the sender's request time, the CPU time
   of the server process(es), of Redis and of the clients, and the ratios ours/bare.

Exits non-zero when any message did not reach every client.

The client is small on purpose: a Sans-I/O ``websockets.ClientProtocol`` per connection on one
asyncio loop, stamping the arrival time in ``data_received`` and parsing JSON only after the
run, so the clients' own cost (the same for both sides) stays low on a small machine.
"""

# A bench, not the service: our own subprocesses, fixed local URLs, throwaway credentials.
# ruff: noqa: S603
from __future__ import annotations

import argparse
import asyncio
import contextlib
import faulthandler
import http.client
import json
import multiprocessing as mp
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/atende_bench_chat"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/9"
EMAIL_DOMAIN = "@bench-chat.invalid"
SENDER_EMAIL = f"sender{EMAIL_DOMAIN}"
SENDER_PASSWORD = "bench-only-password-1234"
MESSAGE_EVENT = b'"chat.message.created"'

# --- Setup ---------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", default="100,500,1000", help="comma-separated N")
    p.add_argument("--messages", type=int, default=50, help="M messages per run")
    p.add_argument(
        "--interval",
        type=float,
        default=50.0,
        help="ms between the starts of two sends (0: next one as soon as the answer is back)",
    )
    p.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL"))
    p.add_argument("--redis-url", default=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL))
    p.add_argument("--keep", action="store_true", help="reuse the bench database as it is")
    p.add_argument("--port", type=int, default=8790, help="first daphne port")
    p.add_argument("--bare-port", type=int, default=8780)
    p.add_argument("--servers", type=int, default=1, help="daphne processes (clients spread)")
    p.add_argument("--client-procs", type=int, default=1, help="client processes")
    p.add_argument("--connect-concurrency", type=int, default=50, help="handshakes in flight")
    p.add_argument("--drain", type=float, default=30.0, help="s to wait for late deliveries")
    p.add_argument(
        "--sides",
        default="ours,bare",
        help="comma-separated: ours (POST through the API), direct (ours without HTTP: the bench"
        " publishes the event through realtime.publish), bare",
    )
    p.add_argument("--quiet-below", type=float, default=25.0, help="wait for CPU under this %%")
    p.add_argument("--quiet-wait", type=float, default=60.0, help="at most this long (s)")
    p.add_argument("--keep-logs", action="store_true", help="keep the server logs and print where")
    p.add_argument(
        "--profile-server",
        default="",
        help="run the (first) daphne under cProfile and write its stats to this file",
    )
    p.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for the daphne processes (e.g. CONN_MAX_AGE=60); repeatable",
    )
    p.add_argument(
        "--what-if",
        default="",
        help="monkeypatch daphne (bench only), comma-separated: " + ", ".join(WHAT_IFS),
    )
    # Internal: run the bare broadcast server / a patched daphne (started by the bench itself).
    p.add_argument("--serve-daphne", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--bare-server", type=int, default=0, help=argparse.SUPPRESS)
    args = p.parse_args()
    args.client_counts = [int(c) for c in args.clients.split(",") if c.strip()]
    args.side_list = [s.strip() for s in args.sides.split(",") if s.strip()]
    args.what_ifs = [w.strip() for w in args.what_if.split(",") if w.strip()]
    unknown = set(args.what_ifs) - set(WHAT_IFS)
    if unknown:
        p.error(f"unknown --what-if {sorted(unknown)}; known: {sorted(WHAT_IFS)}")
    if not args.database_url:
        args.database_url = DEFAULT_DATABASE_URL
    return args


def raise_open_files(needed: int) -> int:
    """Raise RLIMIT_NOFILE (children inherit it) so N sockets fit on both ends."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        raise SystemExit(f"open-file limit {soft} (hard {hard}) is under the {needed} needed")
    return soft


def server_environment(args: argparse.Namespace) -> dict[str, str]:
    env = os.environ.copy()
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "DATABASE_URL": args.database_url,
            "REDIS_URL": args.redis_url,
            # As in production: no query log, no debug pages; plain HTTP on localhost.
            "DEBUG": "false",
            "SECRET_KEY": env.get("SECRET_KEY") or "bench-only-not-a-secret-" + "x" * 40,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            # One sender posts every message: the per-person flood limits must not refuse it.
            "API_THROTTLE_CHAT_MESSAGE": "1000000/min",
            "API_THROTTLE_USER": "1000000/min",
            # Tokens are minted before the first run and checked at each handshake.
            "JWT_ACCESS_SECONDS": "7200",
            "LOG_LEVEL": env.get("LOG_LEVEL", "WARNING"),
        }
    )
    for item in args.server_env:
        name, _, value = item.partition("=")
        env[name] = value
    env["BENCH_WHAT_IF"] = ",".join(args.what_ifs)
    return env


# --- What-ifs: monkeypatches applied inside the bench's daphne only --------------------------


def _relay_with_db_close() -> None:
    """Relay ``realtime.event`` the way Channels does by default (how it was before).

    Channels 4.2+ awaits ``aclose_old_connections()`` (a ``sync_to_async`` call on the one
    thread-sensitive worker thread) before every handler, so a group message to N sockets
    queues N thread hops behind each other. ``RealtimeConsumer.dispatch`` now skips it for
    relays, which never touch the database; this puts it back.
    """
    from channels.consumer import AsyncConsumer

    from realtime.consumers import RealtimeConsumer

    RealtimeConsumer.dispatch = AsyncConsumer.dispatch  # type: ignore[assignment]


def _encode_per_socket() -> None:
    """Encode the frame in every consumer instead of once in the publisher (as it was)."""
    from realtime.consumers import RealtimeConsumer

    async def realtime_event(self: Any, message: dict[str, Any]) -> None:
        await self.send_frame(message["event"], message["data"])

    RealtimeConsumer.realtime_event = realtime_event  # type: ignore[method-assign]


def _list_layer() -> None:
    """The list-based Redis channel layer (channels_redis.core), as configured before.

    Each consumer takes a lock, two tasks and an ``asyncio.wait`` per message, and blocks in
    BZPOPMIN; the pub/sub layer (now in settings) publishes once per group send and each
    server process hands the message straight to its sockets. Publisher and servers must use
    the same layer: applied in the bench process too (the ``direct`` side publishes there).
    """
    from django.conf import settings

    settings.CHANNEL_LAYERS["default"] = {
        "BACKEND": "channels_redis.core.RedisChannelLayer",
        "CONFIG": {
            "hosts": [settings.REDIS_URL],
            "prefix": "atende:channels",
            "capacity": 1000,
            "expiry": 60,
        },
    }


def _layer_socket_timeout() -> None:
    """With ``list-layer``: a Redis read timeout above the layer's 5 s BZPOPMIN.

    redis-py 8 reads with a 5 s socket timeout by default; channels-redis's list layer blocks
    5 s in BZPOPMIN when nothing arrives, so on an idle server the read times out first and
    the consumer holding the receive lock dies (its socket is dropped), about once every 5 s.
    """
    from django.conf import settings

    config = cast(dict[str, Any], settings.CHANNEL_LAYERS["default"]["CONFIG"])
    config["hosts"] = [
        {"address": h, "socket_timeout": 10} if isinstance(h, str) else h for h in config["hosts"]
    ]


# How it was before the fixes this benchmark led to, to measure them again (applied in order).
WHAT_IFS = {
    "list-layer": _list_layer,
    "layer-socket-timeout": _layer_socket_timeout,
    "relay-with-db-close": _relay_with_db_close,
    "encode-per-socket": _encode_per_socket,
}
# What-ifs the bench process needs as well (it publishes on the direct side).
WHAT_IFS_IN_BENCH = {"list-layer", "layer-socket-timeout"}


def serve_daphne_main(port: int) -> None:
    """``daphne config.asgi:application`` in this process, after the requested monkeypatches."""
    import daphne.server  # noqa: F401 - installs the asyncio reactor before anything else
    import django
    from daphne.cli import CommandLineInterface

    django.setup()
    # Before the ASGI app (and any channel layer) exists: settings what-ifs must come first.
    for name in filter(None, os.environ.get("BENCH_WHAT_IF", "").split(",")):
        WHAT_IFS[name]()
    import config.asgi  # noqa: F401 - the application daphne is told to load

    CommandLineInterface().run(
        ["-b", "127.0.0.1", "-p", str(port), "-v", "0", "config.asgi:application"]
    )


def db_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def recreate_database(url: str) -> None:
    import re

    import psycopg
    from psycopg import sql

    name = db_name(url)
    if not re.fullmatch(r"[A-Za-z0-9_]+", name) or name in {"postgres", "template0", "template1"}:
        raise SystemExit(f"refusing to drop database {name!r}")
    admin = urlsplit(url)._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def migrate(env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
    )


def redis_client(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url)


def seed_users(count: int) -> tuple[Any, int, list[Any]]:
    """The sender (org admin, with a password) and ``count`` members; returns (org, ...)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password

    from accounts import services
    from accounts.models import Membership, Organization
    from accounts.roles import Role

    user_model = get_user_model()
    sender = user_model.objects.filter(email=SENDER_EMAIL).first()
    if sender is None:
        sender = services.user_create(email=SENDER_EMAIL, password=SENDER_PASSWORD)
        organization = services.organization_create(name="Bench chat", creator=sender)
    else:
        organization = Organization.objects.get(memberships__user=sender)
    unusable = make_password(None)
    user_model.objects.bulk_create(
        [
            user_model(email=f"member-{i}{EMAIL_DOMAIN}", password=unusable, display_name=f"M{i}")
            for i in range(count)
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )
    members = list(
        user_model.objects.filter(email__startswith="member-", email__endswith=EMAIL_DOMAIN)
        .exclude(pk=sender.pk)
        .order_by("pk")[:count]
    )
    Membership.objects.bulk_create(
        [Membership(organization=organization, user=u, role=Role.AGENT) for u in members],
        ignore_conflicts=True,
        batch_size=1000,
    )
    return organization, sender.pk, members


def access_tokens(users: list[Any]) -> list[str]:
    """JWT access tokens minted directly (the token endpoint is throttled at 20/min per IP)."""
    from rest_framework_simplejwt.tokens import AccessToken

    return [str(AccessToken.for_user(u)) for u in users]


def create_room_orm(organization_id: int, creator_id: int, name: str) -> int:
    """Only for ``--sides bare`` while the rooms API is missing: a channel row, no events."""
    from chat.models import Room, RoomKind

    return Room.objects.create(
        organization_id=organization_id, kind=RoomKind.CHANNEL, name=name, created_by_id=creator_id
    ).pk


def seat_members(room_id: int, users: list[Any]) -> None:
    from chat.models import RoomMember

    RoomMember.objects.bulk_create(
        [RoomMember(room_id=room_id, user=u) for u in users],
        ignore_conflicts=True,
        batch_size=1000,
    )


# --- HTTP ----------------------------------------------------------------------------------


class Api:
    """A keep-alive HTTP/1.1 connection to one daphne process."""

    def __init__(self, port: int, token: str = "") -> None:
        self.port = port
        self.token = token
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

    def request(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Accept": "application/json", "Host": "127.0.0.1"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            # The server closed an idle keep-alive connection: one retry on a new one.
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
            self.conn.request(method, path, body=data, headers=headers)
            response = self.conn.getresponse()
        raw = response.read()
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = raw[:300]
        return response.status, payload


def route_missing(status: int, payload: Any) -> bool:
    """Unknown /api/ paths end in a plain Django view: 404, or 403 (CSRF) for a POST."""
    code = payload.get("code") if isinstance(payload, dict) else None
    return status == 404 or (status == 403 and code == "csrf_failed")


def wait_for_port(port: int, process: subprocess.Popen[bytes], log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server on :{port} exited:\n{log.read_text()[-3000:]}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.2)
    raise SystemExit(
        f"server on :{port} did not listen in {seconds:.0f} s:\n{log.read_text()[-3000:]}"
    )


# --- Processes -----------------------------------------------------------------------------


class Processes:
    """Every process the bench starts, ended (by pid) when it exits."""

    def __init__(self, logdir: Path) -> None:
        self.logdir = logdir
        self.items: list[tuple[str, subprocess.Popen[bytes], Path]] = []

    def start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        log = self.logdir / f"{name}.log"
        with log.open("wb") as out:
            process = subprocess.Popen(
                argv, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
            )
        self.items.append((name, process, log))
        return process

    def log(self, name: str) -> Path:
        return self.logdir / f"{name}.log"

    def stop_all(self) -> None:
        for _, process, _ in self.items:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for _, process, _ in self.items:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def redis_cpu_seconds(client: Any) -> float:
    info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def busy_percent(seconds: float = 1.0) -> float:
    from ledger import busy_percent as sample

    return sample(seconds)


def wait_for_quiet(below: float, patience: float) -> float:
    deadline = time.monotonic() + patience
    busy = busy_percent()
    while busy >= below and time.monotonic() < deadline:
        busy = busy_percent()
    return busy


# --- WebSocket clients (a separate process) --------------------------------------------------


class Client(asyncio.Protocol):
    """One WebSocket connection: handshake, subscribe, then stamp every frame as it arrives."""

    def __init__(self, uri: str, origin: str, topic: str) -> None:
        from websockets.client import ClientProtocol
        from websockets.typing import Origin
        from websockets.uri import parse_uri

        self.protocol = ClientProtocol(parse_uri(uri), origin=Origin(origin), max_size=None)
        self.topic = topic
        self.transport: asyncio.Transport | None = None
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self.subscribed = False
        self.frames: list[tuple[float, bytes]] = []
        self.count = 0
        self.lost = 0.0
        self.lost_reason = ""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.protocol.send_request(self.protocol.connect())
        self.flush()

    def data_received(self, data: bytes) -> None:
        now = time.monotonic()
        from websockets.frames import Frame, Opcode
        from websockets.http11 import Response

        self.protocol.receive_data(data)
        for event in self.protocol.events_received():
            if isinstance(event, Response):
                if self.protocol.handshake_exc is not None:
                    self.fail(f"handshake: {event.status_code} {self.protocol.handshake_exc}")
                else:
                    frame = {"action": "subscribe", "topic": self.topic}
                    self.protocol.send_text(json.dumps(frame).encode())
            elif isinstance(event, Frame) and event.opcode is Opcode.TEXT:
                payload = bytes(event.data)
                if self.subscribed:
                    self.frames.append((now, payload))
                    if MESSAGE_EVENT in payload:
                        self.count += 1
                else:
                    self.before_subscribed(payload)
        self.flush()

    def before_subscribed(self, payload: bytes) -> None:
        frame = json.loads(payload)
        kind = frame.get("type")
        if kind == "realtime.subscribed" and frame["data"].get("topic") == self.topic:
            self.subscribed = True
            if not self.ready.done():
                self.ready.set_result(None)
        elif kind == "realtime.error":
            self.fail(f"refused: {frame['data']}")

    def fail(self, reason: str) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(reason))
        if self.transport is not None:
            self.transport.close()

    def flush(self) -> None:
        if self.transport is None or self.transport.is_closing():
            return
        for chunk in self.protocol.data_to_send():
            if chunk:
                self.transport.write(chunk)
            else:
                self.transport.close()
                return

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = time.monotonic()
        self.lost_reason = f"{exc or ''} close={self.protocol.close_code}"
        self.fail(f"connection lost before subscribing: {exc}")

    def close(self) -> None:
        from websockets.protocol import State

        if self.transport is None or self.transport.is_closing():
            return
        if self.protocol.state is State.OPEN:
            self.protocol.send_close(1000)
            self.flush()
        with contextlib.suppress(Exception):
            self.transport.close()


async def _open_all(spec: dict[str, Any]) -> tuple[list[Client], list[str], float]:
    loop = asyncio.get_running_loop()
    gate = asyncio.Semaphore(spec["concurrency"])
    clients: list[Client] = []
    errors: list[str] = []
    started = time.monotonic()

    async def one(uri: str) -> None:
        parts = urlsplit(uri)
        async with gate:
            try:
                _, client = await asyncio.wait_for(
                    loop.create_connection(
                        lambda: Client(uri, spec["origin"], spec["topic"]),
                        parts.hostname or "127.0.0.1",
                        parts.port or 80,
                    ),
                    30,
                )
                clients.append(client)
                await asyncio.wait_for(asyncio.shield(client.ready), 60)
            except (OSError, ConnectionError, TimeoutError) as exc:
                errors.append(f"{type(exc).__name__}: {exc}"[:200])

    await asyncio.gather(*(one(uri) for uri in spec["uris"]))
    return clients, errors, time.monotonic() - started


async def _collect(clients: list[Client], expected: int, patience: float) -> float:
    """Wait until every client has ``expected`` message frames, or ``patience`` s passed."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        if all(c.count >= expected for c in clients):
            break
        await asyncio.sleep(0.02)
    return time.monotonic()


def _arrivals(clients: list[Client], prefix: str) -> tuple[list[list[tuple[int, float]]], int]:
    """Per client, (sequence, arrival) of each message frame of this run; also frame bytes."""
    out = []
    size = 0
    for client in clients:
        mine = []
        for arrived, payload in client.frames:
            if MESSAGE_EVENT not in payload:
                continue
            frame = json.loads(payload)
            data = frame.get("data") or {}
            message = data.get("message", data)
            client_id = str(message.get("client_id") or "")
            if client_id.startswith(prefix):
                mine.append((int(client_id[len(prefix) :]), arrived))
                size = size or len(payload)
        client.frames.clear()
        client.count = 0
        out.append(mine)
    return out, size


def client_pool_main(conn: Any) -> None:
    """A client process: serves commands from the orchestrator until told to exit."""
    asyncio.run(_client_pool(conn))


async def _client_pool(conn: Any) -> None:
    loop = asyncio.get_running_loop()
    clients: list[Client] = []
    while True:
        command, spec = await loop.run_in_executor(None, conn.recv)
        usage = resource.getrusage(resource.RUSAGE_SELF)
        cpu0 = usage.ru_utime + usage.ru_stime
        if command == "open":
            clients, errors, seconds = await _open_all(spec)
            opened = sum(1 for c in clients if c.ready.done() and not c.ready.exception())
            conn.send({"opened": opened, "errors": errors[:5], "failed": len(errors), "s": seconds})
        elif command == "reset":
            for client in clients:
                client.frames.clear()
                client.count = 0
            conn.send({"cpu0": cpu0})
        elif command == "collect":
            done_at = await _collect(clients, spec["expected"], spec["patience"])
            usage = resource.getrusage(resource.RUSAGE_SELF)
            cpu = usage.ru_utime + usage.ru_stime
            lost = [c.lost_reason for c in clients if c.lost]
            others: dict[str, int] = {}
            for client in clients:
                for _, payload in client.frames:
                    if MESSAGE_EVENT not in payload:
                        kind = str(json.loads(payload).get("type"))
                        others[kind] = others.get(kind, 0) + 1
            arrivals, size = _arrivals(clients, spec["prefix"])
            conn.send(
                {
                    "arrivals": arrivals,
                    "done_at": done_at,
                    "cpu": cpu,
                    "frame_bytes": size,
                    "lost": lost,
                    "other_frames": others,
                }
            )
        elif command == "close":
            for client in clients:
                client.close()
            await asyncio.sleep(0.5)
            clients = []
            conn.send({})
        elif command == "exit":
            conn.send({})
            return


class ClientPools:
    def __init__(self, count: int) -> None:
        ctx = mp.get_context("spawn")
        self.pipes = []
        self.procs = []
        for _ in range(count):
            parent, child = ctx.Pipe()
            proc = ctx.Process(target=client_pool_main, args=(child,), daemon=True)
            proc.start()
            self.pipes.append(parent)
            self.procs.append(proc)

    def call(self, command: str, specs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        for pipe, spec in zip(self.pipes, specs, strict=True):
            pipe.send((command, spec))
        return [pipe.recv() for pipe in self.pipes]

    def broadcast(self, command: str, spec: dict[str, Any] | None = None) -> list[dict[str, Any]]:
        return self.call(command, [spec or {}] * len(self.pipes))

    def stop(self) -> None:
        with contextlib.suppress(Exception):
            self.broadcast("exit")
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()


# --- The bare broadcast server (a subprocess: --bare-server PORT) ----------------------------


def bare_server_main(port: int) -> None:
    asyncio.run(_bare_server(port))


async def _bare_server(port: int) -> None:
    """Clients connect and subscribe; a control socket sends messages; all get each one.

    The floor to compare with: one process, one ``json.dumps`` per message, and
    ``websockets.broadcast`` writing the same frame to every subscribed socket.
    """
    from websockets.asyncio.server import broadcast, serve

    subscribers: set[Any] = set()
    next_id = 0

    async def handler(ws: Any) -> None:
        nonlocal next_id
        if ws.request.path.startswith("/control"):
            async for raw in ws:
                command = json.loads(raw)
                next_id += 1
                message = bare_message(next_id, command)
                broadcast(
                    subscribers, json.dumps({"type": "chat.message.created", "data": message})
                )
                await ws.send(json.dumps({"id": next_id}))
            return
        await ws.send(json.dumps({"type": "realtime.hello", "data": {"user_id": 0}}))
        try:
            async for raw in ws:
                frame = json.loads(raw)
                if frame.get("action") == "subscribe":
                    subscribers.add(ws)
                    await ws.send(
                        json.dumps(
                            {"type": "realtime.subscribed", "data": {"topic": frame["topic"]}}
                        )
                    )
        finally:
            subscribers.discard(ws)

    async with serve(handler, "127.0.0.1", port, compression=None, backlog=1024):
        await asyncio.get_running_loop().create_future()


def bare_message(message_id: int, command: dict[str, Any]) -> dict[str, Any]:
    """A payload shaped like ours (chat.message.created {message}), for similar frame sizes."""
    body = command["body"]
    return {
        "message": {
            "id": message_id,
            "room_id": command["room_id"],
            "author": {"id": 1, "name": "sender@bench-chat.invalid", "avatar_url": None},
            "kind": "text",
            "body": body,
            "html": f"<p>{body}</p>",
            "parent_id": None,
            "reply_count": 0,
            "last_reply_at": None,
            "mentions": [],
            "mentions_all": False,
            "mentions_here": False,
            "reactions": [],
            "attachments": [],
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000000+00:00"),
            "edited_at": None,
            "deleted": False,
            "pinned": False,
            "pinned_at": None,
            "client_id": command["client_id"],
        }
    }


# --- One run ---------------------------------------------------------------------------------


class OursSender:
    def __init__(self, port: int, token: str, room_id: int) -> None:
        self.api = Api(port, token)
        self.path = f"/api/v1/chat/rooms/{room_id}/messages/"

    def send(self, body: str, client_id: str) -> None:
        status, payload = self.api.request(
            "POST", self.path, {"body": body, "client_id": client_id}
        )
        if status != 201:
            raise SystemExit(f"POST {self.path} -> {status}: {payload}")

    def close(self) -> None:
        self.api.conn.close()


class DirectSender:
    """Ours without HTTP: the bench process publishes the event itself (realtime.publish)."""

    def __init__(self, room_id: int) -> None:
        self.room_id = room_id
        self.next_id = 0

    def send(self, body: str, client_id: str) -> None:
        from realtime.publish import publish_on_commit

        self.next_id += 1
        command = {"body": body, "client_id": client_id, "room_id": self.room_id}
        # Outside a transaction the send happens at once, and returns once Redis has it.
        publish_on_commit(
            f"chat.room.{self.room_id}", "chat.message.created", bare_message(self.next_id, command)
        )

    def close(self) -> None:
        pass


class BareSender:
    def __init__(self, port: int, room_id: int) -> None:
        from websockets.sync.client import connect

        self.stack = contextlib.ExitStack()
        self.ws = self.stack.enter_context(
            connect(f"ws://127.0.0.1:{port}/control", compression=None)
        )
        self.room_id = room_id

    def send(self, body: str, client_id: str) -> None:
        self.ws.send(json.dumps({"body": body, "client_id": client_id, "room_id": self.room_id}))
        self.ws.recv()

    def close(self) -> None:
        self.stack.close()


def run_one(
    args: argparse.Namespace,
    pools: ClientPools,
    side: str,
    n: int,
    room_id: int,
    tokens: list[str],
    sender_token: str,
    server_pids: list[int],
    redis: Any,
    tag: str,
) -> dict[str, Any]:
    ports = [args.port + i for i in range(args.servers)] if side != "bare" else [args.bare_port]
    topic = f"chat.room.{room_id}"
    uris = [f"ws://127.0.0.1:{ports[i % len(ports)]}/ws/?token={tokens[i]}" for i in range(n)]
    specs = [
        {
            "uris": uris[k :: len(pools.pipes)],
            "topic": topic,
            "origin": f"http://127.0.0.1:{ports[0]}",
            "concurrency": max(1, args.connect_concurrency // len(pools.pipes)),
        }
        for k in range(len(pools.pipes))
    ]
    opened = pools.call("open", specs)
    connected = sum(o["opened"] for o in opened)
    connect_s = max(o["s"] for o in opened)
    if connected != n:
        errors = [e for o in opened for e in o["errors"]]
        pools.broadcast("close")
        raise SystemExit(f"{side}: only {connected}/{n} clients subscribed; e.g. {errors[:3]}")
    time.sleep(0.5)  # let the last subscriptions settle before the clock starts

    sender: OursSender | DirectSender | BareSender
    if side == "ours":
        sender = OursSender(args.port, sender_token, room_id)
    elif side == "direct":
        sender = DirectSender(room_id)
    else:
        sender = BareSender(args.bare_port, room_id)
    prefix = f"{tag}:"
    issued: list[float] = []
    answered: list[float] = []
    server_cpu0 = sum(cpu_seconds(pid) for pid in server_pids)
    redis_cpu0 = redis_cpu_seconds(redis)
    client_cpu0 = [o.get("cpu0", 0.0) for o in pools.broadcast("reset")]
    interval = args.interval / 1000.0
    start = time.monotonic()
    try:
        for seq in range(args.messages):
            due = start + seq * interval
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            t = time.monotonic()
            sender.send(f"bench message {seq} of {args.messages}", f"{prefix}{seq}")
            issued.append(t)
            answered.append(time.monotonic() - t)
    finally:
        sender.close()
    collected = pools.broadcast(
        "collect", {"expected": args.messages, "patience": args.drain, "prefix": prefix}
    )
    server_cpu = sum(cpu_seconds(pid) for pid in server_pids) - server_cpu0
    redis_cpu = redis_cpu_seconds(redis) - redis_cpu0
    client_cpu = sum(c["cpu"] - c0 for c, c0 in zip(collected, client_cpu0, strict=True))
    pools.broadcast("close")

    latencies: list[float] = []
    duplicates = 0
    last_arrival = start
    per_message = [0] * args.messages
    for pool in collected:
        for arrivals in pool["arrivals"]:
            seen: set[int] = set()
            for seq, arrived in arrivals:
                if seq in seen or seq >= args.messages:
                    duplicates += 1
                    continue
                seen.add(seq)
                per_message[seq] += 1
                latencies.append(arrived - issued[seq])
                last_arrival = max(last_arrival, arrived)
    expected = n * args.messages
    latencies.sort()
    lost = [reason for pool in collected for reason in pool["lost"]]
    short = sum(
        1 for pool in collected for arrivals in pool["arrivals"] if len(arrivals) < args.messages
    )
    others: dict[str, int] = {}
    for pool in collected:
        for kind, count in pool["other_frames"].items():
            others[kind] = others.get(kind, 0) + count
    if lost or short or others:
        print(
            f"      {side} N={n}: {short} clients short of {args.messages} messages,"
            f" {len(lost)} connections lost during the run {lost[:3]}; other frames: {others}",
            flush=True,
        )
    span = last_arrival - issued[0] if issued else 0.0
    return {
        "side": side,
        "n": n,
        "delivered": len(latencies),
        "expected": expected,
        "duplicates": duplicates,
        "incomplete_messages": sum(1 for c in per_message if c < n),
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "max": latencies[-1] if latencies else float("nan"),
        "rate": len(latencies) / span if span > 0 else 0.0,
        "send_rate": (len(issued) - 1) / (issued[-1] - issued[0]) if len(issued) > 1 else 0.0,
        "answer_p50": percentile(sorted(answered), 50),
        "connect_s": connect_s,
        "server_cpu": server_cpu,
        "redis_cpu": redis_cpu,
        "client_cpu": client_cpu,
        "frame_bytes": max(c["frame_bytes"] for c in collected),
        "span": span,
    }


def percentile(ordered: list[float], pct: float) -> float:
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


# --- Report ----------------------------------------------------------------------------------


def header(args: argparse.Namespace) -> None:
    import django
    import websockets

    model = platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    redis_version = redis_client(args.redis_url).info("server")["redis_version"]
    pacing = (
        f"one every {args.interval:g} ms (or as soon as the previous answer is back)"
        if args.interval
        else "back to back (each as soon as the previous answer is back)"
    )
    print(
        "\n".join(
            [
                "Chat fan-out benchmark",
                f"  machine     {os.cpu_count()} cores ({model}), {platform.system()}",
                f"  software    Python {platform.python_version()}, Django {django.__version__},"
                f" websockets {websockets.__version__}, Redis {redis_version}",
                f"  ours        {args.servers} x daphne config.asgi:application, DEBUG off,"
                f" channels-redis at {args.redis_url}, database {db_name(args.database_url)}",
                "  bare        one asyncio process, websockets.serve + broadcast(), one"
                " json.dumps per message",
                f"  clients     {args.clients} sockets from {args.client_procs} process(es);"
                f" {args.messages} messages per run, {pacing}",
                "  latency     arrival at the client - the moment the sender issued the"
                " request (POST for ours, control frame for bare)",
                *(
                    [f"  what-if     {', '.join(args.what_ifs)} (monkeypatched in daphne)"]
                    if args.what_ifs
                    else []
                ),
                *([f"  server env  {' '.join(args.server_env)}"] if args.server_env else []),
            ]
        ),
        flush=True,
    )


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "n/a"


def print_table(rows: list[dict[str, Any]]) -> None:
    cols = [
        "N",
        "side",
        "delivered",
        "p50 ms",
        "p99 ms",
        "max ms",
        "deliv/s",
        "sent/s",
        "answer ms",
        "srv cpu s",
        "redis s",
        "cli cpu s",
        "connect s",
        "busy%",
    ]
    widths = [max(len(c), 7) for c in cols]
    print()
    print("  ".join(c.rjust(w) for c, w in zip(cols, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        cells = [
            str(r["n"]),
            r["side"],
            f"{100 * r['delivered'] / r['expected']:.1f}%",
            f"{1000 * r['p50']:.1f}",
            f"{1000 * r['p99']:.1f}",
            f"{1000 * r['max']:.1f}",
            f"{r['rate']:.0f}",
            f"{r['send_rate']:.1f}",
            f"{1000 * r['answer_p50']:.1f}",
            f"{r['server_cpu']:.2f}",
            f"{r['redis_cpu']:.2f}",
            f"{r['client_cpu']:.2f}",
            f"{r['connect_s']:.1f}",
            f"{r['busy']:.0f}",
        ]
        print("  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)))
    by_n: dict[int, dict[str, dict[str, Any]]] = {}
    for r in rows:
        by_n.setdefault(r["n"], {})[r["side"]] = r
    pairs = [
        (n, side, sides[side], sides["bare"])
        for n, sides in by_n.items()
        if "bare" in sides
        for side in sides
        if side != "bare"
    ]
    if pairs:
        print()
        print("ratio              N    p50    p99  deliv/s")
        for n, side, ours, bare in pairs:
            print(
                f"{side + '/bare':<14} {n:>5}  {ratio(ours['p50'], bare['p50']):>5}"
                f"  {ratio(ours['p99'], bare['p99']):>5}  {ratio(ours['rate'], bare['rate']):>7}"
            )
    print()
    for r in rows:
        if r["delivered"] != r["expected"] or r["duplicates"]:
            print(
                f"MISSING: {r['side']} N={r['n']}: {r['expected'] - r['delivered']} deliveries"
                f" missing ({r['incomplete_messages']} messages not everywhere),"
                f" {r['duplicates']} duplicates"
            )
    frame = {r["side"]: r["frame_bytes"] for r in rows}
    print("frame bytes: " + ", ".join(f"{k} {v}" for k, v in frame.items()))


# --- Main ------------------------------------------------------------------------------------


def main() -> None:
    args = parse_args()
    if args.bare_server:
        bare_server_main(args.bare_server)
        return
    if args.serve_daphne:
        serve_daphne_main(args.serve_daphne)
        return
    # A plain `kill` of the bench still ends the servers and clients it started (finally:).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    faulthandler.register(signal.SIGUSR1)  # `kill -USR1 <pid>` prints where it is stuck
    biggest = max(args.client_counts)
    raise_open_files(2 * biggest + 1024)
    env = server_environment(args)
    os.environ.update(
        {
            k: env[k]
            for k in (
                "DJANGO_SETTINGS_MODULE",
                "DATABASE_URL",
                "REDIS_URL",
                "DEBUG",
                "SECRET_KEY",
                "ALLOWED_HOSTS",
                "SECURE_SSL_REDIRECT",
                "JWT_ACCESS_SECONDS",
            )
        }
    )
    if not args.keep:
        recreate_database(args.database_url)
    migrate(env)
    redis = redis_client(args.redis_url)
    redis.flushdb()

    import django

    django.setup()
    for name in args.what_ifs:
        if name in WHAT_IFS_IN_BENCH:
            WHAT_IFS[name]()
    header(args)
    organization, sender_id, members = seed_users(biggest)
    tokens = access_tokens(members)

    logdir = Path(tempfile.mkdtemp(prefix="chat-fanout-"))
    processes = Processes(logdir)
    pools: ClientPools | None = None
    rows: list[dict[str, Any]] = []
    try:
        server_pids = []
        daphne = str(Path(sys.executable).with_name("daphne"))
        for i in range(args.servers):
            port = args.port + i
            argv = [daphne, "-b", "127.0.0.1", "-p", str(port), "-v", "0"]
            argv.append("config.asgi:application")
            if args.what_ifs:
                # The same daphne CLI, started from this file after the monkeypatches.
                argv = [sys.executable, str(Path(__file__).resolve()), "--serve-daphne", str(port)]
            if args.profile_server and i == 0:
                argv = [sys.executable, "-m", "cProfile", "-o", args.profile_server, *argv]
            proc = processes.start(f"daphne-{port}", argv, env)
            server_pids.append(proc.pid)
        bare = processes.start(
            "bare",
            [sys.executable, str(Path(__file__).resolve()), "--bare-server", str(args.bare_port)],
            env,
        )
        for i in range(len(server_pids)):
            proc = processes.items[i][1]
            wait_for_port(args.port + i, proc, processes.log(f"daphne-{args.port + i}"), 60)
        wait_for_port(args.bare_port, bare, processes.log("bare"), 30)
        pools = ClientPools(args.client_procs)

        anonymous = Api(args.port)
        status, payload = anonymous.request(
            "POST", "/api/v1/auth/token/", {"email": SENDER_EMAIL, "password": SENDER_PASSWORD}
        )
        if status != 200:
            raise SystemExit(f"POST /api/v1/auth/token/ -> {status}: {payload}")
        sender_token = payload["access"]
        api = Api(args.port, sender_token)

        run_tag = f"{int(time.time()) % 100000}"
        for n in args.client_counts:
            status, payload = api.request(
                "POST",
                f"/api/v1/organizations/{organization.pk}/chat/rooms/",
                {"kind": "channel", "name": f"bench-{n}-{run_tag}"},
            )
            if status == 201:
                room_id = payload["id"]
            elif route_missing(status, payload) and "ours" not in args.side_list:
                # Only while the rooms API is not there yet (the direct and bare sides).
                room_id = create_room_orm(organization.pk, sender_id, f"bench-{n}-{run_tag}")
            else:
                raise SystemExit(f"creating the room -> {status}: {payload}")
            seat_members(room_id, members[:n])
            for side in args.side_list:
                busy = wait_for_quiet(args.quiet_below, args.quiet_wait)
                row = run_one(
                    args,
                    pools,
                    side,
                    n,
                    room_id,
                    tokens,
                    sender_token,
                    server_pids if side != "bare" else [bare.pid],
                    redis,
                    f"{run_tag}-{side}-{n}",
                )
                row["busy"] = busy
                rows.append(row)
                print(
                    f"  ... N={n} {side}: {row['delivered']}/{row['expected']} delivered,"
                    f" p50 {1000 * row['p50']:.1f} ms, p99 {1000 * row['p99']:.1f} ms,"
                    f" {row['rate']:.0f} deliveries/s (busy before {busy:.0f}%)",
                    flush=True,
                )
    finally:
        if pools is not None:
            pools.stop()
        processes.stop_all()
        if args.keep_logs:
            print(f"server logs: {logdir}")
        else:
            shutil.rmtree(logdir, ignore_errors=True)
    print_table(rows)
    if any(r["delivered"] != r["expected"] for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
