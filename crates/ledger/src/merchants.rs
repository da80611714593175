//! The merchants of a platform: each one's provider settings (the values of the settings the
//! CLI reads from its environment, by the same names), sealed with the ledger's key; its own
//! forward target and secret; Qvickly's `CompanyId`. A rotated setting keeps its old value,
//! beside the new one, for a grace period — a provider may still sign with the old secret.
//!
//! No value is ever stored or returned in the clear: [`Merchant`] lists setting *names*;
//! [`Ledger::merchant_setting`] opens the values, and only with the key they were sealed
//! with. A ledger without a seal key refuses to store any.

use std::time::Duration;

use secrecy::SecretString;

use crate::clock::duration_ms;
use crate::error::{LedgerError, Result};
use crate::store::Ledger;

/// A merchant to register (or update), with its settings' values.
#[derive(Debug, Default)]
#[non_exhaustive]
pub struct NewMerchant {
    /// Its id: 1–64 of `a-z`, `0-9`, `-`, `_` (it names the merchant's callback routes).
    pub id: String,
    /// Setting names (`PAYBRIDGE_QVICKLY_SECRET`, …) and their values.
    pub settings: Vec<(String, SecretString)>,
    /// Where its events go, and the secret they are signed with.
    pub forward: Option<(String, SecretString)>,
    /// Qvickly's booking-API `CompanyId`.
    pub company_id: Option<String>,
}

impl NewMerchant {
    /// Merchant `id`, nothing set yet.
    #[must_use]
    pub fn new(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            ..Self::default()
        }
    }

    /// With `name` set to `value`.
    #[must_use]
    pub fn set(mut self, name: impl Into<String>, value: SecretString) -> Self {
        self.settings.push((name.into(), value));
        self
    }

    /// With its events forwarded to `url`, signed with `secret`.
    #[must_use]
    pub fn forward(mut self, url: impl Into<String>, secret: SecretString) -> Self {
        self.forward = Some((url.into(), secret));
        self
    }

    /// With Qvickly's booking-API `CompanyId`.
    #[must_use]
    pub fn company_id(mut self, id: impl Into<String>) -> Self {
        self.company_id = Some(id.into());
        self
    }
}

/// A registered merchant, as it may be shown: no secret in it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Merchant {
    /// Its id.
    pub id: String,
    /// The names of its current settings, sorted.
    pub settings: Vec<String>,
    /// Its forward target, if it has one.
    pub forward: Option<String>,
    /// Qvickly's `CompanyId`, if set.
    pub company_id: Option<String>,
    /// When it was registered (Unix milliseconds).
    pub created_at: i64,
    /// When it was last registered again, its settings rotated or its target changed (Unix
    /// milliseconds): what runs with its settings starts again when this moves.
    pub updated_at: i64,
}

use crate::ids::valid_merchant_id;

/// The associated data a merchant's value is sealed under: it opens only in its own row.
fn context(merchant: &str, name: &str) -> Vec<u8> {
    [b"merchant\0", merchant.as_bytes(), b"\0", name.as_bytes()].concat()
}

/// Why a merchant's sealed value cannot be opened without the ledger's key.
const STORED_WITHOUT_KEY: &str = "a merchant's settings are stored but no seal key is set";

/// Its forward secret's setting name in [`context`].
const FORWARD_SECRET: &str = "forward-secret";

const UPSERT_MERCHANT: &str = "INSERT INTO merchants (id, forward_url, forward_secret, company_id, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $5) \
     ON CONFLICT (id) DO UPDATE SET forward_url = COALESCE(excluded.forward_url, merchants.forward_url), \
       forward_secret = COALESCE(excluded.forward_secret, merchants.forward_secret), \
       company_id = COALESCE(excluded.company_id, merchants.company_id), updated_at = excluded.updated_at";

/// The current value of a setting ends (now, or after a grace period).
const END_CURRENT: &str = "UPDATE merchant_settings SET valid_until = $1 \
     WHERE merchant = $2 AND name = $3 AND valid_until IS NULL";

const INSERT_SETTING: &str = "INSERT INTO merchant_settings (merchant, name, sealed, set_at, valid_until) VALUES ($1, $2, $3, $4, NULL)";

#[derive(sqlx::FromRow)]
struct MerchantRow {
    id: String,
    forward_url: Option<String>,
    company_id: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl Ledger {
    /// Register merchant `m`, or update it: each setting given becomes its current value at
    /// once (the old one ends now: use [`Ledger::rotate_merchant`] to keep it valid a while);
    /// a forward target or `CompanyId` not given is kept. [`LedgerError::Seal`] without a
    /// seal key (nothing is stored), [`LedgerError::Input`] for an id that cannot name routes.
    pub async fn add_merchant(&self, m: &NewMerchant) -> Result<()> {
        self.write_merchant(m, Duration::ZERO).await
    }

    /// Give merchant `id` new values for `settings`, keeping each old value valid beside the
    /// new one for `grace` (a provider still signing with the old secret is not refused
    /// meanwhile). [`LedgerError::Input`] for a merchant not registered.
    pub async fn rotate_merchant(
        &self,
        id: &str,
        settings: Vec<(String, SecretString)>,
        grace: Duration,
    ) -> Result<()> {
        if self.merchant(id).await?.is_none() {
            return Err(LedgerError::Input(format!("no merchant {id:?}")));
        }
        let m = NewMerchant {
            settings,
            ..NewMerchant::new(id)
        };
        self.write_merchant(&m, grace).await
    }

    async fn write_merchant(&self, m: &NewMerchant, grace: Duration) -> Result<()> {
        if !valid_merchant_id(&m.id) {
            return Err(LedgerError::Input(format!(
                "merchant id {:?}: 1–64 of a-z, 0-9, '-', '_'",
                m.id
            )));
        }
        let key = self.seal_key("a merchant's settings are sealed: set the ledger's key")?;
        let now = self.now_ms();
        let forward_secret = m
            .forward
            .as_ref()
            .map(|(_, secret)| key.seal(secret, &context(&m.id, FORWARD_SECRET)))
            .transpose()?;
        let sealed = m
            .settings
            .iter()
            .map(|(name, value)| Ok((name, key.seal(value, &context(&m.id, name))?)))
            .collect::<Result<Vec<_>>>()?;
        let mut tx = self.pool().begin().await?;
        sqlx::query(UPSERT_MERCHANT)
            .bind(&m.id)
            .bind(m.forward.as_ref().map(|(url, _)| url.as_str()))
            .bind(forward_secret)
            .bind(m.company_id.as_deref())
            .bind(now)
            .execute(&mut *tx)
            .await?;
        if let Some((url, _)) = &m.forward {
            // Its target is registered with it: every change of its payments is queued for
            // it from now on, whether or not a forwarder runs yet. A new URL replaces the old.
            sqlx::query("DELETE FROM forward_targets WHERE merchant = $1 AND url <> $2")
                .bind(&m.id)
                .bind(url)
                .execute(&mut *tx)
                .await?;
            sqlx::query(crate::outbox::REGISTER_TARGET)
                .bind(url)
                .bind(now)
                .bind(&m.id)
                .execute(&mut *tx)
                .await?;
        }
        for (name, sealed) in sealed {
            sqlx::query(END_CURRENT)
                .bind(now.saturating_add(duration_ms(grace)))
                .bind(&m.id)
                .bind(name)
                .execute(&mut *tx)
                .await?;
            sqlx::query(INSERT_SETTING)
                .bind(&m.id)
                .bind(name)
                .bind(sealed)
                .bind(now)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Every registered merchant, by id.
    pub async fn merchants(&self) -> Result<Vec<Merchant>> {
        self.merchants_of(None).await
    }

    /// Merchant `id`, if registered.
    pub async fn merchant(&self, id: &str) -> Result<Option<Merchant>> {
        Ok(self.merchants_of(Some(id)).await?.into_iter().next())
    }

    /// Every merchant, or the one `id` names, with its current settings' names: two queries
    /// however many merchants there are.
    async fn merchants_of(&self, id: Option<&str>) -> Result<Vec<Merchant>> {
        let rows: Vec<MerchantRow> = sqlx::query_as(
            "SELECT id, forward_url, company_id, created_at, updated_at FROM merchants WHERE ($1 IS NULL OR id = $1) ORDER BY id",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        let names: Vec<(String, String)> = sqlx::query_as(
            "SELECT DISTINCT merchant, name FROM merchant_settings \
             WHERE valid_until IS NULL AND ($1 IS NULL OR merchant = $1) ORDER BY merchant, name",
        )
        .bind(id)
        .fetch_all(self.pool())
        .await?;
        let mut settings: std::collections::HashMap<String, Vec<String>> =
            std::collections::HashMap::new();
        for (merchant, name) in names {
            settings.entry(merchant).or_default().push(name);
        }
        Ok(rows
            .into_iter()
            .map(|row| Merchant {
                settings: settings.remove(&row.id).unwrap_or_default(),
                id: row.id,
                forward: row.forward_url,
                company_id: row.company_id,
                created_at: row.created_at,
                updated_at: row.updated_at,
            })
            .collect())
    }

    /// The values of merchant `id`'s setting `name` valid now, opened: the current one first,
    /// then an older one still in its grace period. Empty when it has none.
    pub async fn merchant_setting(&self, id: &str, name: &str) -> Result<Vec<SecretString>> {
        let sealed: Vec<Vec<u8>> = sqlx::query_scalar(
            "SELECT sealed FROM merchant_settings WHERE merchant = $1 AND name = $2 \
               AND (valid_until IS NULL OR valid_until > $3) ORDER BY id DESC",
        )
        .bind(id)
        .bind(name)
        .bind(self.now_ms())
        .fetch_all(self.pool())
        .await?;
        if sealed.is_empty() {
            return Ok(Vec::new());
        }
        let key = self.seal_key(STORED_WITHOUT_KEY)?;
        sealed
            .iter()
            .map(|s| key.open(s, &context(id, name)))
            .collect()
    }

    /// Merchant `id`'s forward target and its secret, opened.
    pub async fn merchant_forward(&self, id: &str) -> Result<Option<(String, SecretString)>> {
        let row: Option<(Option<String>, Option<Vec<u8>>)> =
            sqlx::query_as("SELECT forward_url, forward_secret FROM merchants WHERE id = $1")
                .bind(id)
                .fetch_optional(self.pool())
                .await?;
        let Some((Some(url), Some(sealed))) = row else {
            return Ok(None);
        };
        let key = self.seal_key(STORED_WITHOUT_KEY)?;
        Ok(Some((
            url,
            key.open(&sealed, &context(id, FORWARD_SECRET))?,
        )))
    }

    /// How many of merchant `id`'s payments are not final (pending, or waiting for a person).
    pub async fn open_payments_of(&self, id: &str) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM payments WHERE merchant = $1 AND status IN ('pending', 'needs_review')",
        )
        .bind(id)
        .fetch_one(self.pool())
        .await?)
    }

    /// Forget merchant `id` and every value it had, and stop forwarding its changes; `false`
    /// when it was not registered. Its payments stay in the ledger (their history is the
    /// platform's record); without `force`, a merchant with payments that are not final is
    /// refused ([`LedgerError::Input`]): nobody could check them any more.
    pub async fn remove_merchant(&self, id: &str, force: bool) -> Result<bool> {
        if !force {
            let open = self.open_payments_of(id).await?;
            if open > 0 {
                return Err(LedgerError::Input(format!(
                    "merchant {id:?} has {open} payments that are not final (pending or under review): finish them first, or force the removal"
                )));
            }
        }
        let mut tx = self.pool().begin().await?;
        sqlx::query("DELETE FROM forward_targets WHERE merchant = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM merchant_settings WHERE merchant = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let removed = sqlx::query("DELETE FROM merchants WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(removed == 1)
    }
}
