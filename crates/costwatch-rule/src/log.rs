//! The host log: lines show up in costwatch's log tagged with the rule. Outside WebAssembly
//! (a plugin's own `cargo test`) they go to stderr.

#[cfg(target_arch = "wasm32")]
fn write(level: crate::bindings::costwatch::rule::host::Level, message: &str) {
    crate::bindings::costwatch::rule::host::log(level, message);
}

#[cfg(not(target_arch = "wasm32"))]
fn write(level: crate::bindings::costwatch::rule::host::Level, message: &str) {
    eprintln!("[{level:?}] {message}");
}

/// Logs at debug level.
pub fn debug(message: &str) {
    write(
        crate::bindings::costwatch::rule::host::Level::Debug,
        message,
    );
}

/// Logs at info level.
pub fn info(message: &str) {
    write(crate::bindings::costwatch::rule::host::Level::Info, message);
}

/// Logs at warning level.
pub fn warn(message: &str) {
    write(crate::bindings::costwatch::rule::host::Level::Warn, message);
}

/// Logs at error level.
pub fn error(message: &str) {
    write(
        crate::bindings::costwatch::rule::host::Level::Error,
        message,
    );
}
