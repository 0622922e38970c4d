//! The request log behind `GET /emulator/requests`: one entry per request
//! in arrival order, with its arrival and answer times, its body, the
//! answer given and the command-line fault that hit it, if any. Each request touches the lock twice, briefly: once when it
//! arrives, once when it is settled or answered.

use std::borrow::Cow;
use std::sync::{Mutex, MutexGuard};
use std::time::Instant;

use hyper::body::Bytes;
use serde::ser::{Serialize, SerializeSeq, Serializer};
use serde_json::value::RawValue;

/// How much the log keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keep {
    /// Every request with its body (the default).
    Everything,
    /// Every request, with `body` always null: for long benchmarks.
    NoBodies,
    /// Nothing; requests are only counted.
    Nothing,
}

/// One request as the log shows it.
#[derive(Debug, Clone)]
struct Entry {
    path: Cow<'static, str>,
    received_us: u64,
    answered_us: Option<u64>,
    status: Option<u16>,
    applied: bool,
    body: Option<Bytes>,
    fault: Option<&'static str>,
}

#[derive(Default)]
struct Inner {
    count: u64,
    entries: Vec<Entry>,
}

/// The request log and the emulator's clock.
pub struct RequestLog {
    start: Instant,
    keep: Keep,
    inner: Mutex<Inner>,
}

impl RequestLog {
    /// An empty log whose clock starts now.
    pub fn new(keep: Keep) -> Self {
        RequestLog {
            start: Instant::now(),
            keep,
            inner: Mutex::default(),
        }
    }

    /// Microseconds since the emulator started.
    pub fn now_us(&self) -> u64 {
        u64::try_from(self.start.elapsed().as_micros()).unwrap_or(u64::MAX)
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic elsewhere leaves the entries usable; keep serving them.
        self.inner
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    /// Records an arrival; answers its 1-based number and arrival time.
    /// `on_arrival(seq, received_us)` runs under the same lock, so whatever
    /// it records is in place before any later request is numbered.
    pub fn arrive(&self, path: Cow<'static, str>, on_arrival: impl FnOnce(u64, u64)) -> (u64, u64) {
        let mut inner = self.lock();
        let received_us = self.now_us();
        inner.count += 1;
        let seq = inner.count;
        on_arrival(seq, received_us);
        if self.keep != Keep::Nothing {
            let entry = Entry {
                path,
                received_us,
                answered_us: None,
                status: None,
                applied: false,
                body: None,
                fault: None,
            };
            inner.entries.push(entry);
        }
        (seq, received_us)
    }

    /// Records the body and whether the request took effect, before it is
    /// answered (or when it never will be).
    pub fn settle(&self, seq: u64, body: Option<Bytes>, applied: bool) {
        let body = self.kept(body);
        self.update(seq, |entry| {
            entry.applied = applied;
            entry.body = body;
        });
    }

    /// Records the body of a request a fault hit, and the fault's name; it
    /// took no effect.
    pub fn fault(&self, seq: u64, body: Option<Bytes>, fault: &'static str) {
        let body = self.kept(body);
        self.update(seq, |entry| {
            entry.applied = false;
            entry.body = body;
            entry.fault = Some(fault);
        });
    }

    /// Stamps the answer time, right before the answer is written.
    pub fn answered(&self, seq: u64, status: u16) {
        let answered_us = self.now_us();
        self.update(seq, |entry| {
            entry.status = Some(status);
            entry.answered_us = Some(answered_us);
        });
    }

    /// [`settle`](Self::settle) and [`answered`](Self::answered) at once.
    pub fn finish(&self, seq: u64, body: Option<Bytes>, applied: bool, status: u16) {
        let body = self.kept(body);
        let answered_us = self.now_us();
        self.update(seq, |entry| {
            entry.applied = applied;
            entry.body = body;
            entry.status = Some(status);
            entry.answered_us = Some(answered_us);
        });
    }

    /// The body as the log keeps it: a copy of exactly its bytes, because
    /// the body as read may share (and so pin) the connection's whole read
    /// buffer.
    fn kept(&self, body: Option<Bytes>) -> Option<Bytes> {
        let body = body.filter(|_| self.keep == Keep::Everything)?;
        Some(Bytes::copy_from_slice(&body))
    }

    fn update(&self, seq: u64, change: impl FnOnce(&mut Entry)) {
        if self.keep == Keep::Nothing {
            return;
        }
        let index = usize::try_from(seq.saturating_sub(1)).unwrap_or(usize::MAX);
        if let Some(entry) = self.lock().entries.get_mut(index) {
            change(entry);
        }
    }

    /// How many requests arrived (logged or not).
    pub fn count(&self) -> u64 {
        self.lock().count
    }

    /// The log as the JSON array `GET /emulator/requests` answers.
    pub fn to_json(&self) -> Vec<u8> {
        // Copy out (bodies are shared, not copied) so requests keep flowing
        // while the copy is serialised.
        let entries = self.lock().entries.clone();
        let mut out = Vec::with_capacity(entries.len() * 160 + 2);
        let listed = Listed(&entries);
        // Writing into a Vec cannot fail, and every part serialises.
        serde_json::to_writer(&mut out, &listed).expect("the log serialises into memory");
        out
    }
}

struct Listed<'a>(&'a [Entry]);

impl Serialize for Listed<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(self.0.len()))?;
        for (index, entry) in self.0.iter().enumerate() {
            seq.serialize_element(&Shown::new(index as u64 + 1, entry))?;
        }
        seq.end()
    }
}

/// One entry in the shape CONTRACT.md gives.
#[derive(serde::Serialize)]
struct Shown<'a> {
    seq: u64,
    path: &'a str,
    received_ms: f64,
    answered_ms: Option<f64>,
    status: Option<u16>,
    applied: bool,
    body: ShownBody<'a>,
    /// Only on requests a command-line fault hit.
    #[serde(skip_serializing_if = "Option::is_none")]
    fault: Option<&'a str>,
}

impl<'a> Shown<'a> {
    fn new(seq: u64, entry: &'a Entry) -> Self {
        Shown {
            seq,
            path: &entry.path,
            received_ms: millis(entry.received_us),
            answered_ms: entry.answered_us.map(millis),
            status: entry.status,
            applied: entry.applied,
            body: ShownBody(entry.body.as_deref()),
            fault: entry.fault,
        }
    }
}

fn millis(us: u64) -> f64 {
    us as f64 / 1000.0
}

/// A body as sent when it is JSON, else its text, else null.
struct ShownBody<'a>(Option<&'a [u8]>);

impl Serialize for ShownBody<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Some(bytes) = self.0 else {
            return serializer.serialize_none();
        };
        match serde_json::from_slice::<&RawValue>(bytes) {
            Ok(json) => json.serialize(serializer),
            Err(_) => serializer.serialize_str(&String::from_utf8_lossy(bytes)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn parsed(log: &RequestLog) -> Value {
        serde_json::from_slice(&log.to_json()).expect("the log is JSON")
    }

    #[test]
    fn entries_show_times_status_and_parsed_body() {
        let log = RequestLog::new(Keep::Everything);
        let (seq, _) = log.arrive(Cow::Borrowed("/customers/upsert"), |_, _| {});
        let body = Bytes::from_static(br#"{"primary_key": "a", "n": 1.50}"#);
        log.finish(seq, Some(body), true, 200);
        let shown = parsed(&log);
        let entry = &shown[0];
        assert_eq!(entry["seq"], json!(1));
        assert_eq!(entry["path"], json!("/customers/upsert"));
        assert_eq!(entry["status"], json!(200));
        assert_eq!(entry["applied"], json!(true));
        assert_eq!(entry["body"]["primary_key"], json!("a"));
        assert_eq!(entry["body"]["n"].to_string(), "1.50");
        assert!(entry["received_ms"].is_number() && entry["answered_ms"].is_number());
    }

    #[test]
    fn unanswered_request_has_null_answer_and_text_body() {
        let log = RequestLog::new(Keep::Everything);
        let (seq, _) = log.arrive(Cow::Owned("/nowhere".into()), |_, _| {});
        log.settle(seq, Some(Bytes::from_static(b"not json")), false);
        let shown = parsed(&log);
        assert_eq!(shown[0]["answered_ms"], Value::Null);
        assert_eq!(shown[0]["status"], Value::Null);
        assert_eq!(shown[0]["body"], json!("not json"));
    }

    #[test]
    fn arrival_hook_sees_each_number_in_order() {
        let log = RequestLog::new(Keep::Nothing);
        let mut seen = Vec::new();
        for _ in 0..3 {
            log.arrive(Cow::Borrowed("/x"), |seq, _| seen.push(seq));
        }
        assert_eq!(seen, [1, 2, 3]);
        assert_eq!(log.count(), 3);
        assert_eq!(parsed(&log), json!([]));
    }

    #[test]
    fn faulted_requests_name_their_fault() {
        let log = RequestLog::new(Keep::Everything);
        let (first, _) = log.arrive(Cow::Borrowed("/customers/upsert"), |_, _| {});
        let (second, _) = log.arrive(Cow::Borrowed("/customers/upsert"), |_, _| {});
        log.fault(first, Some(Bytes::from_static(b"{}")), "reset");
        log.finish(second, None, true, 200);
        let shown = parsed(&log);
        assert_eq!(shown[0]["fault"], json!("reset"));
        assert_eq!(shown[0]["applied"], json!(false));
        assert_eq!(shown[0]["answered_ms"], Value::Null);
        assert_eq!(shown[1].get("fault"), None);
    }

    #[test]
    fn no_bodies_keeps_entries_without_bodies() {
        let log = RequestLog::new(Keep::NoBodies);
        let (seq, _) = log.arrive(Cow::Borrowed("/customers/upsert"), |_, _| {});
        log.finish(seq, Some(Bytes::from_static(b"{}")), true, 200);
        assert_eq!(parsed(&log)[0]["body"], Value::Null);
    }
}
