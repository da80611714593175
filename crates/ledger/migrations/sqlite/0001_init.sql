-- paybridge ledger, SQLite. Times are Unix milliseconds; amounts are decimal text.
CREATE TABLE callbacks (
    provider TEXT NOT NULL,
    key TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('claimed', 'done')),
    lease_token TEXT,
    lease_until BIGINT NOT NULL,
    reference TEXT,
    status TEXT,
    provider_status TEXT,
    amount TEXT,
    currency TEXT,
    deliveries BIGINT NOT NULL,
    first_received_at BIGINT NOT NULL,
    last_received_at BIGINT NOT NULL,
    completed_at BIGINT,
    PRIMARY KEY (provider, key)
);
CREATE INDEX callbacks_completed ON callbacks (state, completed_at);
CREATE TABLE payments (
    provider TEXT NOT NULL,
    reference TEXT NOT NULL,
    provider_reference TEXT,
    status TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    sealed BLOB,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (provider, reference)
);
CREATE TABLE payment_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    provider TEXT NOT NULL,
    reference TEXT NOT NULL,
    status TEXT NOT NULL,
    provider_status TEXT NOT NULL,
    source TEXT NOT NULL,
    applied BIGINT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX payment_events_payment ON payment_events (provider, reference, at);
