//! Which route each alert goes to: every `[[routes]]` entry it matches, else the default.

use super::Route;
use crate::ledger::{AlertRecord, Ledger, ScopeFilter};
use anyhow::Result;
use chrono::Days;

/// The alerts of each route, by route name (`""`: the default route, for alerts no route
/// matches). `source` is the ledger source the rules read (for tags).
pub fn route_alerts<'a>(
    ledger: &Ledger,
    source: &str,
    routes: &'a [Route],
    alerts: &[AlertRecord],
) -> Result<Vec<(Option<&'a Route>, Vec<AlertRecord>)>> {
    let mut out: Vec<(Option<&Route>, Vec<AlertRecord>)> =
        routes.iter().map(|r| (Some(r), Vec::new())).collect();
    let mut default = Vec::new();
    for alert in alerts {
        let mut matched = false;
        for (route, routed) in out.iter_mut() {
            let route = route.expect("named routes");
            if matches(ledger, source, route, alert)? {
                routed.push(alert.clone());
                matched = true;
            }
        }
        if !matched {
            default.push(alert.clone());
        }
    }
    out.push((None, default));
    out.retain(|(_, alerts)| !alerts.is_empty());
    Ok(out)
}

fn matches(ledger: &Ledger, source: &str, route: &Route, a: &AlertRecord) -> Result<bool> {
    let m = &route.matches;
    let listed = |list: &[String], value: &str| list.is_empty() || list.iter().any(|v| v == value);
    if !listed(&m.account, &a.account)
        || !listed(&m.service, &a.service)
        || m.severity.is_some_and(|min| a.severity < min)
    {
        return Ok(false);
    }
    if m.tag.is_empty() {
        return Ok(true);
    }
    // The tags the scope's cost of its last week carries.
    let scope = ScopeFilter {
        source,
        account: &a.account,
        service_code: &a.service,
        usage_type: &a.usage_type,
    };
    let costs = ledger.scope_costs(scope, a.data_day - Days::new(6), a.data_day)?;
    Ok(costs.iter().any(|c| {
        c.tags
            .split(';')
            .any(|tag| m.tag.iter().any(|want| want == tag))
    }))
}
