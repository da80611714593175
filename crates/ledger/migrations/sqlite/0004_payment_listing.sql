-- `ledger payments` pages through payments newest first, by (created_at, provider, reference):
-- keyset pagination on this index, so a page costs the same whatever the ledger's size.
CREATE INDEX payments_listing ON payments (created_at, provider, reference);
