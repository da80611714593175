//! The codebase stays one a person can live in: no hand-written source file over 800 lines, no
//! test file over 1,000, and no import circles — no two files of a crate that import each
//! other, directly or around a loop. A file imports another when it names an item through the
//! other's module path (`crate::a::b::X`, `super::X`, `use child::X`); names reached through
//! the crate root (`crate::Error`, its front page's re-exports) are not an import of the root.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a panic is a failed test"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::str::FromStr as _;

use proc_macro2::{Delimiter, TokenStream, TokenTree};

type Module = Vec<String>;

/// Every `.rs` file under `dir`, generated code left out.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "generated") {
                rust_files(&path, out);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The source directories: each crate's `src`, the xtask's and the examples'.
fn source_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs = Vec::new();
    for parent in ["crates", "examples"] {
        for entry in std::fs::read_dir(root.join(parent)).unwrap() {
            let src = entry.unwrap().path().join("src");
            if src.is_dir() {
                dirs.push(src);
            }
        }
    }
    dirs.push(root.join("xtask/src"));
    dirs.sort();
    dirs
}

/// A file's module path in its crate (`lib.rs`/`main.rs`: the root).
fn module_of(src: &Path, file: &Path) -> Module {
    let rel = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Module = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("lib" | "main" | "mod")
    ) {
        parts.pop();
    }
    parts
}

fn is_punct(t: Option<&TokenTree>, c: char) -> bool {
    matches!(t, Some(TokenTree::Punct(p)) if p.as_char() == c)
}

fn ident(t: Option<&TokenTree>) -> Option<String> {
    match t {
        Some(TokenTree::Ident(i)) => Some(i.to_string()),
        _ => None,
    }
}

/// The path after `tokens[*i]` (which follows a `::`): its segments, and the first segment of
/// each member of a trailing `{…}` group.
fn path_after(tokens: &[TokenTree], i: &mut usize, base: &Module, out: &mut Vec<Module>) {
    let mut path = base.clone();
    while is_punct(tokens.get(*i), ':') && is_punct(tokens.get(*i + 1), ':') {
        *i += 2;
        match tokens.get(*i) {
            Some(TokenTree::Ident(name)) => {
                path.push(name.to_string());
                *i += 1;
            }
            Some(TokenTree::Group(group)) if group.delimiter() == Delimiter::Brace => {
                let inner: Vec<TokenTree> = group.stream().into_iter().collect();
                let mut at_start = true;
                for t in &inner {
                    if at_start && let TokenTree::Ident(name) = t {
                        let mut member = path.clone();
                        member.push(name.to_string());
                        out.push(member);
                    }
                    at_start = is_punct(Some(t), ',');
                }
                *i += 1;
                break;
            }
            _ => break,
        }
    }
    out.push(path);
}

/// Every module path the tokens of `module` name, test modules left out.
fn references(tokens: TokenStream, module: &Module, out: &mut Vec<Module>) {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let mut i = 0;
    while i < tokens.len() {
        // `#[cfg(test)] item`: skipped to the end of the item.
        if is_punct(tokens.get(i), '#')
            && let Some(TokenTree::Group(attr)) = tokens.get(i + 1)
            && attr.stream().to_string().replace(' ', "") == "cfg(test)"
        {
            i += 2;
            while i < tokens.len() {
                let end = matches!(&tokens[i], TokenTree::Group(g) if g.delimiter() == Delimiter::Brace)
                    || is_punct(tokens.get(i), ';');
                i += 1;
                if end {
                    break;
                }
            }
            continue;
        }
        match &tokens[i] {
            // `pub(super)`, `pub(crate)`: a visibility, not a path.
            TokenTree::Ident(word)
                if word == "pub"
                    && matches!(tokens.get(i + 1), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis) =>
            {
                i += 2;
                continue;
            }
            TokenTree::Ident(word) if word == "mod" => {
                // An inline module: `super` inside it is this module.
                if let (Some(name), Some(TokenTree::Group(body))) =
                    (ident(tokens.get(i + 1)), tokens.get(i + 2))
                {
                    let mut inner = module.clone();
                    inner.push(name);
                    references(body.stream(), &inner, out);
                    i += 3;
                    continue;
                }
            }
            TokenTree::Ident(word) if word == "crate" => {
                i += 1;
                path_after(&tokens, &mut i, &Vec::new(), out);
                continue;
            }
            TokenTree::Ident(word) if word == "super" => {
                let mut base = module.clone();
                base.pop();
                i += 1;
                while is_punct(tokens.get(i), ':')
                    && ident(tokens.get(i + 2)).as_deref() == Some("super")
                {
                    base.pop();
                    i += 3;
                }
                path_after(&tokens, &mut i, &base, out);
                continue;
            }
            TokenTree::Ident(word) if word == "use" => {
                // `use child::…` names a module declared here.
                if let Some(name) = ident(tokens.get(i + 1))
                    && is_punct(tokens.get(i + 2), ':')
                {
                    let mut child = module.clone();
                    child.push(name);
                    out.push(child);
                }
            }
            TokenTree::Group(group) => references(group.stream(), module, out),
            _ => {}
        }
        i += 1;
    }
}

/// The import circles of the crate at `src`: each a set of modules that import each other.
fn circles(src: &Path) -> Vec<Vec<String>> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let modules: BTreeMap<Module, PathBuf> =
        files.into_iter().map(|f| (module_of(src, &f), f)).collect();
    let mut edges: BTreeMap<Module, BTreeSet<Module>> = BTreeMap::new();
    for (module, file) in &modules {
        let text = std::fs::read_to_string(file).unwrap();
        let tokens =
            TokenStream::from_str(&text).unwrap_or_else(|e| panic!("{}: {e:?}", file.display()));
        let mut named = Vec::new();
        references(tokens, module, &mut named);
        for path in named {
            // The longest prefix that is a file of this crate; the root is the front page.
            let target = (1..=path.len())
                .rev()
                .map(|n| path[..n].to_vec())
                .find(|prefix| modules.contains_key(prefix));
            if let Some(target) = target
                && &target != module
            {
                edges.entry(module.clone()).or_default().insert(target);
            }
        }
    }
    if std::env::var_os("LAYOUT_EDGES").is_some() {
        for (from, to) in &edges {
            eprintln!(
                "{} {} -> {:?}",
                src.display(),
                from.join("::"),
                to.iter().map(|m| m.join("::")).collect::<Vec<_>>()
            );
        }
    }
    strongly_connected(&modules.keys().cloned().collect::<Vec<_>>(), &edges)
        .into_iter()
        .filter(|c| c.len() > 1)
        .map(|c| c.iter().map(|m| m.join("::")).collect())
        .collect()
}

/// Tarjan's strongly connected components.
fn strongly_connected(
    nodes: &[Module],
    edges: &BTreeMap<Module, BTreeSet<Module>>,
) -> Vec<Vec<Module>> {
    struct State<'a> {
        edges: &'a BTreeMap<Module, BTreeSet<Module>>,
        index: BTreeMap<Module, usize>,
        low: BTreeMap<Module, usize>,
        stack: Vec<Module>,
        on_stack: BTreeSet<Module>,
        found: Vec<Vec<Module>>,
    }
    fn visit(s: &mut State<'_>, v: &Module) {
        let n = s.index.len();
        s.index.insert(v.clone(), n);
        s.low.insert(v.clone(), n);
        s.stack.push(v.clone());
        s.on_stack.insert(v.clone());
        for w in s.edges.get(v).cloned().unwrap_or_default() {
            if !s.index.contains_key(&w) {
                visit(s, &w);
                let low = s.low[v].min(s.low[&w]);
                s.low.insert(v.clone(), low);
            } else if s.on_stack.contains(&w) {
                let low = s.low[v].min(s.index[&w]);
                s.low.insert(v.clone(), low);
            }
        }
        if s.low[v] == s.index[v] {
            let mut component = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(&w);
                let done = &w == v;
                component.push(w);
                if done {
                    break;
                }
            }
            s.found.push(component);
        }
    }
    let mut s = State {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in nodes {
        if !s.index.contains_key(v) {
            visit(&mut s, v);
        }
    }
    s.found
}

#[test]
fn no_crate_has_an_import_circle() {
    let root = xtask::workspace_root();
    let found: Vec<String> = source_dirs(&root)
        .iter()
        .flat_map(|src| {
            circles(src)
                .into_iter()
                .map(move |c| format!("{}: {}", src.display(), c.join(" ↔ ")))
        })
        .collect();
    assert!(found.is_empty(), "import circles:\n{}", found.join("\n"));
}

#[test]
fn the_checker_sees_a_circle_and_a_nested_module() {
    let dir = std::env::temp_dir().join(format!("paybridge-layout-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("a")).unwrap();
    std::fs::write(dir.join("lib.rs"), "mod a; mod b; pub use a::X;").unwrap();
    std::fs::write(
        dir.join("a/mod.rs"),
        "mod c; pub struct X; use crate::b::Y;",
    )
    .unwrap();
    std::fs::write(
        dir.join("a/c.rs"),
        "mod inner { use super::Z; } pub struct Z; pub(super) fn g() {}",
    )
    .unwrap();
    std::fs::write(
        dir.join("b.rs"),
        "pub struct Y; fn f() { let _ = crate::a::X; }",
    )
    .unwrap();
    let found: Vec<BTreeSet<String>> = circles(&dir)
        .into_iter()
        .map(|c| c.into_iter().collect())
        .collect();
    assert_eq!(
        found,
        vec![BTreeSet::from(["a".to_owned(), "b".to_owned()])]
    );
    std::fs::write(
        dir.join("b.rs"),
        "pub struct Y; #[cfg(test)] mod t { use crate::a::X; }",
    )
    .unwrap();
    assert!(circles(&dir).is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn no_file_is_too_long_to_read() {
    let root = xtask::workspace_root();
    let mut long = Vec::new();
    let mut check = |dir: PathBuf, limit: usize| {
        let mut files = Vec::new();
        rust_files(&dir, &mut files);
        for file in files {
            let lines = std::fs::read_to_string(&file).unwrap().lines().count();
            if lines > limit {
                long.push(format!("{} ({lines} > {limit})", file.display()));
            }
        }
    };
    for src in source_dirs(&root) {
        check(src, 800);
    }
    for parent in ["crates", "examples"] {
        for entry in std::fs::read_dir(root.join(parent)).unwrap() {
            check(entry.unwrap().path().join("tests"), 1_000);
        }
    }
    check(root.join("xtask/tests"), 1_000);
    assert!(
        long.is_empty(),
        "files over the limit:\n{}",
        long.join("\n")
    );
}
