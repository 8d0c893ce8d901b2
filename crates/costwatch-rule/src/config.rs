//! Typed reading of a rule's `config` table. Each getter names a setting, its default and what
//! it means; reading an empty table is how the settings are described to the host.

use crate::{RuleError, Setting};

/// A rule's `config` table as the host passes it: keys with TOML-text values.
#[derive(Debug, Clone)]
pub struct Config {
    entries: Vec<(String, String)>,
    used: Vec<bool>,
    schema: Vec<Setting>,
}

impl Config {
    /// A table of `(key, TOML text)` pairs.
    pub fn new(entries: Vec<(String, String)>) -> Self {
        let used = vec![false; entries.len()];
        Self {
            entries,
            used,
            schema: Vec::new(),
        }
    }

    /// The settings read so far, with their defaults.
    pub fn schema(&self) -> &[Setting] {
        &self.schema
    }

    /// A finite number (`3` or `0.5`).
    pub fn number(
        &mut self,
        name: &str,
        default: f64,
        description: &str,
    ) -> Result<f64, RuleError> {
        self.read(
            name,
            "number",
            &fmt_f64(default),
            description,
            default,
            |v| {
                v.parse::<f64>()
                    .ok()
                    .filter(|x| x.is_finite())
                    .ok_or("not a number")
            },
        )
    }

    /// A positive whole number of days.
    pub fn days(&mut self, name: &str, default: u32, description: &str) -> Result<u32, RuleError> {
        self.read(
            name,
            "days",
            &default.to_string(),
            description,
            default,
            |v| {
                v.parse::<u32>()
                    .ok()
                    .filter(|&d| d > 0)
                    .ok_or("not a positive whole number of days")
            },
        )
    }

    /// `true` or `false`.
    pub fn flag(
        &mut self,
        name: &str,
        default: bool,
        description: &str,
    ) -> Result<bool, RuleError> {
        self.read(
            name,
            "bool",
            &default.to_string(),
            description,
            default,
            |v| v.parse::<bool>().map_err(|_| "not true or false"),
        )
    }

    /// A string.
    pub fn string(
        &mut self,
        name: &str,
        default: &str,
        description: &str,
    ) -> Result<String, RuleError> {
        self.read(
            name,
            "string",
            &quote(default),
            description,
            default.to_string(),
            |v| unquote(v).ok_or("not a string"),
        )
    }

    /// A list of strings.
    pub fn strings(
        &mut self,
        name: &str,
        default: &[&str],
        description: &str,
    ) -> Result<Vec<String>, RuleError> {
        let default_text = format!(
            "[{}]",
            default
                .iter()
                .map(|s| quote(s))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let default = default.iter().map(|s| s.to_string()).collect();
        self.read(name, "strings", &default_text, description, default, |v| {
            parse_strings(v).ok_or("not a list of strings")
        })
    }

    /// Fails on keys no getter asked for, listing the known settings.
    pub fn finish(self) -> Result<(), RuleError> {
        let unknown: Vec<&str> = self
            .entries
            .iter()
            .zip(&self.used)
            .filter(|(_, used)| !**used)
            .map(|((k, _), _)| k.as_str())
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        let known: Vec<&str> = self.schema.iter().map(|s| s.name.as_str()).collect();
        Err(RuleError::BadConfig(format!(
            "unknown setting{} {}; this rule takes {}",
            if unknown.len() > 1 { "s" } else { "" },
            unknown.join(", "),
            if known.is_empty() {
                "no settings".to_string()
            } else {
                known.join(", ")
            }
        )))
    }

    fn read<T>(
        &mut self,
        name: &str,
        kind: &str,
        default_text: &str,
        description: &str,
        default: T,
        parse: impl Fn(&str) -> Result<T, &'static str>,
    ) -> Result<T, RuleError> {
        if !self.schema.iter().any(|s| s.name == name) {
            self.schema.push(Setting {
                name: name.into(),
                kind: kind.into(),
                default_value: default_text.into(),
                description: description.into(),
            });
        }
        let Some(i) = self.entries.iter().position(|(k, _)| k == name) else {
            return Ok(default);
        };
        self.used[i] = true;
        let value = self.entries[i].1.trim();
        parse(value).map_err(|why| RuleError::BadConfig(format!("{name} = {value}: {why}")))
    }
}

fn fmt_f64(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{x:.1}")
    } else {
        x.to_string()
    }
}

fn quote(s: &str) -> String {
    format!("{s:?}")
}

/// A TOML basic or literal string.
fn unquote(v: &str) -> Option<String> {
    let v = v.trim();
    if let Some(inner) = v.strip_prefix('\'').and_then(|r| r.strip_suffix('\'')) {
        return Some(inner.to_string());
    }
    let inner = v.strip_prefix('"')?.strip_suffix('"')?;
    let mut out = String::new();
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            '"' => out.push('"'),
            '\\' => out.push('\\'),
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                out.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
            }
            _ => return None,
        }
    }
    Some(out)
}

/// `["a", "b"]` (strings without commas or brackets inside).
fn parse_strings(v: &str) -> Option<Vec<String>> {
    let inner = v.trim().strip_prefix('[')?.strip_suffix(']')?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(unquote)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Config {
        Config::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        )
    }

    #[test]
    fn typed_values_and_defaults() {
        let mut c = config(&[("k", "3"), ("name", "\"a\\\"b\""), ("list", "[\"x\", 'y']")]);
        assert_eq!(c.number("k", 1.0, "").unwrap(), 3.0);
        assert_eq!(c.days("d", 7, "").unwrap(), 7);
        assert_eq!(c.string("name", "", "").unwrap(), "a\"b");
        assert_eq!(c.strings("list", &[], "").unwrap(), vec!["x", "y"]);
        assert!(c.flag("f", true, "").unwrap());
        assert_eq!(c.schema().len(), 5);
        c.finish().unwrap();
    }

    #[test]
    fn errors_name_the_setting() {
        let mut c = config(&[("d", "-2")]);
        let err = c.days("d", 7, "").unwrap_err();
        assert!(format!("{err:?}").contains("d = -2"), "{err:?}");
        let mut c = config(&[("treshold", "3")]);
        c.number("threshold", 1.0, "").unwrap();
        let err = format!("{:?}", c.finish().unwrap_err());
        assert!(
            err.contains("treshold") && err.contains("threshold"),
            "{err}"
        );
    }
}
