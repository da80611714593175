//! Refunds: never more back than was paid, never twice for one refund id. A refund is started
//! in one transaction that reserves its amount against what was paid (checked by the database
//! itself), sent once ([`crate::Ledger::refund`], `send`), and finished with what the provider said —
//! a success is a state change handed out like any other. One whose outcome is unknown stays
//! `pending` with its amount reserved until the provider is asked where it stands
//! ([`crate::Ledger::resolve_refunds`], `resolve`).

mod records;
mod resolve;
mod send;

pub use records::{RefundOutcome, RefundRecord, RefundStart};
pub use resolve::{PendingRefund, Resolved, UNKNOWN_AFTER};
pub use send::{REFUND_ADVICE, Refunded};
