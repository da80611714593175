//! Payments listed: every one (a small ledger), or a page at a time in a stable order, each
//! page one index range scan whatever the ledger's size.

use paybridge_core::PaymentStatus;

use crate::error::{LedgerError, Result};
use crate::payments::{PAYMENT_COLUMNS, PaymentRow, StoredPayment, payments_of};
use crate::store::Ledger;

/// One page of [`Ledger::payments_page`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PaymentPage {
    /// The payments, newest first.
    pub payments: Vec<PaymentRow>,
    /// The cursor of the next page (`None` on the last one).
    pub next: Option<String>,
}

/// Where a page ends: the last row's (`created_at`, provider, reference), written as
/// `created_at.hex(provider).hex(reference)` (opaque to users).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Cursor {
    created_at: i64,
    provider: String,
    reference: String,
}

impl Cursor {
    fn parse(text: &str) -> Result<Self> {
        let bad = || LedgerError::Cursor(format!("{text:?} is not a cursor this ledger wrote"));
        let mut parts = text.split('.');
        let (Some(at), Some(provider), Some(reference), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(bad());
        };
        let unhex = |h: &str| String::from_utf8(hex::decode(h).ok()?).ok();
        Ok(Self {
            created_at: at.parse().map_err(|_| bad())?,
            provider: unhex(provider).ok_or_else(bad)?,
            reference: unhex(reference).ok_or_else(bad)?,
        })
    }

    fn of(row: &PaymentRow) -> Self {
        Self {
            created_at: row.created_at,
            provider: row.payment.provider.clone(),
            reference: row.payment.reference.clone(),
        }
    }
}

impl std::fmt::Display for Cursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}.{}.{}",
            self.created_at,
            hex::encode(&self.provider),
            hex::encode(&self.reference)
        )
    }
}

impl Ledger {
    /// This merchant's payments, newest first, optionally of one provider — every one of them, in memory: for
    /// a small ledger. A large one is listed a page at a time: [`Ledger::payments_page`].
    pub async fn payments(&self, provider: Option<&str>) -> Result<Vec<PaymentRow>> {
        let sql = format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments WHERE merchant = $2 AND ($1 IS NULL OR provider = $1) ORDER BY created_at DESC, reference"
        );
        let rows = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(provider)
            .bind(self.merchant_id())
            .fetch_all(self.pool())
            .await?;
        payments_of(rows)
    }

    /// One page of this merchant's payments, newest first (by recording time, then provider and reference: a
    /// stable order), optionally of one provider and/or status: at most `limit`, after the
    /// page whose [`PaymentPage::next`] is `after`. Each page is one index range scan, so its
    /// cost and memory do not grow with the ledger.
    pub async fn payments_page(
        &self,
        provider: Option<&str>,
        status: Option<PaymentStatus>,
        limit: u32,
        after: Option<&str>,
    ) -> Result<PaymentPage> {
        let after = after.map(Cursor::parse).transpose()?;
        let limit = limit.clamp(1, 10_000);
        let mut payments = self
            .page(provider, status, i64::from(limit) + 1, after.as_ref())
            .await?;
        let next = if payments.len() > limit as usize {
            payments.truncate(limit as usize);
            payments.last().map(|p| Cursor::of(p).to_string())
        } else {
            None
        };
        Ok(PaymentPage { payments, next })
    }

    async fn page(
        &self,
        provider: Option<&str>,
        status: Option<PaymentStatus>,
        limit: i64,
        after: Option<&Cursor>,
    ) -> Result<Vec<PaymentRow>> {
        // Only the filters given, each a plain equality, and the cursor as a row-value range:
        // every combination is one range scan of an index (`payments_listing`,
        // `payments_by_status`, `payments_by_provider`), never `$n IS NULL OR …`, which a
        // prepared statement's generic plan cannot use an index for.
        // A merchant's payments only: every index leads with the merchant.
        let mut filters = vec!["merchant = $1".to_owned()];
        let mut n = 2;
        for (given, column) in [
            (provider.is_some(), "provider"),
            (status.is_some(), "status"),
        ] {
            if given {
                filters.push(format!("{column} = ${n}"));
                n += 1;
            }
        }
        let limit_at = n;
        // The cursor's columns in the order of the index the filters pick: with only a
        // provider, `payments_by_provider` (the provider is fixed, so (created_at, reference)
        // orders the rows alike); otherwise (created_at, provider, reference).
        let by_provider = provider.is_some() && status.is_none();
        if after.is_some() {
            filters.push(if by_provider {
                format!("(created_at, reference) < (${}, ${})", n + 1, n + 2)
            } else {
                format!(
                    "(created_at, provider, reference) < (${}, ${}, ${})",
                    n + 1,
                    n + 2,
                    n + 3
                )
            });
        }
        let filters = format!("WHERE {}", filters.join(" AND "));
        let sql = format!(
            "SELECT {PAYMENT_COLUMNS} FROM payments {filters} ORDER BY created_at DESC, provider DESC, reference DESC LIMIT ${limit_at}"
        );
        let mut query =
            sqlx::query_as::<_, StoredPayment>(sqlx::AssertSqlSafe(sql)).bind(self.merchant_id());
        if let Some(p) = provider {
            query = query.bind(p);
        }
        if let Some(s) = status {
            query = query.bind(s.as_str());
        }
        query = query.bind(limit);
        if let Some(c) = after {
            query = query.bind(c.created_at);
            if !by_provider {
                query = query.bind(c.provider.clone());
            }
            query = query.bind(c.reference.clone());
        }
        payments_of(query.fetch_all(self.pool()).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::Cursor;

    #[test]
    fn a_cursor_reads_back_what_it_wrote_and_nothing_else() {
        let cursor = Cursor {
            created_at: 1_796_000_000_000,
            provider: "woopay".into(),
            reference: "ord.1 ü".into(),
        };
        assert_eq!(Cursor::parse(&cursor.to_string()).ok(), Some(cursor));
        for bad in [
            "",
            "1.2",
            "x.77.77",
            "1.7.77",
            "1.zz.77",
            "1.77.77.77",
            "1.ff.77",
        ] {
            assert!(Cursor::parse(bad).is_err(), "{bad:?}");
        }
    }
}
