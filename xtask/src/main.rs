//! `cargo xtask codegen [--check]`, `cargo xtask new-provider NAME [--soap WSDL | --json]`.
#![forbid(unsafe_code)]

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    match refs.as_slice() {
        ["codegen"] => run(false),
        ["codegen", "--check"] => run(true),
        ["new-provider", name, rest @ ..] => new_provider(name, rest),
        _ => {
            eprintln!(
                "usage: cargo xtask codegen [--check]\n       cargo xtask new-provider NAME [--soap WSDL | --json]"
            );
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

fn new_provider(name: &str, rest: &[&str]) -> ExitCode {
    use xtask::new_provider::{Flavour, scaffold};
    let flavour = match rest {
        [] | ["--json"] => Flavour::Json,
        ["--soap", wsdl] => Flavour::Soap(std::path::PathBuf::from(wsdl)),
        _ => {
            eprintln!("usage: cargo xtask new-provider NAME [--soap WSDL | --json]");
            return ExitCode::from(2);
        }
    };
    let root = xtask::workspace_root();
    match scaffold(&root, name, &flavour) {
        Ok(written) => {
            for path in written {
                eprintln!(
                    "wrote {}",
                    path.strip_prefix(&root).unwrap_or(&path).display()
                );
            }
            eprintln!(
                "next: fill in every TODO (grep -rn TODO crates/{name} schemas/{name}), then `cargo test -p paybridge-{name}`"
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
