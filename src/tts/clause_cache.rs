//! Clauses the assistant says again and again ("Which order is it about?", "I can help with
//! your orders:") are synthesized once per voice and kept, so that the next reply that starts
//! with one plays at once instead of after its synthesis. Bounded: short clauses only, at most
//! [`CACHED_CLAUSES`] of them and [`CACHED_SAMPLES`] samples in all, the one least recently
//! said forgotten first. A short clause with an order number or a date is kept too; it takes
//! a place until clauses said more often push it out.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

/// Clauses longer than this (in characters, as normalized for the voice) are not kept.
pub const MAX_CACHED_CLAUSE_CHARS: usize = 80;
/// Clauses kept per voice.
pub const CACHED_CLAUSES: usize = 128;
/// Samples kept per voice, all clauses together: 16 MB of audio (about 3 minutes at
/// 22.05 kHz). One clause may take at most a sixteenth of it.
pub const CACHED_SAMPLES: usize = 4_000_000;

/// Synthesized clauses by their normalized text.
#[derive(Debug)]
pub struct ClauseCache {
    audio: HashMap<String, Arc<[f32]>>,
    /// Keys, least recently said first.
    order: VecDeque<String>,
    capacity: usize,
    max_samples: usize,
    samples: usize,
}

impl ClauseCache {
    pub fn new(capacity: usize, max_samples: usize) -> ClauseCache {
        ClauseCache {
            audio: HashMap::new(),
            order: VecDeque::new(),
            capacity,
            max_samples,
            samples: 0,
        }
    }

    /// The audio of `clause`, if kept; it becomes the most recently said.
    pub fn get(&mut self, clause: &str) -> Option<Arc<[f32]>> {
        let audio = self.audio.get(clause).cloned()?;
        if let Some(at) = self.order.iter().position(|k| k == clause)
            && let Some(key) = self.order.remove(at)
        {
            self.order.push_back(key);
        }
        Some(audio)
    }

    /// Keeps `audio` for `clause` if both are short enough, forgetting the clauses least
    /// recently said to make room.
    pub fn keep(&mut self, clause: &str, audio: Arc<[f32]>) {
        if self.capacity == 0
            || clause.chars().count() > MAX_CACHED_CLAUSE_CHARS
            || audio.len() > self.max_samples / 16
            || self.audio.contains_key(clause)
        {
            return;
        }
        while self.order.len() >= self.capacity || self.samples + audio.len() > self.max_samples {
            let Some(oldest) = self.order.pop_front() else {
                break;
            };
            if let Some(gone) = self.audio.remove(&oldest) {
                self.samples -= gone.len();
            }
        }
        self.samples += audio.len();
        self.order.push_back(clause.to_string());
        self.audio.insert(clause.to_string(), audio);
    }

    pub fn len(&self) -> usize {
        self.audio.len()
    }

    pub fn is_empty(&self) -> bool {
        self.audio.is_empty()
    }

    /// Samples kept, all clauses together.
    pub fn samples(&self) -> usize {
        self.samples
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn audio(value: f32, len: usize) -> Arc<[f32]> {
        vec![value; len].into()
    }

    #[test]
    fn short_clauses_are_kept_and_the_least_recently_said_goes_first() {
        let mut cache = ClauseCache::new(2, 1000);
        cache.keep("which order is it about?", audio(1.0, 4));
        cache.keep("what can I do for you?", audio(2.0, 4));
        assert_eq!(
            cache.get("which order is it about?").as_deref(),
            Some(&[1.0; 4][..])
        );
        // Kept once: a second rendering does not replace the first.
        cache.keep("which order is it about?", audio(9.0, 4));
        assert_eq!(
            cache.get("which order is it about?").as_deref(),
            Some(&[1.0; 4][..])
        );
        // "what can I do for you?" was said least recently: it goes.
        cache.keep("one moment.", audio(3.0, 4));
        assert_eq!(cache.len(), 2);
        assert!(cache.get("what can I do for you?").is_none());
        assert!(cache.get("which order is it about?").is_some());
        assert!(cache.get("one moment.").is_some());
        assert_eq!(cache.samples(), 8);
    }

    #[test]
    fn the_samples_are_bounded_too() {
        let mut cache = ClauseCache::new(100, 1600);
        for i in 0..10 {
            cache.keep(&format!("clause {i}."), audio(0.0, 100));
        }
        assert_eq!(cache.samples(), 1000);
        // A clause over a sixteenth of the budget is not kept.
        cache.keep("a long one.", audio(0.0, 101));
        assert!(cache.get("a long one.").is_none());
        // Room is made by forgetting the oldest.
        for i in 10..20 {
            cache.keep(&format!("clause {i}."), audio(0.0, 100));
        }
        assert_eq!(cache.samples(), 1600);
        assert_eq!(cache.len(), 16);
        assert!(cache.get("clause 3.").is_none());
        assert!(cache.get("clause 4.").is_some());
    }

    #[test]
    fn long_clauses_and_a_cache_of_nothing_keep_nothing() {
        let mut cache = ClauseCache::new(4, 1000);
        let long = "word ".repeat(MAX_CACHED_CLAUSE_CHARS / 5 + 1);
        cache.keep(&long, audio(1.0, 4));
        assert!(cache.is_empty());
        let mut none = ClauseCache::new(0, 1000);
        none.keep("yes.", audio(1.0, 4));
        assert!(none.is_empty());
        assert_eq!(none.samples(), 0);
    }
}
