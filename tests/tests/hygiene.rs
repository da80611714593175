//! Repository hygiene a clean clone must keep: nothing points at files our users do not have,
//! and no build output is tracked.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a panic is a failed test"
)]

use std::path::{Path, PathBuf};
use std::process::Command;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ lives in the workspace")
        .to_path_buf()
}

/// The tracked files, as git lists them (the files a clone has).
fn tracked_files() -> Vec<String> {
    let out = Command::new("git")
        .arg("-C")
        .arg(workspace_root())
        .args(["ls-files", "-z"])
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git ls-files failed");
    String::from_utf8(out.stdout)
        .expect("paths are UTF-8")
        .split('\0')
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

#[test]
fn no_tracked_file_points_outside_the_repository() {
    // Spelled in two pieces so that this file does not match itself.
    let needle = ["..", "/shared"].concat();
    let files = tracked_files();
    assert!(files.len() > 50, "git listed only {} files", files.len());
    let offenders: Vec<&String> = files
        .iter()
        .filter(|path| {
            std::fs::read(workspace_root().join(path))
                .is_ok_and(|bytes| String::from_utf8_lossy(&bytes).contains(needle.as_str()))
        })
        .collect();
    assert!(
        offenders.is_empty(),
        "these files point at {needle}, which users do not have: {offenders:?}"
    );
}

#[test]
fn no_build_output_is_tracked() {
    let tracked: Vec<String> = tracked_files()
        .into_iter()
        .filter(|p| p.starts_with("target/") || p.contains("/target/"))
        .collect();
    assert!(tracked.is_empty(), "build output is tracked: {tracked:?}");
}
