//! Authentication and authorisation: bearer tokens from a static tokens file (compared in
//! constant time) or signed JWTs (HS256 / RS256, with expiry), each carrying a tenant scope and
//! a role.
//!
//! Tokens are never logged: [`Secret`] and every type holding key material redact themselves in
//! `Debug`, and error messages never include the presented token.

use std::collections::BTreeSet;
use std::fmt;
use std::path::{Path, PathBuf};

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::store::TenantId;

/// What a token may do. Ordered: `Read < Write < Admin`, each including the ones below.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Transform, GetTopTopics, GetModel, the dashboard's reads (GetTopicMap, FindTopics,
    /// GetTopicChanges, ListTenants).
    Read,
    /// Fit, Merge, SetTopicLabel (and everything `Read` may do).
    Write,
    /// ListModels across tenants, ActivateModel, DeleteTenant (and everything `Write` may do).
    Admin,
}

impl Role {
    /// `"read"`, `"write"` or `"admin"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Read => "read",
            Role::Write => "write",
            Role::Admin => "admin",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The tenants a token may act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TenantScope {
    /// Every tenant (`tenants = ["*"]`).
    All,
    /// Only these tenants.
    Set(BTreeSet<TenantId>),
}

impl TenantScope {
    /// Parse a token's tenant list: `["*"]` alone means all tenants, otherwise every entry must
    /// be a valid tenant id. An empty list is refused (a token for nothing is a mistake).
    pub fn from_list<S: AsRef<str>>(list: &[S]) -> Result<Self, String> {
        if list.is_empty() {
            return Err("the tenant list is empty (use [\"*\"] for all tenants)".into());
        }
        if list.iter().any(|t| t.as_ref() == "*") {
            return if list.len() == 1 {
                Ok(TenantScope::All)
            } else {
                Err("\"*\" must be the only entry of a tenant list".into())
            };
        }
        let set = list
            .iter()
            .map(|t| TenantId::parse(t.as_ref()).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?;
        Ok(TenantScope::Set(set))
    }

    /// True when the scope includes `tenant`.
    pub fn contains(&self, tenant: &TenantId) -> bool {
        match self {
            TenantScope::All => true,
            TenantScope::Set(s) => s.contains(tenant),
        }
    }
}

/// Who is calling: the result of [`Authenticator::authenticate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Token name (static tokens) or JWT `sub`; safe to log.
    pub subject: String,
    /// Tenants it may act on.
    pub tenants: TenantScope,
    /// What it may do.
    pub role: Role,
}

impl Principal {
    /// The principal of a server running without authentication (loopback only): every tenant,
    /// admin.
    pub fn unauthenticated_local() -> Self {
        Principal {
            subject: "local (authentication disabled)".into(),
            tenants: TenantScope::All,
            role: Role::Admin,
        }
    }

    /// True when the principal may act on `tenant` with at least `role`.
    pub fn allows(&self, tenant: &TenantId, role: Role) -> bool {
        self.role >= role && self.tenants.contains(tenant)
    }

    /// True when the principal has at least `role` on every tenant (e.g. admin ListModels across
    /// tenants).
    pub fn allows_all_tenants(&self, role: Role) -> bool {
        self.role >= role && self.tenants == TenantScope::All
    }

    /// A key identifying the caller for rate limiting (never the token itself).
    pub fn rate_key(&self) -> &str {
        &self.subject
    }
}

/// A secret string (a JWT signing secret, a token): its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret.
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }
    /// The secret itself; only to hand to the code that checks it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Authentication settings (all optional; with none set, authentication is disabled).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AuthConfig {
    /// Static tokens file (TOML, `[[token]]` entries; see [`TokensFile`]).
    pub tokens_file: Option<PathBuf>,
    /// HS256 shared secret for JWTs.
    pub jwt_secret: Option<Secret>,
    /// RS256 public key for JWTs: a PEM file path, or the PEM text itself.
    pub jwt_public_key: Option<String>,
    /// Clock skew allowed on `exp`, in seconds (default 30).
    pub jwt_leeway_secs: Option<u64>,
    /// Required `iss` claim, if set.
    pub jwt_issuer: Option<String>,
    /// Required `aud` claim, if set.
    pub jwt_audience: Option<String>,
}

impl AuthConfig {
    /// True when at least one way to authenticate is configured.
    pub fn is_enabled(&self) -> bool {
        self.tokens_file.is_some() || self.jwt_secret.is_some() || self.jwt_public_key.is_some()
    }
}

/// Default clock skew allowed on JWT `exp`.
pub const DEFAULT_JWT_LEEWAY_SECS: u64 = 30;

/// Shortest accepted plaintext static token.
pub const MIN_STATIC_TOKEN_LEN: usize = 16;

/// Authentication failures. Messages never contain the presented token.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No `authorization` metadata, or an empty token.
    #[error("missing bearer token: send `authorization: Bearer <token>`")]
    Missing,
    /// The `authorization` value is not `Bearer <token>`.
    #[error("malformed authorization header: expected `Bearer <token>`")]
    Malformed,
    /// The token is unknown, badly signed or has bad claims.
    #[error("invalid token: {0}")]
    Invalid(String),
    /// The JWT has expired.
    #[error("token expired")]
    Expired,
    /// The authentication configuration cannot be used (at start).
    #[error("authentication configuration: {0}")]
    Config(String),
}

/// The static tokens file: `[[token]]` entries.
///
/// ```toml
/// [[token]]
/// name = "backend"            # shown in logs and used as the rate-limit key
/// secret = "a-long-random-string"
/// tenants = ["acme", "globex"]
/// role = "read"
///
/// [[token]]
/// name = "nightly"
/// secret_sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
/// tenants = ["*"]
/// role = "admin"
/// ```
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokensFile {
    /// The entries.
    #[serde(default)]
    pub token: Vec<TokenEntry>,
}

/// One static token.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    /// Name for logs and rate limiting (default `token-<n>`).
    pub name: Option<String>,
    /// The bearer token itself (at least 16 characters).
    pub secret: Option<Secret>,
    /// Hex SHA-256 of the bearer token, instead of `secret`.
    pub secret_sha256: Option<String>,
    /// `["*"]` or a list of tenant ids.
    pub tenants: Vec<String>,
    /// `read`, `write` or `admin`.
    pub role: Role,
}

struct StaticToken {
    name: String,
    digest: [u8; 32],
    tenants: TenantScope,
    role: Role,
}

fn sha256(s: &str) -> [u8; 32] {
    Sha256::digest(s.as_bytes()).into()
}

fn parse_hex32(s: &str) -> Option<[u8; 32]> {
    let s = s.trim();
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, o) in out.iter_mut().enumerate() {
        *o = u8::from_str_radix(s.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// JWT claims topicd reads.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    /// Subject (caller name; used in logs and as the rate-limit key).
    pub sub: String,
    /// `["*"]` or tenant ids.
    pub tenants: Vec<String>,
    /// `read`, `write` or `admin`.
    pub role: Role,
    /// Expiry, seconds since the Unix epoch (required).
    pub exp: u64,
}

/// Checks bearer tokens. Build once at start with [`Authenticator::from_config`].
pub struct Authenticator {
    tokens: Vec<StaticToken>,
    hs256: Option<DecodingKey>,
    rs256: Option<DecodingKey>,
    leeway: u64,
    issuer: Option<String>,
    audience: Option<String>,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field(
                "static_tokens",
                &self.tokens.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
            )
            .field("jwt_hs256", &self.hs256.is_some())
            .field("jwt_rs256", &self.rs256.is_some())
            .finish()
    }
}

impl Authenticator {
    /// Load the tokens file and JWT keys named by `config`.
    pub fn from_config(config: &AuthConfig) -> Result<Self, AuthError> {
        let tokens = match &config.tokens_file {
            Some(path) => load_tokens_file(path)?,
            None => Vec::new(),
        };
        let hs256 = match &config.jwt_secret {
            Some(s) if s.expose().len() < 32 => {
                return Err(AuthError::Config("the JWT secret must be at least 32 bytes".into()));
            }
            Some(s) => Some(DecodingKey::from_secret(s.expose().as_bytes())),
            None => None,
        };
        let rs256 = match &config.jwt_public_key {
            Some(k) => {
                let pem = if k.trim_start().starts_with("-----BEGIN") {
                    k.clone().into_bytes()
                } else {
                    std::fs::read(k).map_err(|e| {
                        AuthError::Config(format!("cannot read JWT public key file {k:?}: {e}"))
                    })?
                };
                Some(DecodingKey::from_rsa_pem(&pem).map_err(|e| {
                    AuthError::Config(format!("JWT public key is not an RSA PEM key: {e}"))
                })?)
            }
            None => None,
        };
        Ok(Authenticator {
            tokens,
            hs256,
            rs256,
            leeway: config.jwt_leeway_secs.unwrap_or(DEFAULT_JWT_LEEWAY_SECS),
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
        })
    }

    /// True when any token source is configured (otherwise every call would fail).
    pub fn is_enabled(&self) -> bool {
        !self.tokens.is_empty() || self.hs256.is_some() || self.rs256.is_some()
    }

    /// Check a bearer token: `value` is the `authorization` header value (`Bearer <token>`) or
    /// the bare token.
    pub fn authenticate(&self, value: &str) -> Result<Principal, AuthError> {
        let token = bearer_token(value)?;
        // Static tokens: compare SHA-256 digests in constant time, always against every entry.
        let digest = sha256(token);
        let mut found: Option<&StaticToken> = None;
        for t in &self.tokens {
            if bool::from(t.digest.ct_eq(&digest)) {
                found = Some(t);
            }
        }
        if let Some(t) = found {
            return Ok(Principal {
                subject: t.name.clone(),
                tenants: t.tenants.clone(),
                role: t.role,
            });
        }
        if (self.hs256.is_some() || self.rs256.is_some()) && token.split('.').count() == 3 {
            return self.verify_jwt(token);
        }
        Err(AuthError::Invalid("unknown token".into()))
    }

    fn verify_jwt(&self, token: &str) -> Result<Principal, AuthError> {
        let header = jsonwebtoken::decode_header(token)
            .map_err(|_| AuthError::Invalid("malformed JWT".into()))?;
        let key = match header.alg {
            Algorithm::HS256 => self.hs256.as_ref(),
            Algorithm::RS256 => self.rs256.as_ref(),
            _ => None,
        }
        .ok_or_else(|| {
            AuthError::Invalid(format!(
                "JWT algorithm {:?} is not accepted by this server",
                header.alg
            ))
        })?;
        let mut v = Validation::new(header.alg);
        v.leeway = self.leeway;
        v.validate_exp = true;
        v.set_required_spec_claims(&["exp", "sub"]);
        match &self.issuer {
            Some(iss) => v.set_issuer(&[iss]),
            None => v.iss = None,
        }
        match &self.audience {
            Some(aud) => v.set_audience(&[aud]),
            None => v.validate_aud = false,
        }
        let data = jsonwebtoken::decode::<Claims>(token, key, &v).map_err(|e| {
            use jsonwebtoken::errors::ErrorKind as K;
            match e.kind() {
                K::ExpiredSignature => AuthError::Expired,
                K::InvalidSignature => AuthError::Invalid("bad JWT signature".into()),
                K::MissingRequiredClaim(c) => AuthError::Invalid(format!("JWT lacks the `{c}` claim")),
                K::InvalidIssuer => AuthError::Invalid("wrong JWT issuer".into()),
                K::InvalidAudience => AuthError::Invalid("wrong JWT audience".into()),
                K::Json(_) => AuthError::Invalid(
                    "JWT claims must be {sub: string, tenants: [\"*\" or tenant ids], role: read|write|admin, exp: number}"
                        .into(),
                ),
                _ => AuthError::Invalid("JWT rejected".into()),
            }
        })?;
        let c = data.claims;
        let tenants = TenantScope::from_list(&c.tenants)
            .map_err(|e| AuthError::Invalid(format!("JWT `tenants`: {e}")))?;
        Ok(Principal { subject: format!("jwt:{}", c.sub), tenants, role: c.role })
    }
}

/// The token in an `authorization` value: `Bearer <token>` (scheme case-insensitive) or a bare
/// token.
pub fn bearer_token(value: &str) -> Result<&str, AuthError> {
    let value = value.trim();
    if value.is_empty() || value.eq_ignore_ascii_case("bearer") {
        return Err(AuthError::Missing);
    }
    let token = match value.split_once(' ') {
        Some((scheme, rest)) if scheme.eq_ignore_ascii_case("bearer") => rest.trim(),
        Some(_) => return Err(AuthError::Malformed),
        None => value,
    };
    if token.is_empty() {
        return Err(AuthError::Missing);
    }
    if token.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AuthError::Malformed);
    }
    Ok(token)
}

fn load_tokens_file(path: &Path) -> Result<Vec<StaticToken>, AuthError> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        AuthError::Config(format!("cannot read tokens file {}: {e}", path.display()))
    })?;
    parse_tokens(&text)
        .map_err(|e| AuthError::Config(format!("tokens file {}: {e}", path.display())))
}

fn parse_tokens(text: &str) -> Result<Vec<StaticToken>, String> {
    let file: TokensFile = toml::from_str(text).map_err(|e| e.message().to_owned())?;
    let mut out: Vec<StaticToken> = Vec::with_capacity(file.token.len());
    for (i, e) in file.token.into_iter().enumerate() {
        let name = e.name.unwrap_or_else(|| format!("token-{}", i + 1));
        let at = format!("[[token]] #{} ({name})", i + 1);
        let digest = match (&e.secret, &e.secret_sha256) {
            (Some(s), None) if s.expose().chars().count() < MIN_STATIC_TOKEN_LEN => {
                return Err(format!(
                    "{at}: `secret` must be at least {MIN_STATIC_TOKEN_LEN} characters"
                ))
            }
            (Some(s), None) if bearer_token(s.expose()) != Ok(s.expose()) => {
                return Err(format!("{at}: `secret` must not contain spaces or control characters"))
            }
            (Some(s), None) => sha256(s.expose()),
            (None, Some(h)) => parse_hex32(h)
                .ok_or_else(|| format!("{at}: `secret_sha256` must be 64 hex digits"))?,
            _ => return Err(format!("{at}: set exactly one of `secret` and `secret_sha256`")),
        };
        let tenants =
            TenantScope::from_list(&e.tenants).map_err(|m| format!("{at}: `tenants`: {m}"))?;
        if out.iter().any(|t| t.digest == digest) {
            return Err(format!("{at}: the same token appears twice"));
        }
        out.push(StaticToken { name, digest, tenants, role: e.role });
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
