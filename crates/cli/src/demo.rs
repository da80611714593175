//! `paybridge demo`: one complete flow per provider against the in-process sandbox.

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
    let sandbox = sandbox::start(
        "127.0.0.1:0"
            .parse()
            .map_err(|_| CliError::internal("bad address"))?,
    )
    .await?;
    let flows: Vec<(&str, Result<FlowLog, (FlowLog, String)>)> =
        crate::registry::demo_flows(&sandbox).await;
    sandbox.task.abort();
    let mut all_ok = true;
    let mut report = Vec::new();
    for (provider, result) in flows {
        let (log, error) = match result {
            Ok(log) => (log, None),
            Err((log, e)) => {
                all_ok = false;
                (log, Some(e))
            }
        };
        eprintln!(
            "== {provider}: {}",
            if error.is_none() { "passed" } else { "FAILED" }
        );
        for s in &log.steps {
            eprintln!(
                "  {:<28} {:>8.1} ms  {}",
                s.name,
                s.elapsed.as_secs_f64() * 1000.0,
                s.detail
            );
        }
        if let Some(e) = &error {
            eprintln!("  error: {e}");
        }
        report.push(json!({
            "provider": provider,
            "passed": error.is_none(),
            "error": error,
            "steps": log.steps.iter().map(|s| json!({
                "step": s.name,
                "ms": (s.elapsed.as_secs_f64() * 1000.0 * 10.0).round() / 10.0,
                "detail": s.detail,
            })).collect::<Vec<Value>>(),
        }));
    }
    let value = json!({"passed": all_ok, "flows": report});
    Ok(Outcome {
        value: Some(value),
        exit: u8::from(!all_ok),
    })
}
