//! The property of costwatch-cur's own Parquet page decoders: on generated files (random
//! nulls, repeated and unique strings, dictionary or plain pages, page format 1 or 2, pages of
//! a few rows, three codecs), the daily facts are those computed from the rows the parquet
//! crate's own reader gives.

use costwatch_cur::{ReadOptions, read_parquet};
use parquet::basic::{Compression, LogicalType, Repetition, TimeUnit, Type as Physical, ZstdLevel};
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::{WriterProperties, WriterVersion};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::file::writer::SerializedFileWriter;
use parquet::record::Field;
use parquet::schema::types::Type;
use std::collections::BTreeMap;
use std::sync::Arc;

/// A seeded generator.
struct Gen(u64);

impl Gen {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

const STRINGS: [&str; 5] = [
    "line_item_usage_account_id",
    "line_item_line_item_type",
    "line_item_product_code",
    "line_item_usage_type",
    "product_region_code",
];
const NUMBERS: [&str; 2] = ["line_item_unblended_cost", "line_item_usage_amount"];
const DAY_MICROS: i64 = 86_400_000_000;

fn schema() -> Arc<Type> {
    let mut fields = vec![Arc::new(
        Type::primitive_type_builder("line_item_usage_start_date", Physical::INT64)
            .with_logical_type(Some(LogicalType::Timestamp {
                is_adjusted_to_u_t_c: true,
                unit: TimeUnit::MICROS,
            }))
            .with_repetition(Repetition::REQUIRED)
            .build()
            .unwrap(),
    )];
    for name in STRINGS {
        fields.push(Arc::new(
            Type::primitive_type_builder(name, Physical::BYTE_ARRAY)
                .with_logical_type(Some(LogicalType::String))
                .with_repetition(Repetition::OPTIONAL)
                .build()
                .unwrap(),
        ));
    }
    for name in NUMBERS {
        fields.push(Arc::new(
            Type::primitive_type_builder(name, Physical::DOUBLE)
                .with_repetition(Repetition::OPTIONAL)
                .build()
                .unwrap(),
        ));
    }
    Arc::new(
        Type::group_type_builder("schema")
            .with_fields(fields)
            .build()
            .unwrap(),
    )
}

/// Writes `rows` random rows in row groups of `group` rows with random writer settings.
fn write(path: &std::path::Path, g: &mut Gen, rows: usize, group: usize) {
    let codec = [
        Compression::UNCOMPRESSED,
        Compression::SNAPPY,
        Compression::ZSTD(ZstdLevel::default()),
    ][g.next(3) as usize];
    let props = WriterProperties::builder()
        .set_writer_version(if g.next(2) == 0 {
            WriterVersion::PARQUET_1_0
        } else {
            WriterVersion::PARQUET_2_0
        })
        .set_dictionary_enabled(g.next(3) != 0)
        .set_data_page_row_count_limit(1 + g.next(300) as usize)
        .set_write_batch_size(1 + g.next(64) as usize)
        .set_compression(codec)
        .build();
    let file = std::fs::File::create(path).unwrap();
    let mut writer = SerializedFileWriter::new(file, schema(), Arc::new(props)).unwrap();
    let types = [
        "Usage",
        "Usage",
        "Usage",
        "Tax",
        "Credit",
        "DiscountedUsage",
    ];
    let mut start = 0;
    while start < rows {
        let n = group.min(rows - start);
        let mut rg = writer.next_row_group().unwrap();
        // The day: one of a few.
        let days: Vec<i64> = (0..n)
            .map(|_| (20_500 + g.next(4) as i64) * DAY_MICROS)
            .collect();
        let mut col = rg.next_column().unwrap().unwrap();
        col.typed::<Int64Type>()
            .write_batch(&days, None, None)
            .unwrap();
        col.close().unwrap();
        for (c, _) in STRINGS.iter().enumerate() {
            let mut values = Vec::new();
            let mut defs = Vec::new();
            for _ in 0..n {
                // The line-item type is never null; the others sometimes are.
                if c != 1 && g.next(10) == 0 {
                    defs.push(0);
                    continue;
                }
                defs.push(1);
                let text = match c {
                    1 => types[g.next(types.len() as u64) as usize].to_string(),
                    // Unique values now and then (no dictionary hit).
                    _ if g.next(20) == 0 => format!("unique-{}", g.next(1_000_000)),
                    _ => format!("{}-{}", STRINGS[c], g.next(6)),
                };
                values.push(ByteArray::from(text.as_str()));
            }
            let mut col = rg.next_column().unwrap().unwrap();
            col.typed::<ByteArrayType>()
                .write_batch(&values, Some(&defs), None)
                .unwrap();
            col.close().unwrap();
        }
        for _ in NUMBERS {
            let mut values = Vec::new();
            let mut defs = Vec::new();
            for _ in 0..n {
                if g.next(8) == 0 {
                    defs.push(0);
                } else {
                    defs.push(1);
                    values.push(g.next(100_000) as f64 / 100.0);
                }
            }
            let mut col = rg.next_column().unwrap().unwrap();
            col.typed::<DoubleType>()
                .write_batch(&values, Some(&defs), None)
                .unwrap();
            col.close().unwrap();
        }
        rg.close().unwrap();
        start += n;
    }
    writer.close().unwrap();
}

/// Unblended cost by (day, account, product code, usage type, region, line-item type), from
/// the rows the parquet crate's record reader gives.
type Totals = BTreeMap<(i64, String, String, String, String, String), f64>;

fn reference(path: &std::path::Path) -> Totals {
    let reader = SerializedFileReader::new(std::fs::File::open(path).unwrap()).unwrap();
    let mut out = Totals::new();
    for row in reader.get_row_iter(None).unwrap() {
        let row = row.unwrap();
        let mut text = BTreeMap::new();
        let (mut day, mut cost) = (0, 0.0);
        for (name, field) in row.get_column_iter() {
            match field {
                Field::TimestampMicros(t) => day = t.div_euclid(DAY_MICROS),
                Field::Str(s) => {
                    text.insert(name.clone(), s.clone());
                }
                Field::Double(x) if name == "line_item_unblended_cost" => cost = *x,
                _ => {}
            }
        }
        let get = |k: &str| text.get(k).cloned().unwrap_or_default();
        *out.entry((
            day,
            get(STRINGS[0]),
            get(STRINGS[2]),
            get(STRINGS[3]),
            get(STRINGS[4]),
            get(STRINGS[1]),
        ))
        .or_default() += cost;
    }
    out
}

/// The same totals from costwatch-cur's facts, summed over the charge categories a
/// line-item type maps to (the line-item type is told by its category here).
fn costwatch(path: &std::path::Path) -> BTreeMap<(i64, String, String, String, String), f64> {
    let facts = read_parquet(path, &ReadOptions::new(&[])).unwrap();
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap();
    let mut out = BTreeMap::new();
    for a in &facts.amounts {
        let k = &facts.series[a.series as usize].key;
        let day = (a.day - epoch).num_days();
        *out.entry((
            day,
            k.account.to_string(),
            k.service_code.to_string(),
            k.usage_type.to_string(),
            k.region.to_string(),
        ))
        .or_default() += a.unblended;
    }
    out
}

#[test]
fn page_decoders_read_what_the_parquet_crate_reads() {
    let dir = tempfile::tempdir().unwrap();
    let mut g = Gen(5);
    for case in 0..40 {
        let path = dir.path().join(format!("case{case}.parquet"));
        let rows = 1 + g.next(3000) as usize;
        let group = 1 + g.next(1500) as usize;
        write(&path, &mut g, rows, group);
        let mut want: BTreeMap<(i64, String, String, String, String), f64> = BTreeMap::new();
        for ((day, account, code, usage_type, region, _), cost) in reference(&path) {
            *want
                .entry((day, account, code, usage_type, region))
                .or_default() += cost;
        }
        let got = costwatch(&path);
        assert_eq!(
            got.keys().collect::<Vec<_>>(),
            want.keys().collect::<Vec<_>>(),
            "case {case}: the groups differ"
        );
        for (key, cost) in &want {
            assert!(
                (got[key] - cost).abs() < 1e-6 * cost.abs().max(1.0),
                "case {case} {key:?}: {} vs {cost}",
                got[key]
            );
        }
    }
}
