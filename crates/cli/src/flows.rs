//! A provider's demo flow as it runs: its steps, timed, and how it ended — what
//! `paybridge demo` prints and each provider's `demo` records.

use std::time::{Duration, Instant};

/// One step of a flow, timed.
pub(crate) struct Step {
    pub name: String,
    pub elapsed: Duration,
    pub detail: String,
}

/// One provider's flow: its steps, and the error that stopped it, if any.
pub(crate) struct FlowResult {
    pub provider: &'static str,
    pub log: FlowLog,
    pub error: Option<String>,
}

/// Records the steps of one flow.
#[derive(Default)]
pub(crate) struct FlowLog {
    pub steps: Vec<Step>,
    last: Option<Instant>,
}

impl FlowLog {
    /// Record a step that ended now.
    pub fn step(&mut self, name: &str, detail: impl Into<String>) {
        let now = Instant::now();
        let elapsed = self.last.map_or(Duration::ZERO, |l| now - l);
        self.last = Some(now);
        self.steps.push(Step {
            name: name.to_owned(),
            elapsed,
            detail: detail.into(),
        });
    }

    /// Start timing.
    pub fn start(&mut self) {
        self.last = Some(Instant::now());
    }
}
