//! `costwatch rule new`: a rule plugin that builds and passes its own tests as created, in
//! Rust (a crate depending on the costwatch-rule SDK) or Python (an app with the helpers and
//! the interface copied in, built with componentize-py).

use crate::error::{EXIT_OK, Error};
use anyhow::{Context as _, Result};
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct NewArgs {
    /// Rule id and crate name: lower-case letters, digits and dashes.
    pub name: String,
    /// The language of the plugin.
    #[arg(long, value_enum, default_value_t = Lang::Rust)]
    pub lang: Lang,
    /// Folder to create (default: ./NAME).
    #[arg(long, value_name = "PATH")]
    pub dir: Option<PathBuf>,
    /// Rust: the costwatch-rule SDK crate to depend on (default: the one this costwatch was
    /// built from).
    #[arg(long, value_name = "PATH")]
    pub sdk: Option<PathBuf>,
}

/// A language `rule new` writes plugins in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    Rust,
    Python,
}

/// The interface the plugins implement, copied into Python scaffolds.
const WIT: &str = include_str!("../../../wit/v0.2.0/rule.wit");

/// The Python helpers (`sdk/python/costwatch_rule`), copied into Python scaffolds.
const PYTHON_SDK: [(&str, &str); 5] = [
    (
        "__init__.py",
        include_str!("../../../sdk/python/costwatch_rule/__init__.py"),
    ),
    (
        "_core.py",
        include_str!("../../../sdk/python/costwatch_rule/_core.py"),
    ),
    (
        "_export.py",
        include_str!("../../../sdk/python/costwatch_rule/_export.py"),
    ),
    (
        "_host.py",
        include_str!("../../../sdk/python/costwatch_rule/_host.py"),
    ),
    (
        "testing.py",
        include_str!("../../../sdk/python/costwatch_rule/testing.py"),
    ),
];

pub fn new(args: &NewArgs) -> Result<i32> {
    let name = args.name.as_str();
    let valid = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-');
    if !valid {
        return Err(Error::config(format!(
            "rule name {name:?}: use lower-case letters, digits and dashes, starting with a letter"
        ))
        .into());
    }
    let dir = args.dir.clone().unwrap_or_else(|| PathBuf::from(name));
    if dir.exists() && dir.read_dir().is_ok_and(|mut d| d.next().is_some()) {
        return Err(
            Error::config(format!("{} already exists and is not empty", dir.display())).into(),
        );
    }
    let file = name.replace('-', "_");
    let fill = |template: &str| template.replace("{name}", name).replace("{file}", &file);
    let (files, next) = match args.lang {
        Lang::Rust => {
            let sdk = rust_sdk(args.sdk.as_deref())?;
            let type_name: String = name
                .split('-')
                .map(|w| {
                    let mut c = w.chars();
                    c.next()
                        .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                        .unwrap_or_default()
                })
                .collect();
            let files = vec![
                (
                    "Cargo.toml".to_string(),
                    fill(include_str!("templates/rust/Cargo.toml.txt")).replace("{sdk}", &sdk),
                ),
                (
                    "src/lib.rs".to_string(),
                    fill(include_str!("templates/rust/lib.rs.txt")).replace("MyRule", &type_name),
                ),
                (
                    "README.md".to_string(),
                    fill(include_str!("templates/rust/README.md")),
                ),
                (
                    ".gitignore".to_string(),
                    include_str!("templates/rust/gitignore").to_string(),
                ),
            ];
            let next = format!(
                "  test:  cd {} && cargo test\n  build: cargo build --target wasm32-wasip2 --release\n  try:   costwatch rule test target/wasm32-wasip2/release/{file}.wasm --data CUR_FILE_OR_DIR",
                dir.display()
            );
            (files, next)
        }
        Lang::Python => {
            let mut files = vec![
                (
                    "app.py".to_string(),
                    fill(include_str!("templates/python/app.py")),
                ),
                (
                    "test_app.py".to_string(),
                    fill(include_str!("templates/python/test_app.py")),
                ),
                (
                    "README.md".to_string(),
                    fill(include_str!("templates/python/README.md")),
                ),
                (
                    ".gitignore".to_string(),
                    include_str!("templates/python/gitignore").to_string(),
                ),
                ("wit/rule.wit".to_string(), WIT.to_string()),
            ];
            files.extend(
                PYTHON_SDK
                    .iter()
                    .map(|(f, text)| (format!("costwatch_rule/{f}"), text.to_string())),
            );
            let next = format!(
                "  test:  cd {} && python -m unittest\n  build: componentize-py -d wit -w rule-plugin componentize app -o {file}.wasm\n  try:   costwatch rule test {file}.wasm --data CUR_FILE_OR_DIR",
                dir.display()
            );
            (files, next)
        }
    };
    for (file, text) in files {
        let path = dir.join(file);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating {}", parent.display()))?;
        }
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    println!(
        "created rule plugin {name} ({:?}) in {}\n{next}",
        args.lang,
        dir.display()
    );
    Ok(EXIT_OK)
}

/// The SDK crate a Rust scaffold depends on, as a path for its Cargo.toml.
fn rust_sdk(sdk: Option<&Path>) -> Result<String> {
    let sdk = match sdk {
        Some(sdk) => sdk.to_path_buf(),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("crates/costwatch-rule"),
    };
    if !sdk.join("Cargo.toml").exists() {
        return Err(Error::config(format!(
            "the costwatch-rule SDK is not at {}: pass --sdk PATH (crates/costwatch-rule in costwatch's source)",
            sdk.display()
        ))
        .into());
    }
    let sdk = sdk.canonicalize().unwrap_or(sdk);
    Ok(sdk.display().to_string().replace('\\', "/"))
}
