#!/usr/bin/env python
"""Support-inbox routing under load: 100 agents, 10,000 waiting conversations, on PostgreSQL.

Run by hand (not part of the test suite), from the project root:

    .venv/bin/python bench/routing.py --agents 100 --conversations 10000 --threads 8

What it does:

1. drops and recreates the bench database (``--keep`` reuses it, after deleting the inbox
   rows), migrates it, and creates with bulk inserts one organization, one queue
   (``--strategy``), ``--agents`` agents (online, connected, ``--capacity`` each, members of
   the queue) and ``--conversations`` waiting conversations (contacts, support rooms);
2. routes the oldest ``--route`` conversations with ``queueing.routing.route_conversation``
   from ``--route-threads`` threads (one connection each), timing each call;
3. has ``--threads`` threads pull for the agents (``queueing.routing.pull_next``, agent k on
   thread k mod threads, round after round) until nothing waits or everyone is full, timing
   each call;
4. prints p50/p99 latency and assignments per second of both phases, then checks every
   conversation was assigned at most once (one ``assigned`` event, one assignee), that no
   agent is over capacity and that every ``open_count`` is the real count.

The inbox's socket events (``queueing.inbox_events``) are off unless ``--events``: each
assignment asks for a queue-position update of every waiting contact, which with 10,000
waiting dominates everything (see bench/README.md). The assignee's notification is always
on. PostgreSQL only: SQLite serializes writers and has no SKIP LOCKED.
"""

# A bench, not the service: our own subprocesses and SQL text are fine here.
# ruff: noqa: S603
from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/atende_bench_routing"
EMAIL_DOMAIN = "@bench.invalid"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--agents", type=int, default=100)
    p.add_argument("--conversations", type=int, default=10_000)
    p.add_argument("--capacity", type=int, default=120, help="per agent")
    p.add_argument("--route", type=int, default=5_000, help="conversations routed (phase 1)")
    p.add_argument("--route-threads", type=int, default=4)
    p.add_argument("--threads", type=int, default=8, help="pulling threads (phase 2)")
    p.add_argument(
        "--strategy",
        default="load_balance",
        choices=("round_robin", "load_balance", "skills_based", "manual"),
    )
    p.add_argument("--events", action="store_true", help="publish the inbox's socket events")
    p.add_argument("--keep", action="store_true", help="reuse the database (no drop/migrate)")
    p.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    return p.parse_args()


def configure_environment(url: str) -> None:
    if not url.startswith("postgres"):
        raise SystemExit("bench/routing.py needs PostgreSQL (row locks, SKIP LOCKED).")
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


def seed(args: argparse.Namespace, run: str) -> tuple[int, list[int], list[int]]:
    """The organization, agents and waiting conversations; (org id, agent user ids, conv ids)."""
    import datetime

    from django.contrib.auth.hashers import make_password
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import Membership, Organization, User
    from accounts.roles import Role
    from chat.models import Room, RoomKind
    from queueing.models import (
        AgentAvailability,
        Contact,
        Conversation,
        Department,
        QueueMember,
        SupportAgent,
        SupportQueue,
    )

    unusable = make_password(None)
    now = timezone.now()
    with transaction.atomic():
        org = Organization.objects.create(name=f"Bench {run}", slug=f"bench-{run}")
        department = Department.objects.create(organization=org, name="Suporte")
        queue = SupportQueue.objects.create(
            organization=org,
            department=department,
            name="Geral",
            routing_strategy=args.strategy,
            requeue_after_seconds=0,
        )
        users = User.objects.bulk_create(
            [
                User(
                    email=f"a{run}-{i}{EMAIL_DOMAIN}",
                    password=unusable,
                    display_name=f"Agent {i}",
                    language="en",
                )
                for i in range(args.agents)
            ]
        )
        Membership.objects.bulk_create(
            [Membership(user=u, organization=org, role=Role.AGENT) for u in users]
        )
        SupportAgent.objects.bulk_create(
            [
                SupportAgent(
                    organization=org,
                    user=u,
                    capacity=args.capacity,
                    availability=AgentAvailability.ONLINE,
                    connected=True,
                )
                for u in users
            ]
        )
        QueueMember.objects.bulk_create([QueueMember(queue=queue, user=u) for u in users])
        contacts = Contact.objects.bulk_create(
            [
                Contact(organization=org, name=f"Visitor {i}", email=f"v{i}{EMAIL_DOMAIN}")
                for i in range(args.conversations)
            ],
            batch_size=2000,
        )
        rooms = Room.objects.bulk_create(
            [Room(organization=org, kind=RoomKind.SUPPORT) for _ in contacts], batch_size=2000
        )
        start = now - datetime.timedelta(seconds=args.conversations)
        conversations = Conversation.objects.bulk_create(
            [
                Conversation(
                    organization=org,
                    contact=contact,
                    room=room,
                    channel="widget",
                    queue=queue,
                    priority=1,
                    waiting_since=start + datetime.timedelta(seconds=i),
                )
                for i, (contact, room) in enumerate(zip(contacts, rooms, strict=True))
            ],
            batch_size=2000,
        )
    with connection.cursor() as cursor:
        cursor.execute(
            "VACUUM ANALYZE queueing_conversation, queueing_supportagent, queueing_queuemember"
        )
    return org.pk, [u.pk for u in users], [c.pk for c in conversations]


def silence_events() -> None:
    from queueing import inbox_events

    for name in ("conversation_changed", "queue_positions_changed", "supervisor_changed"):
        setattr(inbox_events, name, lambda *args, **kwargs: None)


# --- The runs ------------------------------------------------------------------------------------


def in_threads(count: int, work: Any) -> tuple[float, list[Any]]:
    """Run ``work(index)`` on ``count`` threads started together; (seconds, results)."""
    from django.db import connection

    barrier = threading.Barrier(count + 1)
    results: list[Any] = [None] * count

    def runner(index: int) -> None:
        try:
            connection.ensure_connection()
            barrier.wait()
            results[index] = work(index)
        except Exception as exc:  # reported below
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=runner, args=(n,), daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, results


def route_phase(ids: list[int], threads: int) -> dict[str, Any]:
    from queueing.routing import route_conversation

    def work(index: int) -> list[tuple[float, int | None]]:
        timings = []
        for conversation_id in ids[index::threads]:
            began = time.perf_counter()
            assignee = route_conversation(conversation_id=conversation_id)
            timings.append((time.perf_counter() - began, assignee))
        return timings

    seconds, results = in_threads(threads, work)
    return {"seconds": seconds, "results": results}


def pull_phase(organization_id: int, user_ids: list[int], threads: int) -> dict[str, Any]:
    from accounts.models import User
    from core.exceptions import ApplicationError
    from queueing.routing import pull_next

    users = list(User.objects.filter(pk__in=user_ids).order_by("pk"))

    def work(index: int) -> list[tuple[float, int | None]]:
        mine = users[index::threads]
        timings: list[tuple[float, int | None]] = []
        while mine:
            still = []
            for user in mine:
                began = time.perf_counter()
                try:
                    conversation = pull_next(user=user, organization_id=organization_id)
                except ApplicationError as exc:
                    timings.append((time.perf_counter() - began, None))
                    if exc.code == "inbox.nothing_waiting":
                        return timings
                    continue  # full: this agent is done
                timings.append((time.perf_counter() - began, conversation.pk))
                still.append(user)
            mine = still
        return timings

    seconds, results = in_threads(threads, work)
    return {"seconds": seconds, "results": results}


def percentiles(values: list[float]) -> tuple[float, float]:
    if not values:
        return 0.0, 0.0
    ordered = sorted(values)
    p50 = statistics.median(ordered)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return p50 * 1000, p99 * 1000


def report(name: str, phase: dict[str, Any]) -> tuple[int, int]:
    errors = [r for r in phase["results"] if isinstance(r, Exception)]
    timings = [t for r in phase["results"] if isinstance(r, list) for t in r]
    done = [seconds for seconds, outcome in timings if outcome is not None]
    p50, p99 = percentiles(done)
    rate = len(done) / phase["seconds"] if phase["seconds"] else 0.0
    print(
        f"| {name} | {len(timings)} | {len(done)} | {phase['seconds']:.2f} | {rate:.0f} | "
        f"{p50:.1f} | {p99:.1f} | {len(errors)} |"
    )
    for error in errors[:3]:
        print(f"  error: {error!r}")
    return len(done), len(errors)


def verify(organization_id: int, args: argparse.Namespace) -> dict[str, int]:
    from django.db.models import Count

    from queueing.models import Conversation, ConversationEvent, SupportAgent

    events = Counter(
        ConversationEvent.objects.filter(organization_id=organization_id, kind="assigned")
        .values_list("conversation_id", flat=True)
        .iterator()
    )
    real = dict(
        Conversation.objects.filter(organization_id=organization_id, assignee__isnull=False)
        .values("assignee_id")
        .annotate(n=Count("id"))
        .values_list("assignee_id", "n")
    )
    agents = list(SupportAgent.objects.filter(organization_id=organization_id))
    return {
        "assigned": sum(real.values()),
        "waiting": Conversation.objects.filter(
            organization_id=organization_id, waiting_since__isnull=False
        ).count(),
        "double": sum(1 for n in events.values() if n > 1),
        "over_capacity": sum(1 for a in agents if a.open_count > a.capacity),
        "count_mismatch": sum(1 for a in agents if a.open_count != real.get(a.user_id, 0)),
    }


def main() -> None:
    args = parse_args()
    configure_environment(args.database_url)
    if not args.keep:
        recreate_database(args.database_url)
        migrate()
    import django

    django.setup()
    if not args.events:
        silence_events()
    from django.db import connection

    run = str(int(time.time()))
    began = time.perf_counter()
    organization_id, user_ids, conversation_ids = seed(args, run)
    connection.close()
    layer = "redis" if os.environ.get("REDIS_URL") else "in-memory"
    print(
        f"agents={args.agents} capacity={args.capacity} conversations={args.conversations} "
        f"strategy={args.strategy} events={'on' if args.events else 'off'} layer={layer} "
        f"cpus={os.cpu_count()} seeded in {time.perf_counter() - began:.1f}s"
    )
    print("| phase | calls | assigned | seconds | assignments/s | p50 ms | p99 ms | errors |")
    print("|---|---|---|---|---|---|---|---|")
    routed, route_errors = 0, 0
    if args.route and args.strategy != "manual":
        phase = route_phase(conversation_ids[: args.route], args.route_threads)
        routed, route_errors = report(f"route ({args.route_threads} threads)", phase)
    pulled, pull_errors = report(
        f"pull ({args.threads} threads)", pull_phase(organization_id, user_ids, args.threads)
    )
    checks = verify(organization_id, args)
    print(
        f"assigned={checks['assigned']} (routed {routed} + pulled {pulled}) "
        f"waiting={checks['waiting']} double_assignments={checks['double']} "
        f"agents_over_capacity={checks['over_capacity']} "
        f"open_count_mismatches={checks['count_mismatch']}"
    )
    failed = (
        checks["double"]
        or checks["over_capacity"]
        or checks["count_mismatch"]
        or route_errors
        or pull_errors
        or checks["assigned"] != routed + pulled
    )
    if failed:
        print("FAILED")
        sys.exit(1)


if __name__ == "__main__":
    main()
