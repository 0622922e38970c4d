//! End-to-end tests of the emulator: a real server on 127.0.0.1:0 and a
//! real HTTP client, checking answers, stored customers and the log.

use std::time::{Duration, SystemTime};

use reqwest::header::HeaderMap;
use serde_json::{json, Value};

use super::*;

const KEY: &str = "ls_test_key";

struct Harness {
    running: Running,
    http: reqwest::Client,
}

/// What the client saw.
struct Reply {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

async fn start(config: Config) -> Harness {
    let listen = "127.0.0.1:0".parse().expect("a literal address");
    let running = spawn(config, listen).await.expect("the emulator starts");
    // No proxy: the tests talk only to the emulator they started.
    let http = reqwest::Client::builder()
        .no_proxy()
        .build()
        .expect("a plain client");
    Harness { running, http }
}

async fn start_with_script(text: &str) -> Harness {
    let script = Script::parse(text).expect("the test script is valid");
    let api_key = script.api_key.as_ref().map(|key| key.expose().to_owned());
    let config = Config {
        api_key,
        script,
        ..Config::default()
    };
    start(config).await
}

impl Harness {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.running.base_url())
    }

    async fn post_as(&self, path: &str, key: Option<&str>, body: String) -> Reply {
        let mut request = self.http.post(self.url(path)).body(body);
        if let Some(key) = key {
            request = request.header("Authorization", format!("Api-Key {key}"));
        }
        let response = request.send().await.expect("the emulator answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("the answer has a body");
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn upsert(&self, body: Value) -> Reply {
        self.post_as("/customers/upsert", Some(KEY), body.to_string())
            .await
    }

    async fn get(&self, path: &str) -> Value {
        let response = self
            .http
            .get(self.url(path))
            .send()
            .await
            .expect("the emulator answers");
        let bytes = response.bytes().await.expect("the dump arrives");
        serde_json::from_slice(&bytes).expect("the dump is JSON")
    }

    async fn customers(&self) -> Value {
        self.get("/emulator/customers").await
    }

    async fn requests(&self) -> Vec<Value> {
        match self.get("/emulator/requests").await {
            Value::Array(entries) => entries,
            other => panic!("the log is not an array: {other}"),
        }
    }
}

fn upsert_body(key: &str, properties: Value) -> Value {
    json!({"primary_key": key, "properties": properties})
}

#[tokio::test]
async fn upsert_creates_updates_and_null_removes() {
    let emulator = start(Config::with_api_key(KEY)).await;
    let body = upsert_body(
        "u1@example.com",
        json!({"plan": "free", "seats": 1, "trial": "x"}),
    );
    let first = emulator.upsert(body).await;
    let body = upsert_body("  u1@example.com\t", json!({"plan": "pro", "trial": null}));
    let second = emulator.upsert(body).await;
    assert_eq!((first.status, second.status), (200, 200));
    assert_eq!(first.body, second.body, "one customer keeps one id");
    assert!(
        first.body["id"].as_str().is_some_and(|id| id.len() == 36),
        "{}",
        first.body
    );
    let expected = json!({"u1@example.com": {"plan": "pro", "seats": 1}});
    assert_eq!(emulator.customers().await, expected);
}

#[tokio::test]
async fn upsert_without_properties_creates_an_empty_customer() {
    let emulator = start(Config::with_api_key(KEY)).await;
    let reply = emulator.upsert(json!({"primary_key": "k"})).await;
    assert_eq!(reply.status, 200);
    assert_eq!(emulator.customers().await, json!({"k": {}}));
}

#[tokio::test]
async fn numbers_are_stored_exactly_as_sent() {
    let emulator = start(Config::with_api_key(KEY)).await;
    let body = r#"{"primary_key":"k","properties":{"big":9007199254740993,"f":1.50}}"#;
    emulator
        .post_as("/customers/upsert", Some(KEY), body.into())
        .await;
    let customers = emulator.running.customers();
    assert_eq!(
        serde_json::to_string(&customers).expect("serialises"),
        r#"{"k":{"big":9007199254740993,"f":1.50}}"#
    );
}

#[tokio::test]
async fn wrong_or_missing_key_gets_401_and_nothing_is_applied() {
    let emulator = start(Config::with_api_key(KEY)).await;
    let body = upsert_body("k", json!({"a": 1})).to_string();
    let wrong = emulator
        .post_as("/customers/upsert", Some("other"), body.clone())
        .await;
    let missing = emulator.post_as("/customers/upsert", None, body).await;
    for reply in [wrong, missing] {
        assert_eq!(reply.status, 401);
        assert_eq!(
            reply.body,
            json!({"statusCode": 401, "message": "Unauthorized"})
        );
    }
    assert_eq!(emulator.customers().await, json!({}));
    let log = emulator.requests().await;
    assert_eq!(log.len(), 2);
    assert_eq!(
        log[0]["body"],
        json!({"primary_key": "k", "properties": {"a": 1}})
    );
    assert_eq!(log[0]["applied"], json!(false));
}

#[tokio::test]
async fn without_a_configured_key_any_non_empty_key_is_accepted() {
    let emulator = start(Config::default()).await;
    let body = upsert_body("k", json!({})).to_string();
    let any = emulator
        .post_as("/customers/upsert", Some("whatever"), body.clone())
        .await;
    let empty = emulator.post_as("/customers/upsert", Some(""), body).await;
    assert_eq!((any.status, empty.status), (200, 401));
}

#[tokio::test]
async fn body_over_the_limit_gets_413_and_is_not_applied() {
    let script = Script {
        max_body_bytes: 64,
        ..Script::default()
    };
    let emulator = start(Config {
        script,
        ..Config::with_api_key(KEY)
    })
    .await;
    let small = emulator.upsert(upsert_body("s", json!({"n": "x"}))).await;
    let large = emulator
        .upsert(upsert_body("l", json!({"n": "y".repeat(64)})))
        .await;
    assert_eq!((small.status, large.status), (200, 413));
    assert_eq!(
        large.body,
        json!({"statusCode": 413, "message": "request entity too large"})
    );
    assert_eq!(emulator.customers().await, json!({"s": {"n": "x"}}));
    let log = emulator.requests().await;
    assert_eq!(
        (log[1]["status"].clone(), log[1]["applied"].clone()),
        (json!(413), json!(false))
    );
}

#[tokio::test]
async fn refused_attribute_names_get_400() {
    let emulator = start(Config::with_api_key(KEY)).await;
    for name in [
        "",
        "_secret",
        "$set",
        "id",
        "workspaceId",
        "createdAt",
        "a..b",
    ] {
        let reply = emulator
            .upsert(upsert_body("k", json!({ name: 1, "ok": 2 })))
            .await;
        assert_eq!(reply.status, 400, "{name:?}");
        let message = reply.body["message"].as_str().unwrap_or_default();
        assert!(
            message.starts_with(&format!("attribute name {name:?}")),
            "{message}"
        );
    }
    assert_eq!(emulator.customers().await, json!({}));
}

#[tokio::test]
async fn malformed_bodies_get_400_with_the_reason() {
    let emulator = start(Config::with_api_key(KEY)).await;
    let cases = [
        ("{", "the body is not valid JSON"),
        ("[1]", "the body must be a JSON object"),
        (
            r#"{"properties": {}}"#,
            "primary_key must be a non-empty string",
        ),
        (
            r#"{"primary_key": "  "}"#,
            "primary_key must be a non-empty string",
        ),
        (
            r#"{"primary_key": 5}"#,
            "primary_key must be a non-empty string",
        ),
        (
            r#"{"primary_key": "k", "properties": [1]}"#,
            "properties must be a JSON object",
        ),
    ];
    for (body, message) in cases {
        let reply = emulator
            .post_as("/customers/upsert", Some(KEY), body.into())
            .await;
        assert_eq!(
            reply.body,
            json!({"statusCode": 400, "message": message}),
            "{body}"
        );
    }
    let log = emulator.requests().await;
    assert_eq!(
        log[0]["body"],
        json!("{"),
        "a body that is not JSON is logged as text"
    );
}

#[tokio::test]
async fn workspace_without_primary_key_refuses_every_upsert() {
    let emulator = start(Config {
        primary_key_set: false,
        ..Config::with_api_key(KEY)
    })
    .await;
    let reply = emulator.upsert(upsert_body("k", json!({"a": 1}))).await;
    assert_eq!(reply.status, 400);
    assert_eq!(
        reply.body,
        json!({"statusCode": 400, "message": "Primary key has not been set"})
    );
}

#[tokio::test]
async fn read_and_delete_under_the_api_prefix() {
    let emulator = start(Config::with_api_key(KEY)).await;
    let post = |path: &'static str, body: Value| {
        let emulator = &emulator;
        async move { emulator.post_as(path, Some(KEY), body.to_string()).await }
    };
    post("/api/customers/upsert", upsert_body("k", json!({"a": 1}))).await;
    let read = post("/api/customers/read", json!({"primary_key": " k "})).await;
    assert_eq!((read.status, read.body), (200, json!({"a": 1})));
    let deleted = post("/api/customers/delete", json!({"primary_key": "k"})).await;
    assert_eq!(
        (deleted.status, deleted.body),
        (200, json!({"primary_key": "k"}))
    );
    let gone = post("/customers/read", json!({"primary_key": "k"})).await;
    assert_eq!(gone.status, 404);
    let again = post("/customers/delete", json!({"primary_key": "k"})).await;
    assert_eq!(again.status, 404);
    let paths: Vec<_> = emulator
        .requests()
        .await
        .iter()
        .map(|e| e["path"].clone())
        .collect();
    assert_eq!(paths[0], json!("/api/customers/upsert"));
    assert_eq!(paths[3], json!("/customers/read"));
}

#[tokio::test]
async fn unknown_route_gets_404_and_is_logged_but_dumps_are_not() {
    let emulator = start(Config::with_api_key(KEY)).await;
    let reply = emulator.post_as("/customers", Some(KEY), "{}".into()).await;
    assert_eq!(reply.status, 404);
    assert_eq!(reply.body["statusCode"], json!(404));
    emulator.customers().await;
    let log = emulator.requests().await;
    assert_eq!(log.len(), 1);
    assert_eq!(
        (log[0]["path"].clone(), log[0]["status"].clone()),
        (json!("/customers"), json!(404))
    );
}

#[tokio::test]
async fn request_log_holds_every_field_in_arrival_order() {
    let emulator = start(Config::with_api_key(KEY)).await;
    emulator.upsert(upsert_body("a", json!({"n": 1}))).await;
    emulator.upsert(upsert_body("b", json!({"_bad": 1}))).await;
    let log = emulator.requests().await;
    assert_eq!(log.len(), 2);
    for (index, entry) in log.iter().enumerate() {
        assert_eq!(entry["seq"], json!(index + 1));
        assert_eq!(entry["path"], json!("/customers/upsert"));
        let received = entry["received_ms"].as_f64().expect("a number");
        let answered = entry["answered_ms"].as_f64().expect("a number");
        assert!(received <= answered, "{entry}");
    }
    assert_eq!(log[0]["status"], json!(200));
    assert_eq!(log[0]["applied"], json!(true));
    assert_eq!(log[0]["body"], upsert_body("a", json!({"n": 1})));
    assert_eq!(
        (log[1]["status"].clone(), log[1]["applied"].clone()),
        (json!(400), json!(false))
    );
    assert!(log[1]["received_ms"].as_f64() >= log[0]["answered_ms"].as_f64());
}

#[tokio::test]
async fn request_log_can_drop_bodies_or_everything() {
    let config = Config {
        record_bodies: false,
        ..Config::with_api_key(KEY)
    };
    let emulator = start(config).await;
    emulator.upsert(upsert_body("a", json!({}))).await;
    let log = emulator.requests().await;
    assert_eq!(
        (log[0]["body"].clone(), log[0]["status"].clone()),
        (Value::Null, json!(200))
    );

    let config = Config {
        record_requests: false,
        ..Config::with_api_key(KEY)
    };
    let emulator = start(config).await;
    emulator.upsert(upsert_body("a", json!({}))).await;
    assert_eq!(emulator.requests().await, Vec::<Value>::new());
    assert_eq!(emulator.running.request_count(), 1);
    assert_eq!(emulator.running.customer_count().await, 1);
}

const RETRY_SCRIPT: &str = r#"
api_key = "ls_test_key"

[[rule]]
primary_key = "r5@example.com"
attempt = 1
status = 429
headers = { "Retry-After" = "1" }
body = '{"statusCode":429,"message":"Too Many Requests"}'

[[rule]]
primary_key = "r5@example.com"
attempt = 2
status = 502
headers = { "Content-Type" = "text/html" }
body = '<html>502</html>'
"#;

#[tokio::test]
async fn rules_match_by_key_and_attempt() {
    let emulator = start_with_script(RETRY_SCRIPT).await;
    let body = || upsert_body("r5@example.com", json!({"plan": "pro"}));
    let first = emulator.upsert(body()).await;
    assert_eq!(first.status, 429);
    assert_eq!(first.headers["retry-after"], "1");
    assert_eq!(
        first.body,
        json!({"statusCode": 429, "message": "Too Many Requests"})
    );
    let other = emulator
        .upsert(upsert_body("r6@example.com", json!({})))
        .await;
    assert_eq!(other.status, 200, "another key is not affected");
    let second = emulator
        .upsert(upsert_body(" r5@example.com ", json!({"plan": "pro"})))
        .await;
    assert_eq!(second.status, 502, "the trimmed key counts as the same key");
    assert_eq!(second.headers["content-type"], "text/html");
    assert_eq!(second.body, json!("<html>502</html>"));
    let third = emulator.upsert(body()).await;
    assert_eq!(third.status, 200);
    let applied: Vec<_> = emulator
        .requests()
        .await
        .iter()
        .map(|e| e["applied"].clone())
        .collect();
    assert_eq!(
        applied,
        [json!(false), json!(true), json!(false), json!(true)]
    );
    let customers = emulator.customers().await;
    assert_eq!(
        customers,
        json!({"r6@example.com": {}, "r5@example.com": {"plan": "pro"}})
    );
}

#[tokio::test]
async fn nth_request_with_for_ms_answers_a_window_of_requests() {
    let script = "[[rule]]\nnth_request = 2\nfor_ms = 600000\nstatus = 503\n";
    let emulator = start_with_script(script).await;
    let mut statuses = Vec::new();
    for n in 0..4 {
        statuses.push(
            emulator
                .upsert(upsert_body(&format!("k{n}"), json!({})))
                .await
                .status,
        );
    }
    assert_eq!(statuses, [200, 503, 503, 503]);
    let message = emulator.upsert(upsert_body("k", json!({}))).await.body;
    assert_eq!(
        message,
        json!({"statusCode": 503, "message": "Service Unavailable"})
    );
}

#[tokio::test]
async fn nth_request_alone_answers_one_request() {
    let emulator = start_with_script("[[rule]]\nnth_request = 2\nstatus = 500\n").await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(emulator.upsert(upsert_body("k", json!({}))).await.status);
    }
    assert_eq!(statuses, [200, 500, 200]);
}

#[tokio::test]
async fn retry_after_date_is_a_whole_second_ahead() {
    let emulator = start_with_script("[[rule]]\nstatus = 429\nretry_after_date_in_s = 3\n").await;
    let before = SystemTime::now();
    let reply = emulator.upsert(upsert_body("k", json!({}))).await;
    let text = reply.headers["retry-after"]
        .to_str()
        .expect("an ASCII date");
    let date = httpdate::parse_http_date(text).expect("an HTTP date");
    let ahead = date
        .duration_since(before)
        .expect("the date is in the future");
    assert!(
        ahead >= Duration::from_secs(2) && ahead <= Duration::from_secs(5),
        "{text}"
    );
}

#[tokio::test]
async fn status_only_rule_without_body_keeps_the_emulator_answer() {
    let script = "[[rule]]\nprimary_key = \"u1\"\nattempt = 1\nstatus = 200\ndelay_ms = 10\n";
    let emulator = start_with_script(script).await;
    let reply = emulator.upsert(upsert_body("u1", json!({"a": 1}))).await;
    assert_eq!(reply.status, 200);
    assert!(reply.body["id"].is_string(), "{}", reply.body);
    let log = emulator.requests().await;
    assert_eq!(
        (log[0]["status"].clone(), log[0]["applied"].clone()),
        (json!(200), json!(true))
    );
    assert!(log[0]["answered_ms"].is_number());
}

#[tokio::test]
async fn delayed_upsert_is_applied_on_arrival() {
    let script = "[[rule]]\nprimary_key = \"t2\"\nstatus = 200\ndelay_ms = 600000\napply = true\n";
    let emulator = start_with_script(script).await;
    let request = emulator.http.post(emulator.url("/customers/upsert"));
    let request = request.header("Authorization", "Api-Key anything");
    let body = upsert_body("t2", json!({"plan": "pro"})).to_string();
    let sent = request
        .body(body)
        .timeout(Duration::from_millis(300))
        .send()
        .await;
    assert!(sent.is_err(), "the answer comes far too late");
    assert_eq!(emulator.customers().await, json!({"t2": {"plan": "pro"}}));
    let log = emulator.requests().await;
    assert_eq!(
        (log[0]["applied"].clone(), log[0]["answered_ms"].clone()),
        (json!(true), Value::Null)
    );
}

#[tokio::test]
async fn hang_closes_the_connection_without_an_answer() {
    let script = Script::parse("[[rule]]\nprimary_key = \"t3\"\nhang = true\n").expect("valid");
    let config = Config {
        script,
        hang_for: Duration::from_millis(50),
        ..Config::default()
    };
    let emulator = start(config).await;
    let request = emulator.http.post(emulator.url("/customers/upsert"));
    let request = request.header("Authorization", "Api-Key anything");
    let body = upsert_body("t3", json!({"plan": "team"})).to_string();
    let sent = request
        .body(body)
        .timeout(Duration::from_secs(30))
        .send()
        .await;
    let err = sent.expect_err("no answer comes");
    assert!(
        !err.is_timeout(),
        "the emulator closed the connection itself: {err}"
    );
    assert_eq!(emulator.customers().await, json!({}));
    let log = emulator.requests().await;
    let entry = &log[0];
    assert_eq!(
        (entry["status"].clone(), entry["answered_ms"].clone()),
        (Value::Null, Value::Null)
    );
    assert_eq!(entry["applied"], json!(false));
}

#[tokio::test]
async fn case_scripts_are_served_as_written() {
    let text = r#"
api_key = "ls_test_key"
[[rule]]
primary_key = "s4@example.com"          # every attempt
status = 500
body = '{"statusCode":500,"message":"Internal server error"}'
"#;
    let emulator = start_with_script(text).await;
    for _ in 0..3 {
        let reply = emulator
            .upsert(upsert_body("s4@example.com", json!({"plan": "free"})))
            .await;
        assert_eq!(reply.status, 500);
        assert_eq!(reply.body["message"], json!("Internal server error"));
    }
    assert_eq!(emulator.customers().await, json!({}));
}

#[tokio::test]
async fn config_from_args_folds_flags_over_the_script() {
    let dir = tempfile::tempdir().expect("a scratch folder");
    let path = dir.path().join("server.toml");
    std::fs::write(&path, "api_key = \"from_script\"\nmax_body_bytes = 10\n").expect("writable");
    let mut args = EmulatorArgs {
        listen: "127.0.0.1:0".parse().expect("a literal address"),
        script: Some(path.clone()),
        api_key: None,
        no_primary_key: true,
        no_request_bodies: true,
        no_request_log: false,
        seed: None,
        fail_rate: None,
        throttle: None,
        latency: None,
        reset_rate: None,
        hang_rate: None,
        outage: None,
        tls_cert: None,
        tls_key: None,
    };
    let config = Config::from_args(&args).expect("valid");
    assert_eq!(config.api_key.as_deref(), Some("from_script"));
    assert_eq!(config.script.max_body_bytes, 10);
    assert!(!config.primary_key_set && !config.record_bodies && config.record_requests);
    args.api_key = Some("from_flag".into());
    let config = Config::from_args(&args).expect("valid");
    assert_eq!(config.api_key.as_deref(), Some("from_flag"));
    assert!(
        !format!("{config:?}").contains("from_flag"),
        "Debug hides the key"
    );
    assert!(
        !format!("{args:?}").contains("from_flag"),
        "Debug hides the key"
    );

    std::fs::write(&path, "[[rule]]\nsatus = 500\n").expect("writable");
    let err = Config::from_args(&args).expect_err("unknown key");
    let message = format!("{err:#}");
    assert!(
        message.contains("line 2: unknown key `satus` in [[rule]] 1"),
        "{message}"
    );
    assert!(message.contains("server.toml"), "{message}");
}

#[tokio::test]
async fn shutdown_releases_the_port() {
    let emulator = start(Config::default()).await;
    let addr = emulator.running.addr;
    emulator.running.shutdown().await;
    let again = spawn(Config::default(), addr)
        .await
        .expect("the port is free again");
    again.shutdown().await;
}

fn parse_args(flags: &[&str]) -> Result<EmulatorArgs, clap::Error> {
    use clap::Parser as _;
    let words = ["laudspeaker-import", "emulator"].iter().chain(flags);
    match crate::cli::Cli::try_parse_from(words)?.command {
        crate::cli::Command::Emulator(args) => Ok(args),
        _ => panic!("the emulator command was parsed"),
    }
}

async fn start_faulty(flags: &[&str]) -> Harness {
    let args = parse_args(flags).expect("valid fault flags");
    let mut config = Config::from_args(&args).expect("valid settings");
    config.api_key = Some(KEY.into());
    config.hang_for = Duration::from_secs(5);
    start(config).await
}

#[test]
fn fault_flags_parse_with_their_documented_syntax() {
    let args = parse_args(&[
        "--seed",
        "9",
        "--fail-rate",
        "10%",
        "--throttle",
        "200/s",
        "--latency",
        "5ms..50ms",
        "--reset-rate",
        "0.02",
        "--hang-rate",
        "1%",
        "--outage",
        "10s..40s",
    ])
    .expect("valid flags");
    let faults = Config::from_args(&args).expect("valid").faults;
    assert_eq!(faults.seed, 9);
    assert_eq!(faults.fail_rate.fraction(), 0.1);
    assert_eq!(faults.reset_rate.fraction(), 0.02);
    assert_eq!(faults.hang_rate.fraction(), 0.01);
    assert_eq!(faults.throttle, Some("200/s".parse().expect("valid")));
    let latency = faults.latency.expect("latency given");
    assert_eq!((latency.min, latency.max), (ms(5), ms(50)));
    let outage = faults.outage.expect("outage given");
    assert_eq!((outage.start.as_secs(), outage.end.as_secs()), (10, 40));
    assert!(parse_args(&["--latency", "20ms"]).is_ok());
    assert!(parse_args(&["--fail-rate", "120%"]).is_err());
    assert!(parse_args(&["--outage", "40s..10s"]).is_err());
    let over = parse_args(&["--fail-rate", "0.7", "--reset-rate", "40%"]).expect("each valid");
    let err = Config::from_args(&over).expect_err("over 100% in all");
    assert_eq!(
        err.to_string(),
        "--fail-rate, --reset-rate and --hang-rate add up to 110%, over 100%"
    );
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[tokio::test]
async fn fail_rate_answers_500_and_stores_nothing() {
    let emulator = start_faulty(&["--fail-rate", "100%"]).await;
    let reply = emulator.upsert(upsert_body("f1", json!({"a": 1}))).await;
    assert_eq!(reply.status, 500);
    assert_eq!(
        reply.body,
        json!({"statusCode": 500, "message": "Internal server error"})
    );
    assert_eq!(emulator.customers().await, json!({}));
    let log = emulator.requests().await;
    assert_eq!(log[0]["fault"], json!("fail"));
    assert_eq!(log[0]["status"], json!(500));
    assert_eq!(log[0]["applied"], json!(false));
}

#[tokio::test]
async fn throttle_answers_429_with_whole_seconds_past_the_bucket() {
    // A bucket of one token, refilled once an hour: the second request waits.
    let emulator = start_faulty(&["--throttle", "1/h"]).await;
    let mut statuses = Vec::new();
    let mut last = None;
    for n in 0..2 {
        let reply = emulator
            .upsert(upsert_body(&format!("t{n}"), json!({})))
            .await;
        statuses.push(reply.status);
        last = Some(reply);
    }
    assert_eq!(statuses, [200, 429]);
    let last = last.expect("two replies");
    let retry_after = last
        .headers
        .get("retry-after")
        .expect("Retry-After is sent");
    let seconds: u64 = retry_after
        .to_str()
        .expect("ascii")
        .parse()
        .expect("whole seconds");
    assert!((3500..=3600).contains(&seconds), "{seconds}");
    assert_eq!(emulator.customers().await, json!({"t0": {}}));
    assert_eq!(emulator.requests().await[1]["fault"], json!("throttle"));
}

#[tokio::test]
async fn latency_delays_the_answer_and_still_stores() {
    let emulator = start_faulty(&["--latency", "40ms"]).await;
    let reply = emulator.upsert(upsert_body("l1", json!({"a": 1}))).await;
    assert_eq!(reply.status, 200);
    assert_eq!(emulator.customers().await, json!({"l1": {"a": 1}}));
    let log = emulator.requests().await;
    let waited = log[0]["answered_ms"].as_f64().expect("answered")
        - log[0]["received_ms"].as_f64().expect("received");
    assert!(waited >= 40.0, "answered after {waited} ms");
    assert_eq!(
        (log[0]["applied"].clone(), log[0].get("fault")),
        (json!(true), None)
    );
}

#[tokio::test]
async fn reset_rate_closes_the_connection_without_an_answer() {
    let emulator = start_faulty(&["--reset-rate", "1"]).await;
    let body = upsert_body("r1", json!({"a": 1})).to_string();
    let sent = emulator
        .http
        .post(emulator.url("/customers/upsert"))
        .header("Authorization", format!("Api-Key {KEY}"))
        .body(body)
        .timeout(Duration::from_secs(30))
        .send()
        .await;
    let err = sent.expect_err("no answer comes");
    assert!(!err.is_timeout(), "closed, not held: {err}");
    assert_eq!(emulator.customers().await, json!({}));
    let log = emulator.requests().await;
    assert_eq!(log[0]["fault"], json!("reset"));
    assert_eq!(
        (log[0]["status"].clone(), log[0]["answered_ms"].clone()),
        (Value::Null, Value::Null)
    );
}

#[tokio::test]
async fn hang_rate_holds_the_request_until_the_client_gives_up() {
    let emulator = start_faulty(&["--hang-rate", "100%"]).await;
    let body = upsert_body("h1", json!({"a": 1})).to_string();
    let sent = emulator
        .http
        .post(emulator.url("/customers/upsert"))
        .header("Authorization", format!("Api-Key {KEY}"))
        .body(body)
        .timeout(ms(300))
        .send()
        .await;
    let err = sent.expect_err("no answer comes");
    assert!(err.is_timeout(), "held until the client gave up: {err}");
    assert_eq!(emulator.customers().await, json!({}));
    let log = emulator.requests().await;
    assert_eq!(log[0]["fault"], json!("hang"));
    assert_eq!(log[0]["answered_ms"], Value::Null);
}

#[tokio::test]
async fn outage_answers_503_inside_its_window_only() {
    let down = start_faulty(&["--outage", "0s..1h"]).await;
    let reply = down.upsert(upsert_body("o1", json!({}))).await;
    assert_eq!(reply.status, 503);
    assert_eq!(reply.body["message"], json!("Service Unavailable"));
    assert_eq!(down.customers().await, json!({}));
    assert_eq!(down.requests().await[0]["fault"], json!("outage"));
    let later = start_faulty(&["--outage", "1h..2h"]).await;
    assert_eq!(later.upsert(upsert_body("o1", json!({}))).await.status, 200);
}

#[tokio::test]
async fn faults_come_before_the_key_check_and_spare_the_dumps() {
    let emulator = start_faulty(&["--outage", "0s..1h"]).await;
    let body = upsert_body("o1", json!({})).to_string();
    let wrong = emulator
        .post_as("/customers/upsert", Some("wrong"), body)
        .await;
    assert_eq!(wrong.status, 503);
    assert_eq!(emulator.requests().await.len(), 1, "dumps are not faulted");
}

#[tokio::test]
async fn the_same_seed_gives_the_same_answers_in_the_same_order() {
    let flags = ["--seed", "11", "--fail-rate", "50%"];
    let mut runs = Vec::new();
    for _ in 0..2 {
        let emulator = start_faulty(&flags).await;
        let mut statuses = Vec::new();
        for n in 0..40 {
            let body = upsert_body(&format!("s{n}"), json!({}));
            statuses.push(emulator.upsert(body).await.status);
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1]);
    let fails = runs[0].iter().filter(|&&status| status == 500).count();
    assert!((5..=35).contains(&fails), "{fails} of 40 failed");
}
