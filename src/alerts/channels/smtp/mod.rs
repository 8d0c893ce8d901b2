//! E-mail through an SMTP server (`[alerts.smtp]`), the whole exchange under one deadline.

mod channel;
mod config;

pub use channel::Smtp;
pub use config::{SmtpConfig, SmtpSecurity};
