#!/usr/bin/env python3
"""Fill a migrated SQLite ledger with N payments (default 1 000 000) for the listing benchmark.

    paybridge --json ledger payments --ledger sqlite:///tmp/million.db > /dev/null   # migrates
    python3 crates/ledger/benches/million.py /tmp/million.db 1000000

A mix like a year of a shop's payments: three providers, mostly succeeded, some pending (due
for a check), a few under review. See BENCHMARKS.md.
"""
import sqlite3
import sys

path = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
start = 1_735_689_600_000  # 2025-01-01
con = sqlite3.connect(path)
providers = ["card-charging", "woopay", "payoo"]


def rows():
    for i in range(n):
        at = start + i * 31  # a year, spread evenly
        status = "pending" if i % 50 == 0 else "needs_review" if i % 997 == 0 else "succeeded"
        yield (
            providers[i % 3],
            f"order-{i:07d}",
            str(100_000 + i),
            status,
            "50000",
            "VND",
            at,
            at,
            at + 60_000 if status == "pending" else None,
            "unreconciled" if status == "needs_review" else None,
        )


con.executemany(
    "INSERT INTO payments (provider, reference, provider_reference, status, amount, currency,"
    " created_at, updated_at, next_check_at, anomaly) VALUES (?,?,?,?,?,?,?,?,?,?)",
    rows(),
)
con.commit()
print(con.execute("SELECT COUNT(*) FROM payments").fetchone()[0], "payments")
