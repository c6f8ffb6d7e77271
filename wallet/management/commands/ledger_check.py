"""Recompute every ledger balance from its transfers; exit 1 with a report if anything is off."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from wallet.checks import ledger_check_run


class Command(BaseCommand):
    help = "Check the ledger: balances, held amounts, per-asset sums, non-negative accounts."

    def handle(self, *args: Any, **options: Any) -> None:
        run = ledger_check_run()
        self.stdout.write(
            f"accounts: {run.accounts_checked}  transfers: {run.transfers_checked}  "
            f"problems: {len(run.problems)}"
        )
        if run.ok:
            self.stdout.write(self.style.SUCCESS("ledger OK"))
            return
        for problem in run.problems:
            self.stdout.write(json.dumps(problem, sort_keys=True))
        raise CommandError(f"ledger check failed: {len(run.problems)} problem(s)")
