//! The one place that reads the real clock and the random source.
//!
//! `clippy.toml` bans these calls everywhere else, so every other piece of code takes a
//! [`Clock`] or an [`IdSource`] and stays repeatable under test.

use fangkong_domain::clock::{Clock, IdSource};
use time::OffsetDateTime;
use uuid::Uuid;

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    #[allow(clippy::disallowed_methods)]
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// UUIDv7 ids from the wall clock and the operating system's random source.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemIds;

impl IdSource for SystemIds {
    #[allow(clippy::disallowed_methods)]
    fn new_id(&self) -> Uuid {
        Uuid::now_v7()
    }
}

/// Measures elapsed time on the monotonic clock (latency metrics, benchmarks).
#[derive(Debug, Clone, Copy)]
pub struct Stopwatch(std::time::Instant);

impl Stopwatch {
    #[allow(clippy::disallowed_methods)]
    pub fn start() -> Stopwatch {
        Stopwatch(std::time::Instant::now())
    }

    pub fn seconds(&self) -> f64 {
        self.0.elapsed().as_secs_f64()
    }
}

/// Bytes from the operating system's random source (session ids, tokens, keys, nonces).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    let mut buf = [0u8; N];
    rand::fill(&mut buf[..]);
    buf
}
