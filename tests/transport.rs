//! How the key travels: never over plain http beyond this machine (refused
//! before any connection), and over https to a server behind a private
//! certificate authority only when `--ca-cert` names that authority.

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};

use common::{certs, code, output_text, Emulator, KEY};

/// An address of TEST-NET-1 (RFC 5737): no server of ours is there, and
/// the tests below route any attempt to reach it to a local proxy.
const FOREIGN: &str = "http://192.0.2.1:9/api";

/// Writes a two-row CSV and its mapping into `dir`; returns their paths.
fn two_rows(dir: &Path) -> (String, String) {
    let input = dir.join("two.csv");
    std::fs::write(&input, "email,name\na@example.com,Ann\nb@example.com,Ben\n").expect("csv");
    let mapping = dir.join("two.toml");
    std::fs::write(
        &mapping,
        "[primary_key]\nfrom = \"email\"\ntype = \"email\"\n\n\
         [[property]]\nfrom = \"name\"\nto = \"name\"\n",
    )
    .expect("mapping");
    let shown = |p: &Path| p.to_str().expect("utf-8").to_owned();
    (shown(&input), shown(&mapping))
}

/// `import` of the two rows with `extra`; only `env` in the environment.
fn import(dir: &Path, extra: &[&str], env: &[(&str, &str)]) -> Output {
    let (input, mapping) = two_rows(dir);
    Command::new(common::bin())
        .args(["import", &input, "--mapping", &mapping, "--api-key", KEY])
        .arg("--dead-letter")
        .arg(dir.join("dl.ndjson"))
        .args(["--timeout", "5s"])
        .args(extra)
        .env_clear()
        .envs(env.iter().copied())
        .output()
        .expect("run the importer")
}

/// A local listener set as the http proxy: where a request for a foreign
/// http URL would go if the importer tried to send it.
fn proxy() -> (TcpListener, String) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    (listener, url)
}

#[test]
fn plain_http_to_a_foreign_address_is_refused_before_any_connection() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (listener, proxy_url) = proxy();
    let env = [
        ("http_proxy", proxy_url.as_str()),
        ("HTTP_PROXY", proxy_url.as_str()),
    ];
    let output = import(dir.path(), &["--api-url", FOREIGN], &env);
    let text = output_text(&output);
    assert_eq!(code(&output), 2, "{text}");
    assert_eq!(
        String::from_utf8_lossy(&output.stderr).lines().next(),
        Some("error: refusing to send the API key over plain http to 192.0.2.1"),
        "{text}"
    );
    assert!(text.contains("--allow-insecure-http"), "{text}");
    listener.set_nonblocking(true).expect("nonblocking");
    let attempt = listener.accept();
    assert_eq!(
        attempt.map(|_| ()).map_err(|e| e.kind()),
        Err(std::io::ErrorKind::WouldBlock),
        "a connection was attempted"
    );
    assert!(!dir.path().join("dl.ndjson").exists());
}

/// The control for the test above: with `--allow-insecure-http` the same
/// run does connect (to the local proxy), so the proxy would have seen a
/// connection had the refusal come too late.
#[test]
fn with_allow_insecure_http_the_same_run_does_connect() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (listener, proxy_url) = proxy();
    let answering = std::thread::spawn(move || {
        let (stream, _) = listener.accept().expect("a connection");
        let mut reader = BufReader::new(stream);
        let mut first = String::new();
        reader.read_line(&mut first).expect("request line");
        let mut line = String::new();
        while reader.read_line(&mut line).expect("header") > 2 {
            line.clear();
        }
        let answer = "HTTP/1.1 401 Unauthorized\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
        reader
            .get_mut()
            .write_all(answer.as_bytes())
            .expect("answer");
        first
    });
    let env = [
        ("http_proxy", proxy_url.as_str()),
        ("HTTP_PROXY", proxy_url.as_str()),
    ];
    let extra = [
        "--api-url",
        FOREIGN,
        "--allow-insecure-http",
        "--concurrency",
        "1",
    ];
    let output = import(dir.path(), &extra, &env);
    let text = output_text(&output);
    assert_eq!(code(&output), 3, "{text}");
    let first = answering.join().expect("the proxy thread");
    assert_eq!(
        first,
        "POST http://192.0.2.1:9/api/customers/upsert HTTP/1.1\r\n"
    );
}

/// An emulator serving https with a certificate a fresh private CA signed.
fn https_emulator(dir: &Path) -> (Emulator, certs::Pki) {
    let pki = certs::private_ca(dir);
    let emulator = Emulator::start_with(&[
        "--tls-cert",
        pki.server_cert.to_str().expect("utf-8"),
        "--tls-key",
        pki.server_key.to_str().expect("utf-8"),
    ]);
    assert!(
        emulator.url.starts_with("https://127.0.0.1:"),
        "{}",
        emulator.url
    );
    (emulator, pki)
}

#[test]
fn https_to_a_private_ca_server_works_with_its_ca_cert() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (emulator, pki) = https_emulator(dir.path());
    let ca = pki.ca_cert.to_str().expect("utf-8");
    let output = import(
        dir.path(),
        &["--api-url", &emulator.url, "--ca-cert", ca],
        &[],
    );
    let text = output_text(&output);
    assert_eq!(code(&output), 0, "{text}");
    let upserted = format!("{:<15} {:>10}", "upserted", 2);
    assert!(text.lines().any(|line| line == upserted), "{text}");
}

#[test]
fn https_to_a_private_ca_server_without_its_ca_cert_stops_with_exit_3() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (emulator, _pki) = https_emulator(dir.path());
    let output = import(
        dir.path(),
        &["--api-url", &emulator.url, "--max-retries", "5"],
        &[],
    );
    let text = output_text(&output);
    assert_eq!(code(&output), 3, "{text}");
    assert!(
        text.contains("error: the server's TLS certificate is not trusted (invalid peer certificate: UnknownIssuer)"),
        "{text}"
    );
    assert!(
        text.contains("hint: for a server behind a private certificate authority"),
        "{text}"
    );
    // Stopped at the first refusal: nothing retried, nothing dead-lettered.
    assert!(
        common::dead_letters(&dir.path().join("dl.ndjson")).is_empty(),
        "{text}"
    );
}

#[test]
fn a_ca_cert_file_that_cannot_be_used_stops_before_sending_naming_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("missing.pem");
    let missing = missing.to_str().expect("utf-8");
    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "not a certificate\n").expect("write");
    let empty = empty.to_str().expect("utf-8");
    let url = "http://127.0.0.1:9";
    let output = import(dir.path(), &["--api-url", url, "--ca-cert", missing], &[]);
    let text = output_text(&output);
    assert_eq!(code(&output), 2, "{text}");
    assert!(
        text.starts_with(&format!(
            "error: cannot read --ca-cert {missing}: No such file"
        )),
        "{text}"
    );
    let output = import(dir.path(), &["--api-url", url, "--ca-cert", empty], &[]);
    let text = output_text(&output);
    assert_eq!(code(&output), 2, "{text}");
    assert!(
        text.starts_with(&format!("error: --ca-cert {empty} holds no certificate")),
        "{text}"
    );
}
