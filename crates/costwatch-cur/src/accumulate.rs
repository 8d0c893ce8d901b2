//! Adding a file's rows to the daily groups: one row at a time, or a batch of typed columns.

use crate::agg::{Aggregator, Row};
use crate::cells::{Cell, Columns, DayCache, FieldError, NULL_DAY, Typed, digits, show, str_of};
use crate::charges::Charges;
use crate::layout::Layout;
use crate::tags::{TagSource, json_tags};

impl Layout {
    /// The tag set ([`Aggregator::tag_set`]) of a row given as text cells; `keys` are the
    /// configured tag keys, sorted.
    #[inline]
    pub(crate) fn row_tags<'r>(
        &self,
        row: impl Fn(usize) -> Cell<'r>,
        keys: &[String],
        agg: &mut Aggregator,
    ) -> u32 {
        let raw = |i: usize| str_of(row(i));
        match &self.tags {
            TagSource::None => 0,
            TagSource::Columns(cols) => {
                let mut tags: [&[u8]; 16] = [b""; 16];
                for (slot, col) in tags.iter_mut().zip(cols) {
                    *slot = col.map_or(b"" as &[u8], raw);
                }
                agg.tag_set(&tags[..cols.len().min(16)])
            }
            TagSource::Map(col) => {
                let values = json_tags(raw(*col), keys);
                let tags: Vec<&[u8]> = values.iter().map(|v| v.as_bytes()).collect();
                agg.tag_set(&tags)
            }
        }
    }

    /// Adds one row to `agg`; `tags` is its tag set ([`Aggregator::tag_set`]).
    #[inline]
    pub fn accumulate<'r>(
        &self,
        row: impl Fn(usize) -> Cell<'r>,
        tags: u32,
        days: &mut DayCache,
        agg: &mut Aggregator,
    ) -> Result<(), FieldError> {
        let opt = |i: Option<usize>| i.map_or(Cell::Null, &row);
        let err = |i: usize, expected| FieldError {
            column: self.header[i].clone(),
            value: show(row(i)),
            expected,
        };
        let (day, day_period) = days
            .cell(row(self.day))
            .ok_or_else(|| err(self.day, "a date"))?;
        let period = match self.billing_period.map(&row) {
            Some(Cell::Str(v) | Cell::Id(_, v)) if v.len() >= 7 && v[4] == b'-' => {
                match (digits(&v[..4]), digits(&v[5..7])) {
                    (Some(y), Some(m)) => y * 100 + m,
                    _ => return Err(err(self.billing_period.expect("some"), "a date")),
                }
            }
            Some(Cell::Day(d)) => days.days(d).1,
            _ => day_period,
        };
        let number = |i: usize| -> Result<f64, FieldError> {
            match row(i) {
                Cell::Num(x) if x.is_finite() => Ok(x),
                Cell::Null => Ok(0.0),
                Cell::Str(v) | Cell::Id(_, v) => {
                    let v = v.trim_ascii();
                    if v.is_empty() {
                        return Ok(0.0);
                    }
                    std::str::from_utf8(v)
                        .ok()
                        .and_then(|s| s.parse::<f64>().ok())
                        .filter(|x| x.is_finite())
                        .ok_or_else(|| err(i, "a number"))
                }
                _ => Err(err(i, "a number")),
            }
        };
        let (category, amortized) = self.charge(
            str_of(row(self.category)),
            str_of(opt(self.commitment_status)),
            str_of(opt(self.commitment_type)),
        );
        let unblended = number(self.unblended)?;
        let amortized = amortized.value(unblended, number)?;
        let usage_amount = self.usage_amount.map_or(Ok(0.0), number)?;
        let row = Row {
            period,
            day,
            category,
            account: agg.id(row(self.account)),
            service_code: agg.id(row(self.service_code)),
            usage_type: agg.id(row(self.usage_type)),
            region: agg.id(opt(self.region)),
            tags,
            service_name: agg.id(opt(self.service_name)),
            usage_unit: agg.id(opt(self.usage_unit)),
            unblended,
            amortized,
            usage_amount,
        };
        agg.add(&row);
        Ok(())
    }

    /// Adds a batch of rows given as typed columns, `tags` holding each row's tag set
    /// ([`Aggregator::tag_set`]; empty without tag keys).
    ///
    /// Returns false, having added nothing, if a column the facts need is not typed as
    /// they need it (text, number, day): then the rows are to be added one by one. A row
    /// this path does not take (a null day, a number that is not finite) goes to
    /// `one_row`, which adds it or reports its error as [`Layout::accumulate`] does.
    pub fn accumulate_batch(
        &self,
        batch: &impl Columns,
        tags: &[u32],
        days: &mut DayCache,
        charges: &mut Charges,
        agg: &mut Aggregator,
        mut one_row: impl FnMut(usize, &mut DayCache, &mut Aggregator) -> Result<(), FieldError>,
    ) -> Result<bool, FieldError> {
        let ids = |c: usize| match batch.typed(c) {
            Some(Typed::Ids(v)) => Some(v),
            _ => None,
        };
        let numbers = |c: usize| match batch.typed(c) {
            Some(Typed::Numbers(v)) => Some(v),
            _ => None,
        };
        let day_of = |c: usize| match batch.typed(c) {
            Some(Typed::Days(v)) => Some(v),
            _ => None,
        };
        /// An optional column: absent (`Some(None)`), typed (`Some(Some(..))`) or not
        /// typed as needed (`None`).
        fn optional<T>(c: Option<usize>, typed: impl Fn(usize) -> Option<T>) -> Option<Option<T>> {
            match c {
                None => Some(None),
                Some(c) => typed(c).map(Some),
            }
        }
        let (
            Some(day),
            Some(period),
            Some(account),
            Some(service_code),
            Some(usage_type),
            Some(region),
            Some(service_name),
            Some(usage_unit),
            Some(line_type),
            Some(status),
            Some(kind),
            Some(unblended),
            Some(usage_amount),
        ) = (
            day_of(self.day),
            optional(self.billing_period, day_of),
            ids(self.account),
            ids(self.service_code),
            ids(self.usage_type),
            optional(self.region, ids),
            optional(self.service_name, ids),
            optional(self.usage_unit, ids),
            ids(self.category),
            optional(self.commitment_status, ids),
            optional(self.commitment_type, ids),
            numbers(self.unblended),
            optional(self.usage_amount, numbers),
        )
        else {
            return Ok(false);
        };
        // The amounts amortized cost may read, by header position.
        let mut amounts: Vec<Option<Typed>> = (0..self.header.len()).map(|_| None).collect();
        for c in self.amortization_columns().into_iter().flatten() {
            match batch.typed(c) {
                Some(t @ (Typed::Numbers(_) | Typed::IndexedNumbers { .. })) => {
                    amounts[c] = Some(t)
                }
                _ => return Ok(false),
            }
        }
        let at = |column: Option<&[u32]>, r: usize| column.map_or(0, |v| v[r]);
        for r in 0..batch.rows() {
            if day[r] == NULL_DAY {
                one_row(r, days, agg)?;
                continue;
            }
            let (day, day_period) = days.days(day[r]);
            let period = match period.map(|p| p[r]) {
                Some(p) if p != NULL_DAY => days.days(p).1,
                _ => day_period,
            };
            let ids = (line_type[r], at(status, r), at(kind, r));
            let (category, rule) = charges.get(ids, || {
                let text = |id: u32| agg.strings.get(id);
                self.charge(text(ids.0), text(ids.1), text(ids.2))
            });
            let unblended = unblended[r];
            let Ok(amortized) = rule.value(unblended, |c| {
                let amount = amounts[c].as_ref().expect("amounts of the rules");
                Ok::<_, std::convert::Infallible>(amount.number(r))
            });
            let usage_amount = usage_amount.map_or(0.0, |v| v[r]);
            if !(unblended.is_finite() && amortized.is_finite() && usage_amount.is_finite()) {
                one_row(r, days, agg)?;
                continue;
            }
            agg.add(&Row {
                period,
                day,
                category,
                account: account[r],
                service_code: service_code[r],
                usage_type: usage_type[r],
                region: at(region, r),
                tags: tags.get(r).copied().unwrap_or(0),
                service_name: at(service_name, r),
                usage_unit: at(usage_unit, r),
                unblended,
                amortized,
                usage_amount,
            });
        }
        Ok(true)
    }
}
