//! Abuse limits of the browser channel: offers per client address per minute, calls at once,
//! and which web origins may place calls. Sans-IO: the time is an argument.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
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
    #[error("this address already has {0} calls in progress")]
    TooManyCalls(usize),
    #[error("this site may not place calls here")]
    Origin,
}

/// The key an address is limited by: an IPv4 address, or an IPv6 address's /64 (one
/// subscriber's network hands out the whole /64).
pub fn client_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut s = v6.segments();
                s[4..].fill(0);
                IpAddr::V6(s.into())
            }
        },
    }
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
            per_minute: per_minute.max(1),
            seen: HashMap::new(),
        }
    }

    /// Counts an offer from `ip` at `now`, or refuses it.
    pub fn check(&mut self, ip: IpAddr, now: Instant) -> Result<(), Refusal> {
        let key = client_key(ip);
        if self.seen.len() >= MAX_TRACKED && !self.seen.contains_key(&key) {
            self.seen.retain(|_, times| {
                times
                    .last()
                    .is_some_and(|t| now.duration_since(*t) < WINDOW)
            });
            // Still full of live addresses: the stalest one is forgotten (its limit starts
            // afresh), never the newcomer refused.
            if self.seen.len() >= MAX_TRACKED
                && let Some(stalest) = self
                    .seen
                    .iter()
                    .min_by_key(|(_, times)| times.last().copied())
                    .map(|(k, _)| *k)
            {
                self.seen.remove(&stalest);
            }
        }
        let times = self.seen.entry(key).or_default();
        times.retain(|t| now.duration_since(*t) < WINDOW);
        if times.len() >= self.per_minute
            && let Some(&oldest) = times.first()
        {
            let wait = WINDOW.saturating_sub(now.duration_since(oldest));
            return Err(Refusal::TooManyOffers {
                retry_after_s: wait.as_secs().max(1),
            });
        }
        times.push(now);
        Ok(())
    }

    /// Whether `ip` is over its limit now, without counting anything (the console counts only
    /// failed log-ins, and checks before trying a password).
    pub fn peek(&self, ip: IpAddr, now: Instant) -> Result<(), Refusal> {
        let Some(times) = self.seen.get(&client_key(ip)) else {
            return Ok(());
        };
        let recent: Vec<&Instant> = times
            .iter()
            .filter(|t| now.duration_since(**t) < WINDOW)
            .collect();
        match recent.first() {
            Some(oldest) if recent.len() >= self.per_minute => Err(Refusal::TooManyOffers {
                retry_after_s: WINDOW
                    .saturating_sub(now.duration_since(**oldest))
                    .as_secs()
                    .max(1),
            }),
            _ => Ok(()),
        }
    }
}

/// Calls at once, in all and per address: a slot is held for the life of a call.
#[derive(Debug, Clone)]
pub struct CallSlots {
    max: usize,
    per_address: usize,
    active: Arc<Mutex<Active>>,
}

#[derive(Debug, Default)]
struct Active {
    total: usize,
    by_address: HashMap<IpAddr, usize>,
}

/// One call's place; freed when dropped.
#[derive(Debug)]
pub struct CallSlot {
    key: IpAddr,
    active: Arc<Mutex<Active>>,
}

fn lock(active: &Mutex<Active>) -> std::sync::MutexGuard<'_, Active> {
    active.lock().unwrap_or_else(|p| p.into_inner())
}

impl Drop for CallSlot {
    fn drop(&mut self) {
        let mut a = lock(&self.active);
        a.total = a.total.saturating_sub(1);
        if let Some(n) = a.by_address.get_mut(&self.key) {
            *n -= 1;
            if *n == 0 {
                a.by_address.remove(&self.key);
            }
        }
    }
}

impl CallSlots {
    pub fn new(max: usize, per_address: usize) -> CallSlots {
        CallSlots {
            max,
            per_address: per_address.max(1),
            active: Arc::default(),
        }
    }

    /// A place for a call from `ip`, or why not.
    pub fn take(&self, ip: IpAddr) -> Result<CallSlot, Refusal> {
        let key = client_key(ip);
        let mut a = lock(&self.active);
        if a.total >= self.max {
            return Err(Refusal::Busy);
        }
        let mine = a.by_address.entry(key).or_default();
        if *mine >= self.per_address {
            return Err(Refusal::TooManyCalls(*mine));
        }
        *mine += 1;
        a.total += 1;
        Ok(CallSlot {
            key,
            active: self.active.clone(),
        })
    }

    pub fn active(&self) -> usize {
        lock(&self.active).total
    }
}

/// Which pages may place calls: the page's `Origin` must be one of `allowed`
/// (`https://shop.example.com`; `*` allows any) or hotline's own, that is the `host` the
/// request was sent to, when that host is an IP address or `localhost`. A host *name* must be
/// listed: a page on any domain can point its name at this machine (DNS rebinding) and would
/// otherwise pass as our own. A request without `Origin` is not from a page script; it is let
/// through (the other limits still apply).
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
    let own = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"));
    let (Some(own), Some(host)) = (own, host) else {
        return false;
    };
    own.eq_ignore_ascii_case(host) && is_address_or_localhost(host)
}

/// `127.0.0.1:8080`, `[::1]:8080`, `localhost:8080` (with or without a port).
fn is_address_or_localhost(host: &str) -> bool {
    let name = match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !name.ends_with(':') => {
            name
        }
        _ => host,
    };
    let name = name.trim_start_matches('[').trim_end_matches(']');
    name.eq_ignore_ascii_case("localhost") || name.parse::<IpAddr>().is_ok()
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
    fn slots_are_freed_when_calls_end_and_one_address_cannot_take_them_all() {
        let slots = CallSlots::new(3, 2);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let one = slots.take(a).unwrap();
        let _two = slots.take(a).unwrap();
        assert_eq!(slots.take(a).unwrap_err(), Refusal::TooManyCalls(2));
        let _three = slots.take(b).unwrap();
        assert_eq!(slots.take(b).unwrap_err(), Refusal::Busy);
        drop(one);
        assert_eq!(slots.active(), 2);
        assert!(slots.take(a).is_ok());
    }

    #[test]
    fn ipv6_clients_are_limited_by_their_64() {
        let mut rate = OfferRate::new(1);
        let t0 = Instant::now();
        assert!(rate.check("2001:db8:1:2::1".parse().unwrap(), t0).is_ok());
        assert!(
            rate.check("2001:db8:1:2::ffff".parse().unwrap(), t0)
                .is_err()
        );
        assert!(rate.check("2001:db8:1:3::1".parse().unwrap(), t0).is_ok());
        assert_eq!(
            client_key("::ffff:192.0.2.7".parse().unwrap()),
            "192.0.2.7".parse::<IpAddr>().unwrap()
        );
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
    fn a_flood_of_addresses_cannot_grow_the_table_or_lock_out_newcomers() {
        let mut rate = OfferRate::new(1);
        let t0 = Instant::now();
        for i in 0..MAX_TRACKED as u32 {
            let ip = IpAddr::from(std::net::Ipv4Addr::from(i));
            rate.check(ip, t0 + Duration::from_millis(u64::from(i % 1000)))
                .unwrap();
        }
        let newcomer: IpAddr = "198.51.100.1".parse().unwrap();
        assert!(rate.check(newcomer, t0 + Duration::from_secs(1)).is_ok());
        assert!(rate.seen.len() <= MAX_TRACKED);
        // The newcomer is limited like anyone else.
        assert!(rate.check(newcomer, t0 + Duration::from_secs(2)).is_err());
    }
}
