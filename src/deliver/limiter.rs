//! The run-wide request rate: one governor limiter shared by every worker,
//! consulted before every attempt, retries included.

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

/// A shared request-rate limit; `None` in the settings means unlimited.
#[derive(Debug)]
pub struct Limiter(Option<DefaultDirectRateLimiter>);

impl Limiter {
    pub fn new(quota: Option<Quota>) -> Self {
        Limiter(quota.map(RateLimiter::direct))
    }

    /// Waits for a permit to send one request.
    pub async fn ready(&self) {
        if let Some(limiter) = &self.0 {
            limiter.until_ready().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::num::NonZeroU32;

    #[tokio::test]
    async fn unlimited_limiter_never_waits() {
        let limiter = Limiter::new(None);
        for _ in 0..10_000 {
            limiter.ready().await;
        }
    }

    #[tokio::test]
    async fn burst_is_granted_without_waiting() {
        let burst = NonZeroU32::new(5).expect("5 is not zero");
        let quota = Quota::per_hour(NonZeroU32::MIN).allow_burst(burst);
        let limiter = Limiter::new(Some(quota));
        // With one permit an hour, a sixth request would hang this test.
        for _ in 0..5 {
            limiter.ready().await;
        }
        let Some(inner) = &limiter.0 else {
            panic!("limiter expected")
        };
        assert!(inner.check().is_err());
    }
}
