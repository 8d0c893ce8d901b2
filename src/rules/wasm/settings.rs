//! A rule's `config` table against its settings: TOML values to typed values of each
//! setting's kind (0.2), keys the rule does not take refused; values back to TOML text.

use super::v0_2::{Setting, SettingKind, Value};

/// The typed table of a TOML `config` table; errors name the setting and say what it takes.
pub fn typed(schema: &[Setting], table: &toml::Table) -> Result<Vec<(String, Value)>, String> {
    let unknown: Vec<&str> = table
        .keys()
        .filter(|k| !schema.iter().any(|s| &s.name == *k))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        let known: Vec<&str> = schema.iter().map(|s| s.name.as_str()).collect();
        return Err(format!(
            "unknown setting{} {}; this rule takes {}",
            if unknown.len() > 1 { "s" } else { "" },
            unknown.join(", "),
            if known.is_empty() {
                "no settings".to_string()
            } else {
                known.join(", ")
            }
        ));
    }
    schema
        .iter()
        .filter_map(|s| table.get(&s.name).map(|v| (s, v)))
        .map(|(s, v)| {
            value(s.kind, v)
                .map(|typed| (s.name.clone(), typed))
                .map_err(|why| format!("{} = {v}: {why}", s.name))
        })
        .collect()
}

/// A value of `kind` from TOML text (`3`, `"a"`, `["a", "b"]`).
pub fn parse(kind: SettingKind, text: &str) -> Result<Value, &'static str> {
    let table: toml::Table = format!("v = {text}").parse().map_err(|_| "not TOML")?;
    value(kind, &table["v"])
}

/// A TOML value as a value of `kind`, or what `kind` takes.
fn value(kind: SettingKind, v: &toml::Value) -> Result<Value, &'static str> {
    use toml::Value as T;
    match (kind, v) {
        (SettingKind::Number, T::Float(x)) if x.is_finite() => Ok(Value::Number(*x)),
        (SettingKind::Number, T::Integer(i)) => Ok(Value::Number(*i as f64)),
        (SettingKind::Number, _) => Err("not a number"),
        (SettingKind::Days, T::Integer(i)) if *i > 0 && *i <= u32::MAX as i64 => {
            Ok(Value::Days(*i as u32))
        }
        (SettingKind::Days, _) => Err("not a positive whole number of days"),
        (SettingKind::Flag, T::Boolean(b)) => Ok(Value::Flag(*b)),
        (SettingKind::Flag, _) => Err("not true or false"),
        (SettingKind::Text, T::String(s)) => Ok(Value::Text(s.clone())),
        (SettingKind::Text, _) => Err("not a string"),
        (SettingKind::Texts, T::Array(items)) => items
            .iter()
            .map(|i| i.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .map(Value::Texts)
            .ok_or("not a list of strings"),
        (SettingKind::Texts, _) => Err("not a list of strings"),
    }
}

/// A value as TOML text, as a user writes it.
pub fn toml_text(v: &Value) -> String {
    let v = match v {
        Value::Number(x) => toml::Value::Float(*x),
        Value::Days(d) => toml::Value::Integer((*d).into()),
        Value::Flag(b) => toml::Value::Boolean(*b),
        Value::Text(s) => toml::Value::String(s.clone()),
        Value::Texts(items) => {
            toml::Value::Array(items.iter().cloned().map(toml::Value::String).collect())
        }
    };
    v.to_string()
}

/// The kind's name with the setting's bounds: `days, at least 4`, `number, 0 to 1`.
pub fn kind_text(s: &Setting) -> String {
    let kind = match s.kind {
        SettingKind::Number => "number",
        SettingKind::Days => "days",
        SettingKind::Flag => "flag",
        SettingKind::Text => "text",
        SettingKind::Texts => "texts",
    };
    match (s.min, s.max) {
        (Some(min), Some(max)) => format!("{kind}, {min} to {max}"),
        (Some(min), None) => format!("{kind}, at least {min}"),
        (None, Some(max)) => format!("{kind}, at most {max}"),
        (None, None) => kind.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setting(name: &str, kind: SettingKind) -> Setting {
        Setting {
            name: name.into(),
            kind,
            default_value: Value::Flag(false),
            description: String::new(),
            min: None,
            max: None,
        }
    }

    #[test]
    fn toml_values_become_typed_values_of_their_setting_kind() {
        let schema = [
            setting("k", SettingKind::Number),
            setting("d", SettingKind::Days),
            setting("on", SettingKind::Flag),
            setting("name", SettingKind::Text),
            setting("list", SettingKind::Texts),
        ];
        let table: toml::Table = "k = 3\nd = 14\non = true\nname = \"a\"\nlist = [\"x\", \"y\"]"
            .parse()
            .unwrap();
        let typed = typed(&schema, &table).unwrap();
        assert_eq!(typed.len(), 5);
        assert!(matches!(typed[0], (_, Value::Number(x)) if x == 3.0));
        assert!(matches!(typed[1], (_, Value::Days(14))));
        assert!(matches!(&typed[4], (_, Value::Texts(l)) if l.len() == 2));
        assert_eq!(toml_text(&typed[0].1), "3.0");
        assert_eq!(toml_text(&typed[4].1), "[\"x\", \"y\"]");
    }

    #[test]
    fn errors_name_the_setting_and_what_it_takes() {
        let schema = [setting("short_days", SettingKind::Days)];
        let bad: toml::Table = "short_days = 0".parse().unwrap();
        assert_eq!(
            typed(&schema, &bad).unwrap_err(),
            "short_days = 0: not a positive whole number of days"
        );
        let unknown: toml::Table = "shrot_days = 3".parse().unwrap();
        assert_eq!(
            typed(&schema, &unknown).unwrap_err(),
            "unknown setting shrot_days; this rule takes short_days"
        );
    }
}
