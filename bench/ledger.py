#!/usr/bin/env python
"""Transfers per second of the ledger on PostgreSQL, next to pgbench running the same shape.

Run by hand (not part of the test suite), from the project root:

    .venv/bin/python bench/ledger.py --clients 1,8,32 --seconds 10 --accounts 1000

What it does:

1. drops and recreates the bench database (``--keep`` reuses it), runs ``manage.py migrate``
   into it, creates ``--accounts`` users with a client wallet each (contiguous ids), funds them
   from the platform's PIX clearing account through ``ledger_transfer``;
2. for each concurrency C:
   - **ours**: C forked processes (Django connections closed before the fork, one connection
     each), each calling ``wallet.ledger.ledger_transfer`` of 1 token between two random
     distinct accounts with a unique idempotency key, for ``--seconds``;
   - **pgbench**: ``pgbench -n -c C -j min(C,2) -T seconds -f script.sql`` with the same
     transaction shape (BEGIN; lock both rows FOR UPDATE in id order; idempotency-key lookup
     of the three keys the service looks for; two balance UPDATEs; INSERT of the transfer;
     COMMIT), simple protocol, and also
     ``-M prepared`` unless ``--no-prepared``;
   - **raw** (unless ``--no-raw``): C forked processes running the same seven round trips with
     bare psycopg (the driver Django uses, client-side binding as Django does) - it splits the
     gap into "a Python client" and "Django ORM + ledger code";
3. prints a table (tps, mean latency, ours/pgbench ratio), a per-transfer profile of one
   client (queries, where the wall time goes, cProfile top functions), and the result of
   ``ledger_check`` over everything the bench wrote (the pgbench rows included: they move
   1 token with matching ``*_balance_after``, so the ledger stays consistent).

The machine may be shared (tests, builds): before each run the bench waits for the CPU to be
quiet (``--quiet-below``, ``--quiet-wait``) and prints how busy it was; ``--repeat N`` runs
every cell N times, interleaving the sides, and shows the median.

Settings: the bench runs with DEBUG off (no query log) and whatever REDIS_URL the environment
has; without one the channel layer is the in-memory one, as in the embedded default.
"""

# A bench, not the service: seeded randomness, our own subprocesses and SQL text are fine here.
# ruff: noqa: S311, S603, S608
from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import multiprocessing as mp
import os
import platform
import pstats
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/atende_bench"
EMAIL_PREFIX = "bench-"
EMAIL_DOMAIN = "@bench.invalid"
FUNDING = 1_000_000  # tokens per account: a 1-token random walk never reaches zero
KIND = "adjustment"  # TransferKind.ADJUSTMENT, both sides

# --- Setup ---------------------------------------------------------------------------------


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--clients", default="1,8,32", help="comma-separated concurrencies")
    p.add_argument("--seconds", type=float, default=10.0, help="duration of each run")
    p.add_argument("--accounts", type=int, default=1000, help="number of funded accounts")
    p.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    p.add_argument("--keep", action="store_true", help="reuse the bench database as it is")
    p.add_argument("--pgbench", default="/usr/bin/pgbench")
    p.add_argument("--no-prepared", action="store_true", help="skip pgbench -M prepared")
    p.add_argument("--no-raw", action="store_true", help="skip the bare-psycopg clients")
    p.add_argument(
        "--quiet-below",
        type=float,
        default=15.0,
        help="before each run, wait for the machine's CPU use to drop under this %%",
    )
    p.add_argument("--quiet-wait", type=float, default=180.0, help="at most this long (seconds)")
    p.add_argument(
        "--repeat", type=int, default=1, help="interleaved runs per cell; the median is shown"
    )
    p.add_argument(
        "--profile", type=int, default=1000, help="transfers in the one-client profile (0: off)"
    )
    args = p.parse_args()
    args.client_counts = [int(c) for c in args.clients.split(",") if c.strip()]
    if args.accounts < 2:
        p.error("--accounts must be at least 2")
    return args


def configure_environment(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    # As in production: no query log on every cursor. SECRET_KEY is required with DEBUG off.
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")


def admin_url(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def db_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


def run_sql(url: str, *statements: str) -> list[Any]:
    import psycopg

    results = []
    with psycopg.connect(url, autocommit=True) as conn:
        for sql in statements:
            cur = conn.execute(sql)
            results.append(cur.fetchall() if cur.description else None)
    return results


def recreate_database(url: str) -> None:
    from psycopg import sql

    name = db_name(url)
    if not re.fullmatch(r"[A-Za-z0-9_]+", name) or name in {"postgres", "template0", "template1"}:
        raise SystemExit(f"refusing to drop database {name!r}")
    import psycopg

    with psycopg.connect(admin_url(url), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def migrate() -> None:
    subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=os.environ.copy(),
        check=True,
    )


def seed(count: int) -> tuple[int, int]:
    """Create ``count`` funded client wallets with contiguous ids; return (first id, count)."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from wallet import ledger
    from wallet.models import Account, AccountKind, TransferKind

    user_model = get_user_model()
    clearing = ledger.account_for_platform(kind=AccountKind.PIX_CLEARING)
    password = make_password(None)
    user_model.objects.bulk_create(
        [
            user_model(email=f"{EMAIL_PREFIX}{i}{EMAIL_DOMAIN}", password=password)
            for i in range(count)
        ],
        ignore_conflicts=True,
        batch_size=1000,
    )
    users = list(
        user_model.objects.filter(
            email__startswith=EMAIL_PREFIX, email__endswith=EMAIL_DOMAIN
        ).order_by("pk")[:count]
    )
    # One transaction for the setup: 1000 funding commits would each wait for a WAL flush.
    with transaction.atomic():
        accounts = [ledger.account_for_user(user=u, kind=AccountKind.CLIENT_WALLET) for u in users]
        for account in accounts:
            ledger.ledger_transfer(
                debit=clearing,
                credit=account,
                amount=FUNDING,
                kind=TransferKind.TOP_UP,
                idempotency_key=f"bench:fund:{account.pk}",
                reference="bench",
            )
    ids = sorted(a.pk for a in accounts)
    if ids[-1] - ids[0] + 1 != count:
        raise SystemExit(
            "the bench accounts' ids are not contiguous (a --keep database seeded with another "
            "--accounts?): run without --keep"
        )
    low = Account.objects.filter(pk__in=ids).order_by("balance").values_list("balance", flat=True)
    if low[0] < FUNDING // 2:
        raise SystemExit("bench accounts are nearly drained: run without --keep")
    return ids[0], count


def maintenance(url: str) -> None:
    """Same starting conditions for every run: fresh statistics, no dirty buffers."""
    run_sql(url, "VACUUM (ANALYZE) wallet_account", "ANALYZE wallet_transfer", "CHECKPOINT")


# --- Our clients (Django, forked processes) ------------------------------------------------


def _pick(rng: random.Random, low: int, count: int) -> tuple[int, int]:
    a = rng.randrange(count)
    b = (a + rng.randrange(1, count)) % count  # uniformly one of the others: never a == b
    return low + a, low + b


def _ours_worker(
    idx: int, low: int, count: int, tag: int, ready: Any, go: Any, t0: Any, seconds: float, out: Any
) -> None:
    result: dict[str, Any] = {"ok": 0, "errors": Counter(), "latencies": [], "end": 0.0}
    try:
        from django.db import connection

        from wallet import ledger
        from wallet.models import Account

        accounts = {a.pk: a for a in Account.objects.filter(pk__gte=low, pk__lt=low + count)}
        rng = random.Random(tag * 1000 + idx)
        transfer = ledger.ledger_transfer
        latencies = result["latencies"]
        ready.wait()
        go.wait()
        deadline = t0.value + seconds
        i = 0
        now = time.monotonic()
        while now < deadline:
            i += 1
            a, b = _pick(rng, low, count)
            try:
                transfer(
                    debit=accounts[a],
                    credit=accounts[b],
                    amount=1,
                    kind=KIND,
                    idempotency_key=f"bench:{tag}:{idx}:{i}",
                )
            except Exception as exc:
                result["errors"][type(exc).__name__] += 1
                now = time.monotonic()
                continue
            end = time.monotonic()
            latencies.append(end - now)
            result["ok"] += 1
            now = end
        result["end"] = now
        connection.close()
    except BaseException as exc:
        result["errors"][f"worker crashed: {exc!r}"] += 1
    out.put(result)


# --- Bare psycopg clients: the same round trips without the ORM ----------------------------

RAW_LOCK = "SELECT * FROM wallet_account WHERE id IN (%s, %s) ORDER BY id FOR UPDATE"
# As the service looks the key up: its own leg key(s), plus "<key>#0" and "<key>#<legs>".
RAW_CHECK = "SELECT * FROM wallet_transfer WHERE idempotency_key IN (%s, %s, %s) ORDER BY id"
RAW_UPDATE = (
    "UPDATE wallet_account SET balance = balance + %s, updated_at = now() WHERE id = %s "
    "RETURNING balance"
)
RAW_INSERT = (
    "INSERT INTO wallet_transfer (debit_account_id, credit_account_id, asset, amount, kind, "
    "idempotency_key, reference, batch, hold_id, origin_id, debit_balance_after, "
    "credit_balance_after, metadata, created_at) VALUES "
    "(%s, %s, 'token', 1, %s, %s, '', '', NULL, NULL, %s, %s, '{}', now()) RETURNING id"
)


def _raw_worker(
    idx: int,
    url: str,
    low: int,
    count: int,
    tag: int,
    ready: Any,
    go: Any,
    t0: Any,
    seconds: float,
    out: Any,
) -> None:
    result: dict[str, Any] = {"ok": 0, "errors": Counter(), "latencies": [], "end": 0.0}
    try:
        import psycopg

        conn = psycopg.connect(url, autocommit=False, cursor_factory=psycopg.ClientCursor)
        cur = conn.cursor()
        rng = random.Random(tag * 1000 + idx)
        latencies = result["latencies"]
        ready.wait()
        go.wait()
        deadline = t0.value + seconds
        i = 0
        now = time.monotonic()
        while now < deadline:
            i += 1
            a, b = _pick(rng, low, count)
            key = f"raw:{tag}:{idx}:{i}"
            try:
                cur.execute(RAW_LOCK, (a, b))
                cur.fetchall()
                cur.execute(RAW_CHECK, (key, f"{key}#0", f"{key}#1"))
                cur.fetchall()
                cur.execute(RAW_UPDATE, (-1, a))
                debit_after = cur.fetchone()[0]  # type: ignore[index]
                cur.execute(RAW_UPDATE, (1, b))
                credit_after = cur.fetchone()[0]  # type: ignore[index]
                cur.execute(RAW_INSERT, (a, b, KIND, key, debit_after, credit_after))
                cur.fetchone()
                conn.commit()
            except Exception as exc:
                conn.rollback()
                result["errors"][type(exc).__name__] += 1
                now = time.monotonic()
                continue
            end = time.monotonic()
            latencies.append(end - now)
            result["ok"] += 1
            now = end
        result["end"] = now
        conn.close()
    except BaseException as exc:
        result["errors"][f"worker crashed: {exc!r}"] += 1
    out.put(result)


def run_processes(target: Any, extra: tuple[Any, ...], clients: int, seconds: float, tag: int):
    """Fork ``clients`` workers, start them together, return the aggregated measurement."""
    from django.db import connections

    connections.close_all()  # never share a connection with a forked child
    ctx = mp.get_context("fork")
    ready = ctx.Barrier(clients + 1)
    go = ctx.Event()
    t0 = ctx.Value("d", 0.0)
    out = ctx.Queue()
    procs = [
        ctx.Process(target=target, args=(i, *extra, tag, ready, go, t0, seconds, out), daemon=True)
        for i in range(clients)
    ]
    results = []
    try:
        for proc in procs:
            proc.start()
        ready.wait(timeout=120)  # every worker is connected and loaded
        t0.value = time.monotonic()
        go.set()
        for _ in procs:
            results.append(out.get(timeout=seconds + 120))
    finally:
        for proc in procs:
            proc.join(timeout=10)
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
                proc.join(timeout=5)
    ok = sum(r["ok"] for r in results)
    errors: Counter[str] = Counter()
    for r in results:
        errors.update(r["errors"])
    latencies = sorted(lat for r in results for lat in r["latencies"])
    elapsed = max(r["end"] for r in results) - t0.value
    return {
        "tps": ok / elapsed if elapsed > 0 else 0.0,
        "ok": ok,
        "errors": dict(errors),
        "lat_ms": 1000 * statistics.fmean(latencies) if latencies else float("nan"),
        "p99_ms": 1000 * latencies[int(0.99 * (len(latencies) - 1))] if latencies else float("nan"),
        "elapsed": elapsed,
    }


# --- pgbench -------------------------------------------------------------------------------

# The key is built in SQL from variables: a per-run number, the client id and a per-client
# counter (pgbench keeps a client's variables from one transaction to the next).
PGBENCH_KEY = "'pgb:' || :run::bigint || ':' || :client_id::bigint || ':' || :k::bigint"
PGBENCH_SCRIPT = "\n".join(
    [
        r"\set a :lo + random(0, :n - 1)",
        r"\set b :lo + (:a - :lo + random(1, :n - 1)) % :n",  # never a == b
        r"\set k :k + 1",
        "BEGIN;",
        "SELECT * FROM wallet_account WHERE id IN (:a, :b) ORDER BY id FOR UPDATE;",
        "SELECT * FROM wallet_transfer WHERE idempotency_key IN"
        f" ({PGBENCH_KEY}, {PGBENCH_KEY} || '#0', {PGBENCH_KEY} || '#1') ORDER BY id;",
        "UPDATE wallet_account SET balance = balance - 1, updated_at = now() WHERE id = :a"
        r" RETURNING balance AS dbal \gset",
        "UPDATE wallet_account SET balance = balance + 1, updated_at = now() WHERE id = :b"
        r" RETURNING balance AS cbal \gset",
        "INSERT INTO wallet_transfer (debit_account_id, credit_account_id, asset, amount, kind,"
        " idempotency_key, reference, batch, hold_id, origin_id, debit_balance_after,"
        " credit_balance_after, metadata, created_at) VALUES (:a, :b, 'token', 1,"
        f" '{KIND}', {PGBENCH_KEY}, '', '', NULL, NULL, :dbal, :cbal, '{{}}', now())"
        " RETURNING id;",
        "COMMIT;",
        "",
    ]
)


def run_pgbench(
    args: argparse.Namespace, script: Path, clients: int, mode: str, low: int, count: int
) -> dict[str, Any]:
    run_id = int(time.time() * 1000)
    cmd = [
        args.pgbench,
        "-n",
        "-M",
        mode,
        "-c",
        str(clients),
        "-j",
        str(min(clients, 2)),
        "-T",
        str(max(1, round(args.seconds))),
        "-f",
        str(script),
        "-D",
        f"lo={low}",
        "-D",
        f"n={count}",
        "-D",
        "k=0",
        "-D",
        f"run={run_id}",
        args.database_url,
    ]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.seconds + 120)
    text = proc.stdout + proc.stderr
    tps = re.search(r"^tps = ([\d.]+) \(without initial connection time\)", text, re.M)
    lat = re.search(r"^latency average = ([\d.]+) ms", text, re.M)
    failed = re.search(r"^number of failed transactions: (\d+)", text, re.M)
    processed = re.search(r"^number of transactions actually processed: (\d+)", text, re.M)
    if proc.returncode != 0 or not tps:
        print(f"pgbench failed ({proc.returncode}): {' '.join(cmd)}\n{text}", file=sys.stderr)
    return {
        "tps": float(tps.group(1)) if tps else float("nan"),
        "lat_ms": float(lat.group(1)) if lat else float("nan"),
        "ok": int(processed.group(1)) if processed else 0,
        "errors": {"failed": int(failed.group(1))} if failed and int(failed.group(1)) else {},
    }


# --- One-client profile --------------------------------------------------------------------


def profile_one_client(low: int, count: int, transfers: int) -> None:
    from django.db import connection

    import realtime.publish as publish
    from wallet import ledger
    from wallet.models import Account

    accounts = {a.pk: a for a in Account.objects.filter(pk__gte=low, pk__lt=low + count)}
    rng = random.Random(7)
    tag = int(time.time())

    def one(i: int, prefix: str) -> None:
        a, b = _pick(rng, low, count)
        ledger.ledger_transfer(
            debit=accounts[a],
            credit=accounts[b],
            amount=1,
            kind=KIND,
            idempotency_key=f"bench:{prefix}:{tag}:{i}",
        )

    for i in range(50):  # warm-up: connection, query compilation caches, channel layer
        one(i, "warm")

    # Wall-clock accounting with wrappers around the pieces (bench process only).
    sql_time: dict[str, float] = defaultdict(float)
    sql_count: Counter[str] = Counter()
    spent = {"commit": 0.0, "publish": 0.0}

    def timed_execute(execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            shape = " ".join(sql.split())
            shape = re.sub(r"^SELECT .*? FROM", "SELECT ... FROM", shape)
            shape = re.sub(r"^INSERT INTO (\S+) .*", r"INSERT INTO \1 (...) RETURNING ...", shape)
            sql_time[shape] += time.perf_counter() - start
            sql_count[shape] += 1

    original_commit = connection._commit  # type: ignore[attr-defined]
    original_send = publish._send

    def timed_commit() -> Any:
        start = time.perf_counter()
        try:
            return original_commit()
        finally:
            spent["commit"] += time.perf_counter() - start

    def timed_send(group: str, message: dict[str, Any]) -> None:
        start = time.perf_counter()
        try:
            original_send(group, message)
        finally:
            spent["publish"] += time.perf_counter() - start

    connection._commit = timed_commit  # type: ignore[attr-defined]
    publish._send = timed_send
    try:
        with connection.execute_wrapper(timed_execute):
            start = time.perf_counter()
            for i in range(transfers):
                one(i, "prof")
            total = time.perf_counter() - start
    finally:
        connection._commit = original_commit  # type: ignore[attr-defined]
        publish._send = original_send

    per = 1000 / transfers
    queries = sum(sql_count.values())
    executes = sum(sql_time.values())
    python = total - executes - spent["commit"] - spent["publish"]
    print(f"\nOne client, {transfers} transfers in a loop (warm), wall time per transfer:")
    print(f"  total                         {total * per:7.3f} ms")
    print(
        f"  SQL statements ({queries / transfers:.1f}/transfer)    {executes * per:7.3f} ms"
        "   (client round trip; the implicit BEGIN rides in the first one)"
    )
    print(f"  COMMIT                        {spent['commit'] * per:7.3f} ms")
    print(
        f"  on-commit publishes           {spent['publish'] * per:7.3f} ms"
        "   (wallet.balance.changed, async_to_sync(group_send))"
    )
    print(f"  everything else (ORM, ledger) {python * per:7.3f} ms")
    print("  statements per transfer:")
    for shape, n in sql_count.most_common():
        print(f"    {n / transfers:4.1f} x {sql_time[shape] / n * 1000:6.3f} ms  {shape[:110]}")

    profiler = cProfile.Profile()
    profiler.enable()
    for i in range(transfers):
        one(i, "cprof")
    profiler.disable()
    buf = io.StringIO()
    stats = pstats.Stats(profiler, stream=buf).sort_stats("tottime")
    stats.print_stats(15)
    lines = buf.getvalue().splitlines()
    start = next(i for i, line in enumerate(lines) if "ncalls" in line)
    print(f"\ncProfile, {transfers} transfers, top 15 by own time (profiler overhead inflates it):")
    for line in lines[start : start + 16]:
        print("  " + line.replace(str(ROOT) + "/", "").replace(sys.prefix + "/", ""))


# --- Main ----------------------------------------------------------------------------------


def header(args: argparse.Namespace, low: int, count: int) -> None:
    import django
    import psycopg
    from django.conf import settings

    (version,), (sync,), (fsync,), (shared,), (maxconn,) = (
        r[0]
        for r in run_sql(
            args.database_url,
            "SELECT version()",
            "SHOW synchronous_commit",
            "SHOW fsync",
            "SHOW shared_buffers",
            "SHOW max_connections",
        )
    )
    model = platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    pgbench_version = subprocess.run(
        [args.pgbench, "--version"], capture_output=True, text=True, check=False
    ).stdout.strip()
    layer = str(settings.CHANNEL_LAYERS["default"]["BACKEND"]).rsplit(".", 1)[-1]
    out = [
        "Ledger transfer benchmark",
        f"  machine      {os.cpu_count()} cores ({model}), {platform.system()}",
        f"  PostgreSQL   {version}",
        f"               synchronous_commit={sync} fsync={fsync} shared_buffers={shared}"
        f" max_connections={maxconn}",
        f"  database     {args.database_url}",
        f"  software     Python {platform.python_version()}, Django {django.__version__},"
        f" psycopg {psycopg.__version__}, {pgbench_version}",
        f"  settings     DEBUG={settings.DEBUG}, channel layer {layer}, one persistent"
        " connection per client (both sides)",
        f"  accounts     {count} client wallets, ids {low}..{low + count - 1}, {FUNDING} tokens"
        " each; 1 token between two random distinct accounts",
        f"  duration     {args.seconds:g} s per run; clients {args.clients}",
        "  ours         wallet.ledger.ledger_transfer, one forked process per client",
        "  pgbench      -n -c C -j min(C,2) -T s -f <same shape>: BEGIN; SELECT ... FOR UPDATE"
        " (2 rows, id order);",
        "               SELECT transfer by key; UPDATE debit; UPDATE credit; INSERT transfer;"
        " COMMIT",
    ]
    if not args.no_raw:
        out.append(
            "  raw-py       the same statements from Python with bare psycopg (ClientCursor),"
            " one forked process per client"
        )
    print("\n".join(out))


def fmt_errors(*runs: dict[str, Any]) -> str:
    merged: Counter[str] = Counter()
    for r in runs:
        merged.update(r.get("errors") or {})
    return ", ".join(f"{k}: {v}" for k, v in merged.items())


def busy_percent(seconds: float = 1.0) -> float:
    """How busy the whole machine is (all cores, 0-100) over ``seconds``, from /proc/stat."""

    def sample() -> tuple[int, int]:
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:9]]
        return sum(values), values[3] + values[4]  # total, idle + iowait

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except OSError:
        return float("nan")
    total = total1 - total0
    return 100.0 * (total - (idle1 - idle0)) / total if total else float("nan")


def wait_for_quiet(below: float, patience: float) -> float:
    """Wait (at most ``patience`` seconds) for the machine to be under ``below`` % busy.

    The bench shares the machine: a test suite or build running next to it takes CPU from
    whichever side happens to be measured. Returns the last one-second sample.
    """
    deadline = time.monotonic() + patience
    busy = busy_percent()
    while busy >= below and time.monotonic() < deadline:
        busy = busy_percent()
    return busy


def measure(
    side: str, args: argparse.Namespace, script: Path, clients: int, low: int, count: int
) -> dict[str, Any]:
    tag = int(time.time() * 1000) % 10**9  # fresh idempotency keys and random seeds per run
    if side == "ours":
        return run_processes(_ours_worker, (low, count), clients, args.seconds, tag)
    if side == "raw":
        extra = (args.database_url, low, count)
        return run_processes(_raw_worker, extra, clients, args.seconds, tag)
    mode = "prepared" if side == "prepared" else "simple"
    return run_pgbench(args, script, clients, mode, low, count)


def median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median tps (the lower middle one for an even count)."""
    ordered = sorted(runs, key=lambda r: r["tps"])
    return ordered[(len(ordered) - 1) // 2]


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b else "n/a"


def print_table(args: argparse.Namespace, rows: list[dict[str, Any]]) -> None:
    cols = ["clients", "ours tps", "pgbench tps", "ours/pgbench", "ours ms", "p99 ms", "pgbench ms"]
    if not args.no_prepared:
        cols += ["pgb-prep tps", "ours/prep"]
    if not args.no_raw:
        cols += ["raw-py tps", "ours/raw", "raw ms"]
    cols.append("busy%")
    widths = [max(len(c), 8) for c in cols]
    print()
    if args.repeat > 1:
        print(f"Median of {args.repeat} interleaved runs per cell:")
    print("  ".join(c.rjust(w) for c, w in zip(cols, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        ours, pgb = row["ours"], row["pgbench"]
        cells = [
            str(row["clients"]),
            f"{ours['tps']:.0f}",
            f"{pgb['tps']:.0f}",
            ratio(ours["tps"], pgb["tps"]),
            f"{ours['lat_ms']:.2f}",
            f"{ours['p99_ms']:.2f}",
            f"{pgb['lat_ms']:.2f}",
        ]
        if not args.no_prepared:
            prep = row["prepared"]
            cells += [f"{prep['tps']:.0f}", ratio(ours["tps"], prep["tps"])]
        if not args.no_raw:
            raw = row["raw"]
            cells += [f"{raw['tps']:.0f}", ratio(ours["tps"], raw["tps"]), f"{raw['lat_ms']:.2f}"]
        cells.append(f"{max(row['background']):.0f}")
        print("  ".join(c.rjust(w) for c, w in zip(cells, widths, strict=True)))
    print(
        "  ms: mean latency of one transfer as its client saw it. pgbench: simple protocol,"
        " prep: -M prepared.\n"
        "  busy%: the whole machine's CPU use in the second before each run (max): load from"
        " something else.\n  The bench waits (--quiet-below/--quiet-wait) for it to drop;"
        " high values mean disturbed numbers."
    )
    for row in rows:
        errors = fmt_errors(*(run for runs in row["runs"].values() for run in runs))
        if errors:
            print(f"  errors at {row['clients']} clients: {errors}")
        if args.repeat > 1:
            pairs = zip(row["runs"]["ours"], row["runs"]["pgbench"], strict=True)
            print(
                f"  {row['clients']} clients, ours/pgbench per repeat: "
                + ", ".join(ratio(o["tps"], p["tps"]) for o, p in pairs)
            )
    target = next((r for r in rows if r["clients"] == 8), None)
    if target and target["pgbench"]["tps"]:
        value = target["ours"]["tps"] / target["pgbench"]["tps"]
        print(
            f"  target ours/pgbench >= 0.60 at 8 clients: {value:.2f} "
            f"({'met' if value >= 0.6 else 'NOT met'})"
        )


def main() -> None:
    args = parse_args()
    if not shutil.which(args.pgbench):
        raise SystemExit(f"pgbench not found at {args.pgbench}")
    configure_environment(args.database_url)
    if not args.keep:
        recreate_database(args.database_url)
    migrate()
    import django

    django.setup()
    low, count = seed(args.accounts)
    header(args, low, count)

    sides = ["ours", "pgbench"]
    if not args.no_prepared:
        sides.append("prepared")
    if not args.no_raw:
        sides.append("raw")
    rows = []
    with tempfile.TemporaryDirectory(prefix="ledger-bench-") as tmp:
        script = Path(tmp) / "transfer.sql"
        script.write_text(PGBENCH_SCRIPT)
        for clients in args.client_counts:
            runs: dict[str, list[dict[str, Any]]] = {side: [] for side in sides}
            background: list[float] = []
            # Repeats interleave the sides, so a burst of load elsewhere hits them alike.
            for _ in range(args.repeat):
                for side in sides:
                    maintenance(args.database_url)
                    background.append(wait_for_quiet(args.quiet_below, args.quiet_wait))
                    runs[side].append(measure(side, args, script, clients, low, count))
            row = {"clients": clients, "runs": runs, "background": background}
            row.update({side: median_run(runs[side]) for side in sides})
            rows.append(row)
            print(
                f"  ... {clients} clients: "
                + ", ".join(
                    f"{side} " + "/".join(f"{r['tps']:.0f}" for r in runs[side]) for side in sides
                )
                + f" tps; busy before runs {max(background):.0f}% max",
                flush=True,
            )

    print_table(args, rows)

    if args.profile:
        from django.db import connections

        connections.close_all()
        busy = wait_for_quiet(args.quiet_below, args.quiet_wait)
        print(f"\n(machine busy before the profile: {busy:.0f}%)", end="")
        profile_one_client(low, count, args.profile)

    from django.db import connections

    connections.close_all()
    try:
        from wallet.checks import ledger_check_run
    except ImportError as exc:
        print(f"\nledger_check: not available ({exc})")
        return
    started = time.monotonic()
    run = ledger_check_run()
    print(
        f"\nledger_check: ok={run.ok} accounts={run.accounts_checked} "
        f"transfers={run.transfers_checked} ({time.monotonic() - started:.1f} s)"
    )
    for problem in run.problems[:10]:
        print(f"  {problem}")
    if not run.ok:
        sys.exit(1)


if __name__ == "__main__":
    main()
