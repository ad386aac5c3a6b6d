//! Who is logged in to the console: named users with a role, each login a random 256-bit
//! token in an `HttpOnly; SameSite=Strict` cookie (and `Secure` unless served on loopback),
//! with its own CSRF token that every state-changing request must echo in a header. Only a
//! SHA-256 of each login token is kept, in memory: a restart logs everyone out.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// The login cookie's name.
pub const COOKIE: &str = "hotline_console";
/// The header a state-changing request carries its CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Logins kept at once; beyond it the oldest is logged out.
pub const MAX_LOGINS: usize = 1000;

/// What a console user may do. Supervisors watch, listen, guide and take calls over; admins
/// also manage the console's users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Supervisor,
    Admin,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "supervisor" => Some(Role::Supervisor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
        }
    }
}

/// One logged-in user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Login {
    pub user: String,
    pub role: Role,
    pub csrf: String,
    /// A digest of the user's stored password hash when they logged in: a login whose user
    /// has since changed password (or role, or was removed) is no longer valid.
    pub credential: [u8; 32],
    started: Instant,
}

/// The logins of this server.
#[derive(Debug)]
pub struct Logins {
    by_token: HashMap<[u8; 32], Login>,
    lifetime: Duration,
}

/// SHA-256 of a secret (a login token, a stored password hash).
pub fn digest(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// 256 random bits as hex.
fn random_hex() -> std::io::Result<String> {
    let mut s = String::with_capacity(64);
    for _ in 0..4 {
        s.push_str(&format!("{:016x}", crate::rng::os_random_u64()?));
    }
    Ok(s)
}

/// Equal strings, compared in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl Logins {
    /// Logins last `lifetime` from when they were made.
    pub fn new(lifetime: Duration) -> Logins {
        Logins {
            by_token: HashMap::new(),
            lifetime,
        }
    }

    /// Logs `user` in: the cookie's token and the login (with its CSRF token). `stored_hash`
    /// is the user's password hash as stored now.
    pub fn open(
        &mut self,
        user: &str,
        role: Role,
        stored_hash: &str,
        now: Instant,
    ) -> std::io::Result<(String, Login)> {
        self.by_token
            .retain(|_, l| now.duration_since(l.started) < self.lifetime);
        if self.by_token.len() >= MAX_LOGINS
            && let Some(oldest) = self
                .by_token
                .iter()
                .min_by_key(|(_, l)| l.started)
                .map(|(k, _)| *k)
        {
            self.by_token.remove(&oldest);
        }
        let token = random_hex()?;
        let login = Login {
            user: user.to_string(),
            role,
            csrf: random_hex()?,
            credential: digest(stored_hash),
            started: now,
        };
        self.by_token.insert(digest(&token), login.clone());
        Ok((token, login))
    }

    /// The login a cookie's token belongs to, if it is live.
    pub fn get(&mut self, token: &str, now: Instant) -> Option<Login> {
        let key = digest(token);
        let live = self
            .by_token
            .get(&key)
            .is_some_and(|l| now.duration_since(l.started) < self.lifetime);
        if !live {
            self.by_token.remove(&key);
            return None;
        }
        self.by_token.get(&key).cloned()
    }

    /// Logs one login out.
    pub fn close(&mut self, token: &str) {
        self.by_token.remove(&digest(token));
    }

    /// Logs every login of `user` out (removed, or the password or role changed).
    pub fn close_user(&mut self, user: &str) {
        self.by_token.retain(|_, l| l.user != user);
    }

    pub fn len(&self) -> usize {
        self.by_token.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_token.is_empty()
    }
}

/// The login token in a request's `Cookie` headers.
pub fn token_of<'a>(cookies: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    cookies
        .flat_map(|h| h.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
        .filter(|v| v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The `Set-Cookie` value that logs in (`token`) or out (`None`).
pub fn set_cookie(token: Option<&str>, lifetime: Duration, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    match token {
        Some(t) => format!(
            "{COOKIE}={t}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{secure}",
            lifetime.as_secs()
        ),
        None => format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_is_found_by_its_token_until_it_expires_or_closes() {
        let mut logins = Logins::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let (token, login) = logins.open("ana", Role::Supervisor, "h", t0).unwrap();
        assert_eq!(token.len(), 64);
        assert_eq!(login.csrf.len(), 64);
        assert_ne!(token, login.csrf);
        assert_eq!(logins.get(&token, t0).unwrap().user, "ana");
        assert!(logins.get(&"0".repeat(64), t0).is_none());
        assert!(logins.get(&token, t0 + Duration::from_secs(61)).is_none());
        assert!(logins.is_empty(), "the expired login is gone");
        let (token, _) = logins.open("ana", Role::Supervisor, "h", t0).unwrap();
        let (other, _) = logins.open("bo", Role::Admin, "h", t0).unwrap();
        logins.close_user("ana");
        assert!(logins.get(&token, t0).is_none());
        assert_eq!(logins.get(&other, t0).unwrap().role, Role::Admin);
        logins.close(&other);
        assert!(logins.get(&other, t0).is_none());
    }

    #[test]
    fn the_cookie_is_read_among_others_and_must_look_like_a_token() {
        let t = "ab".repeat(32);
        let header = format!("theme=dark; {COOKIE}={t}; x=1");
        assert_eq!(token_of([header.as_str()].into_iter()), Some(t.as_str()));
        let short = format!("{COOKIE}=abc");
        assert_eq!(token_of([short.as_str()].into_iter()), None);
        assert_eq!(token_of(["other=1"].into_iter()), None);
        let set = set_cookie(Some(&t), Duration::from_secs(10), true);
        assert!(
            set.contains("HttpOnly")
                && set.contains("SameSite=Strict")
                && set.ends_with("; Secure")
        );
        assert!(set_cookie(None, Duration::ZERO, false).contains("Max-Age=0"));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "ab"));
    }
}
