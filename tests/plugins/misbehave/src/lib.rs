//! A rule plugin that misbehaves on purpose (`mode` = loop, hog, panic, stack, error,
//! bad-finding) or runs a built-in detector (`mode` = spike, creep) exactly as the host does:
//! the sandbox tests and the native-vs-plugin benchmark use it.

use costwatch_rule::*;
use std::hint::black_box;

settings! {
    /// What to do.
    pub struct Misbehave {
        /// loop, hog, panic, stack, error, spike or creep.
        mode: text = "spike";
    }
}

const MODES: [&str; 7] = ["loop", "hog", "panic", "stack", "error", "spike", "creep"];

impl Rule for Misbehave {
    fn info() -> Info {
        Info::new(
            "misbehave",
            env!("CARGO_PKG_VERSION"),
            "misbehaves on purpose (tests)",
        )
    }

    fn validate(&self) -> Result<(), RuleError> {
        if MODES.contains(&self.mode.as_str()) {
            return Ok(());
        }
        Err(RuleError::BadConfig(format!(
            "mode = {:?}: use one of {}",
            self.mode,
            MODES.join(", ")
        )))
    }

    fn evaluate(&self, ctx: &Context, batch: &[Series]) -> Result<Vec<Finding>, RuleError> {
        match self.mode.as_str() {
            "loop" => {
                let mut i: u64 = 0;
                loop {
                    i = black_box(i.wrapping_add(1));
                }
            }
            "hog" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(black_box(vec![1u8; 1 << 20]));
                }
            }
            "panic" => {
                let empty: Vec<f64> = black_box(Vec::new());
                panic!(
                    "no baseline for {} series (first value {})",
                    batch.len(),
                    empty[0]
                );
            }
            "stack" => Ok(vec![Finding::new(
                &batch[0].key,
                Severity::Info,
                recurse(black_box(1 << 30)) as f64,
                0.0,
                "unreachable",
            )]),
            "error" => Err(RuleError::BadInput(
                "the batch has no CloudWatch series".into(),
            )),
            mode => {
                let detect = if mode == "creep" {
                    detect::creep
                } else {
                    detect::spike
                };
                let params = Params::default();
                Ok(batch
                    .iter()
                    .filter_map(|s| {
                        let d = detect(&s.daily(ctx.weekday), &params)?;
                        Some(Finding::from_detection(
                            &s.key,
                            &d,
                            format!("{mode} in {}", s.key.label()),
                        ))
                    })
                    .collect())
            }
        }
    }
}

/// Deep recursion that the optimiser cannot turn into a loop.
fn recurse(n: u64) -> u64 {
    let frame = black_box([n; 16]);
    if n == 0 {
        return frame[3];
    }
    recurse(black_box(n - 1)).wrapping_add(frame[black_box(5)])
}

export_rule!(Misbehave);
