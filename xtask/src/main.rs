//! `cargo xtask codegen [--check]`.
#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    match refs.as_slice() {
        ["codegen"] => run(false),
        ["codegen", "--check"] => run(true),
        _ => {
            eprintln!("usage: cargo xtask codegen [--check]");
            ExitCode::from(2)
        }
    }
}

fn run(check: bool) -> ExitCode {
    let root = xtask::workspace_root();
    let started = std::time::Instant::now();
    match xtask::codegen::generate(&root, check) {
        Ok(report) => {
            eprintln!(
                "codegen{}: {} files checked, {} written, in {:.0} ms",
                if check { " --check" } else { "" },
                report.files,
                report.written,
                started.elapsed().as_secs_f64() * 1000.0
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
