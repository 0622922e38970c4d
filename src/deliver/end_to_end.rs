//! `deliver` against a throwaway scripted HTTP server on 127.0.0.1:0 that
//! answers per key and attempt and logs when each request arrived and was
//! answered. Durations are tens of milliseconds; assertions are on counts,
//! order and lower bounds that the design guarantees.

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::time::{sleep, Instant};

use super::*;
use crate::stats::Stats;

const MS: Duration = Duration::from_millis(1);
const KEY: &str = "ls_test_key";

/// How the server answers one request.
enum Action {
    Answer {
        status: u16,
        headers: Vec<(&'static str, &'static str)>,
        body: &'static str,
    },
    Slow {
        delay: Duration,
    },
    Hang,
}

fn ok() -> Action {
    Action::Answer {
        status: 200,
        headers: Vec::new(),
        body: r#"{"id":"x"}"#,
    }
}

fn status(status: u16, body: &'static str) -> Action {
    Action::Answer {
        status,
        headers: Vec::new(),
        body,
    }
}

/// Chooses the answer from the request's primary key and attempt number.
type Script = dyn Fn(&str, u32) -> Action + Send + Sync;

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    key: String,
    /// The `n` property of the body, which the tests set to the job's line.
    n: u64,
    attempt: u32,
    received: Instant,
    answered: Option<Instant>,
    authorization: String,
    content_type: String,
    user_agent: String,
    body: Bytes,
}

#[derive(Clone)]
struct Server {
    url: reqwest::Url,
    log: Arc<Mutex<Vec<Seen>>>,
}

impl Server {
    async fn start(script: impl Fn(&str, u32) -> Action + Send + Sync + 'static) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = Server {
            url: format!("http://{addr}/customers/upsert").parse().unwrap(),
            log: Arc::default(),
        };
        let script: Arc<Script> = Arc::new(script);
        let log = server.log.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (log, script) = (log.clone(), script.clone());
                let service = service_fn(move |req| answer(req, log.clone(), script.clone()));
                let io = TokioIo::new(stream);
                tokio::spawn(http1::Builder::new().serve_connection(io, service));
            }
        });
        server
    }

    fn seen(&self) -> Vec<Seen> {
        self.log.lock().unwrap().clone()
    }

    fn seen_for(&self, key: &str) -> Vec<Seen> {
        self.seen().into_iter().filter(|s| s.key == key).collect()
    }
}

async fn answer(
    req: Request<Incoming>,
    log: Arc<Mutex<Vec<Seen>>>,
    script: Arc<Script>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let received = Instant::now();
    let header = |name| {
        let value = req.headers().get(name).and_then(|v| v.to_str().ok());
        value.unwrap_or_default().to_owned()
    };
    let (authorization, content_type) = (header("authorization"), header("content-type"));
    let user_agent = header("user-agent");
    let body = req.into_body().collect().await.unwrap().to_bytes();
    let json: serde_json::Value = serde_json::from_slice(&body).unwrap();
    let key = json["primary_key"].as_str().unwrap().to_owned();
    let n = json["properties"]["n"].as_u64().unwrap();
    let (index, attempt) = {
        let mut log = log.lock().unwrap();
        let attempt = log.iter().filter(|s| s.key == key).count() as u32 + 1;
        let seen = Seen {
            key: key.clone(),
            n,
            attempt,
            received,
            answered: None,
            authorization,
            content_type,
            user_agent,
            body,
        };
        log.push(seen);
        (log.len() - 1, attempt)
    };
    let response = match script(&key, attempt) {
        Action::Answer {
            status,
            headers,
            body,
        } => {
            let mut response = Response::builder().status(status);
            for (name, value) in headers {
                response = response.header(name, value);
            }
            response
                .body(Full::new(Bytes::from_static(body.as_bytes())))
                .unwrap()
        }
        Action::Slow { delay } => {
            sleep(delay).await;
            Response::new(Full::new(Bytes::from_static(b"{}")))
        }
        Action::Hang => std::future::pending().await,
    };
    log.lock().unwrap()[index].answered = Some(Instant::now());
    Ok(response)
}

fn settings(server: &Server, concurrency: usize, max_retries: u32) -> Settings {
    Settings {
        upsert_url: server.url.clone(),
        api_key: ApiKey::new(KEY),
        concurrency,
        rate: None,
        adaptive_pace: true,
        timeout: Duration::from_secs(5),
        max_retries,
        backoff_base: 10 * MS,
        backoff_cap: 40 * MS,
        max_outage: Duration::from_secs(600),
        ca_certs: Vec::new(),
    }
}

fn job(line: u64, key: &str) -> Job {
    let body = format!(r#"{{"primary_key":"{key}","properties":{{"n":{line}}}}}"#);
    Job {
        line,
        seq: line,
        key: key.into(),
        body: body.into_bytes(),
        raw: format!("{key},{line}").into(),
        source_line: None,
        input: 0,
    }
}

/// Each job's outcome, by line: `Ok(attempts)` or `Err(failure)`.
#[derive(Default)]
struct Recorder(Mutex<Vec<(u64, Result<u32, Failure>)>>);

impl Outcomes for Recorder {
    fn delivered(&self, job: Job, attempts: u32, _customer_id: Option<&str>) {
        self.0.lock().unwrap().push((job.line, Ok(attempts)));
    }

    fn failed(&self, job: Job, failure: Failure) {
        self.0.lock().unwrap().push((job.line, Err(failure)));
    }
}

impl Recorder {
    fn sorted(&self) -> Vec<(u64, Result<u32, Failure>)> {
        let mut outcomes = self.0.lock().unwrap().clone();
        outcomes.sort_by_key(|(line, _)| *line);
        outcomes
    }

    fn attempts(&self) -> Vec<(u64, u32)> {
        let outcomes = self.sorted().into_iter();
        outcomes
            .map(|(line, result)| (line, result.expect("delivered")))
            .collect()
    }
}

struct Run {
    result: Result<(), Stop>,
    stats: Arc<Stats>,
    outcomes: Arc<Recorder>,
}

/// Delivers `jobs`, all waiting in the channel from the start (so every
/// job not delivered is `deliver`'s to count), and waits for the end.
async fn run(settings: Settings, jobs: Vec<Job>) -> Run {
    let (tx, rx) = mpsc::channel(jobs.len().max(1));
    for job in jobs {
        tx.try_send(job)
            .expect("the channel has room for every job");
    }
    drop(tx);
    run_from(settings, rx, CancellationToken::new()).await
}

async fn run_from(settings: Settings, rx: mpsc::Receiver<Job>, cancel: CancellationToken) -> Run {
    let stats = Arc::new(Stats::default());
    let outcomes = Arc::new(Recorder::default());
    let result = deliver(rx, settings, stats.clone(), outcomes.clone(), cancel).await;
    Run {
        result,
        stats,
        outcomes,
    }
}

fn fatal(result: Result<(), Stop>) -> (String, String) {
    match result {
        Err(Stop::Fatal { message, hint }) => (message, hint),
        other => panic!("fatal stop expected, got {other:?}"),
    }
}

#[tokio::test]
async fn sends_the_body_unchanged_with_key_and_content_type() {
    let server = Server::start(|_, _| ok()).await;
    let jobs = vec![job(2, "a@example.com"), job(3, "b@example.com")];
    let bodies: Vec<Vec<u8>> = jobs.iter().map(|job| job.body.clone()).collect();
    let done = run(settings(&server, 2, 3), jobs).await;

    assert!(done.result.is_ok());
    assert_eq!(done.outcomes.attempts(), [(2, 1), (3, 1)]);
    let mut seen = server.seen();
    seen.sort_by_key(|s| s.n);
    assert_eq!(seen.len(), 2);
    for (seen, body) in seen.iter().zip(&bodies) {
        assert_eq!(seen.body, body[..]);
        assert_eq!(seen.authorization, "Api-Key ls_test_key");
        assert_eq!(seen.content_type, "application/json");
        assert!(
            seen.user_agent.starts_with("laudspeaker-import/"),
            "{}",
            seen.user_agent
        );
    }
    assert_eq!(done.stats.retries(), 0);
}

#[tokio::test]
async fn retry_after_holds_back_every_worker() {
    let server = Server::start(|key, attempt| match (key, attempt) {
        ("a", 1) => Action::Answer {
            status: 429,
            headers: vec![("retry-after", "1")],
            body: r#"{"statusCode":429,"message":"Too Many Requests"}"#,
        },
        _ => ok(),
    })
    .await;
    let (tx, rx) = mpsc::channel(4);
    let delivery = tokio::spawn(run_from(
        settings(&server, 2, 3),
        rx,
        CancellationToken::new(),
    ));
    tx.send(job(1, "a")).await.unwrap();
    while server
        .seen_for("a")
        .first()
        .and_then(|s| s.answered)
        .is_none()
    {
        sleep(5 * MS).await;
    }
    tx.send(job(2, "b")).await.unwrap();
    drop(tx);
    let done = delivery.await.unwrap();

    assert!(done.result.is_ok());
    assert_eq!(done.outcomes.attempts(), [(1, 2), (2, 1)]);
    let a = server.seen_for("a");
    let b = server.seen_for("b");
    assert_eq!((a.len(), b.len()), (2, 1));
    let throttled_at = a[0].answered.unwrap();
    assert!(
        a[1].received - throttled_at >= 1000 * MS,
        "retry of a came early"
    );
    assert!(
        b[0].received - throttled_at >= 1000 * MS,
        "b was not held back"
    );
    assert_eq!(Stats::get(&done.stats.retries_throttled), 1);
}

#[tokio::test]
async fn server_errors_are_retried_a_bounded_number_of_times() {
    let server = Server::start(|key, attempt| match (key, attempt) {
        ("s2", 1 | 2) => status(503, r#"{"statusCode":503,"message":"Service Unavailable"}"#),
        ("s4", _) => status(
            500,
            r#"{"statusCode":500,"message":"Internal server error"}"#,
        ),
        ("s5", 1) => status(502, "<html><body><h1>502 Bad Gateway</h1></body></html>"),
        _ => ok(),
    })
    .await;
    let jobs = ["s1", "s2", "s3", "s4", "s5", "s6"];
    let jobs = jobs
        .iter()
        .zip(2..)
        .map(|(key, line)| job(line, key))
        .collect();
    let done = run(settings(&server, 1, 3), jobs).await;

    assert!(done.result.is_ok());
    let outcomes = done.outcomes.sorted();
    let attempts: Vec<Option<u32>> = outcomes.iter().map(|(_, r)| r.clone().ok()).collect();
    assert_eq!(
        attempts,
        [Some(1), Some(3), Some(1), None, Some(2), Some(1)]
    );
    let Err(failure) = &outcomes[3].1 else {
        panic!("s4 must fail")
    };
    assert_eq!(
        failure.reason,
        "HTTP 500 after 4 attempts: Internal server error"
    );
    assert_eq!((failure.status, failure.attempts), (Some(500), 4));
    let s4_attempts: Vec<u32> = server.seen_for("s4").iter().map(|s| s.attempt).collect();
    assert_eq!(s4_attempts, [1, 2, 3, 4]);
    assert_eq!(server.seen().len(), 12);
    assert_eq!(Stats::get(&done.stats.retries_server_error), 6);
}

#[tokio::test]
async fn refused_key_stops_the_run_and_nothing_more_is_sent() {
    let server =
        Server::start(|_, _| status(401, r#"{"statusCode":401,"message":"Unauthorized"}"#)).await;
    let jobs = (1..=20)
        .map(|line| job(line, &format!("k{line}")))
        .collect();
    let done = run(settings(&server, 1, 3), jobs).await;

    let (message, hint) = fatal(done.result);
    assert_eq!(message, "the API key was refused (HTTP 401)");
    assert!(!message.contains(KEY) && !hint.contains(KEY));
    assert_eq!(server.seen().len(), 1);
    assert!(done.outcomes.sorted().is_empty());
    assert_eq!(Stats::get(&done.stats.not_sent), 20);
}

#[tokio::test]
async fn several_workers_refused_at_once_report_one_stop() {
    let server = Server::start(|_, _| status(403, "Forbidden")).await;
    let jobs = (1..=30)
        .map(|line| job(line, &format!("k{line}")))
        .collect();
    let done = run(settings(&server, 8, 3), jobs).await;

    let (message, _) = fatal(done.result);
    assert_eq!(message, "the API key was refused (HTTP 403)");
    assert!(server.seen().len() <= 8, "{} requests", server.seen().len());
    assert!(done.outcomes.sorted().is_empty());
    assert_eq!(Stats::get(&done.stats.not_sent), 30);
    assert_eq!(done.stats.retries(), 0);
}

#[tokio::test]
async fn workspace_without_primary_key_stops_the_run() {
    let body = r#"{"statusCode":400,"message":"Primary key has not been set"}"#;
    let server = Server::start(move |_, _| status(400, body)).await;
    let done = run(settings(&server, 1, 3), vec![job(2, "a"), job(3, "b")]).await;

    let (message, hint) = fatal(done.result);
    assert!(
        message.contains("Primary key has not been set"),
        "{message}"
    );
    assert!(hint.contains("Laudspeaker UI"), "{hint}");
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn body_too_large_fails_without_retry() {
    let server = Server::start(|_, _| status(413, "request entity too large")).await;
    let done = run(settings(&server, 1, 3), vec![job(2, "a")]).await;

    assert!(done.result.is_ok());
    let outcomes = done.outcomes.sorted();
    let Err(failure) = &outcomes[0].1 else {
        panic!("must fail")
    };
    assert_eq!((failure.status, failure.attempts), (Some(413), 1));
    assert_eq!(server.seen().len(), 1);
}

#[tokio::test]
async fn hung_request_times_out_then_is_retried() {
    let server = Server::start(|key, attempt| match (key, attempt) {
        ("t2", 1) => Action::Slow { delay: 600 * MS },
        ("t3", 1) => Action::Hang,
        _ => ok(),
    })
    .await;
    let mut settings = settings(&server, 1, 3);
    settings.timeout = 200 * MS;
    let jobs = vec![job(2, "t1"), job(3, "t2"), job(4, "t3"), job(5, "t4")];
    let done = run(settings, jobs).await;

    assert!(done.result.is_ok());
    assert_eq!(done.outcomes.attempts(), [(2, 1), (3, 2), (4, 2), (5, 1)]);
    assert_eq!(Stats::get(&done.stats.retries_timeout), 2);
    let t3 = server.seen_for("t3");
    assert!(t3[1].received - t3[0].received >= 200 * MS);
}

#[tokio::test]
async fn unreachable_server_fails_after_the_retries() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let server = Server {
        url: format!("http://{addr}/x").parse().unwrap(),
        log: Arc::default(),
    };
    let done = run(settings(&server, 1, 2), vec![job(2, "a")]).await;

    assert!(done.result.is_ok());
    let outcomes = done.outcomes.sorted();
    let Err(failure) = &outcomes[0].1 else {
        panic!("must fail")
    };
    assert!(
        failure.reason.starts_with("connection failed: "),
        "{}",
        failure.reason
    );
    assert!(
        failure.reason.ends_with(", 3 attempts"),
        "{}",
        failure.reason
    );
    assert!(
        !failure.reason.contains(&addr.to_string()),
        "{}",
        failure.reason
    );
    assert_eq!(failure.status, None);
    assert_eq!(Stats::get(&done.stats.retries_connection), 2);
}

#[tokio::test]
async fn same_key_requests_keep_file_order_with_concurrency_8() {
    let server = Server::start(|key, attempt| match (key, attempt) {
        ("u1", 1) => Action::Slow { delay: 150 * MS },
        _ => ok(),
    })
    .await;
    let keys = ["u1", "u2", "u1", "u3", "u1", "u2", "u1", "u4", "u5", "u1"];
    let jobs = keys
        .iter()
        .zip(2..)
        .map(|(key, line)| job(line, key))
        .collect();
    let done = run(settings(&server, 8, 3), jobs).await;

    assert!(done.result.is_ok());
    assert_eq!(done.outcomes.sorted().len(), 10);
    for key in ["u1", "u2"] {
        let seen = server.seen_for(key);
        let expected: Vec<u64> = keys
            .iter()
            .zip(2..)
            .filter(|(k, _)| **k == key)
            .map(|(_, l)| l)
            .collect();
        assert_eq!(
            seen.iter().map(|s| s.n).collect::<Vec<_>>(),
            expected,
            "{key}"
        );
        for pair in seen.windows(2) {
            assert!(
                pair[1].received >= pair[0].answered.unwrap(),
                "{key} overlapped"
            );
        }
    }
}

#[tokio::test]
async fn cancel_lets_requests_in_flight_finish_and_counts_the_rest() {
    let server = Server::start(|_, _| Action::Slow { delay: 200 * MS }).await;
    let (tx, rx) = mpsc::channel(16);
    for line in 1..=10 {
        tx.send(job(line, &format!("k{line}"))).await.unwrap();
    }
    let cancel = CancellationToken::new();
    let delivery = tokio::spawn(run_from(settings(&server, 2, 3), rx, cancel.clone()));
    while server.seen().len() < 2 {
        sleep(5 * MS).await;
    }
    cancel.cancel();
    let done = delivery.await.unwrap();

    assert!(matches!(done.result, Err(Stop::Interrupted)));
    assert_eq!(done.outcomes.attempts(), [(1, 1), (2, 1)]);
    assert_eq!(Stats::get(&done.stats.not_sent), 8);
    assert_eq!(server.seen().len(), 2);
    drop(tx);
}
