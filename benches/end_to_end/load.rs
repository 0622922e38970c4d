//! A small load generator for the emulator alone: N keep-alive HTTP/1.1
//! connections, each sending upserts one after another for a fixed time.
//!
//! It uses hyper's connection API directly (no pool, no retries), so almost
//! all the CPU it takes goes to the requests themselves.

use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use super::KEY;

/// Requests answered with a 2xx, and the time they took.
pub struct Load {
    pub ok: u64,
    pub failed: u64,
    pub elapsed: Duration,
}

/// Drives the emulator at `url` over `connections` connections for `time`.
pub fn drive(url: &str, connections: usize, time: Duration) -> Result<Load, String> {
    let authority = url
        .strip_prefix("http://")
        .ok_or("the emulator URL is not http")?
        .trim_end_matches('/')
        .to_string();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async move {
        let started = Instant::now();
        let deadline = started + time;
        let mut tasks = tokio::task::JoinSet::new();
        for connection in 0..connections {
            tasks.spawn(one_connection(authority.clone(), connection, deadline));
        }
        let (mut ok, mut failed) = (0, 0);
        while let Some(done) = tasks.join_next().await {
            let (good, bad) = done.map_err(|e| e.to_string())??;
            ok += good;
            failed += bad;
        }
        Ok(Load {
            ok,
            failed,
            elapsed: started.elapsed(),
        })
    })
}

/// Sends upserts over one connection until `deadline`; (2xx, other).
async fn one_connection(
    authority: String,
    connection: usize,
    deadline: Instant,
) -> Result<(u64, u64), String> {
    let stream = TcpStream::connect(&authority)
        .await
        .map_err(|e| e.to_string())?;
    let _ = stream.set_nodelay(true);
    let (mut sender, driver) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::spawn(driver);
    let (mut ok, mut failed) = (0, 0);
    let mut sent = 0u64;
    while Instant::now() < deadline {
        let request = upsert(&authority, connection, sent)?;
        sent += 1;
        let answer = sender
            .send_request(request)
            .await
            .map_err(|e| e.to_string())?;
        let status = answer.status();
        answer
            .into_body()
            .collect()
            .await
            .map_err(|e| e.to_string())?;
        if status.is_success() {
            ok += 1;
        } else {
            failed += 1;
        }
    }
    Ok((ok, failed))
}

/// An upsert of the size the importer sends for the synthetic export.
fn upsert(authority: &str, connection: usize, n: u64) -> Result<Request<Full<Bytes>>, String> {
    let email = format!("load{connection}-{n}@example.com");
    let body = format!(
        concat!(
            r#"{{"primary_key":"{email}","properties":{{"firstName":"Jürgen","#,
            r#""lastName":"Müller","phone":"+1 555 0123456","stage":"customer","#,
            r#""signupDate":"2015-03-07","lastSeen":"2024-11-02","revenue":12345.67,"#,
            r#""vip":true,"tags":["vip","newsletter"],"city":"Berlin, Mitte","#,
            r#""zip":"01234","email":"{email}"}}}}"#
        ),
        email = email
    );
    Request::post("/customers/upsert")
        .header("host", authority)
        .header("authorization", format!("Api-Key {KEY}"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| e.to_string())
}
