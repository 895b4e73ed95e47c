//! The client's TLS options against an in-process `topicd` that requires mTLS: the library's
//! [`topics::connect::TlsOptions`] and the binary's `--tls-ca/--tls-cert/--tls-key/--tls-domain`
//! flags and `TOPICS_TLS_*` variables, with certificates made at test time.

#![allow(clippy::unwrap_used)] // tests may unwrap

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use tokio::sync::oneshot;
use topicd_proto as proto;
use topics::connect::{ServerOptions, TlsOptions};

struct Files {
    ca: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
}

/// A CA, a server certificate for `localhost`/127.0.0.1 and a client certificate, as PEM files.
fn pki(dir: &Path) -> Files {
    let ca_key = KeyPair::generate().unwrap();
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.distinguished_name.push(DnType::CommonName, "topics test CA");
    p.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = p.self_signed(&ca_key).unwrap();
    let leaf = |sans: Vec<String>, usage| {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(sans).unwrap();
        p.extended_key_usages = vec![usage];
        (p.signed_by(&key, &ca, &ca_key).unwrap().pem(), key.serialize_pem())
    };
    let (sc, sk) =
        leaf(vec!["localhost".into(), "127.0.0.1".into()], ExtendedKeyUsagePurpose::ServerAuth);
    let (cc, ck) = leaf(vec!["nightly".into()], ExtendedKeyUsagePurpose::ClientAuth);
    let write = |name: &str, text: &str| {
        let path = dir.join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    Files {
        ca: write("ca.pem", &ca.pem()),
        server_cert: write("server.pem", &sc),
        server_key: write("server.key", &sk),
        client_cert: write("client.pem", &cc),
        client_key: write("client.key", &ck),
    }
}

/// Runs `topics [args] health`; exit code, stdout, stderr.
fn topics(args: &[&str], env: &[(&str, &Path)]) -> (i32, String, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_topics"));
    for k in ["TOPICS_TLS_CA", "TOPICS_TLS_CERT", "TOPICS_TLS_KEY", "TOPICS_TLS_DOMAIN"] {
        cmd.env_remove(k);
    }
    cmd.env_remove("TOPICS_SERVER").env_remove("TOPICS_TOKEN");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.args(args).arg("health").output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_tls_options_reach_an_mtls_server() {
    let dir = tempfile::tempdir().unwrap();
    let f = pki(dir.path());
    let mut config = topicd::config::Config::for_data_dir(dir.path().join("data"));
    config.device = "cpu".into();
    config.tls.cert_file = Some(f.server_cert.clone());
    config.tls.key_file = Some(f.server_key.clone());
    config.tls.client_ca_file = Some(f.ca.clone());
    let app = topicd::app::App::build(config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(topicd::app::serve(app, listener, async move {
        let _ = stopped.await;
    }));

    // The library: https + CA + client identity.
    let tls = TlsOptions {
        ca: Some(f.ca.clone()),
        cert: Some(f.client_cert.clone()),
        key: Some(f.client_key.clone()),
        domain: None,
    };
    let opts = ServerOptions {
        server: format!("https://localhost:{port}"),
        token: None,
        tls: tls.clone(),
    };
    let mut listed = None;
    for _ in 0..50 {
        let mut c = opts.client().unwrap();
        match c.list_models(proto::ListModelsRequest { tenant_id: "acme".into(), limit: 0 }).await {
            Ok(r) => {
                listed = Some(r.into_inner());
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    assert_eq!(listed.expect("ListModels over mTLS").models.len(), 0);
    // Without the client certificate the server refuses the connection.
    let no_identity =
        ServerOptions { tls: TlsOptions { cert: None, key: None, ..tls.clone() }, ..opts.clone() };
    let e = no_identity
        .client()
        .unwrap()
        .list_models(proto::ListModelsRequest { tenant_id: "acme".into(), limit: 0 })
        .await
        .unwrap_err();
    eprintln!("ListModels without a client certificate: {e:?}");
    // TLS options with an http:// address, and half an identity, are refused up front.
    let e = ServerOptions { server: format!("http://localhost:{port}"), ..opts.clone() }
        .channel()
        .unwrap_err();
    assert!(e.to_string().contains("https://"), "{e:#}");
    let e = ServerOptions { tls: TlsOptions { key: None, ..tls.clone() }, ..opts.clone() }
        .channel()
        .unwrap_err();
    assert!(e.to_string().contains("--tls-key"), "{e:#}");

    // The binary, with flags.
    let url_ip = format!("https://127.0.0.1:{port}");
    let s = |p: &PathBuf| p.to_str().unwrap().to_string();
    let (ca, cert, key) = (s(&f.ca), s(&f.client_cert), s(&f.client_key));
    let flags = ["--tls-ca", &ca, "--tls-cert", &cert, "--tls-key", &key];
    let (code, out, err) =
        tokio::task::block_in_place(|| topics(&[&["--server", &url_ip][..], &flags].concat(), &[]));
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    assert!(out.contains("SERVING"), "{out}");
    // --tls-domain: verify the certificate against a name other than the URL's host.
    let (code, out, err) = tokio::task::block_in_place(|| {
        topics(&[&["--server", &url_ip, "--tls-domain", "localhost"][..], &flags].concat(), &[])
    });
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    let (code, _, err) = tokio::task::block_in_place(|| {
        topics(
            &[&["--server", &url_ip, "--tls-domain", "topicd.example.com"][..], &flags].concat(),
            &[],
        )
    });
    assert_ne!(code, 0, "a name the certificate lacks must fail: {err}");
    // The same through TOPICS_TLS_* variables.
    let (code, out, err) = tokio::task::block_in_place(|| {
        topics(
            &["--server", &format!("https://localhost:{port}")],
            &[
                ("TOPICS_TLS_CA", &f.ca),
                ("TOPICS_TLS_CERT", &f.client_cert),
                ("TOPICS_TLS_KEY", &f.client_key),
            ],
        )
    });
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    // No client certificate, and plaintext: both fail.
    let (code, _, err) =
        tokio::task::block_in_place(|| topics(&["--server", &url_ip, "--tls-ca", &ca], &[]));
    assert_ne!(code, 0, "mTLS without a client certificate must fail: {err}");
    let (code, _, err) = tokio::task::block_in_place(|| {
        topics(&["--server", &format!("http://127.0.0.1:{port}")], &[])
    });
    assert_ne!(code, 0, "plaintext to a TLS port must fail: {err}");

    let _ = stop.send(());
    task.await.unwrap().unwrap();
}
