//! What becomes of findings: one open finding per scope, updated, escalated or resolved
//! ([`lifecycle`]), and the root cause told with each alert ([`root_cause`]).

pub mod lifecycle;
pub mod root_cause;
