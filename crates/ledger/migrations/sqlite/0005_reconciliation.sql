-- The reconciler: when a payment that is not final is next asked about (NULL once it is
-- final or under review), how many checks it has had, and what the last one could not do.
ALTER TABLE payments ADD COLUMN next_check_at BIGINT;
ALTER TABLE payments ADD COLUMN checks BIGINT NOT NULL DEFAULT 0;
ALTER TABLE payments ADD COLUMN last_check_error TEXT;
-- Payments recorded before this migration that are still pending: first check a minute on.
UPDATE payments SET next_check_at = updated_at + 60000 WHERE status = 'pending';
-- "Due now" per provider: a sweep is one range scan of this (partial) index, whatever the
-- number of final payments.
CREATE INDEX payments_due ON payments (provider, next_check_at) WHERE next_check_at IS NOT NULL;
-- `ledger payments --status S` and `ledger review`, newest first: one range scan.
CREATE INDEX payments_by_status ON payments (status, created_at, provider, reference);
-- `ledger payments --provider P`, newest first: one range scan.
CREATE INDEX payments_by_provider ON payments (provider, created_at, reference);
-- State changes a handler left open (it failed, or its process died): the reconciler hands
-- them out again; one range scan of the open ones, however many are done.
CREATE INDEX changes_waiting ON changes (created_at) WHERE state <> 'done';
