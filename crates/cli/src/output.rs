//! Results, errors and exit codes exactly as `docs/cli.md` says.
//!
//! Exit codes: 0 success · 1 declined/failed or failed verification · 2 usage, configuration or
//! input · 3 transport. With `--json`, stdout is exactly one JSON object.

use std::process::ExitCode;

use paybridge_core::{Error, ErrorKind, PaymentStatus};
use serde_json::{Value, json};

/// A command's result: a JSON object and its readable form.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// `None` when the command printed its result itself (the sandbox's endpoint line).
    pub value: Option<Value>,
    /// A readable form to print instead of the generic rendering of `value`.
    pub human: Option<String>,
    pub exit: u8,
}

impl Outcome {
    /// A successful result (exit 0).
    pub fn ok(value: Value) -> Self {
        Self {
            value: Some(value),
            human: None,
            exit: 0,
        }
    }

    /// Nothing more to print (exit 0).
    pub fn printed() -> Self {
        Self {
            value: None,
            human: None,
            exit: 0,
        }
    }

    /// A payment outcome: exit 1 when the provider gave a definitive negative status.
    pub fn payment(value: Value, status: PaymentStatus) -> Self {
        Self {
            value: Some(value),
            human: None,
            exit: u8::from(status.is_negative()),
        }
    }
}

/// A failed command, with the kind and exit code of the contract.
#[derive(Debug)]
pub(crate) struct CliError {
    pub kind: &'static str,
    pub code: Value,
    pub message: String,
    pub exit: u8,
    /// The request may have reached the provider; its outcome is unknown.
    pub outcome_unknown: bool,
}

impl CliError {
    /// Bad flag, unreadable or malformed file, missing secret.
    pub fn input(message: impl Into<String>) -> Self {
        Self {
            kind: "input",
            code: Value::Null,
            message: message.into(),
            exit: 2,
            outcome_unknown: false,
        }
    }

    /// Something on our side broke.
    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            kind: "transport",
            code: Value::Null,
            message: message.into(),
            exit: 3,
            outcome_unknown: false,
        }
    }
}

impl From<Error> for CliError {
    fn from(e: Error) -> Self {
        let (kind, exit) = match e.kind() {
            ErrorKind::Provider => ("provider", 1),
            ErrorKind::Signature => ("signature", 1),
            ErrorKind::Transport => ("transport", 3),
            // Unsupported: the user asked for something this provider cannot do.
            _ => ("input", 2),
        };
        let code = e.provider_code().map_or(Value::Null, |c| {
            c.parse::<i64>()
                .map_or_else(|_| Value::String(c.to_owned()), Value::from)
        });
        Self {
            kind,
            code,
            message: e.to_string(),
            exit,
            outcome_unknown: e.outcome_unknown(),
        }
    }
}

/// Add (or replace) a field of a JSON object; other values are left alone.
pub(crate) fn set_field(object: &mut Value, key: &str, value: Value) {
    if let Value::Object(map) = object {
        map.insert(key.to_owned(), value);
    }
}

/// Print the result and turn it into the process exit code.
pub(crate) fn finish(result: Result<Outcome, CliError>, json: bool) -> ExitCode {
    match result {
        Ok(outcome) => {
            match (&outcome.value, &outcome.human, json) {
                (Some(v), _, true) => print_out(&format!("{v}\n")),
                (_, Some(h), false) => print_out(h),
                (Some(v), None, false) => {
                    let mut text = String::new();
                    render_human(v, 0, &mut text);
                    print_out(&text);
                }
                (None, _, _) => {}
            }
            ExitCode::from(outcome.exit)
        }
        Err(e) => {
            if json {
                let mut error = json!({"kind": e.kind, "code": e.code, "message": e.message});
                if e.outcome_unknown {
                    set_field(&mut error, "outcome_unknown", Value::Bool(true));
                }
                print_out(&format!("{}\n", json!({ "error": error })));
            } else {
                let code = if e.code.is_null() {
                    String::new()
                } else {
                    format!(" [{}]", e.code)
                };
                // Provider text may carry escape sequences or line breaks: shown escaped.
                eprintln!("error ({}){code}: {}", e.kind, terminal_safe(&e.message));
            }
            ExitCode::from(e.exit)
        }
    }
}

/// A clap error: help and version print normally (exit 0); usage errors exit 2, as JSON on
/// stdout when `--json` was given.
pub(crate) fn usage_error(e: &clap::Error, json: bool, command: clap::Command) -> ExitCode {
    use clap::error::ErrorKind as K;
    if matches!(e.kind(), K::DisplayHelp | K::DisplayVersion) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let hint = env_hint(e, command);
    if json {
        let rendered = e.render().to_string();
        let first = rendered
            .split("\n\n")
            .next()
            .unwrap_or("usage error")
            .trim_start_matches("error: ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        print_out(&format!(
            "{}\n",
            json!({"error": {"kind": "input", "code": null, "message": format!("{first}{hint}")}})
        ));
    } else {
        let _ = e.print();
        if !hint.is_empty() {
            eprintln!("{}", hint.trim_start());
        }
    }
    ExitCode::from(2)
}

/// For a missing argument that an environment variable can give (a secret, usually): which
/// one — the error names both the flag and the variable.
fn env_hint(e: &clap::Error, command: clap::Command) -> String {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    if e.kind() != ErrorKind::MissingRequiredArgument {
        return String::new();
    }
    let Some(ContextValue::Strings(missing)) = e.get(ContextKind::InvalidArg) else {
        return String::new();
    };
    let mut envs = std::collections::BTreeMap::new();
    let mut stack = vec![command];
    while let Some(command) = stack.pop() {
        for arg in command.get_arguments() {
            if let (Some(long), Some(env)) = (arg.get_long(), arg.get_env()) {
                envs.insert(long.to_owned(), env.to_string_lossy().into_owned());
            }
        }
        stack.extend(command.get_subcommands().cloned());
    }
    let named: Vec<String> = missing
        .iter()
        .filter_map(|m| {
            let long = m.trim_start_matches("--").split([' ', '<']).next()?;
            envs.get(long).map(|env| format!("--{long} or {env}"))
        })
        .collect();
    if named.is_empty() {
        String::new()
    } else {
        format!(" (give {})", named.join(", "))
    }
}

/// Write `text` to stdout. A reader that went away (`paybridge … | head`) is not an error of
/// the command: what it did stands and its exit code is kept; nothing else can be done with a
/// failed write to stdout, so it is not reported.
pub(crate) fn print_out(text: &str) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
}

/// A readable rendering of a JSON object: `key: value` lines, nested values indented, list
/// items as `- item`. Recursive over our own result objects, whose depth is fixed by the
/// code that builds them (never by what a provider sent).
fn render_human(value: &Value, depth: usize, out: &mut String) {
    use std::fmt::Write as _;
    let pad = "  ".repeat(depth);
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let k = terminal_safe(k);
                match v {
                    Value::Array(items) if items.is_empty() => {
                        let _ = writeln!(out, "{pad}{k}: (none)");
                    }
                    // A listing (payments, events, deliveries…): a table.
                    Value::Array(items) if depth == 0 && items.iter().all(Value::is_object) => {
                        let _ = writeln!(out, "{k}:\n{}", table(items));
                    }
                    Value::Object(_) | Value::Array(_) => {
                        let _ = writeln!(out, "{pad}{k}:");
                        render_human(v, depth + 1, out);
                    }
                    _ => {
                        let _ = writeln!(out, "{pad}{k}: {}", scalar(v));
                    }
                }
            }
        }
        Value::Array(items) => {
            for v in items {
                match v {
                    Value::Object(_) | Value::Array(_) => {
                        let _ = writeln!(out, "{pad}-");
                        render_human(v, depth + 1, out);
                    }
                    _ => {
                        let _ = writeln!(out, "{pad}- {}", scalar(v));
                    }
                }
            }
        }
        other => {
            let _ = writeln!(out, "{pad}{}", scalar(other));
        }
    }
}

/// The columns a listing shows first, in this order; the others follow by name.
const FIRST_COLUMNS: [&str; 9] = [
    "provider",
    "reference",
    "status",
    "amount",
    "currency",
    "paid_amount",
    "refunded_amount",
    "anomaly",
    "provider_reference",
];

/// A listing of objects as a table: one row per object, one column per field that holds a
/// value (text, number, flag) in some row; a field empty in every row, or holding nested
/// values (shown by `--json`), is left out.
fn table(items: &[Value]) -> String {
    let mut columns: Vec<String> = Vec::new();
    for item in items {
        if let Value::Object(map) = item {
            for (k, v) in map {
                let shown = !matches!(v, Value::Null | Value::Object(_) | Value::Array(_));
                if shown && !columns.contains(k) {
                    columns.push(k.clone());
                }
            }
        }
    }
    let rank = |c: &String| {
        FIRST_COLUMNS
            .iter()
            .position(|f| f == c)
            .unwrap_or(FIRST_COLUMNS.len())
    };
    columns.sort_by(|a, b| rank(a).cmp(&rank(b)).then_with(|| a.cmp(b)));
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::ASCII_MARKDOWN)
        .set_header(columns.iter().map(|c| terminal_safe(c)));
    for item in items {
        t.add_row(columns.iter().map(|c| match item.get(c) {
            Some(Value::Object(_) | Value::Array(_)) | None => "-".to_owned(),
            Some(v) => scalar(v),
        }));
    }
    t.to_string()
}

/// Text for a terminal: control characters (escape sequences, CR, LF) escaped, so text a
/// provider sent can neither move the cursor nor draw a line of its own.
pub(crate) fn terminal_safe(text: &str) -> String {
    paybridge_core::http::printable(text, usize::MAX)
}

fn scalar(v: &Value) -> String {
    match v {
        Value::String(s) => terminal_safe(s),
        Value::Null => "-".to_owned(),
        other => other.to_string(),
    }
}
