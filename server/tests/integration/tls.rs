//! TLS and mTLS on the gRPC port (rustls): a CA, a server certificate and client certificates
//! made at test time; health and Transform over TLS, plaintext refused, mTLS without (or with a
//! foreign) client certificate refused, unreadable PEM files refused at start.

#![allow(clippy::unwrap_used)] // tests may unwrap

use crate::common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::TestServer;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use topicd::proto::topics_client::TopicsClient;
use topicd::proto::{self, Embedding};

/// A CA and the PEM files it signed, written under a directory.
struct Pki {
    ca: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
    /// A client certificate from another CA (not trusted by the server).
    rogue_cert: PathBuf,
    rogue_key: PathBuf,
}

struct Ca {
    cert: rcgen::Certificate,
    key: KeyPair,
}

fn make_ca(name: &str) -> Ca {
    let key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, name);
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Ca { cert: p.self_signed(&key).unwrap(), key }
}

fn leaf(ca: &Ca, sans: &[&str], usage: ExtendedKeyUsagePurpose) -> (String, String) {
    let key = KeyPair::generate().unwrap();
    let mut p =
        CertificateParams::new(sans.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    p.distinguished_name.push(DnType::CommonName, sans.first().copied().unwrap_or("client"));
    p.extended_key_usages = vec![usage];
    let cert = p.signed_by(&key, &ca.cert, &ca.key).unwrap();
    (cert.pem(), key.serialize_pem())
}

fn pki(dir: &Path) -> Pki {
    let ca = make_ca("topicd test CA");
    let rogue_ca = make_ca("someone else's CA");
    let (server_cert, server_key) =
        leaf(&ca, &["localhost", "127.0.0.1"], ExtendedKeyUsagePurpose::ServerAuth);
    let (client_cert, client_key) = leaf(&ca, &["nightly"], ExtendedKeyUsagePurpose::ClientAuth);
    let (rogue_cert, rogue_key) =
        leaf(&rogue_ca, &["nightly"], ExtendedKeyUsagePurpose::ClientAuth);
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    };
    Pki {
        ca: write("ca.pem", &ca.cert.pem()),
        server_cert: write("server.pem", &server_cert),
        server_key: write("server.key", &server_key),
        client_cert: write("client.pem", &client_cert),
        client_key: write("client.key", &client_key),
        rogue_cert: write("rogue.pem", &rogue_cert),
        rogue_key: write("rogue.key", &rogue_key),
    }
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap()
}

/// Connects to `url` with `tls` (none: plaintext); the error when the handshake fails.
async fn connect(url: String, tls: Option<ClientTlsConfig>) -> Result<Channel, String> {
    let mut e = Endpoint::from_shared(url).unwrap().connect_timeout(Duration::from_secs(5));
    if let Some(tls) = tls {
        e = e.tls_config(tls).map_err(|e| format!("{e:?}"))?;
    }
    tokio::time::timeout(Duration::from_secs(10), e.connect())
        .await
        .map_err(|_| "connect timed out".to_string())?
        .map_err(|e| format!("{e:?}"))
}

/// A health check then a Transform on acme; the first error as text.
async fn health_and_transform(channel: Channel) -> Result<(), String> {
    let mut health = HealthClient::new(channel.clone());
    let h = health
        .check(HealthCheckRequest { service: "topics.v1.Topics".into() })
        .await
        .map_err(|s| format!("health: {s:?}"))?
        .into_inner();
    assert_eq!(h.status, tonic_health::pb::health_check_response::ServingStatus::Serving as i32);
    let mut c = TopicsClient::new(channel);
    let r = c
        .transform(proto::TransformRequest {
            tenant_id: "acme".into(),
            texts: vec![],
            embeddings: vec![Embedding { values: vec![0.0, 1.0, 0.0, 0.0] }],
        })
        .await
        .map_err(|s| format!("transform: {s:?}"))?
        .into_inner();
    assert_eq!(r.results[0].topic_id, 1);
    Ok(())
}

/// Connect + health + Transform, as one result.
async fn try_call(url: String, tls: Option<ClientTlsConfig>) -> Result<(), String> {
    health_and_transform(connect(url, tls).await?).await
}

fn ca_only(p: &Pki) -> ClientTlsConfig {
    ClientTlsConfig::new().ca_certificate(Certificate::from_pem(read(&p.ca)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_serves_and_refuses_plaintext() {
    let dir = tempfile::tempdir().unwrap();
    let p = pki(dir.path());
    let data = dir.path().join("data");
    common::seed_model(&data, "acme").await;
    let mut cfg = common::config(&data);
    cfg.tls.cert_file = Some(p.server_cert.clone());
    cfg.tls.key_file = Some(p.server_key.clone());
    let server = TestServer::start(cfg).await;
    let port = server.addr.port();
    let https_ip = format!("https://127.0.0.1:{port}");
    let https_name = format!("https://localhost:{port}");

    // The first call may race the server's start; retry a few times.
    let mut last = Err(String::new());
    for _ in 0..50 {
        last = try_call(https_ip.clone(), Some(ca_only(&p))).await;
        if last.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last.unwrap();
    // By DNS name too; and an mTLS-capable client works against a TLS-only server.
    try_call(https_name.clone(), Some(ca_only(&p))).await.unwrap();
    let with_identity =
        ca_only(&p).identity(Identity::from_pem(read(&p.client_cert), read(&p.client_key)));
    try_call(https_name.clone(), Some(with_identity)).await.unwrap();

    // Plaintext to a TLS port fails.
    let e = try_call(format!("http://127.0.0.1:{port}"), None).await.unwrap_err();
    eprintln!("plaintext client: {e}");
    // Without the CA (public roots only) the certificate is not trusted.
    let e = try_call(https_ip.clone(), Some(ClientTlsConfig::new().with_webpki_roots()))
        .await
        .unwrap_err();
    assert!(e.to_lowercase().contains("certificate") || e.contains("UnknownIssuer"), "{e}");
    // A name the certificate does not carry fails verification.
    let e = try_call(https_ip.clone(), Some(ca_only(&p).domain_name("topicd.example.com")))
        .await
        .unwrap_err();
    assert!(e.to_lowercase().contains("certificate") || e.contains("NotValidForName"), "{e}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mtls_requires_a_client_certificate_from_the_ca() {
    let dir = tempfile::tempdir().unwrap();
    let p = pki(dir.path());
    let data = dir.path().join("data");
    common::seed_model(&data, "acme").await;
    let mut cfg = common::config(&data);
    cfg.tls.cert_file = Some(p.server_cert.clone());
    cfg.tls.key_file = Some(p.server_key.clone());
    cfg.tls.client_ca_file = Some(p.ca.clone());
    let server = TestServer::start(cfg).await;
    let url = format!("https://localhost:{}", server.addr.port());
    let good =
        || ca_only(&p).identity(Identity::from_pem(read(&p.client_cert), read(&p.client_key)));

    let mut last = Err(String::new());
    for _ in 0..50 {
        last = try_call(url.clone(), Some(good())).await;
        if last.is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    last.unwrap();

    // TLS 1.3 reports a missing or refused client certificate on the first read, so each of
    // these fails at connect or at the first call.
    let e = try_call(url.clone(), Some(ca_only(&p))).await.unwrap_err();
    eprintln!("no client certificate: {e}");
    let rogue = ca_only(&p).identity(Identity::from_pem(read(&p.rogue_cert), read(&p.rogue_key)));
    let e = try_call(url.clone(), Some(rogue)).await.unwrap_err();
    eprintln!("client certificate from another CA: {e}");
    let e = try_call(format!("http://127.0.0.1:{}", server.addr.port()), None).await.unwrap_err();
    eprintln!("plaintext client: {e}");
    // The good client still works afterwards.
    try_call(url, Some(good())).await.unwrap();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unusable_tls_files_stop_the_start() {
    let dir = tempfile::tempdir().unwrap();
    let p = pki(dir.path());
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "not a certificate").unwrap();
    for (cert, key, ca, expect) in [
        (dir.path().join("missing.pem"), p.server_key.clone(), None, "missing.pem"),
        (garbage.clone(), p.server_key.clone(), None, "TLS"),
        (p.server_cert.clone(), p.client_key.clone(), None, "TLS"),
        (p.server_cert.clone(), p.server_key.clone(), Some(garbage.clone()), "TLS"),
    ] {
        let mut cfg = common::config(&dir.path().join("data"));
        cfg.tls.cert_file = Some(cert);
        cfg.tls.key_file = Some(key);
        cfg.tls.client_ca_file = ca;
        let app = topicd::app::App::build(cfg).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let r = tokio::time::timeout(
            Duration::from_secs(10),
            topicd::app::serve(app, listener, std::future::pending()),
        )
        .await
        .expect("serve returns at once on bad TLS files");
        let e = format!("{:#}", r.unwrap_err());
        assert!(e.contains(expect), "{e}");
    }
}

#[test]
fn help_documents_the_tls_options() {
    let out =
        std::process::Command::new(env!("CARGO_BIN_EXE_topicd")).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in [
        "--tls-cert",
        "--tls-key",
        "--tls-client-ca",
        "TOPICD_TLS_CERT",
        "TOPICD_TLS_KEY",
        "TOPICD_TLS_CLIENT_CA",
        "mTLS",
    ] {
        assert!(help.contains(needle), "topicd --help lacks {needle}:\n{help}");
    }
}
