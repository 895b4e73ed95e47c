//! Connecting to `topicd`: one channel (plaintext, TLS or mTLS), bearer-token metadata on every
//! call.

use std::path::{Path, PathBuf};

use anyhow::Context;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

use topicd_proto::topics_client::TopicsClient;

/// Largest gRPC message the client sends or accepts (a day of a big tenant's messages).
pub const MAX_MESSAGE_BYTES: usize = 256 * 1024 * 1024;

/// Adds `authorization: Bearer <token>` to every request when a token is set.
#[derive(Clone, Debug)]
pub struct BearerAuth {
    header: Option<MetadataValue<Ascii>>,
}

impl BearerAuth {
    /// An interceptor for `token` (none: requests go out unauthenticated).
    pub fn new(token: Option<&str>) -> anyhow::Result<Self> {
        let header = match token.map(str::trim).filter(|t| !t.is_empty()) {
            None => None,
            Some(token) => Some(
                format!("Bearer {token}")
                    .parse()
                    .context("the token contains characters not allowed in a gRPC header")?,
            ),
        };
        Ok(Self { header })
    }
}

impl tonic::service::Interceptor for BearerAuth {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(header) = &self.header {
            request.metadata_mut().insert("authorization", header.clone());
        }
        Ok(request)
    }
}

/// The authenticated Topics client type used by every command.
pub type Client = TopicsClient<InterceptedService<Channel, BearerAuth>>;

/// TLS settings for an `https://` server (all optional).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TlsOptions {
    /// PEM CA bundle to trust instead of the built-in public roots (a private CA).
    pub ca: Option<PathBuf>,
    /// PEM client certificate chain, for servers that require mTLS (with `key`).
    pub cert: Option<PathBuf>,
    /// PEM private key of `cert`.
    pub key: Option<PathBuf>,
    /// Name to verify the server certificate against, when it differs from the URL's host.
    pub domain: Option<String>,
}

impl TlsOptions {
    /// True when any TLS option is set.
    pub fn is_set(&self) -> bool {
        self.ca.is_some() || self.cert.is_some() || self.key.is_some() || self.domain.is_some()
    }

    /// The tonic client TLS configuration: the CA file when given, else the public web roots;
    /// the client identity when `cert` and `key` are given.
    pub fn client_config(&self) -> anyhow::Result<ClientTlsConfig> {
        let read = |what: &str, path: &Path| {
            std::fs::read(path)
                .with_context(|| format!("reading the TLS {what} {}", path.display()))
        };
        let mut config = ClientTlsConfig::new();
        config = match &self.ca {
            Some(ca) => config.ca_certificate(Certificate::from_pem(read("CA (--tls-ca)", ca)?)),
            None => config.with_webpki_roots(),
        };
        match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => {
                config = config.identity(Identity::from_pem(
                    read("client certificate (--tls-cert)", cert)?,
                    read("client key (--tls-key)", key)?,
                ));
            }
            (None, None) => {}
            _ => anyhow::bail!("--tls-cert and --tls-key go together: set both or neither"),
        }
        if let Some(domain) = &self.domain {
            config = config.domain_name(domain.clone());
        }
        Ok(config)
    }
}

/// Where to reach the server and as whom.
#[derive(Clone, Debug, Default)]
pub struct ServerOptions {
    /// `http://host:port`, or `https://host:port` for TLS.
    pub server: String,
    /// Bearer token.
    pub token: Option<String>,
    /// TLS settings (used with an `https://` server).
    pub tls: TlsOptions,
}

impl ServerOptions {
    /// A lazily connecting channel: the first call connects, and later calls reconnect after
    /// the server restarts, which is what retries need. An `https://` server is reached over
    /// TLS; TLS options with an `http://` server are refused rather than ignored.
    pub fn channel(&self) -> anyhow::Result<Channel> {
        let mut endpoint = Endpoint::from_shared(self.server.clone())
            .with_context(|| format!("invalid server address {:?}", self.server))?
            .connect_timeout(std::time::Duration::from_secs(10))
            .tcp_nodelay(true);
        let https = endpoint.uri().scheme_str() == Some("https");
        if https {
            endpoint = endpoint
                .tls_config(self.tls.client_config()?)
                .context("building the TLS client configuration")?;
        } else if self.tls.is_set() {
            anyhow::bail!(
                "TLS options are set but the server address {:?} is not https://; use https://HOST:PORT",
                self.server
            );
        }
        Ok(endpoint.connect_lazy())
    }

    /// A Topics client on a fresh channel.
    pub fn client(&self) -> anyhow::Result<Client> {
        self.client_on(self.channel()?)
    }

    /// A Topics client on an existing channel (channels are cheap to clone and share).
    pub fn client_on(&self, channel: Channel) -> anyhow::Result<Client> {
        let auth = BearerAuth::new(self.token.as_deref())?;
        Ok(TopicsClient::with_interceptor(channel, auth)
            .max_decoding_message_size(MAX_MESSAGE_BYTES)
            .max_encoding_message_size(MAX_MESSAGE_BYTES))
    }
}

/// A status as one readable line: `CODE: message`.
pub fn describe_status(status: &tonic::Status) -> String {
    format!("{:?}: {}", status.code(), status.message())
}
