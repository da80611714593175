//! What can go wrong in the ledger, and what each failure is to a caller of the SDK.

/// What can go wrong in the ledger.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerError {
    /// The database refused or failed (connection, constraint, I/O). Answer a callback with
    /// a 5xx: the provider retries.
    #[error("ledger database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration of the ledger's schema failed.
    #[error("ledger migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The claim on a change was lost (its lease ended and another worker claimed it, or it
    /// was completed already): do not acknowledge, the other worker will.
    #[error("the claim on {provider} change {change} was lost")]
    LeaseLost {
        /// Provider id.
        provider: String,
        /// The change's stable id ([`crate::Change::stable_id`]).
        change: String,
    },
    /// The URL names no backend this build has (`sqlite://…`, `postgres://…`).
    #[error("unsupported ledger URL {0:?}: use sqlite://FILE or postgres://…")]
    Url(String),
    /// A sealed secret could not be sealed or opened (wrong key, tampered row).
    #[error("sealed secret: {0}")]
    Seal(String),
    /// A stored value could not be read back.
    #[error("ledger row: {0}")]
    Row(String),
    /// A page cursor this ledger did not write.
    #[error("page cursor: {0}")]
    Cursor(String),
    /// A refund the ledger refuses before it is sent: the payment is unknown or not paid, or
    /// the refund would give back more than was paid (checked in the database).
    #[error("refund refused: {0}")]
    Refund(String),
    /// The caller asked for something the ledger does not do (a payment recorded in another
    /// state than `pending`: every state after that is decided from a report).
    #[error("{0}")]
    Input(String),
    /// [`crate::Ledger::open_existing`]: no ledger at this SQLite path (nothing was created).
    #[error("no ledger at {0} (nothing was created: check the path, or record a payment first)")]
    Missing(String),
    /// [`crate::Ledger::open_existing`]: the ledger's schema is older than this build.
    #[error(
        "the ledger's schema is at migration {applied}, this build needs {latest}: run `paybridge ledger migrate`"
    )]
    Outdated {
        /// The newest migration applied.
        applied: i64,
        /// The newest this build has.
        latest: i64,
    },
    /// The database could not be reached (in time).
    #[error("cannot reach the ledger database at {host}: {message}")]
    Unreachable {
        /// Host and port (never user or password).
        host: String,
        /// What happened.
        message: String,
    },
}

/// Result with [`LedgerError`].
pub type Result<T, E = LedgerError> = std::result::Result<T, E>;

/// Each failure as what it is to the caller: refused input (nothing happened), a
/// misconfiguration (a seal key that opens nothing, a URL no backend takes), or the
/// merchant's own records unavailable ([`paybridge_core::Error::Storage`]: a callback meeting
/// it is answered "retry later", never refused).
impl From<LedgerError> for paybridge_core::Error {
    fn from(e: LedgerError) -> Self {
        match e {
            LedgerError::Refund(why) => Self::Input(format!("refund refused: {why}")),
            LedgerError::Input(why) => Self::Input(why),
            e @ (LedgerError::Missing(_)
            | LedgerError::Outdated { .. }
            | LedgerError::Cursor(_)) => Self::Input(e.to_string()),
            e @ (LedgerError::Seal(_) | LedgerError::Url(_)) => Self::Config {
                message: e.to_string(),
                source: Some(Box::new(e)),
            },
            e => Self::Storage {
                message: e.to_string(),
                // A row that cannot be read back, or a failed migration, stays so; the
                // database being down, busy or out of reach passes; a lost claim is another
                // worker's to finish.
                retryable: !matches!(e, LedgerError::Row(_) | LedgerError::Migrate(_)),
                source: Some(Box::new(e)),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use paybridge_core::ErrorKind;

    use super::LedgerError;

    #[test]
    fn each_failure_keeps_its_kind() {
        let storage = paybridge_core::Error::from(LedgerError::Unreachable {
            host: "db:5432".into(),
            message: "refused".into(),
        });
        assert!(matches!(
            storage,
            paybridge_core::Error::Storage {
                retryable: true,
                ..
            }
        ));
        assert_eq!(storage.kind(), ErrorKind::Transport);
        let seal = paybridge_core::Error::from(LedgerError::Seal("wrong key".into()));
        assert!(matches!(seal, paybridge_core::Error::Config { .. }));
        let row = paybridge_core::Error::from(LedgerError::Row("status: bad".into()));
        assert!(!row.retryable());
        let input = paybridge_core::Error::from(LedgerError::Refund("more than paid".into()));
        assert_eq!(input.kind(), ErrorKind::Input);
    }
}
