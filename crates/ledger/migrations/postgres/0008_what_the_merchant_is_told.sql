-- What the merchant is told. Each change carries the id a merchant deduplicates on —
-- `msg_` + a UUIDv7 made when the change is recorded, never a counter, so two ledgers, a
-- restored backup or a re-created database never reuse one — and the money as it stood after
-- the change: the payment's recorded amount, what arrived, what went back, and for a refund's
-- change the refund itself. Changes recorded before this migration get a random id of their
-- own and the payment's money as it stands now.
ALTER TABLE changes ADD COLUMN webhook_id TEXT;
ALTER TABLE changes ADD COLUMN payment_amount TEXT;
ALTER TABLE changes ADD COLUMN payment_currency TEXT;
ALTER TABLE changes ADD COLUMN paid_amount TEXT;
ALTER TABLE changes ADD COLUMN refunded_amount TEXT;
ALTER TABLE changes ADD COLUMN refund_id TEXT;
ALTER TABLE changes ADD COLUMN refund_amount TEXT;
ALTER TABLE changes ADD COLUMN provider_refund_id TEXT;
UPDATE changes SET webhook_id = 'msg_' || replace(gen_random_uuid()::text, '-', '') WHERE webhook_id IS NULL;
UPDATE changes SET
    payment_amount = (SELECT p.amount FROM payments p WHERE p.provider = changes.provider AND p.reference = changes.reference),
    payment_currency = (SELECT p.currency FROM payments p WHERE p.provider = changes.provider AND p.reference = changes.reference),
    paid_amount = (SELECT p.paid_amount FROM payments p WHERE p.provider = changes.provider AND p.reference = changes.reference);
CREATE UNIQUE INDEX changes_webhook_id ON changes (webhook_id);
-- A payment's story (`ledger show`): what each report said of the money and which callback
-- it came in (its deliveries), and every forward attempt with its answer.
ALTER TABLE payment_events ADD COLUMN amount TEXT;
ALTER TABLE payment_events ADD COLUMN currency TEXT;
ALTER TABLE payment_events ADD COLUMN callback_key TEXT;
CREATE TABLE delivery_attempts (
    change_id BIGINT NOT NULL,
    target TEXT NOT NULL,
    attempt BIGINT NOT NULL,
    at BIGINT NOT NULL,
    http_status BIGINT,
    error TEXT
);
-- `attempt` restarts at 1 after `ledger redeliver`: attempts are told apart by time.
CREATE INDEX delivery_attempts_change ON delivery_attempts (change_id, at);
-- Every target gets every change: one delivery per (change, registered target), each with its
-- own attempts, schedule and order per payment — written in the transaction that records the
-- change (the outbox). Two `receive --forward` processes with different targets on one ledger
-- no longer split the changes between them. What the changes table queued before moves here,
-- for every target registered now.
CREATE TABLE deliveries (
    change_id BIGINT NOT NULL,
    target TEXT NOT NULL,
    payment_provider TEXT NOT NULL,
    payment_reference TEXT NOT NULL,
    delivery_state TEXT NOT NULL CHECK (delivery_state IN ('pending', 'delivered', 'failed')),
    attempts BIGINT NOT NULL DEFAULT 0,
    next_at BIGINT NOT NULL,
    last_error TEXT,
    delivered_at BIGINT,
    PRIMARY KEY (change_id, target)
);
INSERT INTO deliveries (change_id, target, payment_provider, payment_reference, delivery_state, attempts, next_at, last_error)
    SELECT c.id, t.url, c.provider, c.reference, c.forward_state, c.forward_attempts, c.forward_next_at, c.forward_error
    FROM changes c CROSS JOIN forward_targets t WHERE c.forward_state IN ('pending', 'failed');
UPDATE changes SET forward_state = 'none' WHERE forward_state IN ('pending', 'failed');
-- Due deliveries of a target, oldest first; a payment's earlier queued ones: range scans of
-- the queued rows only, however many were delivered.
CREATE INDEX deliveries_due ON deliveries (target, next_at, change_id) WHERE delivery_state = 'pending';
CREATE INDEX deliveries_order ON deliveries (target, payment_provider, payment_reference, change_id) WHERE delivery_state = 'pending';
