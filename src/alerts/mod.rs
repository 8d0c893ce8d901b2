//! From findings to delivered notifications: lifecycle (dedup, escalate, resolve), digest, delivery.

pub mod delivery;
pub mod digest;
pub mod lifecycle;
pub mod root_cause;

/// `value`, or `placeholder` when it is empty (an alert spanning every service, a fact
/// without a region).
fn or<'a>(value: &'a str, placeholder: &'a str) -> &'a str {
    if value.is_empty() { placeholder } else { value }
}
