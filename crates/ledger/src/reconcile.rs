//! No payment left pending: the [`Reconciler`] asks each provider about every payment that is
//! not final once its next check is due, and records the answer through the same path as a
//! callback.
//!
//! **When.** A payment recorded as `pending` is first due one minute after it was recorded
//! ([`crate::Ledger::with_first_check`]), or at once when the request that created it ended with
//! its outcome unknown ([`crate::Ledger::check_now`]). After each check that leaves it pending,
//! the next is due after the next step of its provider's [`Schedule`] (default
//! `1m,5m*5,1h*24,1d*7`: after one minute, then every five minutes five times, hourly for a
//! day, daily for a week), each delay jittered by ±10 % so that a backlog does not come due in
//! one burst. When the schedule runs out the payment is given up on: `needs_review`, anomaly
//! `unreconciled`, a state change like any other (a person must look).
//!
//! **How.** The provider is asked with its crate's status operation
//! ([`PaymentProvider::payment_status`]: card `check` with the same request id and the card
//! from the sealed record, Wooppay `cash_getOperationData`, Payoo order information). Its answer
//! is decided like a callback's ([`crate::state::decide`], source `status_check`): money
//! compared with the recorded payment, at most one change per state, each change handed to the
//! merchant's handler once, under the same fenced lease as the receiver's. An answer about
//! another payment than the one asked is refused. **"Could not ask" is not news**: a provider
//! that is down, answers a retryable code, or cannot be asked here at all (no status operation
//! — Linkifier —, no key to open a card's code, no operation id recorded) postpones the check
//! to the next step, with the reason in the payment's `last_check_error`; the payment stays
//! pending, and a verified callback still settles it. Only the provider answering, for good,
//! that it cannot tell (a card gateway that never saw the request id) or a schedule that runs
//! out makes it
//! `unreconciled` — and even then a later verified final report moves it
//! ([`crate::state::decide`]). [`Reconciler::cannot_check`] says up front what cannot be asked.
//!
//! **Fleet-safe.** A due payment is taken by one reconciler (PostgreSQL: `FOR UPDATE SKIP
//! LOCKED`) and its next check moved to the end of a lease: if that process dies mid-check, the
//! payment is simply due again when the lease ends. A check is recorded only by the
//! reconciler that still holds it.
//!
//! **Respect the provider.** A global and a per-provider rate limit (default 10 and 5 requests
//! a second), a bounded number of checks in flight, batches of a fixed size: memory does not
//! grow with the number of payments due.
//!
//! Each sweep also finishes refunds whose outcome was unknown (pending for a minute or more:
//! [`crate::Ledger::resolve_refunds`]), and hands out state changes a handler left open (it failed, or its process
//! died) once their lease ran out: a change is never stranded because no provider retries.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt as _;
use paybridge_core::{PaymentProvider, PaymentRef};
use tokio::time::Instant;

use crate::changes::Change;
use crate::checks::{AfterCheck, CheckResult};
use crate::clock::duration_ms;
use crate::error::LedgerError;
use crate::handler::{
    Callback, CallbackHandler, HandedOut, Handing, Handler, TransactionalHandler, after_commit,
    hand_out,
};
use crate::payments::PaymentRow;
use crate::reports::{Applied, Outcome};
use crate::store::Ledger;

/// When a pending payment is asked about again: the delay before each check, the first
/// counted from its recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schedule {
    steps: Vec<Duration>,
}

/// The most steps a schedule may have.
const MAX_STEPS: usize = 10_000;

impl Default for Schedule {
    /// After 1 minute, then every 5 minutes ×5, hourly ×24, daily ×7 (37 checks over about 8
    /// days) — Hyperswitch's and Kill Bill's rhythm, ending, like theirs, with a person.
    fn default() -> Self {
        let mut steps = vec![crate::store::FIRST_CHECK];
        steps.extend([Duration::from_mins(5); 5]);
        steps.extend([Duration::from_hours(1); 24]);
        steps.extend([Duration::from_hours(24); 7]);
        Self { steps }
    }
}

impl Schedule {
    /// A schedule of these delays (at least one).
    pub fn new(steps: Vec<Duration>) -> Result<Self, ScheduleError> {
        if steps.is_empty() {
            return Err(ScheduleError("a schedule needs at least one step".into()));
        }
        if steps.len() > MAX_STEPS {
            return Err(ScheduleError(format!(
                "a schedule has at most {MAX_STEPS} steps"
            )));
        }
        Ok(Self { steps })
    }

    /// The delay before the first check.
    #[must_use]
    pub fn first(&self) -> Duration {
        self.steps
            .first()
            .copied()
            .unwrap_or(Duration::from_mins(1))
    }

    /// The delay before check number `n` (0 is the first); `None` when the schedule has run
    /// out.
    #[must_use]
    pub fn delay(&self, n: usize) -> Option<Duration> {
        self.steps.get(n).copied()
    }

    /// How many checks the schedule allows.
    #[must_use]
    pub fn len(&self) -> usize {
        self.steps.len()
    }

    /// Never: a schedule has at least one step.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }
}

/// A schedule that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("schedule: {0}")]
pub struct ScheduleError(String);

impl FromStr for Schedule {
    type Err = ScheduleError;

    /// `"1m,5m*5,1h*24,1d*7"`: comma-separated delays (`s`, `m`, `h`, `d`), each optionally
    /// repeated (`*N`).
    fn from_str(text: &str) -> Result<Self, ScheduleError> {
        let bad = |part: &str, why: &str| ScheduleError(format!("{part:?}: {why}"));
        let mut steps = Vec::new();
        for part in text.split(',').map(str::trim) {
            let (delay, times) = match part.split_once('*') {
                Some((d, n)) => (
                    d.trim(),
                    n.trim()
                        .parse::<usize>()
                        .ok()
                        .filter(|n| (1..=MAX_STEPS).contains(n))
                        .ok_or_else(|| bad(part, "the repeat count must be 1 to 10000"))?,
                ),
                None => (part, 1),
            };
            let unit_at = delay
                .find(|c: char| !c.is_ascii_digit())
                .ok_or_else(|| bad(part, "a delay needs a unit: s, m, h or d"))?;
            let (number, unit) = delay.split_at(unit_at);
            let number: u64 = number
                .parse()
                .ok()
                .filter(|n| *n > 0 && *n <= 1_000_000)
                .ok_or_else(|| bad(part, "a delay is a whole number from 1 to 1000000"))?;
            let seconds = match unit {
                "s" => 1,
                "m" => 60,
                "h" => 3_600,
                "d" => 86_400,
                _ => return Err(bad(part, "the unit must be s, m, h or d")),
            };
            if steps.len() + times > MAX_STEPS {
                return Err(bad(part, "a schedule has at most 10000 steps"));
            }
            steps.extend(std::iter::repeat_n(
                Duration::from_secs(number * seconds),
                times,
            ));
        }
        Self::new(steps)
    }
}

/// What one sweep did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Sweep {
    /// Payments asked about (or given up on without asking).
    pub checked: u64,
    /// Payments whose state changed.
    pub changed: u64,
    /// Payments that went to `needs_review` in this sweep.
    pub needs_review: u64,
    /// Refunds whose outcome was unknown, settled (succeeded or failed) in this sweep.
    pub refunds_resolved: u64,
}

impl Sweep {
    /// Add `other`'s counts to these (sweeps of several reconcilers, reported as one).
    pub fn add(&mut self, other: Self) {
        self.checked += other.checked;
        self.changed += other.changed;
        self.needs_review += other.needs_review;
        self.refunds_resolved += other.refunds_resolved;
    }
}

/// Requests spaced evenly: at most `per_second` a second, no burst.
#[derive(Debug)]
struct Pace {
    interval: Duration,
    next: Mutex<Instant>,
}

impl Pace {
    fn new(per_second: NonZeroU32) -> Self {
        Self {
            interval: Duration::from_secs(1) / per_second.get(),
            next: Mutex::new(Instant::now()),
        }
    }
}

/// Wait for a request's slot under every pace given (the global one and the provider's): the
/// first instant both allow, taken from both at once — waiting on one and then the other would
/// let the first's slots drift ahead of the requests really sent.
async fn wait_for_slot(paces: &[&Pace]) {
    if let Some(at) = take_slot(paces) {
        tokio::time::sleep_until(at).await;
    }
}

/// The slot [`wait_for_slot`] waits for, taken (no lock is held across an await).
fn take_slot(paces: &[&Pace]) -> Option<Instant> {
    let mut guards = Vec::with_capacity(paces.len());
    for pace in paces {
        // Always locked in the same order (global first): no deadlock.
        guards.push((pace.next.lock().ok()?, pace.interval));
    }
    let at = guards
        .iter()
        .fold(Instant::now(), |at, (next, _)| at.max(**next));
    for (next, interval) in &mut guards {
        **next = at + *interval;
    }
    Some(at)
}

/// The reconciler's rate limits, in requests a second (`None`: unlimited).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimit {
    /// Over all providers.
    pub global: Option<NonZeroU32>,
    /// To each provider.
    pub per_provider: Option<NonZeroU32>,
}

impl Default for RateLimit {
    /// 10 a second in all, 5 a second to each provider.
    fn default() -> Self {
        Self {
            global: NonZeroU32::new(10),
            per_provider: NonZeroU32::new(5),
        }
    }
}

impl RateLimit {
    /// No limit (benchmarks, a sandbox).
    pub const OFF: Self = Self {
        global: None,
        per_provider: None,
    };

    /// These limits.
    #[must_use]
    pub fn new(global: Option<NonZeroU32>, per_provider: Option<NonZeroU32>) -> Self {
        Self {
            global,
            per_provider,
        }
    }
}

/// One provider the reconciler asks, with its schedule and pace.
struct Asked {
    provider: Arc<dyn PaymentProvider>,
    schedule: Schedule,
    pace: Option<Pace>,
}

/// Asks the providers about every payment that is not final (see the module docs).
///
/// ```no_run
/// # async fn run(ledger: std::sync::Arc<paybridge_ledger::Ledger>,
/// #              card: std::sync::Arc<dyn paybridge_core::PaymentProvider>,
/// #              handler: std::sync::Arc<dyn paybridge_ledger::handler::CallbackHandler>)
/// # -> Result<(), paybridge_ledger::LedgerError> {
/// use paybridge_ledger::Reconciler;
///
/// let reconciler = Reconciler::new(ledger, handler).provider(card);
/// let sweep = reconciler.sweep().await?;
/// println!("{} checked, {} changed", sweep.checked, sweep.changed);
/// # Ok(())
/// # }
/// ```
pub struct Reconciler {
    ledger: Arc<Ledger>,
    handler: Handler,
    asked: BTreeMap<&'static str, Asked>,
    schedule: Schedule,
    global: Option<Arc<Pace>>,
    per_provider: Option<NonZeroU32>,
    lease: Duration,
    batch: u32,
    in_flight: usize,
    poll: Duration,
}

impl std::fmt::Debug for Reconciler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reconciler")
            .field("providers", &self.asked.keys().collect::<Vec<_>>())
            .field("lease", &self.lease)
            .finish_non_exhaustive()
    }
}

impl Reconciler {
    /// A reconciler over `ledger` handing each state change to `handler` (at least once,
    /// fenced), asking no provider yet ([`Reconciler::provider`]).
    #[must_use]
    pub fn new(ledger: Arc<Ledger>, handler: Arc<dyn CallbackHandler>) -> Self {
        Self::with_handler(ledger, Handler::Plain(handler))
    }

    /// A reconciler whose handler writes in the ledger's transaction: exactly once.
    #[must_use]
    pub fn transactional(ledger: Arc<Ledger>, handler: Arc<dyn TransactionalHandler>) -> Self {
        Self::with_handler(ledger, Handler::Transactional(handler))
    }

    /// A reconciler with a handler of either kind (the receiver's, to share it).
    #[must_use]
    pub fn with_handler(ledger: Arc<Ledger>, handler: Handler) -> Self {
        let limits = RateLimit::default();
        Self {
            ledger,
            handler,
            asked: BTreeMap::new(),
            schedule: Schedule::default(),
            global: limits.global.map(|n| Arc::new(Pace::new(n))),
            per_provider: limits.per_provider,
            lease: Duration::from_mins(5),
            batch: 100,
            in_flight: 8,
            poll: Duration::from_secs(5),
        }
    }

    /// Ask `provider` about its payments, on the reconciler's schedule. A provider without a
    /// status operation (its capabilities say so) cannot be asked: its pending payments wait
    /// for their callbacks until their schedule runs out ([`Reconciler::cannot_check`]).
    #[must_use]
    pub fn provider(self, provider: Arc<dyn PaymentProvider>) -> Self {
        let schedule = self.schedule.clone();
        self.provider_on(provider, schedule)
    }

    /// Ask `provider` on a schedule of its own.
    #[must_use]
    pub fn provider_on(mut self, provider: Arc<dyn PaymentProvider>, schedule: Schedule) -> Self {
        let pace = self.per_provider.map(Pace::new);
        self.asked.insert(
            provider.id(),
            Asked {
                provider,
                schedule,
                pace,
            },
        );
        self
    }

    /// The schedule of every provider added after this call (default [`Schedule::default`]).
    /// Its first step applies to payments recorded by a ledger opened with it as
    /// [`Ledger::with_first_check`]; the ledger's own default is one minute.
    #[must_use]
    pub fn schedule(mut self, schedule: Schedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// Other rate limits (default 10 a second in all, 5 to each provider); set before adding
    /// providers.
    #[must_use]
    pub fn rate_limit(mut self, limits: RateLimit) -> Self {
        self.global = limits.global.map(|n| Arc::new(Pace::new(n)));
        self.per_provider = limits.per_provider;
        for asked in self.asked.values_mut() {
            asked.pace = limits.per_provider.map(Pace::new);
        }
        self
    }

    /// How long a payment taken for a check (and a change handed out) is held (default 5
    /// minutes): a check still running then may be taken by another reconciler.
    #[must_use]
    pub fn lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_secs(1));
        self
    }

    /// Checks in flight at once (default 8) and payments taken per batch (default 100).
    #[must_use]
    pub fn concurrency(mut self, in_flight: usize, batch: u32) -> Self {
        self.in_flight = in_flight.max(1);
        self.batch = batch.max(1);
        self
    }

    /// How often [`Reconciler::run`] looks for due payments (default 5 s).
    #[must_use]
    pub fn poll_every(mut self, every: Duration) -> Self {
        self.poll = every.max(Duration::from_millis(10));
        self
    }

    /// The providers this reconciler cannot ask about their payments (no status operation
    /// here: no key to open a card's code, a provider without one): say so at start-up — their
    /// payments are settled by callbacks only.
    #[must_use]
    pub fn cannot_check(&self) -> Vec<&'static str> {
        self.asked
            .iter()
            .filter(|(_, a)| !a.provider.capabilities().payment_status)
            .map(|(id, _)| *id)
            .collect()
    }

    /// The providers asked.
    #[must_use]
    pub fn providers(&self) -> Vec<&'static str> {
        self.asked.keys().copied().collect()
    }

    /// One sweep: every payment due now is asked about (or given up on), and every change a
    /// handler left open is handed out again. The providers are swept at the same time, each
    /// within its own pace (and all within the global one): one provider's backlog never waits
    /// on another's. The time is the ledger's clock's ([`Ledger::with_clock`]).
    pub async fn sweep(&self) -> Result<Sweep, LedgerError> {
        let now = self.ledger.now_ms();
        let swept = futures_util::future::join_all(
            self.asked
                .iter()
                .map(|(id, asked)| self.sweep_one_provider(id, asked, now)),
        )
        .await;
        let mut total = Sweep::default();
        for sweep in swept {
            total.add(sweep?);
        }
        self.hand_out_stranded(now).await?;
        Ok(total)
    }

    /// One provider's part of a sweep: its due payments, then its refunds left pending by an
    /// unknown outcome a minute ago or more.
    async fn sweep_one_provider(
        &self,
        id: &'static str,
        asked: &Asked,
        now: i64,
    ) -> Result<Sweep, LedgerError> {
        let mut sweep = self.sweep_provider(id, asked, now).await?;
        let resolved = self
            .ledger
            .resolve_refunds(asked.provider.as_ref(), crate::refunds::UNKNOWN_AFTER)
            .await?;
        sweep.refunds_resolved += resolved.succeeded + resolved.failed;
        Ok(sweep)
    }

    async fn sweep_provider(
        &self,
        id: &'static str,
        asked: &Asked,
        now: i64,
    ) -> Result<Sweep, LedgerError> {
        let mut total = Sweep::default();
        loop {
            let until = now
                .max(self.ledger.now_ms())
                .saturating_add(duration_ms(self.lease));
            let batch = self
                .ledger
                .claim_due(id, now, until, i64::from(self.batch))
                .await?;
            if batch.is_empty() {
                return Ok(total);
            }
            let mut checks = futures_util::stream::iter(batch)
                .map(|row| self.check(id, asked, row, until, now))
                .buffer_unordered(self.in_flight);
            while let Some(result) = checks.next().await {
                total.add(result?);
            }
        }
    }

    /// Ask about one claimed payment and record what came of it.
    async fn check(
        &self,
        id: &'static str,
        asked: &Asked,
        row: PaymentRow,
        claimed_until: i64,
        now: i64,
    ) -> Result<Sweep, LedgerError> {
        let payment = &row.payment;
        let next = usize::try_from(row.checks.saturating_add(1))
            .ok()
            .and_then(|n| asked.schedule.delay(n))
            .map_or(AfterCheck::GiveUp, |d| {
                AfterCheck::Next(now.saturating_add(jittered(d)))
            });
        let answer = if asked.provider.capabilities().payment_status {
            let paces: Vec<&Pace> = self
                .global
                .as_deref()
                .into_iter()
                .chain(asked.pace.as_ref())
                .collect();
            wait_for_slot(&paces).await;
            let reference = PaymentRef {
                reference: payment.reference.clone(),
                provider_reference: payment.provider_reference.clone(),
            };
            // Never past the claim: a check still running then could be taken again.
            match tokio::time::timeout(self.lease / 2, asked.provider.payment_status(&reference))
                .await
            {
                Ok(answer) => answer,
                Err(_) => Err(paybridge_core::Error::Timeout(self.lease / 2)),
            }
        } else {
            Err(paybridge_core::Error::Unsupported {
                provider: id,
                operation: "payment_status",
            })
        };
        let mut found_reference = None;
        // An answer about another payment than the one asked (another request id, another
        // provider id) is no answer about this one: refused, asked again on schedule.
        let answer = answer.and_then(|state| {
            let other_provider_reference = matches!(
                (&payment.provider_reference, &state.payment.provider_reference),
                (Some(asked), Some(said)) if asked != said
            );
            if state.payment.reference != payment.reference || other_provider_reference {
                Err(paybridge_core::Error::Signature(format!(
                    "the provider answered about {:?} ({:?}), not the payment asked about",
                    state.payment.reference, state.payment.provider_reference
                )))
            } else {
                Ok(state)
            }
        });
        let (outcome, error, after) = match answer {
            Ok(state) => {
                // Found by the merchant reference: the provider's id is kept from now on.
                if payment.provider_reference.is_none() {
                    found_reference.clone_from(&state.payment.provider_reference);
                }
                let mut outcome =
                    Outcome::new(&payment.reference, state.status, state.provider_status);
                outcome.amount = state.amount;
                (Some(outcome), None, next)
            }
            // Down, maintenance, a timeout, an answer that was no answer (an error page), an
            // answer about another payment, or a check that cannot be made here (no key to
            // open the card's code, an operation the provider lacks, no operation id): none of
            // it is news about the payment. It stays pending and is asked again at the next step; only a
            // schedule that runs out hands it to a person.
            Err(
                e @ paybridge_core::Error::Provider {
                    retryable: false, ..
                },
            ) => {
                // The provider itself answered that it cannot tell, for good (a card gateway
                // that never saw the request id): a person must look now.
                tracing::warn!(provider = id, reference = %payment.reference, error = %e, "the provider cannot tell; the payment needs review");
                (None, Some(e.to_string()), AfterCheck::GiveUp)
            }
            Err(e) => {
                tracing::info!(provider = id, reference = %payment.reference, error = %e, "status check postponed");
                (None, Some(e.to_string()), next)
            }
        };
        let result = CheckResult {
            answer: outcome.as_ref(),
            provider_reference: found_reference.as_deref(),
            error: error.as_deref(),
            after,
        };
        self.record_check(id, &payment.reference, claimed_until, result)
            .await
    }

    /// Record what a check came to, and hand its change (if any) to the handler.
    async fn record_check(
        &self,
        id: &'static str,
        reference: &str,
        claimed_until: i64,
        result: CheckResult<'_>,
    ) -> Result<Sweep, LedgerError> {
        let handing = Handing::by(&self.handler, self.lease);
        let checked = self
            .ledger
            .finish_check(id, reference, claimed_until, result, handing)
            .await?;
        let mut sweep = Sweep {
            checked: 1,
            ..Sweep::default()
        };
        if let Some((Applied::Changed(change), handed)) = checked {
            crate::metrics::state_change(&change.provider, change.status);
            sweep.changed = 1;
            sweep.needs_review =
                u64::from(change.status == paybridge_core::PaymentStatus::NeedsReview);
            match after_commit(&self.ledger, &self.handler, self.lease, handed).await {
                None => self.hand_out_payment(id, reference).await?,
                Some(HandedOut::Ledger(e)) => return Err(e),
                Some(_) => {}
            }
        }
        Ok(sweep)
    }

    /// Hand every open change of one payment to the handler, oldest first.
    async fn hand_out_payment(&self, id: &'static str, reference: &str) -> Result<(), LedgerError> {
        let changes = self.ledger.open_changes(id, reference).await?;
        self.hand_out_all(changes.into_iter().map(|c| (id, c)))
            .await
    }

    /// Hand out again the changes a handler left open longer than a lease (it failed, or its
    /// process died), of the providers this reconciler knows.
    async fn hand_out_stranded(&self, now: i64) -> Result<(), LedgerError> {
        let before = now.saturating_sub(duration_ms(self.lease));
        let stranded = self
            .ledger
            .stranded_changes(before, i64::from(self.batch))
            .await?;
        self.hand_out_all(stranded.into_iter().filter_map(|change| {
            let (id, _) = self.asked.get_key_value(change.provider.as_str())?;
            Some((*id, change))
        }))
        .await
    }

    /// Hand each change to the handler in turn; a change another worker holds, or whose
    /// handler failed, stays for later — only a ledger that cannot be reached stops it.
    async fn hand_out_all(
        &self,
        changes: impl Iterator<Item = (&'static str, Change)>,
    ) -> Result<(), LedgerError> {
        for (id, change) in changes {
            let callback = Callback::new(id, change, None);
            match hand_out(&self.ledger, &self.handler, self.lease, callback).await {
                HandedOut::Ledger(e) => return Err(e),
                HandedOut::LeaseLost(e) => {
                    tracing::debug!(error = %e, "another worker took the change over");
                }
                HandedOut::Done | HandedOut::Busy | HandedOut::HandlerFailed => {}
            }
        }
        Ok(())
    }

    /// Sweep every [`Reconciler::poll_every`] until `shutdown` resolves (a sweep in hand is
    /// finished first). A sweep that fails (the ledger is down) is logged and tried again.
    pub async fn run(&self, shutdown: impl std::future::Future<Output = ()> + Send) {
        tokio::pin!(shutdown);
        loop {
            match self.sweep().await {
                Ok(s) if s.checked > 0 => {
                    tracing::info!(
                        checked = s.checked,
                        changed = s.changed,
                        needs_review = s.needs_review,
                        "reconciled"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "reconciliation sweep failed; trying again"),
            }
            tokio::select! {
                () = tokio::time::sleep(self.poll) => {}
                () = &mut shutdown => return,
            }
        }
    }
}

/// `delay` ±10 %, in milliseconds: a backlog's checks spread instead of coming due together.
fn jittered(delay: Duration) -> i64 {
    let ms = duration_ms(delay);
    let spread = ms / 10;
    if spread == 0 {
        return ms;
    }
    ms - spread + fastrand::i64(0..=2 * spread)
}
