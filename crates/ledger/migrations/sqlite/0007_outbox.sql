-- Forwarding (Standard Webhooks): where verified state changes are delivered, and — on each
-- change row, written in the same transaction as the state change itself — its delivery:
-- the change row is the outbox entry. A change is queued ('pending') only while a target is
-- registered, so that turning forwarding on never replays a ledger's whole history; the
-- others are 'none'.
CREATE TABLE forward_targets (
    url TEXT PRIMARY KEY,
    registered_at BIGINT NOT NULL
);
ALTER TABLE changes ADD COLUMN forward_state TEXT NOT NULL DEFAULT 'none'
    CHECK (forward_state IN ('none', 'pending', 'delivered', 'failed'));
ALTER TABLE changes ADD COLUMN forward_attempts BIGINT NOT NULL DEFAULT 0;
-- When the next attempt is due (Unix ms); a forwarder holding it pushes it past its lease.
ALTER TABLE changes ADD COLUMN forward_next_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE changes ADD COLUMN forward_error TEXT;
ALTER TABLE changes ADD COLUMN forwarded_at BIGINT;
-- Due deliveries, oldest first: one range scan of the queued ones, however many are done.
CREATE INDEX changes_forward_due ON changes (forward_next_at, id) WHERE forward_state = 'pending';
