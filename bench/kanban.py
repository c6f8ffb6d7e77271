#!/usr/bin/env python
"""The CRM kanban under load: a board of 20 stages and 100,000 deals, on PostgreSQL.

Run by hand (not part of the test suite), from the project root:

    .venv/bin/python bench/kanban.py --deals 100000
    .venv/bin/python bench/kanban.py --deals 5000 --moves 20     # a quick run

What it does:

1. drops and recreates the bench database (``--keep`` reuses it, adding a new
   organization), migrates it, and creates with bulk inserts one organization, ``--movers``
   agents, a pipeline of ``--stages`` stages holding ``--deals`` deals spread evenly (keys
   from ``generate_n_keys_between`` per column, as a fresh column would have), and a small
   pipeline of 5 stages (to show the board's query count does not depend on the stages);
2. loads the first page of the board (``crm.board.board_data``, ``--per-column`` cards per
   column) ``--runs`` times and prints the median time and the query count, for the 5-stage
   and the 20-stage boards;
3. has ``--movers`` threads (one connection each, one agent each) make ``--moves`` moves
   each: a random card to a random place of a random column, between two neighbours read
   just before (``crm.deals.deal_move``), timing each call; a neighbour that moved meanwhile
   is refused (409 ``crm.stale_move``) and counted;
4. prints move latency p50/p99 and moves per second, then checks that every card is still
   on the board exactly once and no two cards of a column share a key.

Socket events are published (to the in-memory layer, or Redis with ``REDIS_URL``) unless
``--no-events``. PostgreSQL only: SQLite serializes writers and has no row locks.
"""

# A bench, not the service: our own subprocesses and SQL text are fine here.
# ruff: noqa: S603, S311
from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/atende_bench_kanban"
EMAIL_DOMAIN = "@bench.invalid"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--deals", type=int, default=100_000)
    p.add_argument("--stages", type=int, default=20)
    p.add_argument("--movers", type=int, default=20, help="concurrent threads")
    p.add_argument("--moves", type=int, default=50, help="moves per mover")
    p.add_argument("--runs", type=int, default=7, help="board loads (median)")
    p.add_argument("--per-column", type=int, default=50)
    p.add_argument("--no-events", action="store_true", help="do not publish socket events")
    p.add_argument("--keep", action="store_true", help="reuse the database (no drop/migrate)")
    p.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    return p.parse_args()


def configure_environment(url: str) -> None:
    if not url.startswith("postgres"):
        raise SystemExit("bench/kanban.py needs PostgreSQL (row locks).")
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


# --- Setup -----------------------------------------------------------------------------------


def seed_pipeline(org: Any, name: str, stage_count: int, deal_count: int) -> Any:
    from fractional_indexing import generate_n_keys_between

    from crm.models import Deal, Pipeline, Stage

    pipeline = Pipeline.objects.create(organization=org, name=name)
    stages = Stage.objects.bulk_create(
        [
            Stage(pipeline=pipeline, name=f"Stage {n + 1}", probability=(n * 5) % 101, order=n)
            for n in range(stage_count)
        ]
    )
    per_stage, extra = divmod(deal_count, stage_count)
    batch: list[Deal] = []
    for index, stage in enumerate(stages):
        count = per_stage + (1 if index < extra else 0)
        for n, key in enumerate(generate_n_keys_between(None, None, count)):
            batch.append(
                Deal(
                    organization=org,
                    pipeline=pipeline,
                    stage=stage,
                    position=key,
                    title=f"Deal {index}-{n}",
                    value=(n * 7919) % 1_000_000,
                )
            )
            if len(batch) >= 5000:
                Deal.objects.bulk_create(batch)
                batch = []
    Deal.objects.bulk_create(batch)
    return pipeline


def seed(args: argparse.Namespace, run: str) -> tuple[int, int, int, list[int]]:
    """(org id, big pipeline id, small pipeline id, mover user ids)."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction

    from accounts.models import Membership, Organization, User
    from accounts.roles import Role

    unusable = make_password(None)
    with transaction.atomic():
        org = Organization.objects.create(name=f"Bench {run}", slug=f"bench-kanban-{run}")
        users = User.objects.bulk_create(
            [
                User(
                    email=f"k{run}-{i}{EMAIL_DOMAIN}",
                    password=unusable,
                    display_name=f"Agent {i}",
                    language="en",
                )
                for i in range(args.movers)
            ]
        )
        Membership.objects.bulk_create(
            [Membership(user=u, organization=org, role=Role.AGENT) for u in users]
        )
        big = seed_pipeline(org, "Big", args.stages, args.deals)
        small = seed_pipeline(org, "Small", 5, min(args.deals, 5 * args.per_column * 2))
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE crm_deal, crm_stage")
    return org.pk, big.pk, small.pk, [u.pk for u in users]


def silence_events() -> None:
    from crm import events

    for name in ("deal_created", "deal_updated", "deal_moved", "deal_deleted", "stage_rebalanced"):
        setattr(events, name, lambda *args, **kwargs: None)


# --- The runs --------------------------------------------------------------------------------


def board_load(pipeline_id: int, user_id: int, args: argparse.Namespace) -> tuple[float, int, int]:
    """(median ms, queries, cards) of ``--runs`` first-page loads."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from accounts.models import User
    from crm.board import board_data
    from crm.models import Pipeline

    user = User.objects.get(pk=user_id)
    timings = []
    queries = 0
    cards = 0
    for _ in range(args.runs):
        pipeline = Pipeline.objects.get(pk=pipeline_id)
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            data = board_data(user=user, pipeline=pipeline, per_column=args.per_column)
            timings.append(time.perf_counter() - began)
        queries = len(captured.captured_queries)
        cards = sum(len(column["deals"]) for column in data["columns"])
    return statistics.median(timings) * 1000, queries, cards


def move_phase(
    organization_id: int, pipeline_id: int, user_ids: list[int], args: argparse.Namespace
) -> tuple[float, list[Any]]:
    from django.db import connection

    from accounts.models import User
    from core.exceptions import ApplicationError
    from crm.deals import deal_move
    from crm.models import Deal, Stage

    stage_ids = list(
        Stage.objects.filter(pipeline_id=pipeline_id).order_by("order").values_list("pk", flat=True)
    )
    counts = {stage_id: Deal.objects.filter(stage_id=stage_id).count() for stage_id in stage_ids}
    deal_ids = list(Deal.objects.filter(pipeline_id=pipeline_id).values_list("pk", flat=True))
    users = list(User.objects.filter(pk__in=user_ids).order_by("pk"))
    barrier = threading.Barrier(len(users) + 1)
    results: list[Any] = [None] * len(users)

    def work(index: int) -> list[tuple[float, str]]:
        rng = random.Random(index)
        timings: list[tuple[float, str]] = []
        for _ in range(args.moves):
            stage_id = rng.choice(stage_ids)
            deal_id = rng.choice(deal_ids)
            size = max(counts[stage_id], 2)
            offset = rng.randint(0, size - 2)
            pair = list(
                Deal.objects.filter(stage_id=stage_id)
                .exclude(pk=deal_id)
                .order_by("position", "id")
                .values_list("pk", flat=True)[offset : offset + 2]
            )
            before_id = pair[0] if pair else None
            after_id = pair[1] if len(pair) > 1 else None
            began = time.perf_counter()
            try:
                deal_move(
                    actor=users[index],
                    deal_id=deal_id,
                    organization_id=organization_id,
                    stage_id=stage_id,
                    before_id=before_id,
                    after_id=after_id,
                )
                outcome = "moved"
            except ApplicationError as exc:
                outcome = exc.code
            timings.append((time.perf_counter() - began, outcome))
        return timings

    def runner(index: int) -> None:
        try:
            connection.ensure_connection()
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # reported below
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(n,), daemon=True) for n in range(len(users))]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, results


def percentiles(values: list[float]) -> tuple[float, float]:
    if not values:
        return 0.0, 0.0
    ordered = sorted(values)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return p50 * 1000, p99 * 1000


def verify(pipeline_id: int, expected: int) -> dict[str, int]:
    from django.db import connection

    from crm.models import Deal

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT stage_id, position FROM crm_deal WHERE pipeline_id = %s "
            "GROUP BY stage_id, position HAVING count(*) > 1) AS shared",
            [pipeline_id],
        )
        (shared,) = cursor.fetchone()
    cards = Deal.objects.filter(pipeline_id=pipeline_id)
    return {
        "cards": cards.count(),
        "distinct": cards.values("pk").distinct().count(),
        "missing": expected - cards.count(),
        "shared_keys": shared,
        "long_keys": sum(1 for key in cards.values_list("position", flat=True) if len(key) > 50),
    }


def main() -> None:
    args = parse_args()
    configure_environment(args.database_url)
    if not args.keep:
        recreate_database(args.database_url)
        migrate()
    import django

    django.setup()
    if args.no_events:
        silence_events()
    from django.db import connection

    run = str(int(time.time()))
    began = time.perf_counter()
    organization_id, big_id, small_id, user_ids = seed(args, run)
    connection.close()
    layer = "redis" if os.environ.get("REDIS_URL") else "in-memory"
    print(
        f"deals={args.deals} stages={args.stages} movers={args.movers} moves={args.moves} "
        f"per_column={args.per_column} events={'off' if args.no_events else 'on'} "
        f"layer={layer} cpus={os.cpu_count()} seeded in {time.perf_counter() - began:.1f}s"
    )
    print("| board | cards shown | median ms | queries |")
    print("|---|---|---|---|")
    small_ms, small_queries, small_cards = board_load(small_id, user_ids[0], args)
    print(f"| 5 stages | {small_cards} | {small_ms:.1f} | {small_queries} |")
    big_ms, big_queries, big_cards = board_load(big_id, user_ids[0], args)
    print(
        f"| {args.stages} stages, {args.deals} deals | {big_cards} | {big_ms:.1f} | {big_queries} |"
    )
    connection.close()

    seconds, results = move_phase(organization_id, big_id, user_ids, args)
    errors = [r for r in results if isinstance(r, Exception)]
    timings = [t for r in results if isinstance(r, list) for t in r]
    moved = [s for s, outcome in timings if outcome == "moved"]
    conflicts = sum(1 for _s, outcome in timings if outcome == "crm.stale_move")
    other = sorted({outcome for _s, outcome in timings} - {"moved", "crm.stale_move"})
    p50, p99 = percentiles([s for s, _outcome in timings])
    rate = len(moved) / seconds if seconds else 0.0
    print("| movers | calls | moved | 409 stale_move | seconds | moves/s | p50 ms | p99 ms |")
    print("|---|---|---|---|---|---|---|---|")
    print(
        f"| {args.movers} | {len(timings)} | {len(moved)} | {conflicts} | {seconds:.2f} | "
        f"{rate:.0f} | {p50:.1f} | {p99:.1f} |"
    )
    for error in errors[:3]:
        print(f"  error: {error!r}")
    checks = verify(big_id, args.deals)
    print(
        f"cards={checks['cards']} distinct={checks['distinct']} missing={checks['missing']} "
        f"shared_keys={checks['shared_keys']} keys_over_50={checks['long_keys']} "
        f"other_refusals={other}"
    )
    failed = (
        errors
        or other
        or checks["missing"]
        or checks["shared_keys"]
        or checks["cards"] != checks["distinct"]
        or small_queries != big_queries
    )
    if failed:
        print("FAILED")
        sys.exit(1)


if __name__ == "__main__":
    main()
