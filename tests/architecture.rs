//! The import rules of docs/architecture.md, checked on the source: which top-level module
//! of costwatch may import which, no import cycle between them, no cycle between the modules
//! of crates/costwatch-cur, and no source file past 500 lines without a stated reason.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Who may import whom (`crate::X` paths), as docs/architecture.md states it. A module
/// missing here may import nothing.
const ALLOWED: &[(&str, &[&str])] = &[
    ("model", &[]),
    ("error", &[]),
    ("aws", &[]),
    ("lock", &["error"]),
    ("logging", &[]),
    ("ledger", &["model"]),
    ("sources", &["model", "ledger", "aws", "error"]),
    ("rules", &["model", "ledger"]),
    ("findings", &["model", "ledger"]),
    ("alerts", &["model", "ledger", "aws"]),
    ("budgets", &["model", "ledger", "aws", "error"]),
    (
        "config",
        &[
            "model", "aws", "sources", "rules", "findings", "alerts", "budgets", "error",
        ],
    ),
    (
        "pipeline",
        &[
            "model", "aws", "ledger", "sources", "rules", "findings", "alerts", "budgets",
            "config", "error",
        ],
    ),
    (
        "lambda",
        &["aws", "config", "error", "ledger", "alerts", "pipeline"],
    ),
];

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out.sort();
    out
}

/// The module a file belongs to: its first component under `root` (`ledger/usage.rs` →
/// `ledger`, `pipeline.rs` → `pipeline`).
fn module_of(root: &Path, file: &Path) -> String {
    let rest = file.strip_prefix(root).unwrap();
    let first = rest
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_string()
}

/// The `crate::X` modules a file's code names (comments left out).
fn imports(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for line in text.lines() {
        let code = line.split("//").next().unwrap_or("");
        for (i, _) in code.match_indices("crate::") {
            let before = code[..i].chars().last();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
                continue; // `costwatch_crate::` or `$crate::`
            }
            let name: String = code[i + 7..]
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
        // `use crate::{a, b}` groups.
        if let Some(group) = code.split("crate::{").nth(1) {
            for name in group.split([',', '}']) {
                let name = name.trim().split("::").next().unwrap_or("").trim();
                if !name.is_empty() && name.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                    out.insert(name.to_string());
                }
            }
        }
    }
    out
}

/// Module → the modules it imports, over the files under `root` (the crate root files
/// `lib.rs` and `main.rs` left out).
fn graph(root: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for file in sources(root) {
        let module = module_of(root, &file);
        if module == "lib" || module == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&file).unwrap();
        let deps = graph.entry(module.clone()).or_default();
        deps.extend(imports(&text).into_iter().filter(|d| *d != module));
    }
    graph
}

/// A cycle in `graph`, if there is one, as the modules around it.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_string());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_string());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut Vec::new(), &mut done))
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn modules_import_only_what_the_architecture_allows() {
    let graph = graph(&repo().join("src"));
    let allowed: BTreeMap<&str, &[&str]> = ALLOWED.iter().copied().collect();
    let mut wrong = Vec::new();
    for (module, deps) in &graph {
        if module == "cli" {
            continue; // the commands may use everything
        }
        let may = allowed.get(module.as_str()).copied().unwrap_or(&[]);
        for dep in deps {
            if !may.contains(&dep.as_str()) {
                wrong.push(format!("{module} imports {dep}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports docs/architecture.md does not allow (change the code, or the rule and its doc): {wrong:#?}"
    );
    assert_eq!(cycle(&graph), None, "an import cycle between modules");
}

#[test]
fn the_cur_crate_has_no_import_cycle() {
    let graph = graph(&repo().join("crates/costwatch-cur/src"));
    assert!(graph.len() > 5, "{graph:?}");
    assert_eq!(cycle(&graph), None, "an import cycle in costwatch-cur");
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", &["b"][..]),
        ("b", &["c"][..]),
        ("c", &["a"][..]),
        ("d", &[][..]),
    ]
    .into_iter()
    .map(|(n, deps)| (n.to_string(), deps.iter().map(|d| d.to_string()).collect()))
    .collect();
    let found = cycle(&graph).expect("a -> b -> c -> a");
    assert_eq!(found.first(), found.last());
    assert_eq!(
        imports("use crate::ledger::{Ledger, X};\nuse crate::{model, aws::Meter};"),
        ["aws", "ledger", "model"]
            .into_iter()
            .map(String::from)
            .collect()
    );
}

/// Files longer than this state why at their top (a line starting `//! Long:`).
const MAX_LINES: usize = 500;

#[test]
fn long_files_say_why() {
    let mut long = Vec::new();
    for root in ["src", "crates"] {
        for file in sources(&repo().join(root)) {
            let text = std::fs::read_to_string(&file).unwrap();
            let lines = text.lines().count();
            if lines > MAX_LINES && !text.lines().any(|l| l.starts_with("//! Long:")) {
                long.push(format!("{} ({lines} lines)", file.display()));
            }
        }
    }
    assert!(
        long.is_empty(),
        "split these, or say at their top why not (`//! Long: ...`): {long:#?}"
    );
}
