-- The merchants of a platform: each one's provider settings — the values of
-- the environment variables the CLI reads, sealed with the ledger's key — its own forward
-- target and secret (sealed), and Qvickly's CompanyId. Payments are not yet keyed by merchant.
CREATE TABLE merchants (
    id TEXT PRIMARY KEY,
    forward_url TEXT,
    forward_secret BLOB,
    company_id TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
-- One row per value a setting has had: the current one (valid_until NULL) and, after a
-- rotation, the one before it for its grace period.
CREATE TABLE merchant_settings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    merchant TEXT NOT NULL,
    name TEXT NOT NULL,
    sealed BLOB NOT NULL,
    set_at BIGINT NOT NULL,
    valid_until BIGINT
);
CREATE INDEX merchant_settings_of ON merchant_settings (merchant, name, id);
