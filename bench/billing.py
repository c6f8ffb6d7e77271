#!/usr/bin/env python
"""One billing pass over many active calls, all due at once, on PostgreSQL.

Run by hand (not part of the test suite), from the project root:

    .venv/bin/python bench/billing.py --calls 10000 --workers 1,2

What it does:

1. drops and recreates the bench database (``--keep`` reuses it, after deleting the calls),
   runs ``manage.py migrate`` into it; creates with bulk inserts ``--calls`` clients and as many
   professionals, funds each client's wallet with ``--funding`` tokens from the platform's PIX
   clearing account (one top-up transfer each, so ``ledger_check`` stays clean), and creates one
   active call per pair, connected ``--late`` units ago (unit 1 already billed, as
   ``billing.start`` leaves it; its money is not in the ledger: the bench measures the pass),
   so unit 2 (and ``--late - 1`` more with catch-up) is due. ``--poor`` of the clients hold
   nothing: their calls are ended at the boundary through ``calls.services.call_finish``.
2. runs one ``calls.billing.bill_due_calls`` pass with W workers (forked processes, one
   connection each, started together) for each W of ``--workers``, on a fresh set of calls;
3. prints per run: seconds, units charged per second, calls per second, the double charges
   (a ``(call, unit)`` with more than its legs), the missed ones (a call still due, or whose
   billed units do not match its transfers), the calls ended, and ``ledger_check``.

``--no-events`` runs the same with ``realtime.publish.publish_on_commit`` replaced by a no-op
(what the socket events cost). The machine may be shared: the bench prints how busy the CPU
was before each run (``busy%``). Settings: DEBUG off; with ``REDIS_URL`` set the events go
through Redis (as in production), otherwise the in-memory channel layer.
"""

# A bench, not the service: our own subprocesses and SQL text are fine here.
# ruff: noqa: S603
from __future__ import annotations

import argparse
import datetime
import multiprocessing as mp
import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/atende_bench_billing"
EMAIL_DOMAIN = "@bench.invalid"
UNIT_SECONDS = 60


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--calls", type=int, default=10_000, help="active calls, all due")
    p.add_argument("--workers", default="1,2", help="comma-separated worker counts, one run each")
    p.add_argument(
        "--batch-size", type=int, default=0, help="CALLS_BILLING_BATCH_SIZE (0: setting)"
    )
    p.add_argument("--late", type=int, default=1, help="units due per call (catch-up when > 1)")
    p.add_argument("--poor", type=float, default=0.0, help="fraction of clients who cannot pay")
    p.add_argument("--price", type=int, default=5, help="price per minute")
    p.add_argument("--minimum-fee", type=int, default=5)
    p.add_argument("--funding", type=int, default=1_000, help="tokens per paying client")
    p.add_argument("--no-events", action="store_true", help="replace publish_on_commit by a no-op")
    p.add_argument("--repeat", type=int, default=1, help="runs per worker count")
    p.add_argument("--keep", action="store_true", help="reuse the database (no drop/migrate)")
    p.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    return p.parse_args()


def configure_environment(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ["DEBUG"] = "false"
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")


def recreate_database(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = urlsplit(url).path.lstrip("/")
    if not re.fullmatch(r"[A-Za-z0-9_]+", name) or name in {"postgres", "template0", "template1"}:
        raise SystemExit(f"refusing to drop database {name!r}")
    admin = urlsplit(url)._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
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


def busy_percent(seconds: float = 0.5) -> float:
    def sample() -> tuple[int, int]:
        fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        return sum(fields), fields[3] + fields[4]

    total1, idle1 = sample()
    time.sleep(seconds)
    total2, idle2 = sample()
    return 100.0 * (1 - (idle2 - idle1) / max(1, total2 - total1))


# --- Setup -----------------------------------------------------------------------------------


def seed(run: str, args: argparse.Namespace, now: datetime.datetime) -> list[int]:
    """``args.calls`` funded clients, professionals and active calls all due; returns call ids."""
    from django.contrib.auth.hashers import make_password
    from django.db import transaction

    from accounts.models import AccountType, User
    from calls import billing
    from calls.models import Call, CallStatus
    from wallet import ledger
    from wallet.models import Account, AccountKind, Asset, Transfer, TransferKind, account_key

    count = args.calls
    unusable = make_password(None)
    with transaction.atomic():
        # Calls of an earlier run (--keep) are not part of this one.
        Call.objects.filter(status=CallStatus.ACTIVE).update(
            status=CallStatus.ENDED, next_charge_at=None, segment_started_at=None
        )
        clients = User.objects.bulk_create(
            [
                User(email=f"c{run}-{i}{EMAIL_DOMAIN}", password=unusable, display_name=f"C{i}")
                for i in range(count)
            ],
            batch_size=2000,
        )
        pros = User.objects.bulk_create(
            [
                User(
                    email=f"p{run}-{i}{EMAIL_DOMAIN}",
                    password=unusable,
                    display_name=f"P{i}",
                    account_type=AccountType.PROFESSIONAL,
                )
                for i in range(count)
            ],
            batch_size=2000,
        )
        poor = int(count * args.poor)
        clearing = ledger.account_for_platform(kind=AccountKind.PIX_CLEARING)
        ledger.account_for_platform(kind=AccountKind.PLATFORM_REVENUE)
        funded = clients[poor:]
        wallets = Account.objects.bulk_create(
            [
                Account(
                    key=account_key(
                        kind=AccountKind.CLIENT_WALLET, asset=Asset.TOKEN, user_id=u.pk
                    ),
                    user=u,
                    kind=AccountKind.CLIENT_WALLET,
                    asset=Asset.TOKEN,
                    balance=args.funding if u in funded else 0,
                    never_negative=True,
                )
                for u in clients
            ],
            batch_size=2000,
        )
        Account.objects.bulk_create(
            [
                Account(
                    key=account_key(
                        kind=AccountKind.EARNINGS_PENDING, asset=Asset.TOKEN, user_id=u.pk
                    ),
                    user=u,
                    kind=AccountKind.EARNINGS_PENDING,
                    asset=Asset.TOKEN,
                    never_negative=True,
                )
                for u in pros
            ],
            batch_size=2000,
        )
        clearing = Account.objects.select_for_update().get(pk=clearing.pk)
        top_ups = []
        for wallet in wallets[poor:]:
            clearing.balance -= args.funding
            top_ups.append(
                Transfer(
                    debit_account=clearing,
                    credit_account=wallet,
                    asset=Asset.TOKEN,
                    amount=args.funding,
                    kind=TransferKind.TOP_UP,
                    idempotency_key=f"bench-top-up:{run}:{wallet.pk}",
                    reference="pix:bench",
                    debit_balance_after=clearing.balance,
                    credit_balance_after=args.funding,
                )
            )
        Transfer.objects.bulk_create(top_ups, batch_size=2000)
        clearing.save(update_fields=["balance"])
        started = now - datetime.timedelta(seconds=UNIT_SECONDS * args.late + 1)
        first = billing.unit_charge(unit=1, price=args.price, minimum_fee=args.minimum_fee)
        calls = Call.objects.bulk_create(
            [
                Call(
                    client=c,
                    professional=p,
                    status=CallStatus.ACTIVE,
                    price_per_minute=args.price,
                    minimum_fee=args.minimum_fee,
                    billing_unit_seconds=UNIT_SECONDS,
                    requested_at=started,
                    ringing_at=started,
                    answered_at=started,
                    connected_at=started,
                    client_connected=True,
                    professional_connected=True,
                    billed_units=1,
                    billed_amount=first,
                    segment_started_at=started,
                    next_charge_at=started + datetime.timedelta(seconds=UNIT_SECONDS),
                )
                for c, p in zip(clients, pros, strict=True)
            ],
            batch_size=2000,
        )
    return [call.pk for call in calls]


# --- The run -----------------------------------------------------------------------------------


def worker_main(
    now: datetime.datetime, batch_size: int, no_events: bool, go: Any, results: Any
) -> None:
    from django.db import connection

    if no_events:
        from realtime import publish

        publish.publish_on_commit = lambda *a, **k: None  # type: ignore[assignment]
        from calls import events as call_events
        from wallet import events as wallet_events

        call_events.publish_on_commit = publish.publish_on_commit  # type: ignore[attr-defined]
        wallet_events.publish_on_commit = publish.publish_on_commit  # type: ignore[attr-defined]
    from calls import billing

    connection.ensure_connection()
    go.wait()
    started = time.perf_counter()
    outcome = billing.bill_due_calls(now=now, batch_size=batch_size or None)
    results.put(
        {
            "seconds": time.perf_counter() - started,
            "calls": outcome.calls,
            "charges": outcome.charges,
            "ended": outcome.ended,
            "batches": outcome.batches,
            "errors": len(outcome.errors),
        }
    )
    connection.close()


def run_once(args: argparse.Namespace, workers: int, run: str) -> dict[str, Any]:
    from django.db import connection
    from django.utils import timezone

    now = timezone.now()
    ids = seed(run, args, now)
    # What autovacuum would have done by the time these calls are a minute old.
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE calls_call, wallet_account, wallet_transfer")
    connection.close()
    busy = busy_percent()
    ctx = mp.get_context("fork")
    go = ctx.Event()
    results = ctx.Queue()
    processes = [
        ctx.Process(target=worker_main, args=(now, args.batch_size, args.no_events, go, results))
        for _ in range(workers)
    ]
    for process in processes:
        process.start()
    time.sleep(1.0)  # every worker connected and waiting
    started = time.perf_counter()
    go.set()
    outcomes = [results.get(timeout=600) for _ in processes]
    elapsed = time.perf_counter() - started
    for process in processes:
        process.join()
    return {"busy": busy, "elapsed": elapsed, "outcomes": outcomes, **verify(ids, args, now)}


def verify(ids: list[int], args: argparse.Namespace, now: datetime.datetime) -> dict[str, Any]:
    from calls.models import Call, CallStatus
    from wallet.checks import ledger_problems
    from wallet.models import Transfer

    legs = Counter(
        (meta["call_id"], meta["unit"])
        for meta in Transfer.objects.filter(kind="charge", metadata__call_id__in=ids).values_list(
            "metadata", flat=True
        )
    )
    units = Counter(call_id for call_id, _unit in legs)
    expected_legs = {}
    from calls import billing

    for unit in range(2, args.late + 2):
        amount = billing.unit_charge(unit=unit, price=args.price, minimum_fee=args.minimum_fee)
        expected_legs[unit] = 0 if amount == 0 else (1 if amount * 85 // 100 == 0 else 2)
    double = sum(1 for (_c, unit), n in legs.items() if n > expected_legs.get(unit, 2))
    missed = 0
    ended = 0
    for call_id, status, billed, next_at in Call.objects.filter(pk__in=ids).values_list(
        "pk", "status", "billed_units", "next_charge_at"
    ):
        if status == CallStatus.ENDED:
            ended += 1
            continue
        paying_units = sum(1 for u in range(2, billed + 1) if expected_legs.get(u, 2))
        wrong = units.get(call_id, 0) != paying_units or billed != args.late + 1
        if next_at is None or next_at <= now or wrong:
            missed += 1
    _accounts, transfers, problems = ledger_problems()
    return {
        "double": double,
        "missed": missed,
        "ended_calls": ended,
        "ledger_ok": not problems,
        "transfers": transfers,
        "problems": problems[:3],
    }


def main() -> None:
    args = parse_args()
    configure_environment(args.database_url)
    if not args.keep:
        recreate_database(args.database_url)
        migrate()
    import django

    django.setup()
    from django.conf import settings

    batch = args.batch_size or settings.CALLS_BILLING_BATCH_SIZE
    layer = "redis" if os.environ.get("REDIS_URL") else "in-memory"
    print(
        f"calls={args.calls} late={args.late} poor={args.poor} batch={batch} "
        f"events={'off' if args.no_events else 'on'} layer={layer} cpus={os.cpu_count()}"
    )
    print(
        "| workers | busy% | seconds | units/s | calls/s | batches | double | missed | ended "
        "| ledger_check |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    failed = False
    for workers in [int(w) for w in args.workers.split(",")]:
        for repeat in range(args.repeat):
            run = f"{int(time.time())}{workers}{repeat}"
            result = run_once(args, workers, run)
            charges = sum(o["charges"] for o in result["outcomes"])
            calls = sum(o["calls"] for o in result["outcomes"])
            batches = sum(o["batches"] for o in result["outcomes"])
            elapsed = result["elapsed"]
            print(
                f"| {workers} | {result['busy']:.0f} | {elapsed:.2f} | {charges / elapsed:.0f} | "
                f"{calls / elapsed:.0f} | {batches} | {result['double']} | {result['missed']} | "
                f"{result['ended_calls']} | {'ok' if result['ledger_ok'] else 'FAILED'} |"
            )
            per_worker = ", ".join(
                f"{o['calls']} calls in {o['seconds']:.2f}s" for o in result["outcomes"]
            )
            print(f"  workers: {per_worker}")
            if result["double"] or result["missed"] or not result["ledger_ok"]:
                failed = True
                print(f"  problems: {result['problems']}")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
