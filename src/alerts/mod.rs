//! From alerts to delivered notifications: the digest and its delivery.

mod config;
pub mod delivery;
pub mod digest;

pub use config::{AlertsConfig, SmtpConfig, SmtpSecurity};
