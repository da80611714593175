-- A payment's non-secret instrument id (a telco card's serial): a card callback must name the
-- card recorded for its request id.
ALTER TABLE payments ADD COLUMN instrument TEXT;
