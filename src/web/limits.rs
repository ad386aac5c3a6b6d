//! Abuse limits of the browser channel: offers per client address per minute, calls at once,
//! and which web origins may place calls. Sans-IO: the time is an argument.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The window of the per-address offer limit.
const WINDOW: Duration = Duration::from_secs(60);
/// Addresses remembered at most; beyond it the stalest are forgotten (a flood of addresses
/// cannot grow the table without bound).
const MAX_TRACKED: usize = 10_000;

/// Why an offer was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("too many calls from this address; try again in {retry_after_s} s")]
    TooManyOffers { retry_after_s: u64 },
    #[error("all lines are busy; try again in a minute")]
    Busy,
    #[error("this site may not place calls here")]
    Origin,
}

/// Offers per address in a sliding minute.
#[derive(Debug)]
pub struct OfferRate {
    per_minute: usize,
    seen: HashMap<IpAddr, Vec<Instant>>,
}

impl OfferRate {
    pub fn new(per_minute: usize) -> OfferRate {
        OfferRate {
            per_minute,
            seen: HashMap::new(),
        }
    }

    /// Counts an offer from `ip` at `now`, or refuses it.
    pub fn check(&mut self, ip: IpAddr, now: Instant) -> Result<(), Refusal> {
        if self.seen.len() >= MAX_TRACKED && !self.seen.contains_key(&ip) {
            self.seen.retain(|_, times| {
                times
                    .last()
                    .is_some_and(|t| now.duration_since(*t) < WINDOW)
            });
            if self.seen.len() >= MAX_TRACKED {
                return Err(Refusal::Busy);
            }
        }
        let times = self.seen.entry(ip).or_default();
        times.retain(|t| now.duration_since(*t) < WINDOW);
        if times.len() >= self.per_minute {
            let oldest = times[0];
            let wait = WINDOW.saturating_sub(now.duration_since(oldest));
            return Err(Refusal::TooManyOffers {
                retry_after_s: wait.as_secs().max(1),
            });
        }
        times.push(now);
        Ok(())
    }
}

/// Calls at once: a slot is held for the life of a call.
#[derive(Debug, Clone)]
pub struct CallSlots {
    max: usize,
    active: Arc<AtomicUsize>,
}

/// One call's place; freed when dropped.
#[derive(Debug)]
pub struct CallSlot(Arc<AtomicUsize>);

impl Drop for CallSlot {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl CallSlots {
    pub fn new(max: usize) -> CallSlots {
        CallSlots {
            max,
            active: Arc::new(AtomicUsize::new(0)),
        }
    }

    pub fn take(&self) -> Result<CallSlot, Refusal> {
        self.active
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < self.max).then_some(n + 1)
            })
            .map(|_| CallSlot(self.active.clone()))
            .map_err(|_| Refusal::Busy)
    }

    pub fn active(&self) -> usize {
        self.active.load(Ordering::SeqCst)
    }
}

/// Which pages may place calls: the page's `Origin` must be hotline's own (`host`, as the
/// browser addressed it) or one of `allowed` (`https://shop.example.com`; `*` allows any).
/// A request without `Origin` is not from a page script; it is let through (the other limits
/// still apply).
pub fn origin_allowed(origin: Option<&str>, host: Option<&str>, allowed: &[String]) -> bool {
    let Some(origin) = origin else {
        return true;
    };
    if allowed
        .iter()
        .any(|a| a == "*" || a.eq_ignore_ascii_case(origin))
    {
        return true;
    }
    // Our own pages: the origin's host and port are the Host the request was sent to.
    let own = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    matches!((own, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offers_per_address_are_limited_in_a_sliding_minute() {
        let mut rate = OfferRate::new(2);
        let t0 = Instant::now();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert!(rate.check(a, t0).is_ok());
        assert!(rate.check(a, t0 + Duration::from_secs(10)).is_ok());
        assert_eq!(
            rate.check(a, t0 + Duration::from_secs(20)),
            Err(Refusal::TooManyOffers { retry_after_s: 40 })
        );
        // Another address is not affected; the first is let in again a minute later.
        assert!(rate.check(b, t0 + Duration::from_secs(20)).is_ok());
        assert!(rate.check(a, t0 + Duration::from_secs(61)).is_ok());
    }

    #[test]
    fn slots_are_freed_when_calls_end() {
        let slots = CallSlots::new(2);
        let one = slots.take().unwrap();
        let _two = slots.take().unwrap();
        assert_eq!(slots.take().unwrap_err(), Refusal::Busy);
        drop(one);
        assert_eq!(slots.active(), 1);
        assert!(slots.take().is_ok());
    }

    #[test]
    fn only_our_own_and_allowed_origins_place_calls() {
        let allowed = vec!["https://shop.example.com".to_string()];
        let host = Some("127.0.0.1:8080");
        assert!(origin_allowed(None, host, &allowed));
        assert!(origin_allowed(
            Some("http://127.0.0.1:8080"),
            host,
            &allowed
        ));
        assert!(origin_allowed(
            Some("https://shop.example.com"),
            host,
            &allowed
        ));
        assert!(!origin_allowed(
            Some("https://evil.example"),
            host,
            &allowed
        ));
        assert!(!origin_allowed(
            Some("http://127.0.0.1:9999"),
            host,
            &allowed
        ));
        assert!(!origin_allowed(Some("null"), host, &allowed));
        assert!(!origin_allowed(Some("http://127.0.0.1:8080"), None, &[]));
        assert!(origin_allowed(
            Some("https://any.example"),
            host,
            &["*".into()]
        ));
    }

    #[test]
    fn a_flood_of_addresses_cannot_grow_the_table_without_bound() {
        let mut rate = OfferRate::new(1);
        let t0 = Instant::now();
        for i in 0..MAX_TRACKED as u32 {
            let ip = IpAddr::from(std::net::Ipv4Addr::from(i));
            rate.check(ip, t0).unwrap();
        }
        let newcomer: IpAddr = "198.51.100.1".parse().unwrap();
        assert_eq!(rate.check(newcomer, t0), Err(Refusal::Busy));
        // A minute later the old entries are forgotten.
        assert!(rate.check(newcomer, t0 + WINDOW).is_ok());
        assert!(rate.seen.len() <= MAX_TRACKED);
    }
}
