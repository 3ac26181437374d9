"""The demo database: a small telecom's plans, customers, data usage, billing and tickets.

Every row comes from `random.Random(SEED)`, never from the wall clock, so every build is
byte-for-byte the same data. The data is a snapshot taken at the start of
`REFERENCE_DATE` (2026-07-01): "today" for every question asked of it. The latest event
is on 2026-06-30, so "last month" is June 2026, the latest complete month of usage, and
"the past 90 days" is 2026-04-02 to 2026-06-30. The reference date is also stored in the
database's `meta` table so the schema text (and the model) read it from the data itself.

Built once per generator version into a cache directory (`SEMA4_CACHE_DIR`, else
`~/.cache/sema4-agent`); `python -m sema4_agent.demo_db [--out PATH]` builds a copy and
prints where it wrote it.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import sys
import tempfile
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

log = logging.getLogger(__name__)

# "Today" for the data. Nothing in the project may ask the wall clock instead.
REFERENCE_DATE = date(2026, 7, 1)

SEED = 20260701

# Bump when the generated data changes: the cached copy is keyed by it and rebuilds.
GENERATOR_VERSION = 1

NUM_CUSTOMERS = 500

# Monthly usage and billing are recorded for the twelve complete months before today.
FIRST_MONTH = date(2025, 7, 1)
LAST_MONTH = date(2026, 6, 1)

REGIONS = ["North", "South", "East", "West", "Central"]
REGION_WEIGHTS = [24, 20, 18, 22, 16]

# (name, monthly price USD, data limit GB or None = unlimited, voice minutes or None,
#  still on sale). Legacy Saver is retired and has no customers left.
PLANS = [
    ("Basic", 15.00, 2.0, 200, 1),
    ("Starter", 25.00, 5.0, 500, 1),
    ("Standard", 40.00, 15.0, None, 1),
    ("Plus", 55.00, 30.0, None, 1),
    ("Premium", 75.00, 60.0, None, 1),
    ("Unlimited", 90.00, None, None, 1),
    ("Business Pro", 120.00, 100.0, None, 1),
    ("Legacy Saver", 20.00, 10.0, 300, 0),
]
PLAN_WEIGHTS = [14, 22, 26, 16, 9, 7, 6, 0]

# Overage is billed per started GB over the limit, on the last day of the usage month.
OVERAGE_PER_GB = 10.00

FIRST_NAMES = (
    "Ada Ben Carla Dev Elena Farid Grace Hugo Ines Jamal Kira Leo Maya Nikhil Olga Pablo "
    "Quinn Rosa Sam Tara Umar Vera Wen Ximena Yusuf Zoe Aiko Bruno Chloe Diego Emma Felix "
    "Gita Hana Ivan Julia Kofi Lina Marco Nora Omar Priya Rafael Sofia Tomas Uma Victor Yara"
).split()
LAST_NAMES = (
    "Adams Bauer Costa Dubois Eriksen Fischer Garcia Haddad Ito Jensen Kim Lopez Moreau "
    "Nakamura Okafor Petrov Quispe Rossi Singh Tanaka Usman Varga Weber Xu Young Zhang "
    "Alvarez Brown Chen Dimitrov Evans Ferreira Gupta Hoffmann Ivanova Johnson Kowalski"
).split()

TICKET_CATEGORIES = ["billing", "network", "device", "account", "roaming"]
TICKET_CATEGORY_WEIGHTS = [30, 28, 16, 18, 8]
TICKET_PRIORITIES = ["low", "medium", "high", "urgent"]
TICKET_PRIORITY_WEIGHTS = [35, 40, 18, 7]

Row = dict[str, Any]


def build_demo_db(path: str | os.PathLike[str]) -> Path:
    """Build the demo database at `path`, replacing any file there, and return the path.

    The file is written to a temporary name in the same directory and renamed into place,
    so a reader never sees a half-built database.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)

    try:
        tmp.unlink()
        _write_tables(sqlite_utils.Database(tmp), generate_rows(SEED))
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)

    return target


def demo_db_path() -> Path:
    """The cached demo database, built on first use for this generator version.

    Two processes building at once each write their own temporary file and rename it
    into place; both files hold the same data, so whichever lands last is correct.
    """
    cache = Path(os.environ.get("SEMA4_CACHE_DIR") or Path.home() / ".cache" / "sema4-agent")
    path = cache / f"demo-telecom-v{GENERATOR_VERSION}.db"
    if not path.exists():
        log.info("building the demo database at %s", path)
        build_demo_db(path)
    return path


def generate_rows(seed: int) -> dict[str, list[Row]]:
    """Every table's rows, as plain dicts, from one seeded generator."""
    rng = random.Random(seed)
    plans = _plans()
    customers = _customers(rng, plans)
    usage, overage = _usage(rng, customers, plans)

    return {
        "meta": _meta(),
        "plans": plans,
        "customers": customers,
        "data_usage": usage,
        "transactions": _transactions(rng, customers, plans, overage),
        "support_tickets": _tickets(rng, customers),
    }


def _meta() -> list[Row]:
    notes = {
        "reference_date": REFERENCE_DATE.isoformat(),
        "reference_date_note": (
            "Today for this data. The snapshot was taken at the start of this day: the latest "
            "event is on the day before, and last month means the calendar month before it."
        ),
        "currency": "USD; transactions.amount is always positive, transactions.type says "
        "whether money was charged, paid or refunded",
        "data_usage_months": f"{_month(FIRST_MONTH)} to {_month(LAST_MONTH)}, complete months",
        "generator_version": str(GENERATOR_VERSION),
        "seed": str(SEED),
    }
    return [{"key": k, "value": v} for k, v in notes.items()]


def _plans() -> list[Row]:
    return [
        {
            "id": i,
            "name": name,
            "monthly_price": price,
            "data_limit_gb": limit,
            "voice_minutes": minutes,
            "is_available": available,
        }
        for i, (name, price, limit, minutes, available) in enumerate(PLANS, start=1)
    ]


def _customers(rng: random.Random, plans: list[Row]) -> list[Row]:
    customers = []
    first_signup = date(2023, 1, 1)
    span = (REFERENCE_DATE - first_signup).days

    for cid in range(1, NUM_CUSTOMERS + 1):
        first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
        signup = first_signup + timedelta(days=rng.randrange(span))
        status = rng.choices(["active", "suspended", "cancelled"], [80, 6, 14])[0]
        cancelled_on = None
        if status == "cancelled":
            days_left = (REFERENCE_DATE - signup).days
            cancelled = signup + timedelta(days=rng.randint(1, max(1, days_left - 1)))
            cancelled_on = min(cancelled, REFERENCE_DATE - timedelta(days=1)).isoformat()

        # Some customers never gave an email address: a NULL worth handling.
        email = None if rng.random() < 0.05 else f"{first}.{last}{cid}@example.com".lower()
        customers.append(
            {
                "id": cid,
                "name": f"{first} {last}",
                "email": email,
                "status": status,
                "plan_id": rng.choices(plans, PLAN_WEIGHTS)[0]["id"],
                "region": rng.choices(REGIONS, REGION_WEIGHTS)[0],
                "signup_date": signup.isoformat(),
                "cancelled_on": cancelled_on,
            }
        )
    return customers


def _months_active(customer: Row) -> Iterator[date]:
    """First days of the recorded months in which the customer had service."""
    start = max(FIRST_MONTH, date.fromisoformat(customer["signup_date"]).replace(day=1))
    end = LAST_MONTH
    if customer["cancelled_on"]:
        end = min(end, date.fromisoformat(customer["cancelled_on"]).replace(day=1))

    month = start
    while month <= end:
        yield month
        month = (month + timedelta(days=32)).replace(day=1)


def _usage(
    rng: random.Random, customers: list[Row], plans: list[Row]
) -> tuple[list[Row], dict[tuple[int, date], float]]:
    """Monthly usage rows, and the overage (GB over the limit) per (customer, month)."""
    limits = {p["id"]: p["data_limit_gb"] for p in plans}
    rows, overage = [], {}

    for customer in customers:
        limit = limits[customer["plan_id"]]
        # How close to their allowance this customer usually runs; unlimited users are
        # measured against a nominal 80 GB.
        heaviness = rng.uniform(0.2, 0.95)
        for month in _months_active(customer):
            factor = heaviness * rng.uniform(0.75, 1.25)
            if rng.random() < 0.08:
                factor *= rng.uniform(1.3, 1.9)  # a holiday, a new phone, a binge
            used = round((limit or 80.0) * factor, 2)
            rows.append(
                {
                    "customer_id": customer["id"],
                    "month": _month(month),
                    "data_gb": used,
                    "voice_minutes": rng.randint(0, 900),
                    "sms_count": rng.randint(0, 300),
                }
            )
            if limit is not None and used > limit:
                overage[customer["id"], month] = used - limit
    return rows, overage


def _transactions(
    rng: random.Random,
    customers: list[Row],
    plans: list[Row],
    overage: dict[tuple[int, date], float],
) -> list[Row]:
    prices = {p["id"]: p["monthly_price"] for p in plans}
    rows: list[Row] = []

    def add(customer_id: int, day: date, kind: str, amount: float, description: str) -> None:
        rows.append(
            {
                "customer_id": customer_id,
                "txn_date": day.isoformat(),
                "type": kind,
                "amount": round(amount, 2),
                "description": description,
            }
        )

    for customer in customers:
        months = list(_months_active(customer))
        # Suspended customers stopped paying two or three months ago.
        unpaid_from = len(months) - rng.randint(2, 3) if customer["status"] == "suspended" else None
        for i, month in enumerate(months):
            price = prices[customer["plan_id"]]
            add(customer["id"], month, "charge", price, f"Monthly plan fee {_month(month)}")

            gb_over = overage.get((customer["id"], month))
            if gb_over is not None:
                last_day = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
                fee = -(-gb_over // 1) * OVERAGE_PER_GB  # per started GB
                add(customer["id"], last_day, "charge", fee, f"Data overage {_month(month)}")

            is_unpaid = unpaid_from is not None and i >= unpaid_from
            if not is_unpaid and rng.random() > 0.02:
                add(
                    customer["id"],
                    month + timedelta(days=rng.randint(2, 20)),
                    "payment",
                    price,
                    "Card payment",
                )

            if rng.random() < 0.025:
                credit = rng.choice([5.0, 10.0, round(price / 2, 2), price])
                reason = rng.choice(["Service outage credit", "Billing error", "Goodwill credit"])
                add(
                    customer["id"],
                    month + timedelta(days=rng.randint(5, 27)),
                    "refund",
                    credit,
                    reason,
                )

    rows.sort(key=lambda r: (r["txn_date"], r["customer_id"], r["type"]))
    return [{"id": i, **row} for i, row in enumerate(rows, start=1)]


def _tickets(rng: random.Random, customers: list[Row]) -> list[Row]:
    rows: list[Row] = []
    last_day = REFERENCE_DATE - timedelta(days=1)

    for customer in customers:
        count = rng.choices(range(7), [38, 25, 15, 10, 6, 4, 2])[0]
        start = date.fromisoformat(customer["signup_date"])
        end = date.fromisoformat(customer["cancelled_on"] or last_day.isoformat())
        for _ in range(count):
            opened = start + timedelta(days=rng.randint(0, (end - start).days))
            rows.append({"customer_id": customer["id"], **_ticket_fate(rng, opened, last_day)})

    rows.sort(key=lambda r: (r["opened_on"], r["customer_id"]))
    return [{"id": i, **row} for i, row in enumerate(rows, start=1)]


def _ticket_fate(rng: random.Random, opened: date, last_day: date) -> Row:
    """Category, priority and how (or whether yet) the ticket was closed."""
    age = (last_day - opened).days
    closed_on = None
    if rng.random() < (0.3 if age < 14 else 0.95):
        closed_on = opened + timedelta(days=min(age, int(rng.expovariate(1 / 4))))

    if closed_on is None:
        status = rng.choice(["open", "in_progress"])
    else:
        status = rng.choices(["resolved", "closed"], [70, 30])[0]
    satisfaction = rng.randint(1, 5) if closed_on and rng.random() < 0.6 else None

    return {
        "category": rng.choices(TICKET_CATEGORIES, TICKET_CATEGORY_WEIGHTS)[0],
        "priority": rng.choices(TICKET_PRIORITIES, TICKET_PRIORITY_WEIGHTS)[0],
        "status": status,
        "opened_on": opened.isoformat(),
        "closed_on": closed_on.isoformat() if closed_on else None,
        "satisfaction_score": satisfaction,
    }


def _write_tables(db: sqlite_utils.Database, rows: dict[str, list[Row]]) -> None:
    db["meta"].create({"key": str, "value": str}, pk="key", not_null=["value"])
    db["plans"].create(
        {
            "id": int,
            "name": str,
            "monthly_price": float,
            "data_limit_gb": float,
            "voice_minutes": int,
            "is_available": int,
        },
        pk="id",
        not_null=["name", "monthly_price", "is_available"],
    )
    db["customers"].create(
        {
            "id": int,
            "name": str,
            "email": str,
            "status": str,
            "plan_id": int,
            "region": str,
            "signup_date": str,
            "cancelled_on": str,
        },
        pk="id",
        foreign_keys=[("plan_id", "plans", "id")],
        not_null=["name", "status", "plan_id", "region", "signup_date"],
    )
    db["data_usage"].create(
        {
            "customer_id": int,
            "month": str,
            "data_gb": float,
            "voice_minutes": int,
            "sms_count": int,
        },
        pk=("customer_id", "month"),
        foreign_keys=[("customer_id", "customers", "id")],
        not_null=["data_gb"],
    )
    db["transactions"].create(
        {
            "id": int,
            "customer_id": int,
            "txn_date": str,
            "type": str,
            "amount": float,
            "description": str,
        },
        pk="id",
        foreign_keys=[("customer_id", "customers", "id")],
        not_null=["customer_id", "txn_date", "type", "amount"],
    )
    db["support_tickets"].create(
        {
            "id": int,
            "customer_id": int,
            "category": str,
            "priority": str,
            "status": str,
            "opened_on": str,
            "closed_on": str,
            "satisfaction_score": int,
        },
        pk="id",
        foreign_keys=[("customer_id", "customers", "id")],
        not_null=["customer_id", "category", "priority", "status", "opened_on"],
    )

    with db.conn:
        for table, table_rows in rows.items():
            db[table].insert_all(table_rows, batch_size=1000)

    for table, columns in [
        ("customers", ["plan_id"]),
        ("customers", ["status"]),
        ("customers", ["region"]),
        ("data_usage", ["month"]),
        ("transactions", ["customer_id"]),
        ("transactions", ["txn_date"]),
        ("support_tickets", ["customer_id"]),
        ("support_tickets", ["opened_on"]),
    ]:
        db[table].create_index(columns)
    db.conn.execute("ANALYZE")
    db.conn.close()


def _month(day: date) -> str:
    return day.strftime("%Y-%m")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sema4_agent.demo_db",
        description="Build the demo telecom database and print where it was written.",
    )
    parser.add_argument(
        "--out", type=Path, help="where to write it (default: the shared cached copy)"
    )
    args = parser.parse_args(argv)

    try:
        path = build_demo_db(args.out) if args.out else demo_db_path()
    except OSError as exc:
        print(f"Error: could not write the demo database: {exc}", file=sys.stderr)
        return 1

    print(path.resolve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
