//! A hash table of groups for line items that arrive in random order.
//!
//! A month of billing data has a few hundred thousand daily groups, far more than the
//! processor's caches hold, and rows hit them in no order: each row's lookup would wait for
//! memory. Here a row's slot is prefetched when the row arrives and the row is summed in
//! [`AHEAD`] rows later, by which time the slot is in cache. Slots are open-addressed
//! (linear probing) and hold key and value inline: one cache line for a daily fact's key and
//! sums.

use super::agg::FxBuild;
use std::hash::{BuildHasher, Hash};

/// Rows between a slot's prefetch and its use.
const AHEAD: usize = 16;

/// A value that rows are summed into.
pub trait Merge: Copy + Default {
    fn merge(&mut self, other: &Self);
}

/// One slot: a group's key and value, or nothing.
#[derive(Clone, Copy)]
#[repr(align(64))]
struct Slot<K, V>(Option<(K, V)>);

/// Groups of `K` summing `V`.
pub struct Groups<K, V> {
    slots: Vec<Slot<K, V>>,
    len: usize,
    /// Rows added but not yet summed, with their hashes: a ring of [`AHEAD`].
    pending: Vec<(K, u64, V)>,
    next: usize,
}

impl<K: Copy + Eq + Hash, V: Merge> Default for Groups<K, V> {
    fn default() -> Self {
        Self {
            slots: vec![Slot(None); 1024],
            len: 0,
            pending: Vec::with_capacity(AHEAD),
            next: 0,
        }
    }
}

impl<K: Copy + Eq + Hash, V: Merge> Groups<K, V> {
    /// Adds `value` to the group `key` (summed in a few rows later).
    #[inline]
    pub fn add(&mut self, key: K, value: V) {
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
    pub fn into_vec(mut self) -> Vec<(K, V)> {
        for (k, h, v) in std::mem::take(&mut self.pending) {
            self.sum(k, h, &v);
        }
        self.slots.into_iter().filter_map(|s| s.0).collect()
    }

    fn sum(&mut self, key: K, hash: u64, value: &V) {
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let mut i = hash as usize & mask;
        loop {
            match &mut self.slots[i].0 {
                None => {
                    self.slots[i] = Slot(Some((key, *value)));
                    self.len += 1;
                    return;
                }
                Some((k, v)) if *k == key => {
                    v.merge(value);
                    return;
                }
                Some(_) => i = (i + 1) & mask,
            }
        }
    }

    fn grow(&mut self) {
        let size = self.slots.len() * 2;
        let old = std::mem::replace(&mut self.slots, vec![Slot(None); size]);
        let mask = self.slots.len() - 1;
        let hasher = FxBuild::default();
        for (key, value) in old.into_iter().filter_map(|s| s.0) {
            let mut i = hasher.hash_one(key) as usize & mask;
            while self.slots[i].0.is_some() {
                i = (i + 1) & mask;
            }
            self.slots[i] = Slot(Some((key, value)));
        }
    }
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
        let mut groups: Groups<u32, Sum> = Groups::default();
        for row in 0..100_000u32 {
            groups.add(row % 5_000, Sum(u64::from(row)));
        }
        let mut all = groups.into_vec();
        all.sort_by_key(|(k, _)| *k);
        assert_eq!(all.len(), 5_000);
        let expected = |k: u32| (0..20u64).map(|i| u64::from(k) + 5_000 * i).sum::<u64>();
        assert!(all.iter().all(|(k, v)| v.0 == expected(*k)));
    }
}
