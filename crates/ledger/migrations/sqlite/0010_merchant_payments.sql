-- Payments keyed by (merchant, provider, reference): two merchants of a platform may use the
-- same order number. '' is the default merchant — every row recorded before this migration
-- is its, so a ledger without registered merchants behaves as before. Everything recorded
-- about a payment (its callbacks, events, changes, refunds, deliveries) carries the merchant,
-- and each merchant's forward targets get only its changes. SQLite cannot change a primary
-- key: the four tables keyed by payment are copied into new ones.
CREATE TABLE payments_keyed (
    merchant TEXT NOT NULL DEFAULT '',
    provider TEXT NOT NULL,
    reference TEXT NOT NULL,
    provider_reference TEXT,
    status TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    sealed BLOB,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    instrument TEXT,
    anomaly TEXT,
    paid_amount TEXT,
    next_check_at BIGINT,
    checks BIGINT NOT NULL DEFAULT 0,
    last_check_error TEXT,
    refunded_minor BIGINT NOT NULL DEFAULT 0,
    refundable_minor BIGINT CHECK (refunded_minor <= COALESCE(refundable_minor, 0)),
    PRIMARY KEY (merchant, provider, reference)
);
INSERT INTO payments_keyed (provider, reference, provider_reference, status, amount, currency, sealed, created_at, updated_at,
        instrument, anomaly, paid_amount, next_check_at, checks, last_check_error, refunded_minor, refundable_minor)
    SELECT provider, reference, provider_reference, status, amount, currency, sealed, created_at, updated_at,
        instrument, anomaly, paid_amount, next_check_at, checks, last_check_error, refunded_minor, refundable_minor
    FROM payments;
DROP TABLE payments;
ALTER TABLE payments_keyed RENAME TO payments;
-- As in PostgreSQL's migration: listings lead with the merchant except the provider
-- listing's, so that only the key fixes more than one leading column of a lookup.
CREATE INDEX payments_listing ON payments (merchant, created_at, provider, reference);
CREATE INDEX payments_due ON payments (merchant, provider, next_check_at) WHERE next_check_at IS NOT NULL;
CREATE INDEX payments_by_status ON payments (merchant, status, created_at, provider, reference);
CREATE INDEX payments_by_provider ON payments (provider, created_at, reference, merchant);

CREATE TABLE callbacks_keyed (
    merchant TEXT NOT NULL DEFAULT '',
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
    anomaly TEXT,
    source TEXT,
    PRIMARY KEY (merchant, provider, key)
);
INSERT INTO callbacks_keyed (provider, key, state, lease_token, lease_until, reference, status, provider_status, amount, currency,
        deliveries, first_received_at, last_received_at, completed_at, anomaly, source)
    SELECT provider, key, state, lease_token, lease_until, reference, status, provider_status, amount, currency,
        deliveries, first_received_at, last_received_at, completed_at, anomaly, source
    FROM callbacks;
DROP TABLE callbacks;
ALTER TABLE callbacks_keyed RENAME TO callbacks;
CREATE INDEX callbacks_completed ON callbacks (state, completed_at);

CREATE TABLE refunds_keyed (
    merchant TEXT NOT NULL DEFAULT '',
    provider TEXT NOT NULL,
    reference TEXT NOT NULL,
    refund_id TEXT NOT NULL,
    amount TEXT NOT NULL,
    currency TEXT NOT NULL,
    amount_minor BIGINT NOT NULL CHECK (amount_minor > 0),
    status TEXT NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    provider_status TEXT,
    provider_refund_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (merchant, provider, reference, refund_id)
);
INSERT INTO refunds_keyed (provider, reference, refund_id, amount, currency, amount_minor, status, provider_status, provider_refund_id, created_at, updated_at)
    SELECT provider, reference, refund_id, amount, currency, amount_minor, status, provider_status, provider_refund_id, created_at, updated_at
    FROM refunds;
DROP TABLE refunds;
ALTER TABLE refunds_keyed RENAME TO refunds;

CREATE TABLE forward_targets_keyed (
    merchant TEXT NOT NULL DEFAULT '',
    url TEXT NOT NULL,
    registered_at BIGINT NOT NULL,
    PRIMARY KEY (merchant, url)
);
INSERT INTO forward_targets_keyed (url, registered_at) SELECT url, registered_at FROM forward_targets;
DROP TABLE forward_targets;
ALTER TABLE forward_targets_keyed RENAME TO forward_targets;
-- A merchant registered with a forward target before targets had a merchant: its target.
INSERT INTO forward_targets (url, registered_at, merchant)
    SELECT forward_url, updated_at, id FROM merchants WHERE forward_url IS NOT NULL;

ALTER TABLE payment_events ADD COLUMN merchant TEXT NOT NULL DEFAULT '';
DROP INDEX payment_events_payment;
CREATE INDEX payment_events_payment ON payment_events (merchant, provider, reference, at);
ALTER TABLE changes ADD COLUMN merchant TEXT NOT NULL DEFAULT '';
DROP INDEX changes_open;
CREATE INDEX changes_open ON changes (merchant, provider, reference, state);
ALTER TABLE deliveries ADD COLUMN merchant TEXT NOT NULL DEFAULT '';
