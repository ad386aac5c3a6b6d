//! Clauses the assistant says again and again ("Which order is it about?", "I can help with
//! your orders:") are synthesized once per voice and kept, so that the next reply that starts
//! with one plays at once instead of after its synthesis. Bounded: short clauses only (long
//! ones carry order numbers, names and dates, and are rarely said twice), the oldest
//! forgotten first.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// Clauses longer than this (in characters, as normalized for the voice) are not kept.
pub const MAX_CACHED_CLAUSE_CHARS: usize = 80;
/// Clauses kept per voice: about 2 s of audio each, some 20 MB at 22.05 kHz.
pub const CACHED_CLAUSES: usize = 128;

/// Synthesized clauses by their normalized text.
#[derive(Debug)]
pub struct ClauseCache {
    audio: HashMap<String, Arc<[f32]>>,
    /// Keys, oldest first.
    order: VecDeque<String>,
    capacity: usize,
}

impl ClauseCache {
    pub fn new(capacity: usize) -> ClauseCache {
        ClauseCache {
            audio: HashMap::new(),
            order: VecDeque::new(),
            capacity,
        }
    }

    pub fn get(&self, clause: &str) -> Option<Arc<[f32]>> {
        self.audio.get(clause).cloned()
    }

    /// Keeps `audio` for `clause` if the clause is short enough, forgetting the oldest clause
    /// when full.
    pub fn keep(&mut self, clause: &str, audio: Arc<[f32]>) {
        if self.capacity == 0
            || clause.chars().count() > MAX_CACHED_CLAUSE_CHARS
            || self.audio.contains_key(clause)
        {
            return;
        }
        if self.order.len() >= self.capacity
            && let Some(oldest) = self.order.pop_front()
        {
            self.audio.remove(&oldest);
        }
        self.order.push_back(clause.to_string());
        self.audio.insert(clause.to_string(), audio);
    }

    pub fn len(&self) -> usize {
        self.audio.len()
    }

    pub fn is_empty(&self) -> bool {
        self.audio.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audio(value: f32) -> Arc<[f32]> {
        vec![value; 4].into()
    }

    #[test]
    fn short_clauses_are_kept_and_the_oldest_goes_first() {
        let mut cache = ClauseCache::new(2);
        cache.keep("which order is it about?", audio(1.0));
        cache.keep("what can I do for you?", audio(2.0));
        assert_eq!(
            cache.get("which order is it about?").as_deref(),
            Some(&[1.0; 4][..])
        );
        // Kept once: a second rendering does not replace the first.
        cache.keep("which order is it about?", audio(9.0));
        assert_eq!(
            cache.get("which order is it about?").as_deref(),
            Some(&[1.0; 4][..])
        );
        cache.keep("one moment.", audio(3.0));
        assert_eq!(cache.len(), 2);
        assert!(cache.get("which order is it about?").is_none());
        assert!(cache.get("what can I do for you?").is_some());
        assert!(cache.get("one moment.").is_some());
    }

    #[test]
    fn long_clauses_and_a_cache_of_nothing_keep_nothing() {
        let mut cache = ClauseCache::new(4);
        let long = "word ".repeat(MAX_CACHED_CLAUSE_CHARS / 5 + 1);
        cache.keep(&long, audio(1.0));
        assert!(cache.is_empty());
        let mut none = ClauseCache::new(0);
        none.keep("yes.", audio(1.0));
        assert!(none.is_empty());
    }
}
