//! Hash tables for line items that arrive in random order: groups, and the ids of series.
//!
//! A month of billing data has a few hundred thousand daily groups, far more than the
//! processor's caches hold, and rows hit them in no order: each row's lookup would wait for
//! memory. Here a row's slot is prefetched when the row arrives and the row is summed in
//! [`AHEAD`] rows later, by which time the slot is in cache. Slots are open-addressed
//! (linear probing) and hold a 64-bit key and the sums inline: half a cache line per daily
//! group. The table asks the kernel for huge pages, so that random rows do not also miss
//! the address-translation cache.

use super::agg::FxBuild;
use std::hash::{BuildHasher, Hash};

/// Rows between a slot's prefetch and its use.
const AHEAD: usize = 16;

/// The key of an empty slot.
const EMPTY: u64 = u64::MAX;

/// A value that rows are summed into.
pub trait Merge: Copy + Default {
    fn merge(&mut self, other: &Self);
}

/// One slot: a group's key ([`EMPTY`] if none) and value.
#[derive(Clone, Copy)]
#[repr(C, align(32))]
struct Slot<V> {
    key: u64,
    value: V,
}

/// Groups keyed by a `u64` (any but `u64::MAX`) summing `V`.
pub struct Groups<V> {
    slots: Vec<Slot<V>>,
    len: usize,
    /// Rows added but not yet summed, with their hashes: a ring of [`AHEAD`].
    pending: Vec<(u64, u64, V)>,
    next: usize,
}

impl<V: Merge> Default for Groups<V> {
    fn default() -> Self {
        Self {
            slots: empty_slots(1024),
            len: 0,
            pending: Vec::with_capacity(AHEAD),
            next: 0,
        }
    }
}

impl<V: Merge> Groups<V> {
    /// Adds `value` to the group `key` (summed in a few rows later).
    #[inline]
    pub fn add(&mut self, key: u64, value: V) {
        debug_assert_ne!(key, EMPTY);
        let hash = FxBuild::default().hash_one(key);
        prefetch(&self.slots[hash as usize & (self.slots.len() - 1)]);
        if self.pending.len() < AHEAD {
            self.pending.push((key, hash, value));
            return;
        }
        let (k, h, v) = std::mem::replace(&mut self.pending[self.next], (key, hash, value));
        self.next = (self.next + 1) % AHEAD;
        self.sum(k, h, &v);
    }

    /// Every group, after summing the pending rows.
    pub fn into_vec(mut self) -> Vec<(u64, V)> {
        for (k, h, v) in std::mem::take(&mut self.pending) {
            self.sum(k, h, &v);
        }
        self.slots
            .into_iter()
            .filter(|s| s.key != EMPTY)
            .map(|s| (s.key, s.value))
            .collect()
    }

    fn sum(&mut self, key: u64, hash: u64, value: &V) {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            let slot = &mut self.slots[i];
            if slot.key == key {
                slot.value.merge(value);
                return;
            }
            if slot.key == EMPTY {
                *slot = Slot { key, value: *value };
                self.len += 1;
                return;
            }
            i = (i + 1) & mask;
        }
    }

    fn grow(&mut self) {
        let size = self.slots.len() * 2;
        let old = std::mem::replace(&mut self.slots, empty_slots(size));
        let mask = self.slots.len() - 1;
        let hasher = FxBuild::default();
        for slot in old.into_iter().filter(|s| s.key != EMPTY) {
            let mut i = hasher.hash_one(slot.key) as usize & mask;
            while self.slots[i].key != EMPTY {
                i = (i + 1) & mask;
            }
            self.slots[i] = slot;
        }
    }
}

/// A key of [`Ids`], with a value that marks an empty slot.
pub trait Key: Copy + Eq + Hash {
    const EMPTY: Self;
}

/// Small ids of distinct keys (0, 1, 2, … in order of arrival), open-addressed so that a
/// key's slot can be prefetched some rows before it is looked up.
pub struct Ids<K> {
    slots: Vec<(K, u32)>,
    len: u32,
}

impl<K: Key> Default for Ids<K> {
    fn default() -> Self {
        Self {
            slots: vec![(K::EMPTY, 0); 1024],
            len: 0,
        }
    }
}

impl<K: Key> Ids<K> {
    /// The hash [`Ids::prefetch`] and [`Ids::id`] take.
    #[inline]
    pub fn hash(key: &K) -> u64 {
        FxBuild::default().hash_one(key)
    }

    /// Asks for the slot of a key with `hash` to be loaded.
    #[inline]
    pub fn prefetch(&self, hash: u64) {
        prefetch(&self.slots[hash as usize & (self.slots.len() - 1)]);
    }

    /// The id of `key`; a new key gets the next id.
    #[inline]
    pub fn id(&mut self, key: K, hash: u64) -> u32 {
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            let (k, id) = self.slots[i];
            if k == key {
                return id;
            }
            if k == K::EMPTY {
                break;
            }
            i = (i + 1) & mask;
        }
        let id = self.len;
        self.slots[i] = (key, id);
        self.len += 1;
        // At most half full: short probes.
        if self.len as usize * 2 > self.slots.len() {
            let size = self.slots.len() * 2;
            let old = std::mem::replace(&mut self.slots, vec![(K::EMPTY, 0); size]);
            let mask = self.slots.len() - 1;
            for (k, id) in old.into_iter().filter(|(k, _)| *k != K::EMPTY) {
                let mut i = Self::hash(&k) as usize & mask;
                while self.slots[i].0 != K::EMPTY {
                    i = (i + 1) & mask;
                }
                self.slots[i] = (k, id);
            }
        }
        id
    }
}

/// `n` empty slots, on huge pages where the kernel grants them.
fn empty_slots<V: Default + Copy>(n: usize) -> Vec<Slot<V>> {
    let mut slots = Vec::with_capacity(n);
    advise_huge_pages(slots.spare_capacity_mut());
    slots.resize(
        n,
        Slot {
            key: EMPTY,
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
                let hash = Ids::hash(&key);
                ids.prefetch(hash);
                assert_eq!(ids.id(key, hash), n, "round {round}");
            }
        }
    }

    #[test]
    fn a_slot_of_three_sums_is_half_a_cache_line() {
        assert_eq!(std::mem::size_of::<Slot<[f64; 3]>>(), 32);
    }
}
