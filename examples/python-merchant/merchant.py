"""A merchant's webhook endpoint for `paybridge receive --forward`, in plain Python.

Every request is verified with the official Standard Webhooks library (`standardwebhooks` on
PyPI) before anything in it is read, and each event is credited once per `webhook-id` — the
id is the same on every retry of one state change, so a retry after a lost answer is a no-op.
The credit and the record of the id are one SQLite transaction: answered 2xx only once both
are committed.

    python merchant.py --port 8090 --secret "$PAYBRIDGE_FORWARD_SECRET" --db merchant.db
"""

import argparse
import sqlite3
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook


def open_db(path):
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    db.execute("CREATE TABLE IF NOT EXISTS seen (webhook_id TEXT PRIMARY KEY, received_at TEXT)")
    # What each order stands at, as paybridge told it: the recorded amount and currency (never
    # null), what arrived, what went back.
    db.execute(
        "CREATE TABLE IF NOT EXISTS orders (provider TEXT, reference TEXT, status TEXT, amount TEXT,"
        " currency TEXT, paid_amount TEXT, refunded_amount TEXT, PRIMARY KEY (provider, reference))"
    )
    return db


def handler(webhook, db):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                event = webhook.verify(body, dict(self.headers))
            except Exception as e:  # the official library's verification error
                print(f"refused: {e}", flush=True)
                self.send_response(401)
                self.end_headers()
                return
            msg_id = self.headers["webhook-id"]
            data = event["data"]
            db.execute("BEGIN IMMEDIATE")
            try:
                new = db.execute(
                    "INSERT OR IGNORE INTO seen VALUES (?, datetime('now'))", (msg_id,)
                ).rowcount
                if new:
                    # Ship on payment.succeeded only (paid_amount is then exactly amount);
                    # payment.needs_review names its anomaly (underpaid, …) for a person.
                    # Never write NULL over what is known.
                    db.execute(
                        "INSERT INTO orders VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(provider, reference) DO UPDATE SET"
                        " status = excluded.status,"
                        " amount = COALESCE(excluded.amount, orders.amount),"
                        " currency = COALESCE(excluded.currency, orders.currency),"
                        " paid_amount = COALESCE(excluded.paid_amount, orders.paid_amount),"
                        " refunded_amount = COALESCE(excluded.refunded_amount, orders.refunded_amount)",
                        (
                            data["provider"],
                            data["reference"],
                            data["status"],
                            data["amount"],
                            data["currency"],
                            data.get("paid_amount"),
                            data.get("refunded_amount"),
                        ),
                    )
                db.execute("COMMIT")
            except Exception:
                db.execute("ROLLBACK")
                raise
            state = "verified" if new else "duplicate, ignored"
            refund = data.get("refund")
            print(
                f"{state}: {msg_id} {event['type']} {data['provider']} {data['reference']} "
                f"{data['amount']} {data['currency']} paid {data.get('paid_amount')}"
                + (f" anomaly {data['anomaly']}" if data.get("anomaly") else "")
                + (f" refund {refund['id']} {refund['amount']}" if refund else ""),
                flush=True,
            )
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    return Handler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8090)
    parser.add_argument("--secret", required=True, help="whsec_… (PAYBRIDGE_FORWARD_SECRET)")
    parser.add_argument("--db", default="merchant.db")
    args = parser.parse_args()
    server = ThreadingHTTPServer(
        ("127.0.0.1", args.port), handler(Webhook(args.secret), open_db(args.db))
    )
    print(f"merchant listening on http://127.0.0.1:{args.port}/hooks", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
