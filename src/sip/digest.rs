//! HTTP digest authentication of SIP requests (RFC 3261 section 22, RFC 2617, MD5, qop=auth
//! or none), sans-IO: challenges carry a stateless nonce (issue time + a keyed hash of it), so
//! no table of nonces grows with callers; a nonce older than `NONCE_LIFETIME` is stale.

use std::time::Duration;

use md5::{Digest as _, Md5};

/// How long a challenge may be answered.
pub const NONCE_LIFETIME: Duration = Duration::from_secs(300);

/// One account allowed to place calls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub user: String,
    pub password: String,
}

/// The parameters of an `Authorization: Digest ...` header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub realm: String,
    pub nonce: String,
    pub uri: String,
    pub response: String,
    pub qop: Option<String>,
    pub nc: Option<String>,
    pub cnonce: Option<String>,
    pub algorithm: Option<String>,
}

/// Why a request's credentials were not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    #[error("no digest credentials")]
    Missing,
    #[error("malformed digest credentials")]
    Malformed,
    #[error("unknown user {0:?}")]
    UnknownUser(String),
    #[error("the nonce is not ours or has expired")]
    StaleNonce,
    #[error("the credentials are for another request URI ({0:?})")]
    OtherUri(String),
    #[error("wrong password for {0:?}")]
    WrongResponse(String),
    #[error("unsupported digest algorithm or qop")]
    Unsupported,
}

fn hex_md5(text: &str) -> String {
    let digest = Md5::digest(text.as_bytes());
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Splits `a="x, y", b=z` honouring quotes.
fn params(text: &str) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let (key, after) = rest.split_once('=')?;
        let key = key.trim().to_ascii_lowercase();
        let after = after.trim_start();
        let (value, tail) = if let Some(quoted) = after.strip_prefix('"') {
            let end = quoted.find('"')?;
            (&quoted[..end], &quoted[end + 1..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim(), &after[end..])
        };
        out.push((key, value.to_string()));
        rest = tail.trim_start().trim_start_matches(',').trim_start();
        if out.len() > 32 {
            return None;
        }
    }
    Some(out)
}

impl Credentials {
    /// Parses the value of an Authorization or Proxy-Authorization header.
    pub fn parse(value: &str) -> Result<Credentials, DigestError> {
        let rest = value
            .trim()
            .strip_prefix("Digest")
            .or_else(|| value.trim().strip_prefix("digest"))
            .ok_or(DigestError::Malformed)?;
        let mut c = Credentials::default();
        for (key, v) in params(rest).ok_or(DigestError::Malformed)? {
            match key.as_str() {
                "username" => c.username = v,
                "realm" => c.realm = v,
                "nonce" => c.nonce = v,
                "uri" => c.uri = v,
                "response" => c.response = v,
                "qop" => c.qop = Some(v),
                "nc" => c.nc = Some(v),
                "cnonce" => c.cnonce = Some(v),
                "algorithm" => c.algorithm = Some(v),
                _ => {}
            }
        }
        if c.username.is_empty() || c.nonce.is_empty() || c.uri.is_empty() || c.response.is_empty()
        {
            return Err(DigestError::Malformed);
        }
        Ok(c)
    }

    /// The response a client with `password` computes for `method`.
    pub fn expected(&self, password: &str, method: &str) -> Result<String, DigestError> {
        if self
            .algorithm
            .as_deref()
            .is_some_and(|a| !a.eq_ignore_ascii_case("MD5"))
        {
            return Err(DigestError::Unsupported);
        }
        let ha1 = hex_md5(&format!("{}:{}:{password}", self.username, self.realm));
        let ha2 = hex_md5(&format!("{method}:{}", self.uri));
        match self.qop.as_deref() {
            None => Ok(hex_md5(&format!("{ha1}:{}:{ha2}", self.nonce))),
            Some("auth") => {
                let nc = self.nc.as_deref().ok_or(DigestError::Malformed)?;
                let cnonce = self.cnonce.as_deref().ok_or(DigestError::Malformed)?;
                Ok(hex_md5(&format!(
                    "{ha1}:{}:{nc}:{cnonce}:auth:{ha2}",
                    self.nonce
                )))
            }
            Some(_) => Err(DigestError::Unsupported),
        }
    }
}

/// The server side: issues challenges and checks answers.
#[derive(Debug, Clone)]
pub struct DigestAuth {
    pub realm: String,
    accounts: Vec<Account>,
    secret: u64,
}

impl DigestAuth {
    /// `secret` keys the nonces (draw it at random when the server starts).
    pub fn new(realm: String, accounts: Vec<Account>, secret: u64) -> DigestAuth {
        DigestAuth {
            realm,
            accounts,
            secret,
        }
    }

    fn nonce_at(&self, issued_s: u64) -> String {
        let mac = hex_md5(&format!("{issued_s:x}:{:x}:{}", self.secret, self.realm));
        format!("{issued_s:x}{}", &mac[..16])
    }

    /// The `WWW-Authenticate` value of a challenge issued at `now` (seconds on any clock the
    /// caller keeps using).
    pub fn challenge(&self, now_s: u64) -> String {
        format!(
            "Digest realm=\"{}\", nonce=\"{}\", algorithm=MD5, qop=\"auth\"",
            self.realm,
            self.nonce_at(now_s)
        )
    }

    fn nonce_fresh(&self, nonce: &str, now_s: u64) -> bool {
        if nonce.len() <= 16 || !nonce.is_ascii() {
            return false;
        }
        let (stamp, _) = nonce.split_at(nonce.len() - 16);
        let Ok(issued) = u64::from_str_radix(stamp, 16) else {
            return false;
        };
        issued <= now_s
            && now_s - issued <= NONCE_LIFETIME.as_secs()
            && self.nonce_at(issued) == nonce
    }

    /// Checks an `Authorization` header value for a request with `method` to `request_uri`;
    /// returns the user. The nonce is checked before the user, so a stranger cannot tell
    /// known user names from unknown ones by the answer.
    pub fn verify(
        &self,
        header: Option<&str>,
        method: &str,
        request_uri: &str,
        now_s: u64,
    ) -> Result<String, DigestError> {
        let c = Credentials::parse(header.ok_or(DigestError::Missing)?)?;
        if c.realm != self.realm || !self.nonce_fresh(&c.nonce, now_s) {
            return Err(DigestError::StaleNonce);
        }
        if !same_uri(&c.uri, request_uri) {
            return Err(DigestError::OtherUri(c.uri));
        }
        let account = self
            .accounts
            .iter()
            .find(|a| a.user == c.username)
            .ok_or_else(|| DigestError::UnknownUser(c.username.clone()))?;
        let expected = c.expected(&account.password, method)?;
        if expected.eq_ignore_ascii_case(&c.response) {
            Ok(c.username)
        } else {
            Err(DigestError::WrongResponse(c.username))
        }
    }
}

/// Whether two SIP URIs name the same host and port (scheme, user, case and parameters
/// aside): the digest's `uri` must point at the request's target, so an answer captured for
/// another server cannot be replayed here. (SIPp, for one, puts `sip:host:port` there without
/// the Request-URI's user.)
fn same_uri(a: &str, b: &str) -> bool {
    fn host(uri: &str) -> String {
        let uri = uri.trim().trim_start_matches('<').trim_end_matches('>');
        let uri = uri
            .strip_prefix("sips:")
            .or_else(|| uri.strip_prefix("sip:"))
            .unwrap_or(uri);
        let uri = uri.split([';', '?']).next().unwrap_or("");
        uri.rsplit('@').next().unwrap_or("").to_ascii_lowercase()
    }
    host(a) == host(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_2617_example_computes() {
        // RFC 2617 section 3.5 (its example uses GET on a web page; the arithmetic is ours).
        let c = Credentials::parse(
            "Digest username=\"Mufasa\", realm=\"testrealm@host.com\", \
             nonce=\"dcd98b7102dd2f0e8b11d0f600bfb0c093\", uri=\"/dir/index.html\", qop=auth, \
             nc=00000001, cnonce=\"0a4f113b\", response=\"6629fae49393a05397450978507c4ef1\", \
             opaque=\"5ccc069c403ebaf9f0171e9517f40e41\"",
        )
        .unwrap();
        assert_eq!(
            c.expected("Circle Of Life", "GET").unwrap(),
            "6629fae49393a05397450978507c4ef1"
        );
    }

    const URI: &str = "sip:hotline@127.0.0.1";

    fn answer(auth: &DigestAuth, user: &str, password: &str, now: u64) -> String {
        let challenge = auth.challenge(now);
        let nonce = challenge
            .split("nonce=\"")
            .nth(1)
            .unwrap()
            .split('"')
            .next()
            .unwrap();
        let mut c = Credentials {
            username: user.into(),
            realm: auth.realm.clone(),
            nonce: nonce.into(),
            uri: "sip:hotline@127.0.0.1".into(),
            qop: Some("auth".into()),
            nc: Some("0000000a".into()),
            cnonce: Some("xyz".into()),
            ..Credentials::default()
        };
        c.response = c.expected(password, "INVITE").unwrap();
        format!(
            "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", response=\"{}\", \
             qop=auth, nc={}, cnonce=\"xyz\"",
            c.username,
            c.realm,
            c.nonce,
            c.uri,
            c.response,
            c.nc.unwrap()
        )
    }

    #[test]
    fn the_right_password_passes_and_everything_else_fails() {
        let auth = DigestAuth::new(
            "hotline".into(),
            vec![Account {
                user: "trunk".into(),
                password: "s3cret".into(),
            }],
            42,
        );
        let ok = answer(&auth, "trunk", "s3cret", 1000);
        assert_eq!(
            auth.verify(Some(&ok), "INVITE", URI, 1010),
            Ok("trunk".into())
        );
        // The same answer for another method, too late, or from another server's nonce.
        assert!(matches!(
            auth.verify(Some(&ok), "BYE", URI, 1010),
            Err(DigestError::WrongResponse(_))
        ));
        assert_eq!(
            auth.verify(Some(&ok), "INVITE", URI, 1000 + 301),
            Err(DigestError::StaleNonce)
        );
        let other = DigestAuth::new("hotline".into(), vec![], 43);
        assert!(!other.nonce_fresh(&ok.split("nonce=\"").nth(1).unwrap()[..24], 1010));
        let wrong = answer(&auth, "trunk", "guess", 1000);
        assert!(matches!(
            auth.verify(Some(&wrong), "INVITE", URI, 1010),
            Err(DigestError::WrongResponse(_))
        ));
        let stranger = answer(&auth, "mallory", "s3cret", 1000);
        assert!(matches!(
            auth.verify(Some(&stranger), "INVITE", URI, 1010),
            Err(DigestError::UnknownUser(_))
        ));
        assert_eq!(
            auth.verify(None, "INVITE", URI, 1010),
            Err(DigestError::Missing)
        );
        // The answer for one server does not open another.
        assert!(matches!(
            auth.verify(Some(&ok), "INVITE", "sip:hotline@10.0.0.9", 1010),
            Err(DigestError::OtherUri(_))
        ));
        assert!(same_uri(
            "sip:Hotline@127.0.0.1:5060;transport=udp",
            "<sip:127.0.0.1:5060>"
        ));
        assert!(!same_uri(
            "sip:hotline@127.0.0.1:5060",
            "sip:hotline@127.0.0.1:5070"
        ));
        assert_eq!(
            auth.verify(Some("Basic dHJ1bms6czNjcmV0"), "INVITE", URI, 1010),
            Err(DigestError::Malformed)
        );
        assert_eq!(
            auth.verify(Some("Digest username=\"x"), "INVITE", URI, 1010),
            Err(DigestError::Malformed)
        );
    }
}
