//! A failed call in words: the guest's own error whatever its language (its crash report, else
//! what its runtime printed), or the sandbox limit it hit.

use super::engine::Limits;
use super::host::State;
use super::v0_2::Crash;

/// Why a call failed, and whether it ran out of memory (a smaller batch may fit).
#[derive(Debug)]
pub struct Failure {
    pub out_of_memory: bool,
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// The failure of a call of plugin `name`, in words.
pub fn explain(name: &str, e: &wasmtime::Error, state: &State, limits: Limits) -> Failure {
    let text = format!("{e:#}");
    let out_of_memory = text.contains("forcing trap when growing memory");
    let what = if out_of_memory {
        format!(
            "ran out of memory: it tried to grow past its {} MiB limit and was stopped \
             (raise the rule's memory_mb)",
            limits.memory_bytes >> 20
        )
    } else if let Some(trap) = e.downcast_ref::<wasmtime::Trap>() {
        match *trap {
            wasmtime::Trap::Interrupt => format!(
                "ran longer than its time limit of {} ms and was stopped",
                limits.timeout.as_millis()
            ),
            wasmtime::Trap::StackOverflow => {
                "overflowed its stack (call stack exhausted) and was stopped".to_string()
            }
            wasmtime::Trap::UnreachableCodeReached => guest_error(state)
                .unwrap_or_else(|| "aborted (wasm `unreachable` reached)".to_string()),
            // Rust guests keep their stack in linear memory: overflowing it is the usual
            // way safe code gets here.
            wasmtime::Trap::MemoryOutOfBounds => {
                "overflowed its stack or accessed memory out of bounds, and was stopped".to_string()
            }
            other => format!("trapped and was stopped: {other}"),
        }
    } else {
        format!("failed: {text}")
    };
    Failure {
        out_of_memory,
        message: format!("plugin {name} {what}"),
    }
}

/// The guest's own error: its crash report (0.2), the panic its 0.1 SDK logged, or the last
/// error its runtime printed.
fn guest_error(state: &State) -> Option<String> {
    if let Some(crash) = &state.crash {
        return Some(crash_text(crash));
    }
    if let Some(message) = state.panic_message() {
        return Some(format!("panicked: {}", message.replace('\n', " ")));
    }
    let output = state.output();
    let crash = python_traceback(&output)
        .or_else(|| componentize_js_error(&output))
        .or_else(|| rust_panic(&output));
    crash.map(|c| crash_text(&c)).or_else(|| {
        let last = output
            .lines()
            .rev()
            .map(str::trim)
            .find(|l| !l.is_empty() && !l.starts_with("note: "))?;
        Some(format!("aborted: {last}"))
    })
}

/// `panicked: MESSAGE (at LOCATION)` or `raised KIND: MESSAGE (at LOCATION)`.
fn crash_text(c: &Crash) -> String {
    let head = if c.kind == "panic" {
        "panicked".to_string()
    } else {
        format!("raised {}", c.kind)
    };
    let message = c.message.trim().replace('\n', " ");
    let at = c
        .location
        .as_ref()
        .map(|l| format!(" (at {l})"))
        .unwrap_or_default();
    format!("{head}: {message}{at}")
}

/// The last Python traceback printed: its exception line and innermost frame.
fn python_traceback(output: &str) -> Option<Crash> {
    let start = output.rfind("Traceback (most recent call last):")?;
    let mut location = None;
    for line in output[start..].lines().skip(1) {
        if let Some(frame) = line.trim_start().strip_prefix("File \"") {
            // `File "/0/app.py", line 12, in check`; componentize-py puts sources in `/N/`.
            let (file, rest) = frame.split_once('"')?;
            let file = file.rsplit('/').next().unwrap_or(file);
            let line_no = rest.split("line ").nth(1)?.split(',').next()?;
            let func = rest.rsplit(" in ").next().unwrap_or("").trim();
            location = Some(format!("{file}:{line_no} in {func}"));
        } else if !line.starts_with(' ') && !line.trim().is_empty() {
            let (kind, message) = line.split_once(": ").unwrap_or((line, ""));
            return Some(Crash {
                kind: kind.trim().to_string(),
                message: message.to_string(),
                location,
                trace: None,
            });
        }
    }
    None
}

/// The error ComponentizeJS printed when an uncaught exception reached the interface: it
/// says it ``received `TypeError: message` ``.
fn componentize_js_error(output: &str) -> Option<Crash> {
    let start = output.rfind("(received `")? + "(received `".len();
    let error = &output[start..start + output[start..].find("`)")?];
    let (kind, message) = error.split_once(": ").unwrap_or(("Error", error));
    Some(Crash {
        kind: kind.to_string(),
        message: message.to_string(),
        location: None,
        trace: None,
    })
}

/// The last panic Rust's default hook printed: `thread '…' panicked at FILE:LINE:COL:` then
/// the message.
fn rust_panic(output: &str) -> Option<Crash> {
    let start = output.rfind("panicked at ")?;
    let rest = &output[start + "panicked at ".len()..];
    let (location, message) = rest.split_once(":\n")?;
    let message: Vec<&str> = message
        .lines()
        .take_while(|l| !l.starts_with("note: "))
        .collect();
    Some(Crash {
        kind: "panic".into(),
        message: message.join("\n"),
        location: Some(location.to_string()),
        trace: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_python_traceback_gives_the_exception_and_where() {
        let out = "Traceback (most recent call last):\n  File \"/0/app.py\", line 12, in evaluate\n    \
                   raise ValueError(x)\nValueError: no baseline for USE1-NatGateway-Bytes\n\
                   thread '<unnamed>' (1) panicked at runtime/src/lib.rs:1293:29:\n\
                   Python function threw an unexpected exception\nnote: run with `RUST_BACKTRACE=1`\n";
        let crash = python_traceback(out).unwrap();
        assert_eq!(
            crash_text(&crash),
            "raised ValueError: no baseline for USE1-NatGateway-Bytes (at app.py:12 in evaluate)"
        );
    }

    #[test]
    fn a_componentize_js_exception_gives_the_error() {
        let out = "invalid variant tag value `undefined` (received `TypeError: can't access \
                   property \"boom\" of null`) specified for `RuleError`\nStack:\n  \
                   export_rule_0_2_0$evaluate@initializer.js:853:17\n\
                   Redirecting call to abort() to mozalloc_abort\n";
        let crash = componentize_js_error(out).unwrap();
        assert_eq!(
            crash_text(&crash),
            "raised TypeError: can't access property \"boom\" of null"
        );
    }

    #[test]
    fn a_rust_panic_gives_the_message_and_where() {
        let out = "thread '<unnamed>' (1) panicked at src/lib.rs:10:5:\nindex out of bounds\n\
                   note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace\n";
        let crash = rust_panic(out).unwrap();
        assert_eq!(
            crash_text(&crash),
            "panicked: index out of bounds (at src/lib.rs:10:5)"
        );
    }
}
