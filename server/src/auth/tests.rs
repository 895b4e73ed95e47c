use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{encode, EncodingKey, Header};

use super::*;

const RSA_PRIVATE: &str = include_str!("testdata/rsa_private.pem");
const RSA_PUBLIC: &str = include_str!("testdata/rsa_public.pem");
const OTHER_PRIVATE: &str = include_str!("testdata/other_private.pem");
const HS_SECRET: &str = "an-hs256-secret-of-at-least-32-bytes!!";

fn tid(s: &str) -> TenantId {
    TenantId::parse(s).unwrap()
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs()
}

fn tokens_config(toml: &str) -> (tempfile::TempDir, AuthConfig) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokens.toml");
    std::fs::write(&path, toml).unwrap();
    (dir, AuthConfig { tokens_file: Some(path), ..Default::default() })
}

const TOKENS: &str = r#"
[[token]]
name = "reader"
secret = "reader-token-0123456789"
tenants = ["acme", "globex"]
role = "read"

[[token]]
name = "writer"
secret = "writer-token-0123456789"
tenants = ["acme"]
role = "write"

[[token]]
name = "root"
# sha256("admin-token-0123456789")
secret_sha256 = "SHA_PLACEHOLDER"
tenants = ["*"]
role = "admin"
"#;

fn tokens_toml() -> String {
    let h: String = sha256("admin-token-0123456789").iter().map(|b| format!("{b:02x}")).collect();
    TOKENS.replace("SHA_PLACEHOLDER", &h)
}

#[test]
fn roles_are_ordered() {
    assert!(Role::Read < Role::Write && Role::Write < Role::Admin);
}

#[test]
fn static_tokens_scopes_and_roles() {
    let (_d, cfg) = tokens_config(&tokens_toml());
    let auth = Authenticator::from_config(&cfg).unwrap();
    assert!(auth.is_enabled());

    let r = auth.authenticate("Bearer reader-token-0123456789").unwrap();
    assert_eq!(r.subject, "reader");
    assert!(r.allows(&tid("acme"), Role::Read));
    assert!(r.allows(&tid("globex"), Role::Read));
    assert!(!r.allows(&tid("acme"), Role::Write), "read token cannot write");
    assert!(!r.allows(&tid("initech"), Role::Read), "other tenant denied");
    assert!(!r.allows_all_tenants(Role::Read));

    let w = auth.authenticate("bearer writer-token-0123456789").unwrap();
    assert!(w.allows(&tid("acme"), Role::Write) && w.allows(&tid("acme"), Role::Read));
    assert!(!w.allows(&tid("acme"), Role::Admin));
    assert!(!w.allows(&tid("globex"), Role::Read));

    // The hashed entry, with the bare token (no scheme).
    let a = auth.authenticate("admin-token-0123456789").unwrap();
    assert_eq!(a.role, Role::Admin);
    assert!(a.allows(&tid("anyone"), Role::Admin));
    assert!(a.allows_all_tenants(Role::Admin));
}

#[test]
fn bad_tokens_are_rejected_without_echoing_them() {
    let (_d, cfg) = tokens_config(&tokens_toml());
    let auth = Authenticator::from_config(&cfg).unwrap();
    assert_eq!(auth.authenticate(""), Err(AuthError::Missing));
    assert_eq!(auth.authenticate("Bearer "), Err(AuthError::Missing));
    assert_eq!(auth.authenticate("Basic dXNlcjpwYXNz"), Err(AuthError::Malformed));
    assert_eq!(auth.authenticate("Bearer a b"), Err(AuthError::Malformed));
    for bad in
        ["reader-token-012345678", "reader-token-01234567890", "READER-TOKEN-0123456789", "x.y.z"]
    {
        let e = auth.authenticate(bad).unwrap_err();
        assert!(matches!(e, AuthError::Invalid(_)), "{bad}: {e:?}");
        assert!(!e.to_string().contains(bad), "error echoes the token: {e}");
    }
}

#[test]
fn tokens_file_errors_are_clear() {
    let cases = [
        ("[[token]]\nsecret = \"short\"\ntenants = [\"*\"]\nrole = \"read\"\n", "at least 16"),
        ("[[token]]\ntenants = [\"*\"]\nrole = \"read\"\n", "exactly one of"),
        ("[[token]]\nsecret_sha256 = \"abc\"\ntenants = [\"*\"]\nrole = \"read\"\n", "64 hex"),
        ("[[token]]\nsecret = \"0123456789abcdef\"\ntenants = []\nrole = \"read\"\n", "empty"),
        (
            "[[token]]\nsecret = \"0123456789abcdef\"\ntenants = [\"../x\"]\nrole = \"read\"\n",
            "invalid tenant id",
        ),
        (
            "[[token]]\nsecret = \"0123456789abcdef\"\ntenants = [\"*\", \"a\"]\nrole = \"read\"\n",
            "only entry",
        ),
        (
            "[[token]]\nsecret = \"0123456789abcdef\"\ntenants = [\"a\"]\nrole = \"root\"\n",
            "unknown variant",
        ),
        (
            "[[token]]\nsecret = \"0123456789abcdef\"\ntenants = [\"a\"]\nrole = \"read\"\n\
             [[token]]\nsecret = \"0123456789abcdef\"\ntenants = [\"b\"]\nrole = \"read\"\n",
            "twice",
        ),
    ];
    for (toml, want) in cases {
        let (_d, cfg) = tokens_config(toml);
        let e = Authenticator::from_config(&cfg).unwrap_err().to_string();
        assert!(e.contains(want), "{toml}\n=> {e}");
        assert!(!e.contains("0123456789abcdef"), "error echoes the secret: {e}");
    }
    let missing =
        AuthConfig { tokens_file: Some("/nonexistent/tokens.toml".into()), ..Default::default() };
    assert!(Authenticator::from_config(&missing)
        .unwrap_err()
        .to_string()
        .contains("cannot read tokens file"));
}

#[test]
fn debug_never_shows_secrets() {
    let cfg = AuthConfig { jwt_secret: Some(Secret::new(HS_SECRET)), ..Default::default() };
    let dbg = format!("{cfg:?}");
    assert!(!dbg.contains(HS_SECRET), "{dbg}");
    assert!(dbg.contains("redacted"));
    let auth = Authenticator::from_config(&cfg).unwrap();
    assert!(!format!("{auth:?}").contains(HS_SECRET));

    let (_d, cfg) = tokens_config(&tokens_toml());
    let auth = Authenticator::from_config(&cfg).unwrap();
    let dbg = format!("{auth:?}");
    assert!(dbg.contains("reader") && !dbg.contains("reader-token"), "{dbg}");
    let file: TokensFile = toml::from_str(&tokens_toml()).unwrap();
    assert!(!format!("{file:?}").contains("reader-token"));
}

fn claims(sub: &str, tenants: &[&str], role: Role, exp: u64) -> Claims {
    Claims { sub: sub.into(), tenants: tenants.iter().map(|s| s.to_string()).collect(), role, exp }
}

fn hs_token(c: &Claims, secret: &str) -> String {
    encode(&Header::new(Algorithm::HS256), c, &EncodingKey::from_secret(secret.as_bytes())).unwrap()
}

fn rs_token(c: &Claims, pem: &str) -> String {
    encode(&Header::new(Algorithm::RS256), c, &EncodingKey::from_rsa_pem(pem.as_bytes()).unwrap())
        .unwrap()
}

#[test]
fn jwt_hs256() {
    let cfg = AuthConfig {
        jwt_secret: Some(Secret::new(HS_SECRET)),
        jwt_leeway_secs: Some(0),
        ..Default::default()
    };
    let auth = Authenticator::from_config(&cfg).unwrap();
    let t = hs_token(&claims("svc", &["acme"], Role::Write, now() + 3600), HS_SECRET);
    let p = auth.authenticate(&format!("Bearer {t}")).unwrap();
    assert_eq!(p.subject, "jwt:svc");
    assert!(p.allows(&tid("acme"), Role::Write));
    assert!(!p.allows(&tid("globex"), Role::Read));

    let all = hs_token(&claims("ops", &["*"], Role::Admin, now() + 3600), HS_SECRET);
    assert!(auth.authenticate(&all).unwrap().allows_all_tenants(Role::Admin));

    let expired = hs_token(&claims("svc", &["acme"], Role::Write, now() - 3600), HS_SECRET);
    assert_eq!(auth.authenticate(&expired), Err(AuthError::Expired));

    let wrong_key = hs_token(
        &claims("svc", &["acme"], Role::Write, now() + 3600),
        "another-secret-of-at-least-32-bytes!!!",
    );
    assert!(
        matches!(auth.authenticate(&wrong_key), Err(AuthError::Invalid(m)) if m.contains("signature"))
    );

    let bad_tenant = hs_token(&claims("svc", &["../x"], Role::Write, now() + 3600), HS_SECRET);
    assert!(
        matches!(auth.authenticate(&bad_tenant), Err(AuthError::Invalid(m)) if m.contains("tenants"))
    );

    // RS256 token while only HS256 is configured.
    let rs = rs_token(&claims("svc", &["acme"], Role::Write, now() + 3600), RSA_PRIVATE);
    assert!(
        matches!(auth.authenticate(&rs), Err(AuthError::Invalid(m)) if m.contains("not accepted"))
    );

    // Missing exp / wrong claim shapes.
    #[derive(serde::Serialize)]
    struct NoExp {
        sub: String,
        tenants: Vec<String>,
        role: Role,
    }
    let no_exp = encode(
        &Header::new(Algorithm::HS256),
        &NoExp { sub: "svc".into(), tenants: vec!["acme".into()], role: Role::Read },
        &EncodingKey::from_secret(HS_SECRET.as_bytes()),
    )
    .unwrap();
    assert!(matches!(auth.authenticate(&no_exp), Err(AuthError::Invalid(m)) if m.contains("exp")));

    assert!(Authenticator::from_config(&AuthConfig {
        jwt_secret: Some(Secret::new("short")),
        ..Default::default()
    })
    .unwrap_err()
    .to_string()
    .contains("32 bytes"));
}

#[test]
fn jwt_rs256_with_pem_text_or_file() {
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("pub.pem");
    std::fs::write(&key_path, RSA_PUBLIC).unwrap();
    for key in [RSA_PUBLIC.to_string(), key_path.display().to_string()] {
        let cfg = AuthConfig { jwt_public_key: Some(key), ..Default::default() };
        let auth = Authenticator::from_config(&cfg).unwrap();
        let t = rs_token(
            &claims("nightly", &["acme", "globex"], Role::Write, now() + 600),
            RSA_PRIVATE,
        );
        let p = auth.authenticate(&t).unwrap();
        assert!(p.allows(&tid("globex"), Role::Write));
        assert!(!p.allows(&tid("globex"), Role::Admin));

        let forged = rs_token(&claims("nightly", &["*"], Role::Admin, now() + 600), OTHER_PRIVATE);
        assert!(matches!(auth.authenticate(&forged), Err(AuthError::Invalid(_))));
        // An HS256 token signed with the public key as secret (algorithm confusion) is refused.
        let confused = hs_token(&claims("x", &["*"], Role::Admin, now() + 600), RSA_PUBLIC);
        assert!(
            matches!(auth.authenticate(&confused), Err(AuthError::Invalid(m)) if m.contains("not accepted"))
        );
        let expired =
            rs_token(&claims("nightly", &["acme"], Role::Write, now() - 600), RSA_PRIVATE);
        assert_eq!(auth.authenticate(&expired), Err(AuthError::Expired));
    }
    let bad = AuthConfig { jwt_public_key: Some("/nonexistent.pem".into()), ..Default::default() };
    assert!(Authenticator::from_config(&bad).is_err());
}

#[test]
fn static_tokens_and_jwt_together() {
    let (_d, mut cfg) = tokens_config(&tokens_toml());
    cfg.jwt_secret = Some(Secret::new(HS_SECRET));
    let auth = Authenticator::from_config(&cfg).unwrap();
    assert_eq!(auth.authenticate("writer-token-0123456789").unwrap().subject, "writer");
    let t = hs_token(&claims("svc", &["globex"], Role::Read, now() + 60), HS_SECRET);
    assert_eq!(auth.authenticate(&t).unwrap().subject, "jwt:svc");
}

#[test]
fn unauthenticated_local_is_admin_everywhere() {
    let p = Principal::unauthenticated_local();
    assert!(p.allows(&tid("x"), Role::Admin) && p.allows_all_tenants(Role::Admin));
    assert!(!AuthConfig::default().is_enabled());
    assert!(!Authenticator::from_config(&AuthConfig::default()).unwrap().is_enabled());
}
