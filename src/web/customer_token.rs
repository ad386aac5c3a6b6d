//! Signed customer tokens: how a shop page tells hotline who its logged-in shopper is, so the
//! assistant skips the identity questions. The shop signs `customer id + expiry` with a secret
//! it shares with hotline (HMAC-SHA256); hotline checks the signature and the expiry, and
//! treats anything else — unsigned, tampered, expired, malformed — as an anonymous caller.
//!
//! Format: `v1.<customer id>.<expiry, Unix seconds>.<HMAC-SHA256 of "v1.<id>.<expiry>", hex>`.
//! Sans-IO: the time is an argument.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const VERSION: &str = "v1";
/// Longest token accepted (a customer id is short).
const MAX_LEN: usize = 256;
/// Shortest secret hotline accepts (config validation says so too).
pub const MIN_SECRET_LEN: usize = 16;

/// Why a token was not accepted. The caller is then anonymous; the reason is only logged.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("not a hotline customer token")]
    Malformed,
    #[error("the signature does not match")]
    BadSignature,
    #[error("expired")]
    Expired,
    #[error("no customer-token secret is configured")]
    NoSecret,
}

/// Signs and checks tokens with one secret.
#[derive(Clone)]
pub struct TokenKey {
    secret: Vec<u8>,
}

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(..)")
    }
}

/// A customer id may hold letters, digits, `-` and `_` (never the separator).
fn valid_customer_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    (0..text.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
        .collect()
}

impl TokenKey {
    pub fn new(secret: &str) -> Result<TokenKey, TokenError> {
        if secret.len() < MIN_SECRET_LEN {
            return Err(TokenError::NoSecret);
        }
        Ok(TokenKey {
            secret: secret.as_bytes().to_vec(),
        })
    }

    fn mac(&self, signed: &str) -> HmacSha256 {
        // HMAC takes a key of any length.
        let mut mac = HmacSha256::new_from_slice(&self.secret).expect("HMAC accepts any key");
        mac.update(signed.as_bytes());
        mac
    }

    /// A token for `customer` valid until `expires` (Unix seconds).
    pub fn sign(&self, customer: &str, expires: u64) -> Result<String, TokenError> {
        if !valid_customer_id(customer) {
            return Err(TokenError::Malformed);
        }
        let signed = format!("{VERSION}.{customer}.{expires}");
        let tag = self.mac(&signed).finalize().into_bytes();
        Ok(format!("{signed}.{}", hex(&tag)))
    }

    /// The customer id a token vouches for at `now` (Unix seconds).
    pub fn verify(&self, token: &str, now: u64) -> Result<String, TokenError> {
        if token.len() > MAX_LEN {
            return Err(TokenError::Malformed);
        }
        let mut parts = token.split('.');
        let (Some(version), Some(customer), Some(expires), Some(tag), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(TokenError::Malformed);
        };
        if version != VERSION || !valid_customer_id(customer) {
            return Err(TokenError::Malformed);
        }
        let expires_at: u64 = expires.parse().map_err(|_| TokenError::Malformed)?;
        let tag = unhex(tag).ok_or(TokenError::Malformed)?;
        // Constant-time comparison.
        self.mac(&format!("{version}.{customer}.{expires}"))
            .verify_slice(&tag)
            .map_err(|_| TokenError::BadSignature)?;
        if now >= expires_at {
            return Err(TokenError::Expired);
        }
        Ok(customer.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> TokenKey {
        TokenKey::new("a shared secret of the shop").unwrap()
    }

    #[test]
    fn a_signed_token_names_its_customer_until_it_expires() {
        let token = key().sign("C1001", 1_000).unwrap();
        assert!(token.starts_with("v1.C1001.1000."));
        assert_eq!(key().verify(&token, 999).unwrap(), "C1001");
        assert_eq!(key().verify(&token, 1_000), Err(TokenError::Expired));
    }

    #[test]
    fn tampering_or_another_secret_is_refused() {
        let token = key().sign("C1001", 1_000).unwrap();
        // Another customer with the same signature.
        let forged = token.replacen("C1001", "C1002", 1);
        assert_eq!(key().verify(&forged, 0), Err(TokenError::BadSignature));
        // A later expiry with the same signature.
        let extended = token.replacen(".1000.", ".9000.", 1);
        assert_eq!(key().verify(&extended, 0), Err(TokenError::BadSignature));
        let other = TokenKey::new("another secret, another shop").unwrap();
        assert_eq!(other.verify(&token, 0), Err(TokenError::BadSignature));
    }

    #[test]
    fn malformed_tokens_are_refused_without_panic() {
        let k = key();
        for bad in [
            "",
            "v1",
            "v1.C1.10",
            "v2.C1.10.00",
            "v1.C1.ten.00",
            "v1..10.00",
            "v1.C 1.10.00",
            "v1.C1.10.0",
            "v1.C1.10.zz",
            "v1.C1.10.00.extra",
            "v1.C1.99999999999999999999999.00",
            "v1.C1.10.é0",
        ] {
            assert_eq!(k.verify(bad, 0), Err(TokenError::Malformed), "{bad:?}");
        }
        assert_eq!(k.verify(&"v".repeat(1000), 0), Err(TokenError::Malformed));
        assert_eq!(k.sign("C.1", 10), Err(TokenError::Malformed));
    }

    #[test]
    fn a_short_secret_is_refused() {
        assert_eq!(TokenKey::new("short").unwrap_err(), TokenError::NoSecret);
    }
}
