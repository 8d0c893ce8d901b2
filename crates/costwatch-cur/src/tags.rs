//! The configured tag keys, and where a file holds their values.

use crate::snake_case;

/// Where the values of the configured tag keys are.
#[derive(Debug, Clone)]
pub enum TagSource {
    /// No tag keys configured.
    None,
    /// One column per configured key (legacy CUR `resourceTags/user:team`, Athena
    /// `resource_tags_user_team`); `None` where the file has no such column.
    Columns(Vec<Option<usize>>),
    /// A map column: CUR 2.0 `resource_tags`, FOCUS `Tags` (JSON text in CSV).
    Map(usize),
}

/// Whether a map key (`user_team`, `user:team`) is the configured key `user:team`.
pub fn tag_key_matches(map_key: &str, configured: &str) -> bool {
    map_key == configured || snake_case(map_key) == snake_case(configured)
}

/// Tag keys as configured, sorted and deduplicated: the canonical order of `FactKey::tags`.
pub fn sorted_tag_keys(keys: &[String]) -> Vec<String> {
    let mut keys: Vec<String> = keys.iter().map(|k| k.trim().to_string()).collect();
    keys.retain(|k| !k.is_empty());
    keys.sort();
    keys.dedup();
    keys
}

/// Values of `keys` in a JSON object of tags (FOCUS `Tags`); empty when absent or not JSON.
pub(crate) fn json_tags(text: &[u8], keys: &[String]) -> Vec<String> {
    let map: serde_json::Map<String, serde_json::Value> = if text.is_empty() {
        serde_json::Map::new()
    } else {
        serde_json::from_slice(text).unwrap_or_default()
    };
    keys.iter()
        .map(|k| {
            map.iter()
                .find(|(mk, _)| tag_key_matches(mk, k))
                .map(|(_, v)| match v {
                    serde_json::Value::String(s) => s.clone(),
                    serde_json::Value::Null => String::new(),
                    other => other.to_string(),
                })
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_tags_match_configured_keys() {
        let keys = vec!["user:team".to_string(), "user:env".to_string()];
        let v = json_tags(br#"{"user:team":"red","other":"x"}"#, &keys);
        assert_eq!(v, ["red", ""]);
    }
}
