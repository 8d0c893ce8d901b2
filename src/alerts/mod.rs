//! From alerts to delivered notifications: the digest ([`digest`]), who gets which alerts
//! ([`Route`]), the channels ([`channels`]) and the outbox's delivery ([`deliver_pending`]).

pub mod channels;
mod config;
pub mod delivery;
pub mod digest;
mod routing;

pub use channels::smtp::{SmtpConfig, SmtpSecurity};
pub use config::{AlertsConfig, Route, RouteMatch};
pub use delivery::{Delivery, deliver_pending};
pub use routing::route_alerts;
