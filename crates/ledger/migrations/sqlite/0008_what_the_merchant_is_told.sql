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
UPDATE changes SET webhook_id = 'msg_' || lower(hex(randomblob(16))) WHERE webhook_id IS NULL;
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
    attempt BIGINT NOT NULL,
    at BIGINT NOT NULL,
    http_status BIGINT,
    error TEXT
);
-- `attempt` restarts at 1 after `ledger redeliver`: attempts are told apart by time.
CREATE INDEX delivery_attempts_change ON delivery_attempts (change_id, at);
