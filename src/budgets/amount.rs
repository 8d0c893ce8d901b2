//! Budget amounts as exact decimals. AWS echoes an amount rewritten (`"100"` comes back
//! `"100.0"`, `"25100000"` as `"2.51E+7"`), so amounts are compared and sent in one canonical
//! form: no exponent, no leading zeros, no trailing zeros after the point.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Digits past which an amount is refused (AWS caps thresholds at 15 × 10¹²).
const MAX_INTEGER_DIGITS: usize = 15;

/// A non-negative decimal amount in canonical form, e.g. `1200`, `12.5`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub struct Amount(String);

impl Amount {
    /// Parses `100`, `100.0`, `0100.50` or `2.51E+7` (as AWS writes them).
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("{text:?} is not an amount (digits with an optional decimal point)");
        let t = text.trim();
        let t = t.strip_prefix('+').unwrap_or(t);
        let (mantissa, exponent) = match t.split_once(['e', 'E']) {
            Some((m, e)) => (m, e.parse::<i32>().map_err(|_| bad())?),
            None => (t, 0),
        };
        let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let digits = format!("{whole}{fraction}");
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) || exponent.abs() > 30 {
            return Err(bad());
        }
        let exponent = exponent - fraction.len() as i32;
        let digits = digits.trim_start_matches('0');
        let text = if digits.is_empty() {
            "0".to_string()
        } else if exponent >= 0 {
            format!("{digits}{}", "0".repeat(exponent as usize))
        } else {
            let point = digits.len() as i32 + exponent;
            let (int, frac) = if point > 0 {
                let (i, f) = digits.split_at(point as usize);
                (i.to_string(), f.to_string())
            } else {
                (
                    "0".to_string(),
                    format!("{}{digits}", "0".repeat(-point as usize)),
                )
            };
            let frac = frac.trim_end_matches('0');
            if frac.is_empty() {
                int
            } else {
                format!("{int}.{frac}")
            }
        };
        if text.split('.').next().unwrap_or("").len() > MAX_INTEGER_DIGITS {
            return Err(format!("{text} is too large an amount"));
        }
        Ok(Self(text))
    }

    /// The amount of a TOML or JSON number.
    pub fn from_f64(value: f64) -> Result<Self, String> {
        if !value.is_finite() || value < 0.0 {
            return Err(format!("{value} is not an amount"));
        }
        Self::parse(&value.to_string())
    }

    /// The amount as a number (for projections and printing).
    pub fn value(&self) -> f64 {
        self.0.parse().unwrap_or(0.0)
    }

    /// Whether the amount is zero.
    pub fn is_zero(&self) -> bool {
        self.0 == "0"
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<Amount> for String {
    fn from(a: Amount) -> String {
        a.0
    }
}

/// An amount as the config writes it: a number or a string.
impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Integer(u64),
            Float(f64),
            Text(String),
        }
        let amount = match Written::deserialize(d).map_err(|_| {
            serde::de::Error::custom("an amount is a non-negative number, e.g. 1200 or 99.5")
        })? {
            Written::Integer(n) => Self::parse(&n.to_string()),
            Written::Float(x) => Self::from_f64(x),
            Written::Text(s) => Self::parse(&s),
        };
        amount.map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_as_aws_echoes_them_are_the_same_amounts() {
        let canonical = |s: &str| Amount::parse(s).unwrap().to_string();
        assert_eq!(canonical("100"), "100");
        assert_eq!(canonical("100.0"), "100");
        assert_eq!(canonical("0100.50"), "100.5");
        assert_eq!(canonical("2.51E+7"), "25100000");
        assert_eq!(canonical("1.5E-3"), "0.0015");
        assert_eq!(canonical("0.000"), "0");
        assert_eq!(canonical(".5"), "0.5");
        assert_eq!(Amount::from_f64(1234.56).unwrap().to_string(), "1234.56");
        assert!(Amount::parse("-3").is_err());
        assert!(Amount::parse("12,5").is_err());
        assert!(Amount::parse("1e40").is_err());
        assert!(Amount::parse("").is_err());
    }
}
