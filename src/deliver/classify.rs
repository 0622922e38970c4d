//! The retry decision: what an attempt's answer means for its record
//! (delivered, try again, give up) or for the whole run (stop), and the
//! words a person reads about it.

use std::time::Duration;

use super::client::{Answer, Reply};
use super::{Failure, Stop};
use crate::stats::RetryCause;

/// What to do after an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// The server accepted the record.
    Delivered,
    /// A transient failure and attempts are left: try again.
    Retry(RetryCause),
    /// A transient failure, but the attempts are spent.
    GiveUp(RetryCause),
    /// The server refused this record; another attempt would not help.
    Reject(Reject),
    /// A failure that is not about this record: the run must stop.
    Fatal(Fatal),
}

/// Why the server refused a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reject {
    /// 413: the body is over the server's size limit.
    TooLarge,
    /// Any other 4xx.
    ClientError,
    /// A status outside the ranges HTTP defines for a final answer.
    Unexpected,
    /// A 2xx that is not Laudspeaker's JSON answer, after others were.
    NotJson,
}

/// Why the whole run must stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fatal {
    /// 401 or 403: the key is wrong or belongs to no workspace.
    KeyRefused,
    /// 400 "primary key has not been set": the workspace is not set up.
    NoPrimaryKey,
    /// 404 or 405 before any upsert succeeded: the URL has no upsert
    /// endpoint, so no row can succeed.
    NoEndpoint,
    /// 3xx: the URL points somewhere else.
    Redirected,
    /// A 2xx that is not JSON before any upsert succeeded: the URL reaches
    /// something other than the API (the web app, a proxy's page).
    NotTheApi,
    /// The server's TLS certificate was refused: no record can be sent.
    Untrusted,
}

/// Decides what follows attempt number `attempts` (1-based) that got
/// `answer`, with `max_retries` retries allowed after the first attempt.
/// `endpoint_proven`: some upsert of this run already succeeded, so a 404
/// is about this record, not a wrong URL.
pub fn decide(answer: &Answer, attempts: u32, max_retries: u32, endpoint_proven: bool) -> Decision {
    let decision = match answer {
        Answer::Reply(reply) if reply.not_json && !endpoint_proven => {
            Decision::Fatal(Fatal::NotTheApi)
        }
        Answer::Reply(reply) if reply.not_json => Decision::Reject(Reject::NotJson),
        Answer::Reply(reply) => by_status(reply.status, &reply.message, endpoint_proven),
        Answer::TimedOut => Decision::Retry(RetryCause::Timeout),
        Answer::Unreachable(_) => Decision::Retry(RetryCause::Connection),
        Answer::Untrusted(_) => Decision::Fatal(Fatal::Untrusted),
    };
    match decision {
        Decision::Retry(cause) if attempts > max_retries => Decision::GiveUp(cause),
        settled => settled,
    }
}

/// The decision an HTTP status calls for, assuming attempts are left.
/// A 500 is retried although Laudspeaker sometimes reports a bad record
/// with it: the retry budget bounds the cost of that mistake.
fn by_status(status: u16, message: &str, endpoint_proven: bool) -> Decision {
    match status {
        200..=299 => Decision::Delivered,
        401 | 403 => Decision::Fatal(Fatal::KeyRefused),
        400 if says_no_primary_key(message) => Decision::Fatal(Fatal::NoPrimaryKey),
        404 | 405 if !endpoint_proven => Decision::Fatal(Fatal::NoEndpoint),
        413 => Decision::Reject(Reject::TooLarge),
        429 => Decision::Retry(RetryCause::Throttled),
        400..=499 => Decision::Reject(Reject::ClientError),
        500..=599 => Decision::Retry(RetryCause::ServerError),
        300..=399 => Decision::Fatal(Fatal::Redirected),
        0..=199 | 600..=u16::MAX => Decision::Reject(Reject::Unexpected),
    }
}

/// Whether a 400's message is Laudspeaker's "Primary key has not been set".
fn says_no_primary_key(message: &str) -> bool {
    let message = message.to_lowercase();
    message.contains("primary key")
        && (message.contains("not been set") || message.contains("not set"))
}

/// The record-level failure after the last attempt; `timeout` is the
/// request timeout, named when the attempts timed out.
pub fn failure(answer: &Answer, attempts: u32, timeout: Duration) -> Failure {
    let tries = Tries(attempts);
    let (status, reason) = match answer {
        Answer::Reply(reply) => (Some(reply.status), reply_reason(reply, tries)),
        Answer::TimedOut => {
            let limit = humantime::format_duration(timeout);
            (None, format!("timed out after {limit}, {tries}"))
        }
        Answer::Unreachable(detail) => (None, format!("connection failed: {detail}, {tries}")),
        Answer::Untrusted(detail) => (None, format!("certificate refused: {detail}, {tries}")),
    };
    Failure {
        status,
        attempts,
        reason,
    }
}

fn reply_reason(reply: &Reply, tries: Tries) -> String {
    let what = if reply.status == 413 {
        " (request body too large)"
    } else {
        ""
    };
    let status = reply.status;
    match reply.message.as_str() {
        "" => format!("HTTP {status}{what} after {tries}"),
        message => format!("HTTP {status}{what} after {tries}: {message}"),
    }
}

/// "1 attempt", "4 attempts".
#[derive(Clone, Copy)]
struct Tries(u32);

impl std::fmt::Display for Tries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            1 => f.write_str("1 attempt"),
            n => write!(f, "{n} attempts"),
        }
    }
}

/// The run-level stop for `fatal`, worded from the answer that caused it.
pub fn stop(fatal: Fatal, answer: &Answer) -> Stop {
    let (status, message) = match answer {
        Answer::Reply(reply) => (reply.status, reply.message.as_str()),
        Answer::Untrusted(detail) => (0, detail.as_str()),
        Answer::TimedOut | Answer::Unreachable(_) => (0, ""),
    };
    let (message, hint) = match fatal {
        Fatal::KeyRefused => (
            format!("the API key was refused (HTTP {status})"),
            "check LAUDSPEAKER_API_KEY / --api-key and the workspace it belongs to",
        ),
        Fatal::NoPrimaryKey => (
            format!("the workspace has no primary key attribute set (HTTP {status}: {message})"),
            "choose the primary key attribute in the Laudspeaker UI, then run the import again",
        ),
        Fatal::NoEndpoint => (
            format!("the API URL has no customer upsert endpoint (HTTP {status})"),
            "check --api-url: hosted Laudspeaker is https://app.laudspeaker.com/api; \
             self-hosted servers usually have no /api suffix",
        ),
        Fatal::NotTheApi => (
            format!("the API URL answered HTTP {status} with something that is not JSON"),
            "check --api-url: it seems to reach a web page, not the API; hosted \
             Laudspeaker's API is https://app.laudspeaker.com/api",
        ),
        Fatal::Redirected => (
            format!("the API URL answered with a redirect (HTTP {status}, {message})"),
            "pass the address it redirects to with --api-url",
        ),
        Fatal::Untrusted => (
            format!("the server's TLS certificate is not trusted ({message})"),
            "for a server behind a private certificate authority, pass that authority's \
             certificate with --ca-cert FILE",
        ),
    };
    Stop::Fatal {
        message,
        hint: hint.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, message: &str) -> Answer {
        Answer::Reply(Reply {
            status,
            message: message.to_owned(),
            retry_after: None,
            not_json: false,
            id: None,
        })
    }

    #[test]
    fn a_success_that_is_not_json_stops_first_and_fails_the_row_later() {
        let page = Answer::Reply(Reply {
            status: 200,
            message: String::new(),
            retry_after: None,
            not_json: true,
            id: None,
        });
        assert_eq!(
            decide(&page, 1, 3, false),
            Decision::Fatal(Fatal::NotTheApi)
        );
        assert_eq!(decide(&page, 1, 3, true), Decision::Reject(Reject::NotJson));
    }

    fn first(answer: &Answer) -> Decision {
        decide(answer, 1, 3, false)
    }

    #[test]
    fn success_statuses_are_delivered() {
        for status in [200, 201, 204, 299] {
            assert_eq!(first(&reply(status, "")), Decision::Delivered, "{status}");
        }
    }

    #[test]
    fn transient_failures_are_retried_with_their_cause() {
        assert_eq!(
            first(&reply(429, "")),
            Decision::Retry(RetryCause::Throttled)
        );
        for status in [500, 502, 503, 504, 599] {
            let decision = first(&reply(status, "x"));
            assert_eq!(
                decision,
                Decision::Retry(RetryCause::ServerError),
                "{status}"
            );
        }
        assert_eq!(
            first(&Answer::TimedOut),
            Decision::Retry(RetryCause::Timeout)
        );
        let refused = Answer::Unreachable("refused".into());
        assert_eq!(first(&refused), Decision::Retry(RetryCause::Connection));
    }

    #[test]
    fn retries_stop_when_the_budget_is_spent() {
        let answer = reply(500, "Internal server error");
        assert_eq!(
            decide(&answer, 3, 3, false),
            Decision::Retry(RetryCause::ServerError)
        );
        assert_eq!(
            decide(&answer, 4, 3, false),
            Decision::GiveUp(RetryCause::ServerError)
        );
        assert_eq!(
            decide(&Answer::TimedOut, 1, 0, false),
            Decision::GiveUp(RetryCause::Timeout)
        );
    }

    #[test]
    fn final_answers_ignore_the_budget() {
        assert_eq!(decide(&reply(200, ""), 9, 3, false), Decision::Delivered);
        assert_eq!(
            decide(&reply(422, ""), 9, 3, false),
            Decision::Reject(Reject::ClientError)
        );
    }

    #[test]
    fn refused_key_stops_the_run() {
        assert_eq!(
            first(&reply(401, "Unauthorized")),
            Decision::Fatal(Fatal::KeyRefused)
        );
        assert_eq!(
            first(&reply(403, "Forbidden")),
            Decision::Fatal(Fatal::KeyRefused)
        );
    }

    #[test]
    fn missing_primary_key_setting_stops_the_run() {
        for message in [
            "Primary key has not been set",
            "PRIMARY KEY NOT SET for workspace",
        ] {
            let decision = first(&reply(400, message));
            assert_eq!(decision, Decision::Fatal(Fatal::NoPrimaryKey), "{message}");
        }
    }

    #[test]
    fn other_400_is_a_record_failure() {
        for message in ["primary_key must be a string", "Primary key is set", ""] {
            let decision = first(&reply(400, message));
            assert_eq!(decision, Decision::Reject(Reject::ClientError), "{message}");
        }
    }

    #[test]
    fn too_large_and_other_client_errors_are_not_retried() {
        assert_eq!(first(&reply(413, "")), Decision::Reject(Reject::TooLarge));
        for status in [402, 409, 410, 415, 422, 499] {
            let decision = first(&reply(status, ""));
            assert_eq!(decision, Decision::Reject(Reject::ClientError), "{status}");
        }
    }

    #[test]
    fn missing_endpoint_and_redirects_stop_the_run() {
        assert_eq!(first(&reply(404, "")), Decision::Fatal(Fatal::NoEndpoint));
        assert_eq!(first(&reply(405, "")), Decision::Fatal(Fatal::NoEndpoint));
        assert_eq!(
            decide(&reply(404, ""), 1, 3, true),
            Decision::Reject(Reject::ClientError),
            "after a success, a 404 is about the record"
        );
        for status in [301, 302, 307, 308] {
            assert_eq!(
                first(&reply(status, "")),
                Decision::Fatal(Fatal::Redirected)
            );
        }
    }

    #[test]
    fn statuses_outside_http_ranges_are_record_failures() {
        for status in [0, 101, 600, 999] {
            let decision = first(&reply(status, ""));
            assert_eq!(decision, Decision::Reject(Reject::Unexpected), "{status}");
        }
    }

    #[test]
    fn failure_reason_names_status_attempts_and_message() {
        let answer = reply(500, "Internal server error");
        let failure = failure(&answer, 4, Duration::from_secs(2));
        assert_eq!(
            failure.reason,
            "HTTP 500 after 4 attempts: Internal server error"
        );
        assert_eq!((failure.status, failure.attempts), (Some(500), 4));
    }

    #[test]
    fn failure_reason_for_a_single_attempt_without_message() {
        let failure = failure(&reply(422, ""), 1, Duration::from_secs(2));
        assert_eq!(failure.reason, "HTTP 422 after 1 attempt");
    }

    #[test]
    fn failure_reason_for_a_body_too_large() {
        let failure = failure(&reply(413, "request entity too large"), 1, Duration::ZERO);
        let expected =
            "HTTP 413 (request body too large) after 1 attempt: request entity too large";
        assert_eq!(failure.reason, expected);
    }

    #[test]
    fn failure_reason_for_timeouts_and_connection_errors() {
        let timed_out = failure(&Answer::TimedOut, 4, Duration::from_secs(2));
        assert_eq!(timed_out.reason, "timed out after 2s, 4 attempts");
        assert_eq!(timed_out.status, None);
        let refused = Answer::Unreachable("tcp connect error: Connection refused".into());
        let refused = failure(&refused, 2, Duration::from_secs(2));
        assert_eq!(
            refused.reason,
            "connection failed: tcp connect error: Connection refused, 2 attempts"
        );
    }

    #[test]
    fn stop_for_a_refused_key_names_status_and_where_to_look() {
        let Stop::Fatal { message, hint } = stop(Fatal::KeyRefused, &reply(401, "Unauthorized"))
        else {
            panic!("fatal expected");
        };
        assert_eq!(message, "the API key was refused (HTTP 401)");
        assert!(hint.contains("LAUDSPEAKER_API_KEY / --api-key"), "{hint}");
    }

    #[test]
    fn stop_for_missing_primary_key_points_to_the_ui() {
        let answer = reply(400, "Primary key has not been set");
        let Stop::Fatal { message, hint } = stop(Fatal::NoPrimaryKey, &answer) else {
            panic!("fatal expected");
        };
        let expected = "the workspace has no primary key attribute set \
                        (HTTP 400: Primary key has not been set)";
        assert_eq!(message, expected);
        assert!(
            hint.contains("primary key attribute in the Laudspeaker UI"),
            "{hint}"
        );
    }
}
