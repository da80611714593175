//! Replays every fuzz target's corpus and every finding (`fuzz/corpus/<target>/`,
//! `fuzz/regressions/<target>/`) through the same harness the fuzzer runs, so a fixed finding
//! stays fixed and CI exercises what the fuzzer learned — without libFuzzer.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test code: a panic is a failed test"
)]

use std::path::PathBuf;

fn fuzz_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

#[test]
fn every_corpus_and_finding_replays_without_panic() {
    let mut replayed = 0;
    for (target, run) in paybridge_tests::fuzz::TARGETS {
        let mut inputs = 0;
        for folder in ["corpus", "regressions"] {
            let dir = fuzz_dir().join(folder).join(target);
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                if path.is_file() && !path.file_name().unwrap().to_string_lossy().starts_with('.') {
                    run(&std::fs::read(&path).unwrap());
                    inputs += 1;
                }
            }
        }
        assert!(inputs > 0, "no corpus for fuzz target {target}");
        replayed += inputs;
    }
    println!("replayed {replayed} inputs");
}
