//! A plugin for `costwatch:rule@1.0.0`, which this costwatch does not run.

wit_bindgen::generate!({ world: "rule-plugin", path: "wit" });

use exports::costwatch::rule::rule::{Guest, RuleInfo};

struct Future;

impl Guest for Future {
    fn info() -> RuleInfo {
        RuleInfo {
            id: "future".into(),
            version: "1.0.0".into(),
        }
    }
}

export!(Future);
