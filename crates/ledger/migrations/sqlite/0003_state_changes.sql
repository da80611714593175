-- Exactly once per state change: a payment's anomaly and the amount actually paid; each
-- change of a payment's state as a row of its own, handed to the merchant's handler under a
-- fenced lease (`fence` grows with every claim); what each delivery and event said.
ALTER TABLE payments ADD COLUMN anomaly TEXT;
ALTER TABLE payments ADD COLUMN paid_amount TEXT;
ALTER TABLE callbacks ADD COLUMN anomaly TEXT;
ALTER TABLE callbacks ADD COLUMN source TEXT;
ALTER TABLE payment_events ADD COLUMN anomaly TEXT;
CREATE TABLE changes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    provider TEXT NOT NULL,
    reference TEXT NOT NULL,
    previous_status TEXT NOT NULL,
    status TEXT NOT NULL,
    anomaly TEXT,
    amount TEXT,
    currency TEXT,
    source TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'handling', 'done')),
    fence BIGINT NOT NULL,
    lease_until BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    completed_at BIGINT
);
CREATE INDEX changes_open ON changes (provider, reference, state);
