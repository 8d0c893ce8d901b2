//! A rule's settings, declared once with [`settings!`](crate::settings): each with its kind,
//! default, description and bounds, which give the schema the host shows and checks the
//! `config` table against, and the parsing and validation of the table.

use crate::{RuleError, Setting, SettingKind, Value};

/// A rule's typed `config` table, as the host passes it (keys the user set).
#[derive(Debug, Clone, Default)]
pub struct Config {
    entries: Vec<(String, Value)>,
}

/// A type made from its settings; [`settings!`](crate::settings) implements it.
pub trait Settings: Sized {
    /// The settings, in the order declared.
    fn schema() -> Vec<Setting>;
    /// Reads and checks a `config` table: keys not in the schema, values of another kind and
    /// values out of bounds are errors naming the setting.
    fn from_config(config: &Config) -> Result<Self, RuleError>;
}

/// A Rust type a setting can have: `f64` (number), `usize` (days), `bool` (flag), `String`
/// (text), `Vec<String>` (texts).
pub trait SettingType: Sized {
    /// The kind of setting this type is.
    const KIND: SettingKind;
    /// As a setting value.
    fn into_value(self) -> Value;
    /// From a setting value of [`Self::KIND`].
    fn from_value(value: Value) -> Option<Self>;
}

impl SettingType for f64 {
    const KIND: SettingKind = SettingKind::Number;
    fn into_value(self) -> Value {
        Value::Number(self)
    }
    fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::Number(x) => Some(x),
            _ => None,
        }
    }
}

impl SettingType for usize {
    const KIND: SettingKind = SettingKind::Days;
    fn into_value(self) -> Value {
        Value::Days(self as u32)
    }
    fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::Days(d) => Some(d as usize),
            _ => None,
        }
    }
}

impl SettingType for bool {
    const KIND: SettingKind = SettingKind::Flag;
    fn into_value(self) -> Value {
        Value::Flag(self)
    }
    fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::Flag(b) => Some(b),
            _ => None,
        }
    }
}

impl SettingType for String {
    const KIND: SettingKind = SettingKind::Text;
    fn into_value(self) -> Value {
        Value::Text(self)
    }
    fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::Text(s) => Some(s),
            _ => None,
        }
    }
}

impl SettingType for Vec<String> {
    const KIND: SettingKind = SettingKind::Texts;
    fn into_value(self) -> Value {
        Value::Texts(self)
    }
    fn from_value(value: Value) -> Option<Self> {
        match value {
            Value::Texts(items) => Some(items),
            _ => None,
        }
    }
}

impl Config {
    /// A table of `(key, value)` pairs.
    pub fn new(entries: Vec<(String, Value)>) -> Self {
        Self { entries }
    }

    /// The value of every setting of `schema` in its order (the default where the table has
    /// none), after checking the table against it.
    pub fn resolve(&self, schema: &[Setting]) -> Result<Vec<Value>, RuleError> {
        let unknown: Vec<&str> = self
            .entries
            .iter()
            .map(|(k, _)| k.as_str())
            .filter(|k| !schema.iter().any(|s| s.name == *k))
            .collect();
        if !unknown.is_empty() {
            let known: Vec<&str> = schema.iter().map(|s| s.name.as_str()).collect();
            return Err(RuleError::BadConfig(format!(
                "unknown setting{} {}; this rule takes {}",
                if unknown.len() > 1 { "s" } else { "" },
                unknown.join(", "),
                if known.is_empty() {
                    "no settings".to_string()
                } else {
                    known.join(", ")
                }
            )));
        }
        schema
            .iter()
            .map(|s| {
                let Some((_, value)) = self.entries.iter().find(|(k, _)| *k == s.name) else {
                    return Ok(s.default_value.clone());
                };
                check(s, value).map_err(|why| {
                    RuleError::BadConfig(format!("{} = {}: {why}", s.name, toml_text(value)))
                })?;
                Ok(value.clone())
            })
            .collect()
    }
}

/// Whether `value` is of the setting's kind and within its bounds.
fn check(s: &Setting, value: &Value) -> Result<(), String> {
    let number = match (s.kind, value) {
        (SettingKind::Number, Value::Number(x)) if x.is_finite() => Some(*x),
        (SettingKind::Days, Value::Days(d)) if *d > 0 => Some(f64::from(*d)),
        (SettingKind::Flag, Value::Flag(_))
        | (SettingKind::Text, Value::Text(_))
        | (SettingKind::Texts, Value::Texts(_)) => None,
        (kind, _) => return Err(format!("not {}", kind_name(kind))),
    };
    match (number, s.min, s.max) {
        (Some(x), Some(min), _) if x < min => Err(format!("must be at least {min}")),
        (Some(x), _, Some(max)) if x > max => Err(format!("must be at most {max}")),
        _ => Ok(()),
    }
}

fn kind_name(kind: SettingKind) -> &'static str {
    match kind {
        SettingKind::Number => "a number",
        SettingKind::Days => "a positive whole number of days",
        SettingKind::Flag => "true or false",
        SettingKind::Text => "a string",
        SettingKind::Texts => "a list of strings",
    }
}

/// A value as TOML text, as a user writes it.
pub fn toml_text(value: &Value) -> String {
    match value {
        Value::Number(x) if x.fract() == 0.0 && x.abs() < 1e15 => format!("{x:.1}"),
        Value::Number(x) => x.to_string(),
        Value::Days(d) => d.to_string(),
        Value::Flag(b) => b.to_string(),
        Value::Text(s) => format!("{s:?}"),
        Value::Texts(items) => format!(
            "[{}]",
            items
                .iter()
                .map(|s| format!("{s:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Declares a rule's settings once, as a struct with one field per setting: its kind
/// (`number` is `f64`, `days` is `usize`, `flag` is `bool`, `text` is `String`, `texts` is
/// `Vec<String>`), its default, its bounds (`min`, `max`, for numbers and days) and, from its
/// doc comment, its description. The struct implements [`Settings`]: its schema, and reading
/// and checking a `config` table.
///
/// ```
/// costwatch_rule::settings! {
///     /// A day well above the days before it.
///     pub struct BigDays {
///         /// Times the baseline that fires.
///         ratio: number = 3.0, min 1.0;
///         /// Days before the evaluated day that form the baseline.
///         window_days: days = 28, min 7, max 89;
///         /// Usage types to leave out.
///         skip: texts = [];
///     }
/// }
/// # use costwatch_rule::Settings;
/// assert_eq!(BigDays::schema()[1].min, Some(7.0));
/// ```
#[macro_export]
macro_rules! settings {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $(
                $(#[doc = $doc:literal])*
                $field:ident : $kind:ident = $default:expr $(, min $min:expr)? $(, max $max:expr)?;
            )*
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $(
                $(#[doc = $doc])*
                pub $field: $crate::__setting!(type $kind),
            )*
        }

        impl $crate::Settings for $name {
            fn schema() -> ::std::vec::Vec<$crate::Setting> {
                ::std::vec![$(
                    $crate::Setting {
                        name: ::std::stringify!($field).into(),
                        kind: <$crate::__setting!(type $kind) as $crate::SettingType>::KIND,
                        default_value: $crate::SettingType::into_value(
                            $crate::__setting!(default $kind $default),
                        ),
                        description: ::std::concat!($($doc, " ",)* "").trim().replace("  ", " "),
                        min: $crate::__setting!(bound $($min)?),
                        max: $crate::__setting!(bound $($max)?),
                    },
                )*]
            }

            #[allow(unused_mut, unused_variables)]
            fn from_config(config: &$crate::Config) -> ::std::result::Result<Self, $crate::RuleError> {
                let mut values = config.resolve(&Self::schema())?.into_iter();
                ::std::result::Result::Ok(Self {
                    $(
                        $field: values
                            .next()
                            .and_then($crate::SettingType::from_value)
                            .expect("resolved against the schema"),
                    )*
                })
            }
        }
    };
}

/// The pieces [`settings!`] expands to per kind.
#[doc(hidden)]
#[macro_export]
macro_rules! __setting {
    (type number) => { f64 };
    (type days) => { usize };
    (type flag) => { bool };
    (type text) => { ::std::string::String };
    (type texts) => { ::std::vec::Vec<::std::string::String> };
    (default number $d:expr) => { ($d) as f64 };
    (default days $d:expr) => { ($d) as usize };
    (default flag $d:expr) => { $d };
    (default text $d:expr) => { ::std::string::String::from($d) };
    (default texts $d:expr) => {
        $d.iter()
            .map(|s: &&str| s.to_string())
            .collect::<::std::vec::Vec<::std::string::String>>()
    };
    (bound) => { ::std::option::Option::None };
    (bound $b:expr) => { ::std::option::Option::Some(($b) as f64) };
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::settings! {
        /// Test settings.
        struct Example {
            /// Times the baseline.
            ratio: number = 3, min 1.0;
            /// Days
            /// of baseline.
            window_days: days = 28, min 7, max 89;
            /// Quiet.
            quiet: flag = false;
            /// A mode.
            mode: text = "spike";
            /// Skipped.
            skip: texts = ["a", "b"];
        }
    }

    fn config(pairs: &[(&str, Value)]) -> Config {
        Config::new(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
        )
    }

    #[test]
    fn declared_once_gives_schema_defaults_and_values() {
        let schema = Example::schema();
        assert_eq!(schema.len(), 5);
        assert_eq!(schema[1].description, "Days of baseline.");
        assert_eq!((schema[1].min, schema[1].max), (Some(7.0), Some(89.0)));
        let defaults = Example::from_config(&Config::default()).unwrap();
        assert_eq!(defaults.ratio, 3.0);
        assert_eq!(defaults.skip, vec!["a", "b"]);
        let set = Example::from_config(&config(&[
            ("window_days", Value::Days(14)),
            ("mode", Value::Text("creep".into())),
        ]))
        .unwrap();
        assert_eq!((set.window_days, set.mode.as_str()), (14, "creep"));
        assert!(!set.quiet);
    }

    #[test]
    fn errors_name_the_setting_and_the_bound() {
        let err = |pairs: &[(&str, Value)]| match Example::from_config(&config(pairs)) {
            Err(RuleError::BadConfig(m)) => m,
            _ => panic!("expected a config error"),
        };
        assert_eq!(
            err(&[("window_days", Value::Days(3))]),
            "window_days = 3: must be at least 7"
        );
        assert_eq!(
            err(&[("ratio", Value::Flag(true))]),
            "ratio = true: not a number"
        );
        assert_eq!(
            err(&[("ratoi", Value::Number(2.0))]),
            "unknown setting ratoi; this rule takes ratio, window_days, quiet, mode, skip"
        );
    }
}
