//! One HTTP attempt: the shared reqwest client, the upsert request, and what
//! came back, reduced to the few facts the retry decision needs.

use std::time::{Duration, SystemTime};

use hyper::body::Bytes;
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Certificate, Client, Response, StatusCode, Url};
use tokio::time::Instant;

use super::backoff::parse_retry_after;
use super::{Settings, Stop};
use crate::secret::ApiKey;

/// Connecting never gets longer than this, even with a longer request
/// timeout: a host that does not accept a connection in 10 s is down.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Characters of a server message kept in a failure reason.
pub const MESSAGE_CHARS: usize = 200;

/// Bytes of an error answer's body read to find its message; the rest is
/// not read (the connection is then closed rather than reused).
const ERROR_BODY_BYTES: usize = 8 * 1024;

const USER_AGENT: &str = concat!("laudspeaker-import/", env!("CARGO_PKG_VERSION"));

/// What one attempt got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The server answered with a status.
    Reply(Reply),
    /// No complete answer within the request timeout.
    TimedOut,
    /// The connection failed or closed without an answer; what went wrong.
    Unreachable(String),
    /// The server's TLS certificate was refused; what was wrong with it.
    /// No retry can change that.
    Untrusted(String),
}

/// The parts of an HTTP answer that matter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    /// The server's message for a non-2xx answer (empty for 2xx): the
    /// `message` of a JSON body, else the body text, cut and cleaned.
    /// A redirect's message names where it points.
    pub message: String,
    /// How long the server asked everyone to wait (on 429 and 5xx).
    pub retry_after: Option<Duration>,
    /// A 2xx whose body is not a JSON object: not Laudspeaker's answer
    /// (`{"id": ...}`), so the upsert cannot be taken as done.
    pub not_json: bool,
    /// The customer id a 2xx answer names (`{"id": ...}`), for the ledger.
    pub id: Option<String>,
}

impl Answer {
    /// The wait the server announced with this answer, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Answer::Reply(reply) => reply.retry_after,
            Answer::TimedOut | Answer::Unreachable(_) | Answer::Untrusted(_) => None,
        }
    }

    /// The customer id a success named, if any.
    pub fn into_customer_id(self) -> Option<String> {
        match self {
            Answer::Reply(reply) => reply.id,
            Answer::TimedOut | Answer::Unreachable(_) | Answer::Untrusted(_) => None,
        }
    }
}

/// Sends upsert requests over one connection pool for the whole run.
pub struct Sender {
    client: Client,
    url: Url,
    /// Kept only to scrub it from server messages.
    api_key: ApiKey,
}

impl Sender {
    /// Builds the run's client. The API key goes into a default header
    /// marked sensitive, so it is set once and never formatted again.
    pub fn new(settings: &Settings) -> Result<Self, Stop> {
        let mut builder = Client::builder();
        for certificate in &settings.ca_certs {
            builder = builder.add_root_certificate(certificate.clone());
        }
        let client = builder
            .default_headers(default_headers(settings)?)
            .user_agent(USER_AGENT)
            .timeout(settings.timeout)
            .connect_timeout(CONNECT_TIMEOUT.min(settings.timeout))
            .pool_max_idle_per_host(settings.concurrency.max(1))
            // A redirected POST would be re-sent as a GET or to another
            // host; the classification reports redirects instead.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|err| Stop::Fatal {
                message: format!("cannot set up the HTTP client: {}", error_chain(&err)),
                hint: String::new(),
            })?;
        Ok(Sender {
            client,
            url: settings.upsert_url.clone(),
            api_key: settings.api_key.clone(),
        })
    }

    /// Sends `body` once. Returns what came back and when the answer's head
    /// arrived (the instant a `Retry-After` counts from).
    pub async fn send(&self, body: Bytes) -> (Answer, Instant) {
        let request = self.client.post(self.url.clone()).body(body);
        match request.send().await {
            Ok(response) => {
                let answered = Instant::now();
                (read_reply(response, self.api_key.expose()).await, answered)
            }
            // The URL is the same for every row and could carry credentials.
            Err(err) => (failed_attempt(&err.without_url()), Instant::now()),
        }
    }
}

/// The certificates of a `--ca-cert` PEM file, to trust besides the
/// built-in roots. The error names the file and says what is wrong.
pub fn load_ca_certs(path: &std::path::Path) -> Result<Vec<Certificate>, String> {
    let shown = path.display();
    let pem = std::fs::read(path).map_err(|e| format!("cannot read --ca-cert {shown}: {e}"))?;
    let certificates = Certificate::from_pem_bundle(&pem)
        .map_err(|e| format!("--ca-cert {shown} is not a PEM certificate file: {e}"))?;
    if certificates.is_empty() {
        return Err(format!(
            "--ca-cert {shown} holds no certificate (expected PEM blocks \
             `-----BEGIN CERTIFICATE-----`)"
        ));
    }
    Ok(certificates)
}

fn default_headers(settings: &Settings) -> Result<HeaderMap, Stop> {
    let mut auth = HeaderValue::try_from(format!("Api-Key {}", settings.api_key.expose()))
        .map_err(|_| Stop::Fatal {
            message: "the API key contains characters not allowed in an HTTP header".into(),
            hint: "check LAUDSPEAKER_API_KEY / --api-key for stray spaces or line breaks".into(),
        })?;
    auth.set_sensitive(true);
    let mut headers = HeaderMap::with_capacity(2);
    headers.insert(header::AUTHORIZATION, auth);
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    Ok(headers)
}

/// What a 2xx answer whose body is not JSON is told.
const NOT_JSON: &str = "the answer is not JSON, so the upsert cannot be confirmed";

/// Reads the answer: a success's body is drained (so the connection can be
/// reused), an error's body is read for its message, with `secret` scrubbed
/// from it.
async fn read_reply(mut response: Response, secret: &str) -> Answer {
    let status = response.status();
    if status.is_success() {
        // The upsert took effect once the status came; a body that then
        // fails to arrive does not undo it. But a web page answering 200
        // (a URL without /api reaching the web app) took nothing.
        let mut head = Vec::new();
        while let Ok(Some(chunk)) = response.chunk().await {
            let room = ID_BODY_BYTES.saturating_sub(head.len());
            head.extend_from_slice(&chunk[..chunk.len().min(room)]);
        }
        // Laudspeaker answers `{"id": ...}`; an empty body is no answer.
        let first = head.iter().copied().find(|b| !b.is_ascii_whitespace());
        let not_json = first != Some(b'{');
        let message = if not_json {
            NOT_JSON.to_string()
        } else {
            String::new()
        };
        return Answer::Reply(Reply {
            status: status.as_u16(),
            message,
            retry_after: None,
            not_json,
            // An id echoing the key must not reach the ledger.
            id: customer_id(&head).map(|id| redact(id, secret)),
        });
    }
    let retry_after = retry_after(&response);
    let message = if status.is_redirection() {
        redirect_message(&response, secret)
    } else {
        server_message(&read_some(&mut response).await, secret)
    };
    Answer::Reply(Reply {
        status: status.as_u16(),
        message,
        retry_after,
        not_json: false,
        id: None,
    })
}

/// Bytes of a success's body kept to find the customer id; Laudspeaker's
/// answer is `{"id": "<uuid>"}`, far shorter.
const ID_BODY_BYTES: usize = 1024;

/// The `id` of a success's answer, a string or a number, if the body is
/// a JSON object that has one. Anything else is no id, not an error: the
/// upsert took effect whatever the body says.
fn customer_id(body: &[u8]) -> Option<String> {
    #[derive(serde::Deserialize)]
    struct Answer {
        id: Option<serde_json::Value>,
    }
    let answer: Answer = serde_json::from_slice(body).ok()?;
    match answer.id? {
        serde_json::Value::String(text) => Some(text),
        serde_json::Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn retry_after(response: &Response) -> Option<Duration> {
    // Honoured on every answer that is retried: proxies send it with 502
    // and 504 as well as with 429 and 503.
    let status = response.status();
    if status != StatusCode::TOO_MANY_REQUESTS && !status.is_server_error() {
        return None;
    }
    let value = response.headers().get(header::RETRY_AFTER)?.to_str().ok()?;
    parse_retry_after(value, SystemTime::now())
}

fn redirect_message(response: &Response, secret: &str) -> String {
    let location = response.headers().get(header::LOCATION);
    match location.and_then(|value| value.to_str().ok()) {
        Some(location) => {
            let location = redact(location.to_owned(), secret);
            format!("redirects to {}", clean(&location, MESSAGE_CHARS))
        }
        None => "redirects without a Location".to_owned(),
    }
}

/// Up to [`ERROR_BODY_BYTES`] of the body; whatever arrived if it breaks off.
async fn read_some(response: &mut Response) -> Vec<u8> {
    let mut body = Vec::new();
    while body.len() < ERROR_BODY_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            Ok(None) | Err(_) => break,
        }
    }
    body.truncate(ERROR_BODY_BYTES);
    body
}

/// The message a person should read from an error body: the JSON `message`
/// (a string, or NestJS's list of strings) if there is one, else the body
/// text; `secret` is scrubbed, control characters become spaces and the
/// result is cut to [`MESSAGE_CHARS`] characters.
pub fn server_message(body: &[u8], secret: &str) -> String {
    let text = json_message(body).unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    clean(&redact(text, secret), MESSAGE_CHARS)
}

/// `text` with every occurrence of `secret` replaced: a proxy's error page
/// may echo the request's headers, and the key must never be shown.
fn redact(text: String, secret: &str) -> String {
    if secret.is_empty() || !text.contains(secret) {
        return text;
    }
    text.replace(secret, "<redacted>")
}

fn json_message(body: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    match value.get("message")? {
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Array(items) => {
            let texts: Vec<&str> = items.iter().filter_map(|item| item.as_str()).collect();
            (!texts.is_empty()).then(|| texts.join("; "))
        }
        _ => None,
    }
}

/// `text` trimmed, with control characters as spaces, cut to `max` chars
/// (an ellipsis marks the cut).
pub fn clean(text: &str, max: usize) -> String {
    let text = text.trim();
    let mut out = String::with_capacity(text.len().min(max * 4));
    for (count, ch) in text.chars().enumerate() {
        if count == max {
            out.push('…');
            break;
        }
        out.push(if ch.is_control() { ' ' } else { ch });
    }
    out
}

fn failed_attempt(err: &reqwest::Error) -> Answer {
    if err.is_timeout() {
        Answer::TimedOut
    } else if let Some(problem) = certificate_problem(err) {
        Answer::Untrusted(problem)
    } else {
        Answer::Unreachable(clean(&error_chain(err), MESSAGE_CHARS))
    }
}

/// What was wrong with the server's certificate, when that is why the
/// connection failed. rustls's error sits inside `io::Error`s, whose
/// `source()` skips the error they wrap, so those are opened instead.
fn certificate_problem(err: &reqwest::Error) -> Option<String> {
    use std::error::Error;
    use tokio_rustls::rustls;
    let mut cause: Option<&(dyn Error + 'static)> = Some(err);
    while let Some(current) = cause {
        if let Some(
            tls @ (rustls::Error::InvalidCertificate(_)
            | rustls::Error::InvalidCertRevocationList(_)
            | rustls::Error::NoCertificatesPresented),
        ) = current.downcast_ref::<rustls::Error>()
        {
            return Some(clean(&tls.to_string(), MESSAGE_CHARS));
        }
        cause = match current.downcast_ref::<std::io::Error>() {
            Some(io) => io.get_ref().map(|inner| inner as &(dyn Error + 'static)),
            None => current.source(),
        };
    }
    None
}

/// An error and its causes as one line, skipping causes that only repeat
/// the previous one.
fn error_chain(err: &reqwest::Error) -> String {
    let mut text = String::new();
    let mut previous = String::new();
    let mut cause: Option<&dyn std::error::Error> = Some(err);
    while let Some(current) = cause {
        let line = current.to_string();
        if !line.is_empty() && !previous.contains(&line) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&line);
        }
        previous = line;
        cause = current.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "ls_secret_123";

    #[test]
    fn the_customer_id_is_read_from_a_string_or_a_number() {
        assert_eq!(customer_id(br#"{"id":"c-1"}"#).as_deref(), Some("c-1"));
        assert_eq!(
            customer_id(br#"{"id": 42, "x": [1]}"#).as_deref(),
            Some("42")
        );
        assert_eq!(customer_id(br#"{"id":null}"#), None);
        assert_eq!(customer_id(br#"{"name":"x"}"#), None);
        assert_eq!(customer_id(b"<html>"), None);
        assert_eq!(customer_id(br#"{"id":"cut"#), None);
    }

    #[test]
    fn json_message_string_is_taken() {
        let body = br#"{"statusCode":500,"message":"Internal server error"}"#;
        assert_eq!(server_message(body, KEY), "Internal server error");
    }

    #[test]
    fn json_message_list_is_joined() {
        let body = br#"{"statusCode":400,"message":["a must be set","b is bad"]}"#;
        assert_eq!(server_message(body, KEY), "a must be set; b is bad");
    }

    #[test]
    fn html_body_is_kept_as_text_with_control_characters_replaced() {
        let body = b"<html>\r\n<h1>502 Bad Gateway</h1>\t</html>\n";
        assert_eq!(
            server_message(body, KEY),
            "<html>  <h1>502 Bad Gateway</h1> </html>"
        );
    }

    #[test]
    fn long_body_is_cut_to_200_characters() {
        let body = "é".repeat(1000);
        let message = server_message(body.as_bytes(), KEY);
        assert_eq!(message.chars().count(), MESSAGE_CHARS + 1);
        assert!(message.ends_with("é…"));
    }

    #[test]
    fn invalid_utf8_body_does_not_fail() {
        assert_eq!(server_message(b"bad \xff byte", KEY), "bad \u{fffd} byte");
    }

    #[test]
    fn json_without_message_falls_back_to_the_body() {
        assert_eq!(server_message(br#"{"error":"x"}"#, KEY), r#"{"error":"x"}"#);
        assert_eq!(server_message(br#"{"message":7}"#, KEY), r#"{"message":7}"#);
    }

    #[test]
    fn api_key_echoed_by_the_server_is_scrubbed() {
        let body = br#"{"message":"bad header Authorization: Api-Key ls_secret_123"}"#;
        let message = server_message(body, KEY);
        assert_eq!(message, "bad header Authorization: Api-Key <redacted>");
        let html = b"<pre>Api-Key ls_secret_123</pre>";
        assert_eq!(server_message(html, KEY), "<pre>Api-Key <redacted></pre>");
    }

    #[test]
    fn a_customer_id_echoing_the_key_is_redacted() {
        let id = customer_id(br#"{"id":"x-KEY-y"}"#).map(|id| redact(id, "KEY"));
        assert_eq!(id.as_deref(), Some("x-<redacted>-y"));
    }
}
