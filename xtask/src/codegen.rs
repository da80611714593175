//! `cargo xtask codegen [--check]`: every provider's schema files → `generated/` modules.
//!
//! Every write goes through [`ensure_file_contents`]: in check mode nothing is written and a
//! difference is an error with a readable diff. Output is deterministic (no timestamps, stable
//! order) and formatted by rustfmt, so `cargo fmt --check` agrees with it.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::emit::{Options, emit};
use crate::schema::{Model, read_file};

/// One generated module: its schema files and where it goes, read from the provider's
/// `schemas/<provider>/codegen.manifest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// Crate directory, relative to the workspace root.
    pub crate_dir: String,
    /// Module name under `src/generated/`.
    pub module: String,
    /// Schema files, relative to the workspace root, read in order.
    pub sources: Vec<String>,
    /// What the generated types need beyond the schema (serde, Rust field names).
    pub options: Options,
    /// Schema files the crate serves itself (its simulator's WSDL), relative to the workspace
    /// root: copied verbatim into `src/generated/`, so that what is served is what the types
    /// were generated from.
    pub shipped: Vec<String>,
}

/// The name of the file that makes a `schemas/<provider>/` directory a codegen target.
pub const MANIFEST: &str = "codegen.manifest";

/// Read one manifest (`schemas/<provider>/codegen.manifest`): `key = value` lines, `#`
/// comments; `crate` and `module` once, `source` once per schema file (relative to the
/// manifest's directory, read in order). Optional, once per type or field (wire names):
/// `serde = Type` (the type derives serde too), `field = Type.field rust_name` (the Rust and
/// JSON name of a badly spelled wire field), `serde_skip = Type.field` (never in JSON),
/// `ship = file` (a schema file copied verbatim into `src/generated/`, for a simulator to serve).
pub fn read_manifest(dir_from_root: &str, text: &str) -> Result<Target, String> {
    let (mut crate_dir, mut module, mut sources) = (None, None, Vec::new());
    let mut shipped = Vec::new();
    let mut options = Options::default();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = || format!("{dir_from_root}/{MANIFEST}:{}", n + 1);
        let Some((key, value)) = line.split_once('=') else {
            return Err(format!("{}: expected `key = value`", at()));
        };
        let value = value.trim().to_owned();
        let type_field = |v: &str| {
            v.split_once('.')
                .map(|(t, f)| (t.trim().to_owned(), f.trim().to_owned()))
                .ok_or_else(|| format!("{}: expected `Type.field`, found `{v}`", at()))
        };
        match key.trim() {
            "crate" => crate_dir = Some(value),
            "module" => module = Some(value),
            "source" => sources.push(format!("{dir_from_root}/{value}")),
            "ship" if !value.contains('/') => shipped.push(format!("{dir_from_root}/{value}")),
            "ship" => return Err(format!("{}: `ship` takes a file name", at())),
            "serde" => {
                options.serde.insert(value);
            }
            "serde_skip" => {
                options.serde_skip.insert(type_field(&value)?);
            }
            "field" => {
                let Some((path, rust)) = value.split_once(char::is_whitespace) else {
                    return Err(format!("{}: expected `field = Type.field rust_name`", at()));
                };
                options
                    .field_names
                    .insert(type_field(path)?, rust.trim().to_owned());
            }
            other => return Err(format!("{}: unknown key `{other}`", at())),
        }
    }
    match (crate_dir, module) {
        (Some(crate_dir), Some(module)) if !sources.is_empty() => Ok(Target {
            crate_dir,
            module,
            sources,
            options,
            shipped,
        }),
        _ => Err(format!(
            "{dir_from_root}/{MANIFEST}: needs `crate`, `module` and at least one `source`"
        )),
    }
}

/// Every generated module of the workspace at `root`: one per `schemas/*/codegen.manifest`,
/// in directory order.
pub fn targets(root: &Path) -> Result<Vec<Target>, String> {
    let schemas = root.join("schemas");
    let mut dirs: Vec<String> = std::fs::read_dir(&schemas)
        .map_err(|e| format!("{}: {e}", schemas.display()))?
        .filter_map(Result::ok)
        .filter(|e| e.path().join(MANIFEST).is_file())
        .filter_map(|e| e.file_name().into_string().ok())
        .collect();
    dirs.sort();
    dirs.iter()
        .map(|dir| {
            let rel = format!("schemas/{dir}");
            let text = std::fs::read_to_string(root.join(&rel).join(MANIFEST))
                .map_err(|e| format!("{rel}/{MANIFEST}: {e}"))?;
            read_manifest(&rel, &text)
        })
        .collect()
}

/// What a run did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    pub files: usize,
    pub written: usize,
}

/// Generate (or, with `check`, verify) every target.
pub fn generate(root: &Path, check: bool) -> Result<Report, String> {
    let mut report = Report::default();
    for target in &targets(root)? {
        let source = generate_target(root, target)?;
        let dir = root.join(&target.crate_dir).join("src/generated");
        let module_path = dir.join(format!("{}.rs", target.module));
        report.files += 1;
        report.written += usize::from(ensure_file_contents(&module_path, &source, check)?);
        let mod_rs = format!(
            "//! Wire types generated by `cargo xtask codegen` from `schemas/`.\n//!\n//! Generated — do not edit: change the schema and run `cargo xtask codegen`.\n\npub mod {};\n",
            target.module
        );
        report.files += 1;
        report.written += usize::from(ensure_file_contents(&dir.join("mod.rs"), &mod_rs, check)?);
        for file in &target.shipped {
            let text =
                std::fs::read_to_string(root.join(file)).map_err(|e| format!("{file}: {e}"))?;
            let name = Path::new(file)
                .file_name()
                .ok_or_else(|| format!("{file}: not a file"))?;
            report.files += 1;
            report.written += usize::from(ensure_file_contents(&dir.join(name), &text, check)?);
        }
    }
    Ok(report)
}

/// The formatted source of one target.
pub fn generate_target(root: &Path, target: &Target) -> Result<String, String> {
    let mut model = Model::default();
    for src in &target.sources {
        let text = std::fs::read_to_string(root.join(src)).map_err(|e| format!("{src}: {e}"))?;
        read_file(&mut model, src, &text).map_err(|e| e.to_string())?;
    }
    model.finish().map_err(|e| e.to_string())?;
    let header = format!(
        "Wire types generated by `cargo xtask codegen` from {}.\n\nGenerated — do not edit: change the schema and run `cargo xtask codegen`.",
        target
            .sources
            .iter()
            .map(|s| format!("`{s}`"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let source = emit(&model, &header, &target.options).map_err(|e| e.to_string())?;
    rustfmt(&source)
}

/// Format with the toolchain's rustfmt (edition 2024), so the output is what `cargo fmt` keeps.
pub fn rustfmt(source: &str) -> Result<String, String> {
    use std::io::Write as _;
    let mut child = Command::new(std::env::var("RUSTFMT").unwrap_or_else(|_| "rustfmt".to_owned()))
        .args(["--edition", "2024", "--emit", "stdout", "--quiet"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run rustfmt (rustup component add rustfmt): {e}"))?;
    child
        .stdin
        .take()
        .ok_or("rustfmt stdin unavailable")?
        .write_all(source.as_bytes())
        .map_err(|e| format!("rustfmt: {e}"))?;
    let out = child
        .wait_with_output()
        .map_err(|e| format!("rustfmt: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "rustfmt failed: {}",
            String::from_utf8_lossy(&out.stderr)
        ));
    }
    String::from_utf8(out.stdout).map_err(|e| format!("rustfmt output: {e}"))
}

/// Write `contents` to `path` unless it is already there. In check mode, never write: a
/// difference is an error with a diff. Returns whether the file was written.
pub fn ensure_file_contents(path: &Path, contents: &str, check: bool) -> Result<bool, String> {
    let current = std::fs::read_to_string(path).ok();
    if current.as_deref() == Some(contents) {
        return Ok(false);
    }
    if check {
        return Err(format!(
            "{} is out of date with schemas/: run `cargo xtask codegen`\n{}",
            display(path),
            diff(current.as_deref().unwrap_or(""), contents)
        ));
    }
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, contents).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(true)
}

fn display(path: &Path) -> String {
    let root = crate::workspace_root();
    path.strip_prefix(&root)
        .map_or_else(|_| path.display().to_string(), |p| p.display().to_string())
}

/// A line diff of two texts (longest common subsequence), `-` for checked-in lines, `+` for
/// regenerated ones, with two lines of context; at most 60 lines.
#[must_use]
#[allow(
    clippy::indexing_slicing,
    clippy::many_single_char_names,
    reason = "textbook LCS over indices that the loop bounds keep in range; build tool input"
)]
pub fn diff(old: &str, new: &str) -> String {
    let a: Vec<&str> = old.lines().collect();
    let b: Vec<&str> = new.lines().collect();
    let (n, m) = (a.len(), b.len());
    let mut lcs = vec![vec![0_u32; m + 1]; n + 1];
    for i in (0..n).rev() {
        for j in (0..m).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let mut ops: Vec<(char, usize, &str)> = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < n || j < m {
        if i < n && j < m && a[i] == b[j] {
            ops.push((' ', i + 1, a[i]));
            i += 1;
            j += 1;
        } else if j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j]) {
            ops.push(('+', j + 1, b[j]));
            j += 1;
        } else {
            ops.push(('-', i + 1, a[i]));
            i += 1;
        }
    }
    let near = |k: usize| {
        ops.iter()
            .skip(k.saturating_sub(2))
            .take(5)
            .any(|o| o.0 != ' ')
    };
    let mut out = String::new();
    let mut shown = 0;
    for (k, (op, line, text)) in ops.iter().enumerate() {
        if *op != ' ' || near(k) {
            if shown == 60 {
                out.push_str("  …\n");
                break;
            }
            let _ = writeln!(out, "{op}{line:>5} {text}");
            shown += 1;
        }
    }
    out
}

/// The absolute path of a workspace file.
#[must_use]
pub fn path(root: &Path, rel: &str) -> PathBuf {
    root.join(rel)
}
