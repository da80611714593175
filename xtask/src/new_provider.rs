//! `cargo xtask new-provider NAME [--soap WSDL | --json]`: a new provider crate that follows
//! the contract, registered everywhere it has to be.
//!
//! It writes `schemas/NAME/` (the WSDL and its codegen manifest, or a place for JSON
//! samples), `crates/NAME/` (`client`, `notification`, `signature`, `provider`, `error`,
//! `sandbox`, `generated/` for SOAP, and tests — each marked with what to fill in), the
//! workspace dependency line, the CLI's dependency line, the CLI module
//! `crates/cli/src/providers/<module>.rs` and its one line in the CLI's provider list. The
//! result compiles and its tests pass before anything is filled in.

use std::path::{Path, PathBuf};

use crate::codegen::{MANIFEST, generate, rustfmt};

/// What the provider speaks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Flavour {
    /// JSON (or forms): no generated code.
    Json,
    /// SOAP described by this WSDL file: its wire types are generated into `generated/`.
    Soap(PathBuf),
}

/// The names of one provider, derived from its kebab-case name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// `acme-pay`: the crate directory, the CLI subcommand, the provider id.
    pub name: String,
    /// `acme_pay`: the Rust module and library name (`paybridge_acme_pay`).
    pub module: String,
    /// `AcmePay`: the CLI variant and the `AcmePayError` / `AcmePayProvider` types.
    pub variant: String,
    /// `ACME_PAY`: environment variables (`PAYBRIDGE_ACME_PAY_SECRET`).
    pub env: String,
}

/// The names of `name`: lowercase ASCII letters and digits in dash-separated words, starting
/// with a letter.
pub fn names(name: &str) -> Result<Names, String> {
    let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.split('-').all(|word| {
            !word.is_empty()
                && word
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        });
    if !valid {
        return Err(format!(
            "{name:?} is not a provider name: lowercase letters and digits in words joined by '-', starting with a letter (e.g. acme-pay)"
        ));
    }
    let variant = name
        .split('-')
        .map(|word| {
            let mut chars = word.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect();
    Ok(Names {
        name: name.to_owned(),
        module: name.replace('-', "_"),
        variant,
        env: name.replace('-', "_").to_ascii_uppercase(),
    })
}

/// Scaffold the provider `name` in the workspace at `root`; the files written or changed.
pub fn scaffold(root: &Path, name: &str, flavour: &Flavour) -> Result<Vec<PathBuf>, String> {
    let n = names(name)?;
    let crate_dir = root.join("crates").join(&n.name);
    let schema_dir = root.join("schemas").join(&n.name);
    let cli_module = root
        .join("crates/cli/src/providers")
        .join(format!("{}.rs", n.module));
    for taken in [&crate_dir, &schema_dir, &cli_module] {
        if taken.exists() {
            return Err(format!("{} exists already", taken.display()));
        }
    }
    let mut written = Vec::new();

    let generated_module = write_schemas(&n, &schema_dir, flavour, &mut written)?;
    write_crate(
        root,
        &n,
        &crate_dir,
        generated_module.as_deref(),
        &mut written,
    )?;
    register(
        root,
        &n,
        &cli_module,
        generated_module.as_deref(),
        &mut written,
    )?;
    Ok(written)
}

/// `schemas/NAME/`: the WSDL and its codegen manifest, or a place for JSON samples; the
/// generated module's name for SOAP.
fn write_schemas(
    n: &Names,
    schema_dir: &Path,
    flavour: &Flavour,
    written: &mut Vec<PathBuf>,
) -> Result<Option<String>, String> {
    let name = &n.name;
    Ok(match flavour {
        Flavour::Json => {
            write(
                &schema_dir.join("samples/README.md"),
                &format!(
                    "# {name} samples\n\nTODO: every request, answer and callback the provider documents, one file each, as published (with its source URL in a comment or beside it). The crate's tests decode each one.\n"
                ),
                written,
            )?;
            None
        }
        Flavour::Soap(wsdl) => {
            let file_name = wsdl
                .file_name()
                .and_then(|f| f.to_str())
                .ok_or_else(|| format!("{}: not a file name", wsdl.display()))?;
            let text =
                std::fs::read_to_string(wsdl).map_err(|e| format!("{}: {e}", wsdl.display()))?;
            write(&schema_dir.join(file_name), &text, written)?;
            let stem = Path::new(file_name)
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or("service");
            let module = crate::names::snake(stem);
            write(
                &schema_dir.join(MANIFEST),
                &format!(
                    "# `cargo xtask codegen`: these schema files become `crates/{}/src/generated/{module}.rs`.\ncrate = crates/{}\nmodule = {module}\nsource = {file_name}\n",
                    n.name, n.name
                ),
                written,
            )?;
            write(
                &schema_dir.join("samples/README.md"),
                &format!(
                    "# {name} samples\n\nTODO: every documented request and answer envelope, one file each, as published. The crate's tests decode each one with the generated types.\n"
                ),
                written,
            )?;
            Some(module)
        }
    })
}

/// A template with this provider's names (and, for SOAP, its generated module) filled in.
fn fill(template: &str, n: &Names, generated_module: Option<&str>) -> String {
    let soap = generated_module.is_some();
    template
        .replace("{{name}}", &n.name)
        .replace("{{module}}", &n.module)
        .replace("{{Variant}}", &n.variant)
        .replace("{{ENV}}", &n.env)
        .replace(
            "{{soap_deps}}",
            if soap {
                "yaserde.workspace = true\n"
            } else {
                ""
            },
        )
        .replace(
            "{{generated_mod}}",
            if soap { "pub mod generated;\n" } else { "" },
        )
        .replace(
            "{{generated_doc}}",
            if soap {
                ", `generated` (the wire types `cargo xtask codegen` writes from `schemas/`)"
            } else {
                ""
            },
        )
}

/// `crates/NAME/`: the contract's files, and for SOAP the generated wire types.
fn write_crate(
    root: &Path,
    n: &Names,
    crate_dir: &Path,
    generated_module: Option<&str>,
    written: &mut Vec<PathBuf>,
) -> Result<(), String> {
    let filled = |template: &str| fill(template, n, generated_module);
    write(
        &crate_dir.join("Cargo.toml"),
        &filled(include_str!("new_provider/cargo.toml.tmpl")),
        written,
    )?;
    for (file, template) in [
        ("src/lib.rs", include_str!("new_provider/lib.rs.tmpl")),
        ("src/client.rs", include_str!("new_provider/client.rs.tmpl")),
        ("src/error.rs", include_str!("new_provider/error.rs.tmpl")),
        (
            "src/notification.rs",
            include_str!("new_provider/notification.rs.tmpl"),
        ),
        (
            "src/provider.rs",
            include_str!("new_provider/provider.rs.tmpl"),
        ),
        ("src/route.rs", include_str!("new_provider/route.rs.tmpl")),
        (
            "src/sandbox.rs",
            include_str!("new_provider/sandbox.rs.tmpl"),
        ),
        (
            "src/signature.rs",
            include_str!("new_provider/signature.rs.tmpl"),
        ),
        (
            "tests/contract.rs",
            include_str!("new_provider/tests.rs.tmpl"),
        ),
    ] {
        write(&crate_dir.join(file), &rustfmt(&filled(template))?, written)?;
    }
    if generated_module.is_some() {
        generate(root, false)?;
        written.push(crate_dir.join("src/generated"));
    }
    Ok(())
}

/// The workspace dependency, the CLI's dependency, its module and its line in the list.
fn register(
    root: &Path,
    n: &Names,
    cli_module: &Path,
    generated_module: Option<&str>,
    written: &mut Vec<PathBuf>,
) -> Result<(), String> {
    insert_after_last(
        &root.join("Cargo.toml"),
        "[workspace.dependencies]",
        "paybridge-",
        &format!(
            "paybridge-{0} = {{ path = \"crates/{0}\", version = \"0.1.0\" }}",
            n.name
        ),
        written,
    )?;
    insert_after_last(
        &root.join("crates/cli/Cargo.toml"),
        "[dependencies]",
        "paybridge-",
        &format!(
            "paybridge-{} = {{ workspace = true, features = [\"sandbox\"] }}",
            n.name
        ),
        written,
    )?;
    write(
        cli_module,
        &rustfmt(&fill(
            include_str!("new_provider/cli.rs.tmpl"),
            n,
            generated_module,
        ))?,
        written,
    )?;
    let list = root.join("crates/cli/src/providers/mod.rs");
    let text = read(&list)?;
    let marker = "crate::registry::providers! {";
    let start = text
        .find(marker)
        .ok_or_else(|| format!("{}: no `{marker}`", list.display()))?;
    let end = text[start..]
        .find("\n}")
        .map(|at| start + at)
        .ok_or_else(|| format!("{}: the provider list is not closed", list.display()))?;
    let line = format!(
        "\n    /// TODO: what {} is, in a few words (the help of `paybridge {}`).\n    {} => {}, \"{}\";",
        n.name, n.name, n.variant, n.module, n.name
    );
    let updated = format!("{}{line}{}", &text[..end], &text[end..]);
    write(&list, &updated, written)?;
    Ok(())
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn write(path: &Path, contents: &str, written: &mut Vec<PathBuf>) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    std::fs::write(path, contents).map_err(|e| format!("{}: {e}", path.display()))?;
    written.push(path.to_path_buf());
    Ok(())
}

/// Insert `line` after the last line of `section` (a `[table]` header) in `path` that starts
/// with `prefix`.
fn insert_after_last(
    path: &Path,
    section: &str,
    prefix: &str,
    line: &str,
    written: &mut Vec<PathBuf>,
) -> Result<(), String> {
    let text = read(path)?;
    let mut lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.trim() == section)
        .ok_or_else(|| format!("{}: no {section}", path.display()))?;
    let end = lines
        .iter()
        .skip(start + 1)
        .position(|l| l.starts_with('['))
        .map_or(lines.len(), |at| start + 1 + at);
    let at = lines
        .get(start..end)
        .and_then(|section_lines| section_lines.iter().rposition(|l| l.starts_with(prefix)))
        .map_or(start, |at| start + at);
    lines.insert(at + 1, line);
    write(path, &(lines.join("\n") + "\n"), written)
}

#[cfg(test)]
mod tests {
    use super::names;

    #[test]
    fn names_follow_from_the_kebab_case_name() {
        let n = names("acme-pay2").unwrap();
        assert_eq!(
            (n.module.as_str(), n.variant.as_str(), n.env.as_str()),
            ("acme_pay2", "AcmePay2", "ACME_PAY2")
        );
        for bad in [
            "",
            "Acme",
            "acme_pay",
            "-acme",
            "acme-",
            "acme--pay",
            "2pay",
        ] {
            assert!(names(bad).is_err(), "{bad}");
        }
    }
}
