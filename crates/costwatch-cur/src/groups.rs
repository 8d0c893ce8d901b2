//! Tables for line items that arrive in random order: daily groups, and the ids of series.
//!
//! A month of billing data has a few hundred thousand daily groups, far more than the
//! processor's caches hold, and rows hit them in no order: each row's lookup would wait for
//! memory. Here a row's slot is prefetched when the row arrives and the row is summed in
//! [`AHEAD`] rows later, by which time the slot is in cache. A series' days of one month
//! are a row of slots found by index ([`DailyGroups`]); anything else is in open-addressed
//! hash tables (linear probing) whose slots hold the key and the value inline. The hash
//! tables ask the kernel for huge pages, so that random rows do not also miss the
//! address-translation cache.

use crate::cells::epoch;
use chrono::Datelike;
use std::hash::{BuildHasher, Hash};

/// FxHash as rustc-hash 2 has it: fast for short keys and well mixed in the low bits the
/// table indexes by; no DoS resistance is needed for billing files.
pub type FxBuild = rustc_hash::FxBuildHasher;

/// Rows between a group slot's prefetch and its use.
const AHEAD: usize = 16;

/// A key of a [`Table`], with a value that marks an empty slot.
pub trait Key: Copy + Eq + Hash {
    const EMPTY: Self;
}

impl Key for u64 {
    const EMPTY: Self = u64::MAX;
}

/// The hash a [`Table`] places `key` by.
#[inline]
pub fn hash<K: Hash>(key: &K) -> u64 {
    FxBuild::default().hash_one(key)
}

/// One slot: a key ([`Key::EMPTY`] if none) and its value.
#[derive(Clone, Copy)]
#[repr(C, align(32))]
struct Slot<K, V> {
    key: K,
    value: V,
}

/// Keys and values, open-addressed (linear probing, at most three quarters full), on huge
/// pages where the kernel grants them.
struct Table<K, V> {
    slots: Vec<Slot<K, V>>,
    len: usize,
}

impl<K: Key, V: Copy + Default> Table<K, V> {
    fn new() -> Self {
        Self {
            slots: empty_slots(1024),
            len: 0,
        }
    }

    /// Asks for the slot of a key with `hash` to be loaded.
    #[inline]
    fn prefetch(&self, hash: u64) {
        prefetch(&self.slots[hash as usize & (self.slots.len() - 1)]);
    }

    /// The value of `key` (whose hash is `hash`), inserted as `new()` if absent.
    #[inline]
    fn entry(&mut self, key: K, hash: u64, new: impl FnOnce() -> V) -> &mut V {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        while self.slots[i].key != key {
            if self.slots[i].key == K::EMPTY {
                self.slots[i] = Slot { key, value: new() };
                self.len += 1;
                break;
            }
            i = (i + 1) & mask;
        }
        &mut self.slots[i].value
    }

    fn grow(&mut self) {
        let size = self.slots.len() * 2;
        let old = std::mem::replace(&mut self.slots, empty_slots(size));
        let mask = self.slots.len() - 1;
        for slot in old.into_iter().filter(|s| s.key != K::EMPTY) {
            let mut i = hash(&slot.key) as usize & mask;
            while self.slots[i].key != K::EMPTY {
                i = (i + 1) & mask;
            }
            self.slots[i] = slot;
        }
    }

    fn into_vec(self) -> Vec<(K, V)> {
        self.slots
            .into_iter()
            .filter(|s| s.key != K::EMPTY)
            .map(|s| (s.key, s.value))
            .collect()
    }
}

/// Items held back `N` arrivals: time for a prefetched slot to reach the cache.
pub struct Delay<T, const N: usize> {
    items: [Option<T>; N],
    next: usize,
}

impl<T, const N: usize> Default for Delay<T, N> {
    fn default() -> Self {
        Self {
            items: std::array::from_fn(|_| None),
            next: 0,
        }
    }
}

impl<T, const N: usize> Delay<T, N> {
    /// Holds `item` back; returns the item that arrived `N` items before it, if any.
    #[inline]
    pub fn push(&mut self, item: T) -> Option<T> {
        let due = self.items[self.next].replace(item);
        self.next = (self.next + 1) % N;
        due
    }

    /// The items held back, oldest first.
    pub fn drain(&mut self) -> impl Iterator<Item = T> + '_ {
        let (newer, older) = self.items.split_at_mut(self.next);
        older.iter_mut().chain(newer).filter_map(Option::take)
    }
}

/// A value that rows are summed into.
pub trait Merge: Copy + Default {
    fn merge(&mut self, other: &Self);
}

/// Groups keyed by a `u64` (any but `u64::MAX`) summing `V`; a row's slot is prefetched
/// when it arrives and summed [`AHEAD`] rows later.
pub struct Groups<V> {
    table: Table<u64, V>,
    pending: Delay<(u64, u64, V), AHEAD>,
}

impl<V: Merge> Default for Groups<V> {
    fn default() -> Self {
        Self {
            table: Table::new(),
            pending: Delay::default(),
        }
    }
}

impl<V: Merge> Groups<V> {
    /// Adds `value` to the group `key` (summed in a few rows later).
    #[inline]
    pub fn add(&mut self, key: u64, value: V) {
        debug_assert_ne!(key, u64::EMPTY);
        let hash = hash(&key);
        self.table.prefetch(hash);
        if let Some((key, hash, value)) = self.pending.push((key, hash, value)) {
            self.table.entry(key, hash, V::default).merge(&value);
        }
    }

    /// Every group, after summing the pending rows.
    pub fn into_vec(mut self) -> Vec<(u64, V)> {
        for (key, hash, value) in self.pending.drain() {
            self.table.entry(key, hash, V::default).merge(&value);
        }
        self.table.into_vec()
    }
}

/// Days in a row of [`DailyGroups`]: a month from its first day.
const ROW_DAYS: usize = 32;

/// Series that get a row of days in [`DailyGroups`]; more go to its hash table
/// (a row is 32 values: 24 MB for this many series of three sums).
const ROW_SERIES: usize = 1 << 15;

/// Groups keyed by a series id and a day, summing `V`.
///
/// A month of billing data is mostly the days of one month: each series (ids are small
/// and dense) gets a row of the 32 days from the first day of the month of the first
/// group added, found by indexing instead of hashing, and memory grows with the series,
/// not in doublings of a table. Days outside that window, and series past the first
/// [`ROW_SERIES`], go to a hash table. Either way a group's slot is prefetched when its
/// row arrives and summed [`AHEAD`] rows later.
pub struct DailyGroups<V> {
    /// The day number of the first day of the rows.
    first: Option<i32>,
    rows: Vec<[V; ROW_DAYS]>,
    /// Per series, a bit for each day of its row that has a group.
    present: Vec<u32>,
    pending: Delay<(usize, V), AHEAD>,
    others: Groups<V>,
}

impl<V: Merge> Default for DailyGroups<V> {
    fn default() -> Self {
        Self {
            first: None,
            rows: Vec::new(),
            present: Vec::new(),
            pending: Delay::default(),
            others: Groups::default(),
        }
    }
}

impl<V: Merge> DailyGroups<V> {
    /// Adds `value` to the group of `series` on `day` (days since 1970-01-01).
    #[inline]
    pub fn add(&mut self, series: u32, day: i32, value: V) {
        match self.slot(series, day) {
            Some(at) => {
                prefetch(&self.rows.as_flattened()[at]);
                if let Some((at, value)) = self.pending.push((at, value)) {
                    self.add_at(at, &value);
                }
            }
            None => self
                .others
                .add((u64::from(series) << 32) | u64::from(day as u32), value),
        }
    }

    /// The index of a group's slot in the rows, if it has one.
    #[inline]
    fn slot(&mut self, series: u32, day: i32) -> Option<usize> {
        let first = *self.first.get_or_insert_with(|| month_start(day));
        let offset = usize::try_from(day.checked_sub(first)?).ok()?;
        let series = series as usize;
        if offset >= ROW_DAYS || series >= ROW_SERIES {
            return None;
        }
        if series >= self.rows.len() {
            self.rows.resize(series + 1, [V::default(); ROW_DAYS]);
            self.present.resize(series + 1, 0);
        }
        Some(series * ROW_DAYS + offset)
    }

    #[inline]
    fn add_at(&mut self, at: usize, value: &V) {
        self.rows.as_flattened_mut()[at].merge(value);
        self.present[at / ROW_DAYS] |= 1 << (at % ROW_DAYS);
    }

    /// Every group as `(series, day, value)`, after summing the pending rows: those of the
    /// rows by day, then series (the order the ledger stores them in), then the others.
    pub fn into_vec(mut self) -> Vec<(u32, i32, V)> {
        let pending: Vec<(usize, V)> = self.pending.drain().collect();
        for (at, value) in pending {
            self.add_at(at, &value);
        }
        let first = self.first.unwrap_or(0);
        let mut out = Vec::new();
        for offset in 0..ROW_DAYS {
            for (series, (row, days)) in self.rows.iter().zip(&self.present).enumerate() {
                if days & (1 << offset) != 0 {
                    out.push((series as u32, first + offset as i32, row[offset]));
                }
            }
        }
        out.extend(
            (self.others.into_vec().into_iter())
                .map(|(key, value)| ((key >> 32) as u32, key as u32 as i32, value)),
        );
        out
    }
}

/// The day number of the first day of the month of `day` (days since 1970-01-01).
fn month_start(day: i32) -> i32 {
    epoch()
        .checked_add_signed(chrono::TimeDelta::days(i64::from(day)))
        .map_or(day, |date| day - date.day0() as i32)
}

/// Small ids of distinct keys (0, 1, 2, … in order of arrival), open-addressed so that a
/// key's slot can be prefetched some rows before it is looked up.
pub struct Ids<K> {
    table: Table<K, u32>,
}

impl<K: Key> Default for Ids<K> {
    fn default() -> Self {
        Self {
            table: Table::new(),
        }
    }
}

impl<K: Key> Ids<K> {
    /// Asks for the slot of a key with `hash` ([`hash`]) to be loaded.
    #[inline]
    pub fn prefetch(&self, hash: u64) {
        self.table.prefetch(hash);
    }

    /// The id of `key` (whose hash is `hash`); a new key gets the next id.
    #[inline]
    pub fn id(&mut self, key: K, hash: u64) -> u32 {
        let next = u32::try_from(self.table.len).expect("fewer than 2^32 keys");
        *self.table.entry(key, hash, || next)
    }
}

/// `n` empty slots, on huge pages where the kernel grants them.
fn empty_slots<K: Key, V: Default + Copy>(n: usize) -> Vec<Slot<K, V>> {
    let mut slots = Vec::with_capacity(n);
    advise_huge_pages(slots.spare_capacity_mut());
    slots.resize(
        n,
        Slot {
            key: K::EMPTY,
            value: V::default(),
        },
    );
    slots
}

/// Asks Linux to back the whole 2 MiB pages inside `memory` with huge pages (before they
/// are first written); a hint that changes nothing else.
fn advise_huge_pages<T>(memory: &mut [T]) {
    #[cfg(target_os = "linux")]
    {
        const HUGE: usize = 2 << 20;
        let start = memory.as_mut_ptr() as usize;
        let end = start + std::mem::size_of_val(memory);
        let first = start.next_multiple_of(HUGE);
        let last = end / HUGE * HUGE;
        if last > first {
            // SAFETY: the range lies inside `memory`, which this process owns; the advice
            // changes only how the kernel backs the pages, never their contents.
            unsafe {
                libc::madvise(
                    first as *mut libc::c_void,
                    last - first,
                    libc::MADV_HUGEPAGE,
                );
            }
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = memory;
}

/// Asks the processor to load `value`'s cache line (a hint: no effect on other machines).
#[inline]
fn prefetch<T>(value: &T) {
    // SAFETY: SSE is part of every x86_64 target, and a prefetch never dereferences: it
    // cannot fault, whatever the address.
    #[cfg(target_arch = "x86_64")]
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(
            (value as *const T).cast(),
        );
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = value;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Default, Debug, PartialEq)]
    struct Sum(u64);

    impl Merge for Sum {
        fn merge(&mut self, other: &Self) {
            self.0 += other.0;
        }
    }

    #[test]
    fn sums_rows_across_growth_and_pending() {
        let mut groups: Groups<Sum> = Groups::default();
        for row in 0..100_000u64 {
            groups.add(row % 5_000, Sum(row));
        }
        let mut all = groups.into_vec();
        all.sort_by_key(|(k, _)| *k);
        assert_eq!(all.len(), 5_000);
        let expected = |k: u64| (0..20u64).map(|i| k + 5_000 * i).sum::<u64>();
        assert!(all.iter().all(|(k, v)| v.0 == expected(*k)));
    }

    #[test]
    fn daily_groups_sum_in_rows_and_outside_them() {
        let mut groups: DailyGroups<Sum> = DailyGroups::default();
        let june_3 = 20_242; // 2025-06-03: the rows start on June 1st
        let far = ROW_SERIES as u32 + 5;
        for _ in 0..50 {
            groups.add(0, june_3, Sum(1));
        }
        for (series, day, value) in [
            (1, june_3 - 2, 2),  // June 1st, the first day of a row
            (1, june_3 + 29, 4), // July 2nd, the last
            (1, june_3 + 30, 5), // past the rows
            (2, june_3 - 3, 6),  // May 31st, before them
            (far, june_3, 7),    // a series without a row
            (3, june_3, 0),      // nothing summed is still a group
        ] {
            groups.add(series, day, Sum(value));
        }
        let mut all = groups.into_vec();
        all.sort_by_key(|&(series, day, _)| (series, day));
        let want = [
            (0, june_3, Sum(50)),
            (1, june_3 - 2, Sum(2)),
            (1, june_3 + 29, Sum(4)),
            (1, june_3 + 30, Sum(5)),
            (2, june_3 - 3, Sum(6)),
            (3, june_3, Sum(0)),
            (far, june_3, Sum(7)),
        ];
        assert_eq!(all, want);
    }

    #[derive(Clone, Copy, PartialEq, Eq, Hash)]
    struct Pair(u32, u32);

    impl Key for Pair {
        const EMPTY: Self = Pair(u32::MAX, u32::MAX);
    }

    #[test]
    fn ids_are_given_in_order_of_arrival_across_growth() {
        let mut ids: Ids<Pair> = Ids::default();
        for round in 0..2 {
            for n in 0..5_000u32 {
                let key = Pair(n % 70, n / 70);
                let hash = hash(&key);
                ids.prefetch(hash);
                assert_eq!(ids.id(key, hash), n, "round {round}");
            }
        }
    }

    #[test]
    fn delayed_items_come_back_in_order() {
        let mut delay: Delay<u32, 3> = Delay::default();
        let due: Vec<Option<u32>> = (0..5).map(|i| delay.push(i)).collect();
        assert_eq!(due, [None, None, None, Some(0), Some(1)]);
        assert_eq!(delay.drain().collect::<Vec<_>>(), [2, 3, 4]);
        assert_eq!(delay.drain().count(), 0);
    }

    #[test]
    fn a_slot_of_three_sums_is_half_a_cache_line() {
        assert_eq!(std::mem::size_of::<Slot<u64, [f64; 3]>>(), 32);
    }
}
