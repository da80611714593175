-- Refunds: one row per merchant refund id (a repeat is recognised, never sent twice), and a
-- payment's refunded and refundable totals in minor units, so that the database itself refuses
-- refunds above what was paid (the CHECK), whatever the code in front of it does.
CREATE TABLE refunds (
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
    PRIMARY KEY (provider, reference, refund_id)
);
ALTER TABLE payments ADD COLUMN refunded_minor BIGINT NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN refundable_minor BIGINT CHECK (refunded_minor <= COALESCE(refundable_minor, 0));
