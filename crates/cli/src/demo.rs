//! `paybridge demo`: one complete flow per provider against the in-process sandbox.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::cli::DemoArgs;
use crate::output::{CliError, Outcome};
use crate::sandbox;

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

pub(crate) async fn run(_args: &DemoArgs) -> Result<Outcome, CliError> {
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], 0));
    let sandbox = sandbox::start(addr, None).await?;
    let flows = crate::registry::demo_flows(&sandbox).await;
    sandbox.task.abort();
    let mut all_ok = !flows.is_empty();
    let mut report = Vec::new();
    let mut table = String::new();
    for FlowResult {
        provider,
        log,
        error,
    } in flows
    {
        all_ok &= error.is_none();
        let verdict = if error.is_none() { "passed" } else { "FAILED" };
        let _ = writeln!(table, "{provider:<16} {verdict}");
        for s in &log.steps {
            let _ = writeln!(
                table,
                "  {:<26} {:>8.1} ms  {}",
                s.name,
                s.elapsed.as_secs_f64() * 1000.0,
                s.detail
            );
        }
        if let Some(e) = &error {
            let _ = writeln!(table, "  error: {e}");
        }
        report.push(json!({
            "provider": provider,
            "passed": error.is_none(),
            "error": error,
            "steps": log.steps.iter().map(|s| json!({
                "step": s.name,
                "ms": (s.elapsed.as_secs_f64() * 10_000.0).round() / 10.0,
                "detail": s.detail,
            })).collect::<Vec<Value>>(),
        }));
    }
    let _ = writeln!(
        table,
        "{}",
        if all_ok {
            "all flows passed"
        } else {
            "some flows FAILED"
        }
    );
    Ok(Outcome {
        value: Some(json!({"passed": all_ok, "flows": report})),
        human: Some(table),
        exit: u8::from(!all_ok),
    })
}
