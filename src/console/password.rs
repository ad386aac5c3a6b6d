//! Console passwords: argon2id hashes in PHC format (salt and parameters inside), checked in
//! constant time by the `argon2` crate. A user that does not exist costs the same check, so the
//! time of a refusal does not say whether the name is known.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// Shortest password `hotline user add` accepts.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest password hashed (a megabyte "password" must not cost a megabyte of hashing).
pub const MAX_PASSWORD_BYTES: usize = 256;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("a password needs at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("a password may have at most {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

/// The stored form of a new password, after the policy check.
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong);
    }
    // 16 bytes of salt from the operating system's randomness.
    let mut salt = [0u8; 16];
    for half in salt.chunks_mut(8) {
        let r = crate::rng::os_random_u64().map_err(|e| PasswordError::Hash(e.to_string()))?;
        half.copy_from_slice(&r.to_le_bytes());
    }
    let salt = SaltString::encode_b64(&salt).map_err(|e| PasswordError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hash(e.to_string()))
}

/// A hash of a password nobody has, checked when the user does not exist.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        // A fixed salt is fine here: the decoy guards nothing, it only costs the same time.
        SaltString::encode_b64(b"hotline-decoy-salt")
            .ok()
            .and_then(|salt| {
                Argon2::default()
                    .hash_password(b"no user has this password", &salt)
                    .ok()
                    .map(|h| h.to_string())
            })
            .unwrap_or_default()
    })
}

/// Whether `password` matches `stored` (a PHC string); `None` checks against a decoy and
/// fails. A stored hash that does not parse fails too.
pub fn verify_password(password: &str, stored: Option<&str>) -> bool {
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    let (hash, real) = match stored {
        Some(h) => (h, true),
        None => (decoy_hash(), false),
    };
    let Ok(parsed) = PasswordHash::new(hash) else {
        return false;
    };
    let ok = Argon2::default()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    ok && real
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_checks_its_password_and_nothing_else() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(!h.contains("correct horse"));
        assert!(verify_password("correct horse battery", Some(&h)));
        assert!(!verify_password("correct horse battery!", Some(&h)));
        assert!(!verify_password("", Some(&h)));
        // Salted: the same password hashes differently each time.
        assert_ne!(h, hash_password("correct horse battery").unwrap());
    }

    #[test]
    fn unknown_users_and_broken_hashes_never_pass() {
        assert!(!verify_password("no user has this password", None));
        assert!(!verify_password("anything at all", Some("not a hash")));
        assert!(!verify_password(&"x".repeat(MAX_PASSWORD_BYTES + 1), None));
    }

    #[test]
    fn the_policy_refuses_short_and_huge_passwords() {
        assert_eq!(hash_password("short"), Err(PasswordError::TooShort));
        assert_eq!(
            hash_password(&"x".repeat(MAX_PASSWORD_BYTES + 1)),
            Err(PasswordError::TooLong)
        );
    }
}
