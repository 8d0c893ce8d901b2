//! The language a plugin was written in, read from what its build tools left in it, and how to
//! build a plugin for this host in that language (remedies in messages name both).

use wasmparser::{KnownCustom, Parser, Payload};

/// A plugin's source language, as far as its build tools tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    Rust,
    Python,
    JavaScript,
    /// Nothing costwatch recognises.
    Other,
}

impl Language {
    /// The language of a component (or module). The Python and JavaScript runtimes are partly
    /// written in Rust, so they decide first: componentize-py links CPython as shared
    /// libraries (`libpython3.X.so`), ComponentizeJS names the language in its `producers`
    /// section. Rust is known by its `producers` sections (the language, or wit-bindgen's
    /// Rust generator, which a stripped build keeps).
    pub fn detect(bytes: &[u8]) -> Self {
        let (mut rust, mut javascript) = (false, false);
        for payload in Parser::new(0).parse_all(bytes) {
            match payload {
                Ok(Payload::ImportSection(imports)) => {
                    let python = imports.into_imports().flatten().any(|i| {
                        i.module.starts_with("libpython") || i.module.contains("componentize_py")
                    });
                    if python {
                        return Self::Python;
                    }
                }
                Ok(Payload::CustomSection(section)) => {
                    if let KnownCustom::Producers(producers) = section.as_known() {
                        for field in producers.into_iter().flatten() {
                            for v in field.values.into_iter().flatten() {
                                match (field.name, v.name) {
                                    ("language", "JavaScript")
                                    | ("processed-by", "ComponentizeJS") => javascript = true,
                                    ("language", "Rust") | ("processed-by", "wit-bindgen-rust") => {
                                        rust = true
                                    }
                                    _ => {}
                                }
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        match (javascript, rust) {
            (true, _) => Self::JavaScript,
            (false, true) => Self::Rust,
            (false, false) => Self::Other,
        }
    }

    /// `Rust`, `Python`, `JavaScript`, or `an unknown language`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Rust => "Rust",
            Self::Python => "Python",
            Self::JavaScript => "JavaScript",
            Self::Other => "an unknown language",
        }
    }

    /// How to build a plugin for `costwatch:rule@0.2.0` in this language.
    pub fn build_hint(self) -> &'static str {
        match self {
            Self::Rust => {
                "with the Rust SDK costwatch-rule 0.2 (crates/costwatch-rule): \
                 `cargo build --target wasm32-wasip2 --release`"
            }
            Self::Python => {
                "with componentize-py and the Python helpers (sdk/python): \
                 `componentize-py -d wit/v0.2.0 -w rule-plugin componentize app -p . \
                 -p sdk/python -o rule.wasm`"
            }
            Self::JavaScript => {
                "with ComponentizeJS, without the HTTP features costwatch does not offer: \
                 `npx componentize-js app.js --wit wit/v0.2.0 --world-name rule-plugin \
                 -d http fetch-event -o rule.wasm`"
            }
            Self::Other => {
                "as a WebAssembly component of the world rule-plugin \
                 (docs/plugins.md shows how in Rust, Python and JavaScript)"
            }
        }
    }
}
