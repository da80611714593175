//! Payments as the ledger holds them: recorded `pending` when created (a secret sealed, never
//! stored in plain text), then changed only by reports ([`crate::reports`]); their event log.

use paybridge_core::{Money, PaymentStatus};
use secrecy::SecretString;

use crate::error::{LedgerError, Result};
use crate::reports::{Outcome, Report, Source, log_event};
use crate::state::Anomaly;
use crate::store::Ledger;
use crate::values::{anomaly_from, money_from, money_opt, positive_minor_units, status_from};

/// A payment to record when it is created: the same [`paybridge_core::PaymentRecord`]
/// providers remember through [`paybridge_core::PaymentRecords`]. Its secret is sealed, never
/// stored in plain text, and dropped when the ledger has no seal key.
pub type NewPayment = paybridge_core::PaymentRecord;

/// A payment as the ledger holds it: the record providers remember (without its secret,
/// which only [`paybridge_core::PaymentRecords::recall`] unseals) and when it was recorded
/// and last changed. Its status only ever moves forward.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PaymentRow {
    /// Whose payment it is: `""` for the default merchant, else a platform's merchant id.
    pub merchant: String,
    /// Provider, reference, provider reference, status, amount.
    pub payment: paybridge_core::PaymentRecord,
    /// When recorded (Unix milliseconds).
    pub created_at: i64,
    /// Last change (Unix milliseconds).
    pub updated_at: i64,
    /// What did not add up, when its status is `needs_review`.
    pub anomaly: Option<Anomaly>,
    /// The amount the provider reported paid, once it reported one.
    pub paid_amount: Option<Money>,
    /// When the [`crate::Reconciler`] next asks the provider about it (Unix milliseconds);
    /// `None` once it is final or under review.
    pub next_check_at: Option<i64>,
    /// How many times the reconciler asked.
    pub checks: i64,
    /// What the last check could not do (the provider was down, refused, …), if it failed.
    pub last_check_error: Option<String>,
    /// How much was given back (refunds succeeded or still pending), once any was.
    pub refunded_amount: Option<Money>,
}

/// The columns a [`StoredPayment`] reads.
pub(crate) const PAYMENT_COLUMNS: &str = "merchant, provider, reference, provider_reference, status, amount, currency, created_at, updated_at, instrument, anomaly, paid_amount, next_check_at, checks, last_check_error, refunded_minor";

/// A payment row as stored (no secret: see [`Ledger::secret`]).
#[derive(sqlx::FromRow)]
pub(crate) struct StoredPayment {
    merchant: String,
    provider: String,
    reference: String,
    provider_reference: Option<String>,
    status: String,
    amount: String,
    currency: String,
    created_at: i64,
    updated_at: i64,
    instrument: Option<String>,
    anomaly: Option<String>,
    paid_amount: Option<String>,
    next_check_at: Option<i64>,
    checks: i64,
    last_check_error: Option<String>,
    refunded_minor: i64,
}

impl TryFrom<StoredPayment> for PaymentRow {
    type Error = LedgerError;

    fn try_from(row: StoredPayment) -> Result<Self> {
        let recorded = money_from(&row.amount, &row.currency)?;
        let mut payment = paybridge_core::PaymentRecord::new(
            row.provider,
            row.reference,
            status_from(&row.status)?,
            recorded,
        );
        payment.provider_reference = row.provider_reference;
        payment.instrument = row.instrument;
        Ok(Self {
            merchant: row.merchant,
            payment,
            created_at: row.created_at,
            updated_at: row.updated_at,
            anomaly: anomaly_from(row.anomaly.as_deref()),
            paid_amount: money_opt(row.paid_amount.as_deref(), Some(&row.currency))?,
            next_check_at: row.next_check_at,
            checks: row.checks,
            last_check_error: row.last_check_error,
            refunded_amount: positive_minor_units(row.refunded_minor, recorded.currency())?,
        })
    }
}

/// Rows as payments.
pub(crate) fn payments_of(rows: Vec<StoredPayment>) -> Result<Vec<PaymentRow>> {
    rows.into_iter().map(PaymentRow::try_from).collect()
}

/// One entry of a payment's event log: a report (or the payment's recording).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct PaymentEvent {
    /// Provider id.
    pub provider: String,
    /// Merchant reference.
    pub reference: String,
    /// The status reported.
    pub status: PaymentStatus,
    /// The provider's own status.
    pub provider_status: String,
    /// Who said it.
    pub source: String,
    /// Whether it moved the payment's status.
    pub applied: bool,
    /// When (Unix milliseconds).
    pub at: i64,
    /// What did not add up about it, if anything.
    pub anomaly: Option<Anomaly>,
    /// The amount it said was paid (for the recording: the recorded amount), if any.
    pub amount: Option<Money>,
    /// For a callback's report: how many times that callback was delivered.
    pub deliveries: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    provider: String,
    reference: String,
    status: String,
    provider_status: String,
    source: String,
    applied: i64,
    at: i64,
    anomaly: Option<String>,
    amount: Option<String>,
    currency: Option<String>,
    deliveries: Option<i64>,
}

impl TryFrom<EventRow> for PaymentEvent {
    type Error = LedgerError;

    fn try_from(row: EventRow) -> Result<Self> {
        Ok(Self {
            status: status_from(&row.status)?,
            amount: money_opt(row.amount.as_deref(), row.currency.as_deref())?,
            anomaly: anomaly_from(row.anomaly.as_deref()),
            provider: row.provider,
            reference: row.reference,
            provider_status: row.provider_status,
            source: row.source,
            applied: row.applied != 0,
            at: row.at,
            deliveries: row.deliveries,
        })
    }
}

const INSERT_PAYMENT: &str = "INSERT INTO payments (provider, reference, provider_reference, status, amount, currency, sealed, created_at, updated_at, instrument, next_check_at, merchant) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $9, $10, $11) ON CONFLICT (merchant, provider, reference) DO NOTHING";

pub(crate) const SET_PROVIDER_REFERENCE: &str = "UPDATE payments SET provider_reference = $1, updated_at = $2 \
     WHERE provider = $3 AND reference = $4 AND merchant = $5 AND provider_reference IS NULL";

const FOLLOW_UPDATE: &str = "UPDATE payments SET reference = $1, amount = $2, updated_at = $3 \
     WHERE provider = $4 AND reference = $5 AND merchant = $8 AND currency = $6 AND status = 'pending' \
     AND provider_reference IS NULL AND sealed IS NULL \
     AND NOT EXISTS (SELECT 1 FROM payment_events e WHERE e.merchant = $8 AND e.provider = $4 AND e.reference = $5 AND e.source <> $7) \
     AND NOT EXISTS (SELECT 1 FROM callbacks c WHERE c.merchant = $8 AND c.provider = $4 AND c.reference = $5)";

impl Ledger {
    /// Record a created payment; `false` when the provider already has this reference (the
    /// first record is kept). Its secret is sealed when the ledger has a key. A payment is
    /// recorded `pending` — anything else is refused ([`LedgerError::Input`]): every later
    /// state is decided from a report ([`Ledger::report`], source `answer` for the command's
    /// own answer), with its money checked.
    pub async fn record_payment(&self, p: &NewPayment) -> Result<bool> {
        if p.status != PaymentStatus::Pending {
            return Err(LedgerError::Input(format!(
                "{} payment {:?} recorded as {}: a payment is recorded pending, and what the provider says of it reported (Ledger::report) so that its money is checked",
                p.provider, p.reference, p.status
            )));
        }
        let sealed = match (&self.seal, &p.secret) {
            (Some(key), Some(secret)) => Some(key.seal(
                secret,
                &crate::seal::context(self.merchant_id(), &p.provider, &p.reference),
            )?),
            _ => None,
        };
        let now = self.now_ms();
        let first_check = self.after(self.first_check);
        let mut tx = self.pool().begin().await?;
        let new = sqlx::query(INSERT_PAYMENT)
            .bind(&p.provider)
            .bind(&p.reference)
            .bind(&p.provider_reference)
            .bind(p.status.as_str())
            .bind(p.amount.amount_string())
            .bind(p.amount.currency().code())
            .bind(sealed)
            .bind(now)
            .bind(&p.instrument)
            .bind(first_check)
            .bind(self.merchant_id())
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if new {
            // The recording is the log's first entry: the status and amount as recorded.
            let recorded =
                Outcome::new(&p.reference, p.status, p.status.as_str()).with_amount(p.amount);
            let report = Report::new(
                self.merchant_id(),
                &p.provider,
                &recorded,
                Source::Created,
                now,
            );
            log_event(&mut tx, report, true, None).await?;
        }
        tx.commit().await?;
        Ok(new)
    }

    /// Note the provider's id for a payment recorded without it (kept when it has one).
    pub(crate) async fn set_provider_reference(
        &self,
        provider: &str,
        reference: &str,
        provider_reference: &str,
    ) -> Result<()> {
        sqlx::query(SET_PROVIDER_REFERENCE)
            .bind(provider_reference)
            .bind(self.now_ms())
            .bind(provider)
            .bind(reference)
            .bind(self.merchant_id())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// One payment.
    pub async fn payment(&self, provider: &str, reference: &str) -> Result<Option<PaymentRow>> {
        self.one_payment("provider = $1 AND reference = $2", provider, reference)
            .await
    }

    /// This merchant's payment row `condition` (over `$1` and `$2`) selects first, if any.
    async fn one_payment(
        &self,
        condition: &'static str,
        first: &str,
        second: &str,
    ) -> Result<Option<PaymentRow>> {
        let sql =
            format!("SELECT {PAYMENT_COLUMNS} FROM payments WHERE merchant = $3 AND {condition}");
        let row: Option<StoredPayment> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(first)
            .bind(second)
            .bind(self.merchant_id())
            .fetch_optional(self.pool())
            .await?;
        row.map(PaymentRow::try_from).transpose()
    }

    /// Note what pays for a payment recorded without it (a Qvickly checkout's `checkout
    /// <number> <hash>`, known once Qvickly answered): `false` when the payment has one.
    pub async fn set_instrument(
        &self,
        provider: &str,
        reference: &str,
        instrument: &str,
    ) -> Result<bool> {
        let set = sqlx::query("UPDATE payments SET instrument = $1, updated_at = $2 WHERE provider = $3 AND reference = $4 AND merchant = $5 AND instrument IS NULL")
            .bind(instrument)
            .bind(self.now_ms())
            .bind(provider)
            .bind(reference)
            .bind(self.merchant_id())
            .execute(self.pool())
            .await?;
        Ok(set.rows_affected() == 1)
    }

    /// The newest payment of `provider` whose instrument starts with `prefix` (a Qvickly
    /// checkout: `checkout <number> `).
    pub async fn payment_by_instrument(
        &self,
        provider: &str,
        prefix: &str,
    ) -> Result<Option<PaymentRow>> {
        // A prefix compared as text (no LIKE: nothing in it is a pattern).
        self.one_payment(
            "provider = $1 AND substr(instrument, 1, length($2)) = $2 ORDER BY created_at DESC LIMIT 1",
            provider,
            prefix,
        )
        .await
    }

    /// A payment's reference and amount changed before anything was reported for it — a
    /// Qvickly checkout whose `updateCheckout` gave the shop's final orderid and cart: the
    /// payment is renamed and re-amounted, so that its callback (which names the new orderid)
    /// finds it and its money is checked against the new cart. `Ok(false)` when it cannot
    /// follow: not pending, a callback or report already in, a provider reference or a sealed
    /// secret recorded, another currency; a `new_reference` already recorded is
    /// [`LedgerError::Input`]. Its creation event follows the new reference.
    pub async fn follow_update(
        &self,
        provider: &str,
        reference: &str,
        new_reference: &str,
        amount: &Money,
    ) -> Result<bool> {
        if new_reference != reference && self.payment(provider, new_reference).await?.is_some() {
            return Err(LedgerError::Input(format!(
                "{provider} payment {new_reference:?} is already recorded"
            )));
        }
        let mut tx = self.pool().begin().await?;
        let moved = sqlx::query(FOLLOW_UPDATE)
            .bind(new_reference)
            .bind(amount.amount_string())
            .bind(self.now_ms())
            .bind(provider)
            .bind(reference)
            .bind(amount.currency().code())
            .bind(Source::Created.as_str())
            .bind(self.merchant_id())
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 1;
        if moved && new_reference != reference {
            sqlx::query(
                "UPDATE payment_events SET reference = $1 WHERE provider = $2 AND reference = $3 AND merchant = $4",
            )
            .bind(new_reference)
            .bind(provider)
            .bind(reference)
            .bind(self.merchant_id())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(moved)
    }

    /// A payment's event log, oldest first: each report with the deliveries of the callback it
    /// came in (none for a check).
    pub async fn events(&self, provider: &str, reference: &str) -> Result<Vec<PaymentEvent>> {
        const SQL: &str = "SELECT e.provider, e.reference, e.status, e.provider_status, e.source, e.applied, e.at, e.anomaly, \
               e.amount, e.currency, c.deliveries \
             FROM payment_events e LEFT JOIN callbacks c ON c.merchant = e.merchant AND c.provider = e.provider AND c.key = e.callback_key \
             WHERE e.provider = $1 AND e.reference = $2 AND e.merchant = $3 ORDER BY e.seq";
        let rows: Vec<EventRow> = sqlx::query_as(SQL)
            .bind(provider)
            .bind(reference)
            .bind(self.merchant_id())
            .fetch_all(self.pool())
            .await?;
        rows.into_iter().map(PaymentEvent::try_from).collect()
    }

    /// The payment's sealed secret, opened (`None` when none was stored).
    pub async fn secret(&self, provider: &str, reference: &str) -> Result<Option<SecretString>> {
        let sealed: Option<Option<Vec<u8>>> = sqlx::query_scalar(
            "SELECT sealed FROM payments WHERE provider = $1 AND reference = $2 AND merchant = $3",
        )
        .bind(provider)
        .bind(reference)
        .bind(self.merchant_id())
        .fetch_optional(self.pool())
        .await?;
        let Some(sealed) = sealed.flatten() else {
            return Ok(None);
        };
        let key = self.seal_key("a secret is stored but no seal key is set")?;
        key.open(
            &sealed,
            &crate::seal::context(self.merchant_id(), provider, reference),
        )
        .map(Some)
    }
}
