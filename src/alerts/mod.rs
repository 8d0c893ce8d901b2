//! From findings to delivered notifications: lifecycle (dedup, escalate, resolve), digest, delivery.

pub mod delivery;
pub mod digest;
pub mod lifecycle;
pub mod root_cause;
