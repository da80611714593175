//! How a transport behaves: its deadline, limits and retry policy.

use std::time::Duration;

/// Timeouts, limits and retry settings of a transport.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct HttpConfig {
    /// Time allowed to establish a connection (never more than what is left of `timeout`).
    pub connect_timeout: Duration,
    /// The deadline of a whole call: every attempt, the backoff between them and the body.
    pub timeout: Duration,
    /// Follow redirects to the same origin (scheme, host and port), at most 5. Off by default:
    /// a redirect is then an error naming its `Location`. A redirect to another origin is
    /// never followed.
    pub same_origin_redirects: bool,
    /// Largest response body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Keep cookies between calls (session providers). Needs this crate's `cookies` feature;
    /// without it, a client asked to keep cookies is not built (a configuration error).
    pub cookie_store: bool,
    /// How idempotent requests are retried.
    pub retry: RetryPolicy,
    /// `User-Agent` header value.
    pub user_agent: String,
}

/// Setters, for building a configuration from [`HttpConfig::default`] (the struct is
/// `#[non_exhaustive]`: a new setting is not a breaking change).
impl HttpConfig {
    /// [`HttpConfig::connect_timeout`].
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// [`HttpConfig::timeout`].
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// [`HttpConfig::same_origin_redirects`].
    #[must_use]
    pub fn same_origin_redirects(mut self, follow: bool) -> Self {
        self.same_origin_redirects = follow;
        self
    }

    /// [`HttpConfig::max_body_bytes`].
    #[must_use]
    pub fn max_body_bytes(mut self, bytes: usize) -> Self {
        self.max_body_bytes = bytes;
        self
    }

    /// [`HttpConfig::cookie_store`].
    #[must_use]
    pub fn cookie_store(mut self, keep: bool) -> Self {
        self.cookie_store = keep;
        self
    }

    /// [`HttpConfig::retry`].
    #[must_use]
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// [`HttpConfig::user_agent`].
    #[must_use]
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            connect_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(30),
            same_origin_redirects: false,
            max_body_bytes: 1024 * 1024,
            cookie_store: false,
            retry: RetryPolicy::default(),
            user_agent: concat!("paybridge/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

/// Exponential backoff with full jitter, for idempotent requests only.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub struct RetryPolicy {
    /// Attempts in all, the first included (1 = never retry).
    pub max_attempts: u32,
    /// Delay cap before the first retry; doubles each retry.
    pub base_delay: Duration,
    /// Largest delay between two attempts.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(5),
        }
    }
}

impl RetryPolicy {
    /// [`RetryPolicy::max_attempts`].
    #[must_use]
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.max_attempts = attempts;
        self
    }

    /// [`RetryPolicy::base_delay`].
    #[must_use]
    pub fn base_delay(mut self, delay: Duration) -> Self {
        self.base_delay = delay;
        self
    }

    /// [`RetryPolicy::max_delay`].
    #[must_use]
    pub fn max_delay(mut self, delay: Duration) -> Self {
        self.max_delay = delay;
        self
    }

    /// No retries at all.
    #[must_use]
    pub fn none() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// Delay before retry number `retry` (1-based): uniform in `[0, min(max, base * 2^(retry-1))]`.
    #[must_use]
    pub fn delay(&self, retry: u32) -> Duration {
        let factor = 2_u32.saturating_pow(retry.saturating_sub(1));
        let cap = self.base_delay.saturating_mul(factor).min(self.max_delay);
        let cap_ms = u64::try_from(cap.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(fastrand::u64(0..=cap_ms))
    }
}
