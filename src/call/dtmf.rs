//! DTMF digits as caller input: an order number or a survey score keyed on the phone's pad.
//! Sans-IO, told the time. `#` ends the entry, `*` clears it, and a pause of `inter_digit`
//! ends it too (a single survey score needs no `#`).

use std::time::Duration;

/// Longest entry kept (order numbers and phone numbers are shorter).
pub const MAX_DIGITS: usize = 24;

#[derive(Debug, Clone)]
pub struct DtmfCollector {
    inter_digit: Duration,
    digits: String,
    last: Option<Duration>,
}

impl DtmfCollector {
    pub fn new(inter_digit: Duration) -> DtmfCollector {
        DtmfCollector {
            inter_digit,
            digits: String::new(),
            last: None,
        }
    }

    /// A key was pressed at `now`. Returns the finished entry when `#` ends it.
    pub fn key(&mut self, key: char, now: Duration) -> Option<String> {
        match key {
            '0'..='9' => {
                if self.digits.len() < MAX_DIGITS {
                    self.digits.push(key);
                }
                self.last = Some(now);
                None
            }
            '#' => self.take(),
            '*' => {
                self.digits.clear();
                self.last = None;
                None
            }
            // A-D and anything else: not input a caller gives here.
            _ => None,
        }
    }

    /// When the pending entry ends by itself.
    pub fn poll_timeout(&self) -> Option<Duration> {
        self.last.map(|t| t + self.inter_digit)
    }

    /// Time passed: the entry, if the pause after the last digit is long enough.
    pub fn handle_timeout(&mut self, now: Duration) -> Option<String> {
        match self.last {
            Some(t) if now.saturating_sub(t) >= self.inter_digit => self.take(),
            _ => None,
        }
    }

    fn take(&mut self) -> Option<String> {
        self.last = None;
        if self.digits.is_empty() {
            None
        } else {
            Some(std::mem::take(&mut self.digits))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    #[test]
    fn hash_ends_an_order_number() {
        let mut d = DtmfCollector::new(s(2500));
        for (i, k) in "100042".chars().enumerate() {
            assert_eq!(d.key(k, s(i as u64 * 300)), None);
        }
        assert_eq!(d.key('#', s(2000)).as_deref(), Some("100042"));
        assert_eq!(d.poll_timeout(), None);
    }

    #[test]
    fn a_pause_ends_a_score_and_star_clears() {
        let mut d = DtmfCollector::new(s(2500));
        d.key('3', s(0));
        d.key('*', s(100));
        d.key('5', s(200));
        assert_eq!(d.handle_timeout(s(1000)), None);
        assert_eq!(d.poll_timeout(), Some(s(2700)));
        assert_eq!(d.handle_timeout(s(2700)).as_deref(), Some("5"));
        assert_eq!(d.handle_timeout(s(9000)), None);
    }

    #[test]
    fn other_keys_and_floods_are_harmless() {
        let mut d = DtmfCollector::new(s(2500));
        assert_eq!(d.key('A', s(0)), None);
        assert_eq!(d.key('#', s(0)), None);
        for i in 0..1000 {
            d.key('9', s(i));
        }
        assert_eq!(d.key('#', s(1000)).map(|x| x.len()), Some(MAX_DIGITS));
    }
}
