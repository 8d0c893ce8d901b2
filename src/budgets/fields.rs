//! The checked values of a `[[budgets]]` entry: each checks itself as it is read, so an
//! error carries the line of its key. Names, currencies, filter values, thresholds and
//! subscribers, as AWS Budgets accepts them.

use super::checks::{self, MAX_ABSOLUTE, MAX_PERCENT};
use super::spec::Subscriber;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::marker::PhantomData;

/// The subscribers of a notification: `email:ADDRESS` or `sns:TOPIC-ARN`, at least one, at
/// most 10 e-mail addresses and 1 SNS topic, none twice.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(try_from = "Vec<String>")]
pub struct Subscribers(pub BTreeSet<Subscriber>);

impl TryFrom<Vec<String>> for Subscribers {
    type Error = String;

    fn try_from(written: Vec<String>) -> Result<Self, String> {
        if written.is_empty() {
            return Err("at least one subscriber is needed".into());
        }
        let mut set = BTreeSet::new();
        for text in &written {
            if !set.insert(Subscriber::parse(text)?) {
                return Err(format!("{text:?} is listed twice"));
            }
        }
        let count = |sns| {
            set.iter()
                .filter(|s| matches!(s, Subscriber::Sns(_)) == sns)
                .count()
        };
        let (emails, topics) = (count(false), count(true));
        if emails > checks::MAX_EMAIL_SUBSCRIBERS {
            return Err(format!(
                "{emails} e-mail subscribers; AWS allows at most {} per notification",
                checks::MAX_EMAIL_SUBSCRIBERS
            ));
        }
        if topics > checks::MAX_SNS_SUBSCRIBERS {
            return Err(format!(
                "{topics} SNS subscribers; AWS allows at most {} per notification",
                checks::MAX_SNS_SUBSCRIBERS
            ));
        }
        Ok(Self(set))
    }
}

/// A checked budget name.
#[derive(Deserialize)]
#[serde(try_from = "String")]
pub(super) struct Name(pub String);

impl TryFrom<String> for Name {
    type Error = String;

    fn try_from(name: String) -> Result<Self, String> {
        checks::budget_name(&name).map(|()| Self(name))
    }
}

/// A currency code: three capital letters.
#[derive(Deserialize)]
#[serde(try_from = "String")]
pub(super) struct Currency(pub String);

impl TryFrom<String> for Currency {
    type Error = String;

    fn try_from(code: String) -> Result<Self, String> {
        if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
            Ok(Self(code))
        } else {
            Err(format!("{code:?} is not a currency code such as \"USD\""))
        }
    }
}

/// What a filter's values must look like.
pub(super) trait ValueCheck {
    /// The values expected, in words.
    const WHAT: &'static str;
    fn ok(value: &str) -> bool;
}

pub(super) struct AnyValue;
impl ValueCheck for AnyValue {
    const WHAT: &'static str = "a non-empty value";
    fn ok(value: &str) -> bool {
        !value.trim().is_empty()
    }
}

pub(super) struct AccountId;
impl ValueCheck for AccountId {
    const WHAT: &'static str = "a 12-digit account id";
    fn ok(value: &str) -> bool {
        checks::account_id(value)
    }
}

pub(super) struct Region;
impl ValueCheck for Region {
    const WHAT: &'static str = "a region code such as \"us-east-1\"";
    fn ok(value: &str) -> bool {
        checks::region(value)
    }
}

pub(super) struct KeyValue;
impl ValueCheck for KeyValue {
    const WHAT: &'static str = "KEY$VALUE, e.g. \"user:team$web\"";
    fn ok(value: &str) -> bool {
        checks::key_value(value)
    }
}

/// A filter's values: at least one, each as `C` wants.
#[derive(Deserialize)]
#[serde(try_from = "Vec<String>", bound = "C: ValueCheck")]
pub(super) struct Values<C: ValueCheck> {
    pub set: BTreeSet<String>,
    check: PhantomData<C>,
}

impl<C: ValueCheck> TryFrom<Vec<String>> for Values<C> {
    type Error = String;

    fn try_from(values: Vec<String>) -> Result<Self, String> {
        if values.is_empty() {
            return Err(format!("no values: give at least one ({})", C::WHAT));
        }
        if let Some(bad) = values.iter().find(|v| !C::ok(v)) {
            return Err(format!("{bad:?} is not {}", C::WHAT));
        }
        Ok(Self {
            set: values.into_iter().collect(),
            check: PhantomData,
        })
    }
}

/// The range a threshold must lie in.
pub(super) trait Bound {
    const MAX: f64;
    const WHAT: &'static str;
}

pub(super) struct PercentBound;
impl Bound for PercentBound {
    const MAX: f64 = MAX_PERCENT;
    const WHAT: &'static str = "a percentage threshold";
}

pub(super) struct AmountBound;
impl Bound for AmountBound {
    const MAX: f64 = MAX_ABSOLUTE;
    const WHAT: &'static str = "an absolute threshold";
}

/// A threshold within `B`'s range (0 to its maximum).
#[derive(Deserialize)]
#[serde(try_from = "f64", bound = "B: Bound")]
pub(super) struct Bounded<B: Bound> {
    pub value: f64,
    bound: PhantomData<B>,
}

impl<B: Bound> TryFrom<f64> for Bounded<B> {
    type Error = String;

    fn try_from(value: f64) -> Result<Self, String> {
        if (0.0..=B::MAX).contains(&value) {
            Ok(Self {
                value,
                bound: PhantomData,
            })
        } else {
            Err(format!(
                "{value} is out of range: {} is from 0 to {}",
                B::WHAT,
                B::MAX
            ))
        }
    }
}
