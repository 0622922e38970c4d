//! The HTTP side: accepting connections (hyper HTTP/1.1 with keep-alive),
//! routing, the command line's faults, the API-key check, the body limit,
//! the script's rules, and the customer endpoints' answers.

use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http_body_util::{BodyExt as _, Full, LengthLimitError, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{Map, Value};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use super::faults::{Decision, Fault, Injector};
use super::log::RequestLog;
use super::script::{Facts, Rule};
use super::store::{check_properties, Store};
use super::Config;
use crate::secret::ApiKey;

/// The answer type of every request.
pub type Answer = Response<Full<Bytes>>;

const NOT_YET: u64 = u64::MAX;

/// What every connection shares: settings, customers, the log, rule state.
pub struct Shared {
    api_key: Option<ApiKey>,
    primary_key_set: bool,
    max_body_bytes: usize,
    hang_for: Duration,
    rules: Vec<Rule>,
    /// Per rule: when its `nth_request` arrived (µs), for `for_ms` windows.
    windows: Box<[AtomicU64]>,
    /// Requests seen per trimmed key; kept only when a rule counts attempts.
    attempts: Option<Mutex<HashMap<Box<str>, u32>>>,
    faults: Injector,
    pub store: Store,
    pub log: RequestLog,
}

impl Shared {
    pub fn new(config: Config) -> Self {
        let keep = config.keep();
        let script = config.script;
        let windows = script
            .rules
            .iter()
            .map(|_| AtomicU64::new(NOT_YET))
            .collect();
        let attempts = script.counts_attempts().then(Mutex::default);
        Shared {
            api_key: config.api_key.map(ApiKey::new),
            primary_key_set: config.primary_key_set,
            max_body_bytes: script.max_body_bytes,
            hang_for: config.hang_for,
            rules: script.rules,
            windows,
            attempts,
            faults: Injector::new(config.faults),
            store: Store::default(),
            log: RequestLog::new(keep),
        }
    }
}

/// Accepts connections until `stop` is cancelled; each connection is served
/// on its own task (after a TLS handshake when `tls` is set), which also
/// ends when `stop` is cancelled.
pub async fn accept_loop(
    listener: TcpListener,
    shared: Arc<Shared>,
    stop: CancellationToken,
    tls: Option<TlsAcceptor>,
) {
    loop {
        let accepted = tokio::select! {
            () = stop.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, _)) => {
                // Small answers must not wait for Nagle's algorithm.
                let _ = stream.set_nodelay(true);
                let (shared, stop) = (shared.clone(), stop.clone());
                match &tls {
                    None => tokio::spawn(serve(stream, shared, stop)),
                    Some(tls) => tokio::spawn(super::tls::serve(tls.clone(), stream, shared, stop)),
                };
            }
            Err(err) => {
                // Usually out of file descriptors: wait instead of spinning.
                tracing::warn!("emulator: cannot accept a connection: {err}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

/// Serves one connection, plain or TLS, until it ends or `stop`.
pub async fn serve<S>(stream: S, shared: Arc<Shared>, stop: CancellationToken)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service = service_fn(move |request| handle(shared.clone(), request));
    let connection = http1::Builder::new()
        .keep_alive(true)
        .pipeline_flush(true)
        .header_read_timeout(None)
        .serve_connection(TokioIo::new(stream), service);
    tokio::select! {
        result = connection => {
            if let Err(err) = result {
                tracing::debug!("emulator: connection ended: {err}");
            }
        }
        () = stop.cancelled() => {}
    }
}

/// The service's error: the script said not to answer, or the client left
/// before its body arrived. Either way hyper closes the connection.
#[derive(Debug)]
pub struct NoAnswer;

impl std::fmt::Display for NoAnswer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("closed without an answer")
    }
}

impl std::error::Error for NoAnswer {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Upsert,
    Read,
    Delete,
}

enum Route {
    Customers(Op, &'static str),
    DumpCustomers,
    DumpRequests,
    /// Another `/emulator/...` address: answered 404, not logged.
    EmulatorOther,
    Unknown,
}

fn route(method: &Method, path: &str) -> Route {
    if let Some(rest) = path.strip_prefix("/emulator/") {
        return match (method == Method::GET, rest) {
            (true, "customers") => Route::DumpCustomers,
            (true, "requests") => Route::DumpRequests,
            _ => Route::EmulatorOther,
        };
    }
    if method != Method::POST {
        return Route::Unknown;
    }
    let op = match path {
        "/customers/upsert" | "/api/customers/upsert" => Op::Upsert,
        "/customers/read" | "/api/customers/read" => Op::Read,
        "/customers/delete" | "/api/customers/delete" => Op::Delete,
        _ => return Route::Unknown,
    };
    // The log keeps the address as called, without an allocation.
    let label = match (op, path.starts_with("/api/")) {
        (Op::Upsert, false) => "/customers/upsert",
        (Op::Upsert, true) => "/api/customers/upsert",
        (Op::Read, false) => "/customers/read",
        (Op::Read, true) => "/api/customers/read",
        (Op::Delete, false) => "/customers/delete",
        (Op::Delete, true) => "/api/customers/delete",
    };
    Route::Customers(op, label)
}

/// Serves one request.
pub async fn handle(shared: Arc<Shared>, request: Request<Incoming>) -> Result<Answer, NoAnswer> {
    let path = request.uri().path();
    let op = match route(request.method(), path) {
        Route::DumpCustomers => {
            let customers = Value::Object(shared.store.dump());
            let body = serde_json::to_vec(&customers).unwrap_or_default();
            return Ok(json_answer(StatusCode::OK, body.into()));
        }
        Route::DumpRequests => return Ok(json_answer(StatusCode::OK, shared.log.to_json().into())),
        Route::EmulatorOther => return Ok(not_found(request.method(), path)),
        Route::Unknown => None,
        Route::Customers(op, label) => Some((op, label)),
    };
    let label = op.map_or_else(
        || Cow::Owned(path.to_owned()),
        |(_, label)| Cow::Borrowed(label),
    );
    let customer = op.is_some();
    let mut decision = Decision::default();
    let (seq, received_us) = shared.log.arrive(label, |seq, at| {
        shared.open_windows(seq, at);
        if customer {
            decision = shared.faults.decide(seq, at);
        }
    });
    let Some((op, _)) = op else {
        let answer = not_found(request.method(), path);
        let body = read_body(request, shared.body_cap()).await.ok();
        shared
            .log
            .finish(seq, body, false, answer.status().as_u16());
        return Ok(answer);
    };
    let authorized = shared.authorized(request.headers());
    let body = match read_body(request, shared.body_cap()).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => {
            return Ok(shared.refuse(seq, None, StatusCode::PAYLOAD_TOO_LARGE))
        }
        Err(BodyError::Broken) => return Err(NoAnswer),
    };
    if let Some(fault) = decision.fault {
        return shared.inflict(fault, seq, body, decision.latency).await;
    }
    if !authorized {
        return Ok(shared.refuse(seq, Some(body), StatusCode::UNAUTHORIZED));
    }
    if body.len() > shared.max_body_bytes {
        return Ok(shared.refuse(seq, Some(body), StatusCode::PAYLOAD_TOO_LARGE));
    }
    let latency = decision.latency;
    shared.respond(op, seq, received_us, body, latency).await
}

enum BodyError {
    TooLarge,
    Broken,
}

/// Reads the whole body, refusing it unread past `cap` bytes.
async fn read_body(request: Request<Incoming>, cap: usize) -> Result<Bytes, BodyError> {
    let declared = request.headers().get(header::CONTENT_LENGTH);
    let declared = declared.and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if declared.is_some_and(|length| length > cap as u64) {
        return Err(BodyError::TooLarge);
    }
    match Limited::new(request.into_body(), cap).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.downcast_ref::<LengthLimitError>().is_some() => Err(BodyError::TooLarge),
        Err(_) => Err(BodyError::Broken),
    }
}

/// What the emulator itself makes of a request, before any rule.
struct Outcome {
    status: StatusCode,
    body: Bytes,
    applied: bool,
}

impl Outcome {
    fn error(status: StatusCode, message: &str) -> Self {
        Outcome {
            status,
            body: error_body(status, message),
            applied: false,
        }
    }
}

impl Shared {
    /// Bodies up to this size are read whole (and logged) even past the
    /// limit, so the client gets its 413 cleanly; larger ones are refused
    /// unread and the connection is closed.
    fn body_cap(&self) -> usize {
        self.max_body_bytes.saturating_mul(4).max(1 << 20)
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        let Some(given) = given
            .and_then(|v| v.strip_prefix("Api-Key "))
            .map(crate::convert::server_trim)
        else {
            return false;
        };
        match &self.api_key {
            Some(key) => given == key.expose(),
            None => !given.is_empty(),
        }
    }

    /// Answers a refusal that comes before any rule (401, 413).
    fn refuse(&self, seq: u64, body: Option<Bytes>, status: StatusCode) -> Answer {
        self.log.finish(seq, body, false, status.as_u16());
        let message = match status {
            StatusCode::UNAUTHORIZED => "Unauthorized",
            StatusCode::PAYLOAD_TOO_LARGE => "request entity too large",
            _ => status.canonical_reason().unwrap_or("Error"),
        };
        json_answer(status, error_body(status, message))
    }

    /// Records when an `nth_request` rule's window opens.
    fn open_windows(&self, seq: u64, received_us: u64) {
        for (rule, start) in self.rules.iter().zip(self.windows.iter()) {
            if rule.for_ms.is_some() && rule.nth_request == Some(seq) {
                start.store(received_us, Ordering::Release);
            }
        }
    }

    fn window_start(&self, index: usize) -> Option<u64> {
        let start = self.windows[index].load(Ordering::Acquire);
        (start != NOT_YET).then_some(start)
    }

    /// Counts one more request for `key`; answers its attempt number.
    fn count_attempt(&self, key: &str) -> Option<u32> {
        let attempts = self.attempts.as_ref()?;
        let mut attempts = attempts.lock().unwrap_or_else(|poison| poison.into_inner());
        if let Some(count) = attempts.get_mut(key) {
            *count = count.saturating_add(1);
            return Some(*count);
        }
        attempts.insert(key.into(), 1);
        Some(1)
    }

    /// The index of the first rule matching this request.
    fn pick_rule(&self, seq: u64, received_us: u64, key: Option<&str>) -> Option<usize> {
        if self.rules.is_empty() {
            return None;
        }
        let attempt = key.and_then(|key| self.count_attempt(key));
        let facts = Facts {
            seq,
            received_us,
            key,
            attempt,
        };
        let mut rules = self.rules.iter().enumerate();
        rules.position(|(index, rule)| rule.matches(&facts, self.window_start(index)))
    }

    /// The answer to a request no command-line fault hit: the first
    /// matching rule's, else the emulator's own, after `latency`.
    async fn respond(
        self: Arc<Self>,
        op: Op,
        seq: u64,
        received_us: u64,
        body: Bytes,
        latency: Duration,
    ) -> Result<Answer, NoAnswer> {
        let (object, key) = parse_body(&body);
        let picked = self.pick_rule(seq, received_us, key.as_deref());
        let commit = picked.is_none_or(|index| self.rules[index].applies());
        let outcome = self.process(op, object, key, commit);
        let Some(index) = picked else {
            if latency.is_zero() {
                self.log
                    .finish(seq, Some(body), outcome.applied, outcome.status.as_u16());
                return Ok(json_answer(outcome.status, outcome.body));
            }
            self.log.settle(seq, Some(body), outcome.applied);
            let own = move |_: &Shared| json_answer(outcome.status, outcome.body);
            return self.answer_later(seq, latency, own).await;
        };
        let rule = &self.rules[index];
        if rule.hang {
            self.log.settle(seq, Some(body), outcome.applied);
            tokio::time::sleep(self.hang_for).await;
            return Err(NoAnswer);
        }
        let delay = rule.delay + latency;
        if delay.is_zero() {
            let answer = scripted(rule, outcome);
            self.log
                .finish(seq, Some(body), answer.applied, answer.status().as_u16());
            return Ok(answer.response);
        }
        self.log.settle(seq, Some(body), outcome.applied);
        let answer = move |shared: &Shared| scripted(&shared.rules[index], outcome).response;
        self.answer_later(seq, delay, answer).await
    }

    /// Answers what `make` builds after `delay`. On its own task, so the
    /// answer is stamped even if the client has given up and hyper drops
    /// this request's future.
    async fn answer_later(
        self: Arc<Self>,
        seq: u64,
        delay: Duration,
        make: impl FnOnce(&Shared) -> Answer + Send + 'static,
    ) -> Result<Answer, NoAnswer> {
        let delayed = tokio::spawn(async move {
            tokio::time::sleep(delay).await;
            let answer = make(&self);
            self.log.answered(seq, answer.status().as_u16());
            answer
        });
        delayed.await.map_err(|_| NoAnswer)
    }

    /// Answers (or drops) a request as the command-line fault says, after
    /// `latency`; the request takes no effect.
    async fn inflict(
        self: Arc<Self>,
        fault: Fault,
        seq: u64,
        body: Bytes,
        latency: Duration,
    ) -> Result<Answer, NoAnswer> {
        self.log.fault(seq, Some(body), fault.label());
        let (status, message, retry_after) = match fault {
            Fault::Hang => {
                // Hyper closes the connection when the client gives up;
                // `hang_for` only bounds a client that never does.
                tokio::time::sleep(self.hang_for.max(latency)).await;
                return Err(NoAnswer);
            }
            Fault::Reset => {
                tokio::time::sleep(latency).await;
                return Err(NoAnswer);
            }
            Fault::Outage => (StatusCode::SERVICE_UNAVAILABLE, "Service Unavailable", None),
            Fault::Throttled { retry_after_s } => (
                StatusCode::TOO_MANY_REQUESTS,
                "ThrottlerException: Too Many Requests",
                Some(retry_after_s),
            ),
            Fault::Fail => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal server error",
                None,
            ),
        };
        let make = move |_: &Shared| {
            let mut answer = json_answer(status, error_body(status, message));
            if let Some(seconds) = retry_after {
                let seconds = HeaderValue::from(seconds);
                answer.headers_mut().insert(header::RETRY_AFTER, seconds);
            }
            answer
        };
        if latency.is_zero() {
            let answer = make(&self);
            self.log.answered(seq, status.as_u16());
            return Ok(answer);
        }
        self.answer_later(seq, latency, make).await
    }

    /// The emulator's own answer; `commit` false checks without storing.
    fn process(&self, op: Op, object: Parsed, key: Option<String>, commit: bool) -> Outcome {
        let mut object = match object {
            Parsed::Object(object) => object,
            Parsed::NotJson => return Outcome::error(StatusCode::BAD_REQUEST, NOT_JSON),
            Parsed::NotObject => return Outcome::error(StatusCode::BAD_REQUEST, NOT_OBJECT),
        };
        if !self.primary_key_set && op != Op::Delete {
            return Outcome::error(StatusCode::BAD_REQUEST, NO_PRIMARY_KEY);
        }
        let Some(key) = key else {
            return Outcome::error(StatusCode::BAD_REQUEST, BAD_KEY);
        };
        match op {
            Op::Upsert => self.upsert(&key, object.remove("properties"), commit),
            Op::Read => self.read(&key),
            Op::Delete => self.delete(key, commit),
        }
    }

    fn upsert(&self, key: &str, properties: Option<Value>, commit: bool) -> Outcome {
        let properties = match properties {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(properties)) => properties,
            Some(_) => return Outcome::error(StatusCode::BAD_REQUEST, BAD_PROPERTIES),
        };
        let stored = if commit {
            self.store.upsert(key, properties)
        } else {
            check_properties(&properties).map(|()| uuid::Uuid::nil())
        };
        match stored {
            Ok(id) => Outcome {
                status: StatusCode::OK,
                body: id_body(id),
                applied: commit,
            },
            Err(refusal) => Outcome::error(StatusCode::BAD_REQUEST, &refusal.to_string()),
        }
    }

    fn read(&self, key: &str) -> Outcome {
        match self.store.read(key) {
            Some(attributes) => {
                let body = serde_json::to_vec(&attributes).unwrap_or_default();
                Outcome {
                    status: StatusCode::OK,
                    body: body.into(),
                    applied: false,
                }
            }
            None => Outcome::error(StatusCode::NOT_FOUND, NO_CUSTOMER),
        }
    }

    fn delete(&self, key: String, commit: bool) -> Outcome {
        let existed = if commit {
            self.store.delete(&key)
        } else {
            self.store.read(&key).is_some()
        };
        if !existed {
            return Outcome::error(StatusCode::NOT_FOUND, NO_CUSTOMER);
        }
        let body = serde_json::to_vec(&serde_json::json!({ "primary_key": key }));
        Outcome {
            status: StatusCode::OK,
            body: body.unwrap_or_default().into(),
            applied: commit,
        }
    }
}

const NOT_JSON: &str = "the body is not valid JSON";
const NOT_OBJECT: &str = "the body must be a JSON object";
const BAD_KEY: &str = "primary_key must be a non-empty string";
const BAD_PROPERTIES: &str = "properties must be a JSON object";
const NO_PRIMARY_KEY: &str = "Primary key has not been set";
const NO_CUSTOMER: &str = "Customer not found";

enum Parsed {
    NotJson,
    NotObject,
    Object(Map<String, Value>),
}

/// The body as JSON, and its `primary_key` trimmed (when a non-empty string).
fn parse_body(body: &[u8]) -> (Parsed, Option<String>) {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(object)) => {
            let key = object
                .get("primary_key")
                .and_then(Value::as_str)
                .map(crate::convert::server_trim);
            let key = key.filter(|key| !key.is_empty()).map(str::to_owned);
            (Parsed::Object(object), key)
        }
        Ok(_) => (Parsed::NotObject, None),
        Err(_) => (Parsed::NotJson, None),
    }
}

/// A scripted answer, and whether its request took effect.
struct Scripted {
    response: Answer,
    applied: bool,
}

impl Scripted {
    fn status(&self) -> StatusCode {
        self.response.status()
    }
}

/// Builds the answer a rule asks for, at the moment it is sent.
fn scripted(rule: &Rule, outcome: Outcome) -> Scripted {
    let status = rule.status.unwrap_or(outcome.status);
    let body = match &rule.body {
        Some(text) => Bytes::from(text.clone()),
        None if status == outcome.status => outcome.body,
        None => error_body(status, status.canonical_reason().unwrap_or("Error")),
    };
    let mut response = json_answer(status, body);
    let headers = response.headers_mut();
    for (name, value) in &rule.headers {
        headers.insert(name.clone(), value.clone());
    }
    if let Some(seconds) = rule.retry_after_date_in_s {
        headers.insert(
            header::RETRY_AFTER,
            http_date_in(seconds, SystemTime::now()),
        );
    }
    Scripted {
        response,
        applied: outcome.applied,
    }
}

/// `now + seconds` as an HTTP date, rounded up to a whole second so that it
/// never announces less than asked.
fn http_date_in(seconds: f64, now: SystemTime) -> HeaderValue {
    let now_ns = match now.duration_since(UNIX_EPOCH) {
        Ok(since) => since.as_nanos() as i128,
        Err(before) => -(before.duration().as_nanos() as i128),
    };
    let target_ns = now_ns + (seconds * 1e9).round() as i128;
    let whole_s = target_ns.div_euclid(1_000_000_000) + i128::from(target_ns % 1_000_000_000 != 0);
    let at = UNIX_EPOCH + Duration::from_secs(u64::try_from(whole_s).unwrap_or(0));
    let text = httpdate::fmt_http_date(at);
    HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static("0"))
}

fn json_answer(status: StatusCode, body: Bytes) -> Answer {
    let mut answer = Response::new(Full::new(body));
    *answer.status_mut() = status;
    let json = HeaderValue::from_static("application/json; charset=utf-8");
    answer.headers_mut().insert(header::CONTENT_TYPE, json);
    answer
}

fn error_body(status: StatusCode, message: &str) -> Bytes {
    let body = serde_json::json!({ "statusCode": status.as_u16(), "message": message });
    serde_json::to_vec(&body).unwrap_or_default().into()
}

fn id_body(id: uuid::Uuid) -> Bytes {
    let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
    let id = id.hyphenated().encode_lower(&mut text);
    let mut body = Vec::with_capacity(id.len() + 10);
    body.extend_from_slice(b"{\"id\":\"");
    body.extend_from_slice(id.as_bytes());
    body.extend_from_slice(b"\"}");
    body.into()
}

fn not_found(method: &Method, path: &str) -> Answer {
    let body = serde_json::json!({
        "statusCode": 404,
        "message": format!("Cannot {method} {path}"),
        "error": "Not Found",
    });
    json_answer(
        StatusCode::NOT_FOUND,
        serde_json::to_vec(&body).unwrap_or_default().into(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_with_and_without_api_prefix() {
        let label = |method: &Method, path| match route(method, path) {
            Route::Customers(op, label) => Some((op, label)),
            _ => None,
        };
        assert_eq!(
            label(&Method::POST, "/customers/upsert"),
            Some((Op::Upsert, "/customers/upsert"))
        );
        assert_eq!(
            label(&Method::POST, "/api/customers/read"),
            Some((Op::Read, "/api/customers/read"))
        );
        assert_eq!(
            label(&Method::POST, "/customers/delete"),
            Some((Op::Delete, "/customers/delete"))
        );
        assert_eq!(label(&Method::GET, "/customers/upsert"), None);
        assert!(matches!(
            route(&Method::GET, "/emulator/requests"),
            Route::DumpRequests
        ));
        assert!(matches!(
            route(&Method::GET, "/emulator/customers"),
            Route::DumpCustomers
        ));
        assert!(matches!(
            route(&Method::POST, "/emulator/requests"),
            Route::EmulatorOther
        ));
        assert!(matches!(route(&Method::POST, "/customers"), Route::Unknown));
    }

    #[test]
    fn retry_after_date_rounds_up_to_a_whole_second() {
        let now = UNIX_EPOCH + Duration::from_millis(1_700_000_000_250);
        assert_eq!(http_date_in(3.0, now), "Tue, 14 Nov 2023 22:13:24 GMT");
        assert_eq!(http_date_in(-3.0, now), "Tue, 14 Nov 2023 22:13:18 GMT");
        let whole = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(http_date_in(2.0, whole), "Tue, 14 Nov 2023 22:13:22 GMT");
    }

    #[test]
    fn body_parsing_trims_the_key() {
        let (parsed, key) = parse_body(br#"{"primary_key": "  a@x.io\t"}"#);
        assert!(matches!(parsed, Parsed::Object(_)));
        assert_eq!(key.as_deref(), Some("a@x.io"));
        assert_eq!(parse_body(br#"{"primary_key": "   "}"#).1, None);
        assert_eq!(parse_body(br#"{"primary_key": 7}"#).1, None);
        assert!(matches!(parse_body(b"[1]").0, Parsed::NotObject));
        assert!(matches!(parse_body(b"{").0, Parsed::NotJson));
    }

    #[test]
    fn id_body_is_the_json_id() {
        let id = uuid::Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
        assert_eq!(
            &id_body(id)[..],
            br#"{"id":"01234567-89ab-cdef-0123-456789abcdef"}"#
        );
    }
}
