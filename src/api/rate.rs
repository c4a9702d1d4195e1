//! Per-key rate limits: a token bucket per key name holding up to twice the key's rate, filled
//! at the rate. Each key has its own rate, which is why this is not a keyed limiter with one
//! quota for all.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

/// The buckets of every key seen.
#[derive(Debug, Default)]
pub struct RateLimiter {
    buckets: Mutex<HashMap<String, Bucket>>,
}

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

impl RateLimiter {
    /// Takes a token of `key`'s bucket at `now`; `false` when it is empty.
    pub fn allow(&self, key: &str, rate_per_second: u32, now: Instant) -> bool {
        let rate = f64::from(rate_per_second);
        let capacity = 2.0 * rate;
        let mut buckets = self.buckets.lock().unwrap_or_else(|e| e.into_inner());
        let bucket = buckets.entry(key.to_string()).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * rate).min(capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_key_gets_a_burst_of_twice_its_rate_then_its_rate() {
        let limiter = RateLimiter::default();
        let t0 = Instant::now();
        let allowed = (0..30).filter(|_| limiter.allow("k", 10, t0)).count();
        assert_eq!(allowed, 20);
        assert!(!limiter.allow("k", 10, t0));
        // a tenth of a second later one more token has come in
        assert!(limiter.allow("k", 10, t0 + Duration::from_millis(100)));
        assert!(!limiter.allow("k", 10, t0 + Duration::from_millis(100)));
        // other keys have buckets of their own
        assert!(limiter.allow("other", 10, t0));
    }
}
