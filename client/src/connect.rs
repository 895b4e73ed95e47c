//! Connecting to `topicd`: one channel, bearer-token metadata on every call.

use anyhow::Context;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

use topicd::proto::topics_client::TopicsClient;

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

/// Where to reach the server and as whom.
#[derive(Clone, Debug)]
pub struct ServerOptions {
    /// `http://host:port` (or `https://`).
    pub server: String,
    /// Bearer token.
    pub token: Option<String>,
}

impl ServerOptions {
    /// A lazily connecting channel: the first call connects, and later calls reconnect after
    /// the server restarts, which is what retries need.
    pub fn channel(&self) -> anyhow::Result<Channel> {
        let endpoint = Endpoint::from_shared(self.server.clone())
            .with_context(|| format!("invalid server address {:?}", self.server))?
            .connect_timeout(std::time::Duration::from_secs(10))
            .tcp_nodelay(true);
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
