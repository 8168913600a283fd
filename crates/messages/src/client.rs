//! The umbrella [`Client`].

use std::time::Duration;

use crate::error::{Error, Result};
use messages_http::{ListParams, Pages, Request, RequestOptions, Transport, TransportBuilder};
use messages_stream::{MessageStream, StreamOptions};
use messages_types::{CountTokensRequest, CountTokensResponse, Message, MessageRequest, ModelInfo};

/// The client of the whole API.
///
/// Cheap to clone (an `Arc` inside) and `Send + Sync`: share one per
/// process so every request uses the same connection pool.
///
/// Every call returns [`messages::Error`](crate::Error), and so do the
/// calls of the [`Batches`](crate::Batches) and [`Runner`](crate::Runner)
/// facades it hands out (streams of results included). The events of a
/// [`MessageStream`] return the stream layer's error, which `?` converts
/// into it.
#[derive(Debug, Clone)]
pub struct Client {
    transport: Transport,
    stream: StreamOptions,
}

impl Client {
    /// A builder: credentials, base URL, retries, timeouts, resumption.
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            transport: Transport::builder(),
            stream: StreamOptions::new(),
        }
    }

    /// A client configured from the environment: `ANTHROPIC_API_KEY`,
    /// `ANTHROPIC_AUTH_TOKEN`, `ANTHROPIC_BASE_URL` (see
    /// [`TransportBuilder::from_env`]).
    ///
    /// # Errors
    ///
    /// No credentials in the environment, or an invalid base URL.
    pub fn from_env() -> Result<Client> {
        Client::builder()
            .transport(TransportBuilder::from_env)
            .build()
    }

    /// A client over an existing transport, with default stream options.
    pub fn from_transport(transport: Transport) -> Client {
        Client {
            transport,
            stream: StreamOptions::new(),
        }
    }

    /// The transport, for requests this client has no method for.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// Sends a request and waits for the whole message (no streaming).
    ///
    /// Requests with a large `max_tokens` that could exceed the 10 minute
    /// timeout are refused ([`is_invalid_request`]) unless a timeout was
    /// set: stream them instead.
    ///
    /// [`is_invalid_request`]: crate::Error::is_invalid_request
    ///
    /// # Errors
    ///
    /// Transport failures and API errors, after the configured retries. A
    /// request with `stream: true` is refused before anything is sent: use
    /// [`stream`](Client::stream).
    pub async fn create(&self, request: &MessageRequest) -> Result<Message> {
        self.create_with(request, RequestOptions::new()).await
    }

    /// [`create`](Client::create) with options for this call: headers,
    /// betas, timeout, retries.
    ///
    /// ```no_run
    /// # async fn run(client: messages::Client, request: messages::MessageRequest) -> messages::Result<()> {
    /// use std::time::Duration;
    /// use messages::RequestOptions;
    ///
    /// let options = RequestOptions::new().timeout(Duration::from_secs(30)).max_retries(5);
    /// let message = client.create_with(&request, options).await?;
    /// # Ok(()) }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`create`](Client::create).
    pub async fn create_with(
        &self,
        request: &MessageRequest,
        options: RequestOptions,
    ) -> Result<Message> {
        if request.stream == Some(true) {
            return Err(Error::invalid(
                "`create` waits for the whole message, but the request has `stream: true`: \
                 use `Client::stream`",
            ));
        }
        messages_stream::preflight(request, version_for(&self.transport, &options))?;
        let http = Request::post("/v1/messages")
            .with_json(request)?
            .with_options(options.max_tokens(u64::from(request.max_tokens)));
        Ok(self.transport.send(http).await?.json().await?)
    }

    /// Sends a request as a stream and returns once the response head
    /// arrived, with this client's [`StreamOptions`] (see
    /// [`ClientBuilder::resume`]).
    ///
    /// # Errors
    ///
    /// The transport failed or the API answered with an error status
    /// ([`messages_stream::Error::is_http`]).
    pub async fn stream(&self, request: &MessageRequest) -> Result<MessageStream> {
        self.stream_with(request, self.stream.clone()).await
    }

    /// [`stream`](Client::stream) with explicit options for this request.
    ///
    /// # Errors
    ///
    /// As [`stream`](Client::stream).
    pub async fn stream_with(
        &self,
        request: &MessageRequest,
        options: StreamOptions,
    ) -> Result<MessageStream> {
        // `MessageStream::open` makes the preflight checks itself.
        Ok(MessageStream::open(&self.transport, request, options).await?)
    }

    /// The checks made before a Messages request is sent, under this
    /// client's `anthropic-version` (see [`messages_stream::preflight`]):
    /// a field the version does not accept, or a retired model, is a
    /// [builder](messages_http::Error::is_builder) error; a deprecated
    /// model gets one `tracing` warning per process and model.
    ///
    /// `create`, `stream` and `count_tokens` make these checks themselves
    /// (under a per-call `anthropic-version` header when there is one), and
    /// so does [`MessageStream::open`] called directly.
    ///
    /// # Errors
    ///
    /// As above; nothing was sent.
    pub fn preflight(&self, request: &MessageRequest) -> messages_http::Result<()> {
        messages_stream::preflight(request, self.transport.anthropic_version())
    }

    /// Counts the input tokens of a request.
    ///
    /// The request is checked first as [`create`](Client::create) checks
    /// one (see [`messages_stream::preflight_count_tokens`]): a field the
    /// API version rejects or a retired model is refused before sending.
    ///
    /// # Errors
    ///
    /// The checks above, transport failures and API errors.
    pub async fn count_tokens(&self, request: &CountTokensRequest) -> Result<CountTokensResponse> {
        self.count_tokens_with(request, RequestOptions::new()).await
    }

    /// [`count_tokens`](Client::count_tokens) with options for this call.
    ///
    /// # Errors
    ///
    /// Transport failures and API errors.
    pub async fn count_tokens_with(
        &self,
        request: &CountTokensRequest,
        options: RequestOptions,
    ) -> Result<CountTokensResponse> {
        messages_stream::preflight_count_tokens(request, version_for(&self.transport, &options))?;
        let http = Request::post("/v1/messages/count_tokens")
            .with_json(request)?
            .with_options(options);
        Ok(self.transport.send(http).await?.json().await?)
    }

    /// The models endpoints.
    pub fn models(&self) -> Models {
        Models {
            transport: self.transport.clone(),
            page_size: 100,
            options: RequestOptions::new(),
        }
    }

    /// The Message Batches API; [`Batches::submit`](crate::Batches::submit)
    /// sends a [`BatchJob`](crate::batch::BatchJob). Its calls return
    /// [`messages::Error`](crate::Error);
    /// [`inner`](crate::Batches::inner) is the batch crate's facade.
    #[cfg(feature = "batch")]
    pub fn batches(&self) -> crate::Batches {
        crate::Batches::new(self.transport.clone())
    }

    /// A local runner over this client's transport: a job's requests sent
    /// through `POST /v1/messages`, a few at a time, with a checkpoint. Its
    /// calls return [`messages::Error`](crate::Error).
    #[cfg(feature = "batch")]
    pub fn runner(&self) -> crate::Runner {
        crate::Runner::new(self.transport.clone())
    }
}

/// Builds a [`Client`].
#[derive(Debug)]
pub struct ClientBuilder {
    transport: TransportBuilder,
    stream: StreamOptions,
}

impl ClientBuilder {
    /// The API key, sent as `x-api-key`.
    pub fn api_key(mut self, key: impl Into<String>) -> ClientBuilder {
        self.transport = self.transport.api_key(key);
        self
    }

    /// The base URL (default `https://api.anthropic.com`).
    pub fn base_url(mut self, url: impl Into<String>) -> ClientBuilder {
        self.transport = self.transport.base_url(url);
        self
    }

    /// Retries of failed requests (default 2). Streams are retried only
    /// before their first byte; see [`resume`](ClientBuilder::resume) for
    /// later.
    pub fn max_retries(mut self, retries: u32) -> ClientBuilder {
        self.transport = self.transport.max_retries(retries);
        self
    }

    /// The overall deadline of every call, retries included: the response
    /// headers and the whole body, for `create` and for streams alike (the
    /// same meaning as [`RequestOptions::timeout`], which overrides it for
    /// one call). A stream still flowing at the deadline fails with
    /// [`is_timeout`](crate::Error::is_timeout); its partial message is
    /// kept. Setting it lifts the refusal of non-streaming requests with a
    /// large `max_tokens`.
    ///
    /// Default (unset): 10 minutes for `create`; for a stream, 10 minutes
    /// to the response headers and no bound on the body, which the
    /// [idle timeout](ClientBuilder::idle_timeout) guards instead.
    pub fn timeout(mut self, timeout: Duration) -> ClientBuilder {
        self.transport = self.transport.timeout(timeout);
        self
    }

    /// The longest wait for the next chunk of a response body (default
    /// 60 s; `None` waits forever).
    pub fn idle_timeout(mut self, timeout: Option<Duration>) -> ClientBuilder {
        self.transport = self.transport.idle_timeout(timeout);
        self
    }

    /// Resume broken streams by default (see [`messages_stream::ResumePolicy`]).
    pub fn resume(mut self, policy: messages_stream::ResumePolicy) -> ClientBuilder {
        self.stream = self.stream.resume(policy);
        self
    }

    /// Default options of [`Client::stream`].
    pub fn stream_options(mut self, options: StreamOptions) -> ClientBuilder {
        self.stream = options;
        self
    }

    /// Any other transport setting: `builder.transport(|t| t.beta("x").concurrency_limit(8))`.
    pub fn transport(
        mut self,
        f: impl FnOnce(TransportBuilder) -> TransportBuilder,
    ) -> ClientBuilder {
        self.transport = f(self.transport);
        self
    }

    /// Builds the client.
    ///
    /// # Errors
    ///
    /// [`messages_http::Error::is_builder`]: no credentials, an invalid base
    /// URL or header.
    pub fn build(self) -> Result<Client> {
        Ok(Client {
            transport: self.transport.build()?,
            stream: self.stream,
        })
    }
}

/// The models endpoints, from [`Client::models`].
#[derive(Debug, Clone)]
pub struct Models {
    transport: Transport,
    page_size: u32,
    options: RequestOptions,
}

impl Models {
    /// The page size [`list`](Models::list) asks for (1 to 1000, default 100).
    pub fn page_size(mut self, size: u32) -> Models {
        self.page_size = size.clamp(1, 1000);
        self
    }

    /// Options for every request of these calls: headers, betas, timeout,
    /// retries.
    pub fn options(mut self, options: RequestOptions) -> Models {
        self.options = options;
        self
    }

    /// Every model, newest first, fetching one page of
    /// [`page_size`](Models::page_size) at a time as the stream is pulled
    /// (nothing is requested until then). After an error the stream ends.
    pub fn list(&self) -> Pages<ModelInfo> {
        self.list_with(ListParams::new().limit(self.page_size))
    }

    /// Models from a cursor (`after_id` for older ones, `before_id` for
    /// newer ones), as [`list`](Models::list) pages them.
    pub fn list_with(&self, params: ListParams) -> Pages<ModelInfo> {
        self.transport
            .pages("/v1/models", params.options(self.options.clone()))
    }

    /// One model by id or alias.
    ///
    /// # Errors
    ///
    /// [`Error::is_api`] with `not_found_error` for an unknown model.
    pub async fn retrieve(&self, id: &str) -> Result<ModelInfo> {
        let path = format!("/v1/models/{}", messages_http::encode_segment(id));
        let request = Request::get(path).with_options(self.options.clone());
        Ok(self.transport.send(request).await?.json().await?)
    }
}
/// The `anthropic-version` a call will be sent with: a per-call header
/// overrides the transport's.
fn version_for<'a>(transport: &'a Transport, options: &'a RequestOptions) -> &'a str {
    options
        .headers()
        .get("anthropic-version")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| transport.anthropic_version())
}
