//! `cargo xtask new-provider` in a temporary copy of the workspace: the scaffolded crate
//! builds, passes its own tests and lints, the CLI compiles with its one line, and codegen
//! and formatting agree with what was written.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a panic is a failed test"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

use xtask::new_provider::{Flavour, scaffold};

/// Copy the workspace's sources (no `target/`, `.git/` or the fuzz workspace) to `to`.
/// Symbolic links and virtualenvs (a directory holding `pyvenv.cfg`, `.venv`,
/// `node_modules`, `__pycache__`) are someone's local environment, not sources: skipped —
/// a Python merchant's `.venv` in the clone must not break the test.
fn copy_workspace(from: &Path, to: &Path) {
    let _ = std::fs::remove_dir_all(to);
    let mut pending = vec![PathBuf::new()];
    while let Some(rel) = pending.pop() {
        std::fs::create_dir_all(to.join(&rel)).unwrap();
        for entry in std::fs::read_dir(from.join(&rel)).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name();
            let rel_child = rel.join(&name);
            let kind = entry.file_type().unwrap();
            if kind.is_symlink() {
                continue;
            }
            if kind.is_dir() {
                let environment = matches!(
                    name.to_str(),
                    Some("target" | ".git" | "fuzz" | ".venv" | "node_modules" | "__pycache__")
                ) || entry.path().join("pyvenv.cfg").exists();
                if !environment {
                    pending.push(rel_child);
                }
            } else {
                std::fs::copy(entry.path(), to.join(&rel_child)).unwrap();
            }
        }
    }
}

#[test]
#[cfg(unix)]
fn the_copy_skips_symlinks_and_virtualenvs() {
    let root = std::env::temp_dir().join(format!("paybridge-copy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let (from, to) = (root.join("from"), root.join("to"));
    std::fs::create_dir_all(from.join("src")).unwrap();
    std::fs::write(from.join("src/lib.rs"), "//! kept").unwrap();
    std::fs::create_dir_all(from.join("examples/merchant/env/bin")).unwrap();
    std::fs::write(from.join("examples/merchant/env/pyvenv.cfg"), "home = /usr").unwrap();
    std::fs::create_dir_all(from.join("examples/merchant/.venv")).unwrap();
    std::os::unix::fs::symlink("/usr/bin", from.join("examples/merchant/env/bin/python")).unwrap();
    std::os::unix::fs::symlink("/nowhere", from.join("dangling")).unwrap();
    std::os::unix::fs::symlink(from.join("src"), from.join("linked-dir")).unwrap();
    copy_workspace(&from, &to);
    assert!(to.join("src/lib.rs").exists());
    assert!(to.join("examples/merchant").exists());
    for skipped in [
        "examples/merchant/env",
        "examples/merchant/.venv",
        "dangling",
        "linked-dir",
    ] {
        assert!(!to.join(skipped).exists(), "{skipped} was copied");
    }
    let _ = std::fs::remove_dir_all(&root);
}

fn cargo(dir: &Path, target: &Path, args: &[&str]) {
    let out = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "cargo {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_scaffolded_soap_provider_builds_passes_its_tests_and_is_registered() {
    let root = xtask::workspace_root();
    // A fixed place: cargo keys a workspace's artifacts by paths relative to its root, so a
    // copy at a new path each run would reuse artifacts built for a copy that is gone.
    let copy = root.join("target/scaffold-test/soap");
    copy_workspace(&root, &copy);
    let wsdl = root.join("schemas/woopay/XmlController.wsdl");
    let written = scaffold(&copy, "acme-pay", &Flavour::Soap(wsdl)).unwrap();
    for expected in [
        "schemas/acme-pay/XmlController.wsdl",
        "schemas/acme-pay/codegen.manifest",
        "crates/acme-pay/src/client.rs",
        "crates/acme-pay/src/notification.rs",
        "crates/acme-pay/src/provider.rs",
        "crates/acme-pay/src/sandbox.rs",
        "crates/acme-pay/src/generated/xml_controller.rs",
        "crates/acme-pay/tests/contract.rs",
        "crates/cli/src/providers/acme_pay.rs",
    ] {
        assert!(copy.join(expected).is_file(), "{expected} not written");
    }
    assert!(written.contains(&copy.join("crates/cli/src/providers/mod.rs")));
    let list = std::fs::read_to_string(copy.join("crates/cli/src/providers/mod.rs")).unwrap();
    assert!(
        list.contains("    AcmePay => acme_pay, \"acme-pay\";"),
        "{list}"
    );
    // A second run refuses to overwrite.
    assert!(scaffold(&copy, "acme-pay", &Flavour::Json).is_err());

    // Its own target directory (the outer `cargo test` holds this workspace's), kept
    // between runs so only the first one builds everything.
    let target = root.join("target/scaffold-test/target");
    cargo(&copy, &target, &["fmt", "--all", "--check"]);
    cargo(
        &copy,
        &target,
        &[
            "run",
            "--offline",
            "-q",
            "-p",
            "xtask",
            "--",
            "codegen",
            "--check",
        ],
    );
    cargo(
        &copy,
        &target,
        &["test", "--offline", "-q", "-p", "paybridge-acme-pay"],
    );
    cargo(
        &copy,
        &target,
        &[
            "clippy",
            "--offline",
            "-q",
            "-p",
            "paybridge-acme-pay",
            "-p",
            "paybridge",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    );
    registered_with_receive_and_the_reconciler(&copy, &target);
}

/// Registered everywhere by its one line: `receive` mounts its route, the reconciler asks it.
fn registered_with_receive_and_the_reconciler(copy: &Path, target: &Path) {
    cargo(
        copy,
        target,
        &["build", "--offline", "-q", "-p", "paybridge"],
    );
    let paybridge = target.join("debug/paybridge");
    let ledger = format!("sqlite://{}", target.join("scaffold-registry.db").display());
    let _ = std::fs::remove_file(target.join("scaffold-registry.db"));
    let routes = first_line_of_receive(&paybridge, &ledger);
    assert_eq!(
        routes
            .get("acme-pay")
            .and_then(serde_json::Value::as_str)
            .map(|u| u.ends_with("/acme-pay/callback")),
        Some(true),
        "receive mounts the new provider's route: {routes}"
    );
    let reconcile = |env: &[(&str, &str)]| {
        let mut command = Command::new(&paybridge);
        command.args(["reconcile", "--once", "--ledger", &ledger]);
        clear_paybridge_env(&mut command);
        command.envs(env.iter().copied());
        command.output().unwrap()
    };
    let without = reconcile(&[]);
    assert_eq!(
        without.status.code(),
        Some(2),
        "nothing to ask without its settings"
    );
    let with = reconcile(&[
        ("PAYBRIDGE_ACME_PAY_ENDPOINT", "http://127.0.0.1:9/acme"),
        ("PAYBRIDGE_ACME_PAY_MERCHANT_ID", "m-1"),
        ("PAYBRIDGE_ACME_PAY_SECRET", "s3cret"),
    ]);
    assert!(
        with.status.success(),
        "the reconciler asks the new provider: {}{}",
        String::from_utf8_lossy(&with.stdout),
        String::from_utf8_lossy(&with.stderr)
    );
}

/// Remove every `PAYBRIDGE_*` variable the test's own environment may hold.
fn clear_paybridge_env(command: &mut Command) {
    for (name, _) in std::env::vars() {
        if name.starts_with("PAYBRIDGE_") {
            command.env_remove(name);
        }
    }
}

/// Start `paybridge receive` with only the new provider's secret, read the routes it prints
/// first, stop it.
fn first_line_of_receive(paybridge: &Path, ledger: &str) -> serde_json::Value {
    use std::io::BufRead as _;
    let mut command = Command::new(paybridge);
    command.args(["receive", "--no-reconcile", "--ledger", ledger]);
    clear_paybridge_env(&mut command);
    let mut child = command
        .env("PAYBRIDGE_ACME_PAY_SECRET", "s3cret")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line:?}"))
}

#[test]
fn a_json_provider_has_no_generated_code_and_names_are_checked() {
    let root = xtask::workspace_root();
    let copy = root.join("target/scaffold-test/json");
    copy_workspace(&root, &copy);
    scaffold(&copy, "acme-json", &Flavour::Json).unwrap();
    assert!(copy.join("crates/acme-json/src/notification.rs").is_file());
    assert!(!copy.join("crates/acme-json/src/generated").exists());
    assert!(!copy.join("schemas/acme-json/codegen.manifest").exists());
    let lib = std::fs::read_to_string(copy.join("crates/acme-json/src/lib.rs")).unwrap();
    assert!(!lib.contains("pub mod generated"));
    assert!(!lib.contains("{{"), "a placeholder left: {lib}");
    let workspace = std::fs::read_to_string(copy.join("Cargo.toml")).unwrap();
    assert!(
        workspace
            .contains("paybridge-acme-json = { path = \"crates/acme-json\", version = \"0.1.0\" }")
    );
    assert!(scaffold(&copy, "Acme_Json", &Flavour::Json).is_err());
    let _ = std::fs::remove_dir_all(&copy);
}
