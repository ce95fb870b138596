//! The clock and the id source, as parameters.
//!
//! Reading the wall clock or the random source directly is banned by `clippy.toml`
//! everywhere except `fangkong_store::system`, which provides the real implementations.
//! Tests use [`FixedClock`] and [`SequentialIds`] so their results repeat.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use time::{Duration, OffsetDateTime, Time, UtcOffset};
use uuid::Uuid;

/// Tells the current time.
pub trait Clock: Send + Sync + 'static {
    fn now(&self) -> OffsetDateTime;
}

/// Makes new, globally unique ids (UUIDv7: time-ordered).
pub trait IdSource: Send + Sync + 'static {
    fn new_id(&self) -> Uuid;
}

/// A clock that only moves when told to.
#[derive(Debug)]
pub struct FixedClock(Mutex<OffsetDateTime>);

impl FixedClock {
    pub fn new(at: OffsetDateTime) -> Self {
        Self(Mutex::new(at))
    }

    pub fn advance(&self, by: Duration) {
        let mut now = self.0.lock().unwrap_or_else(|e| e.into_inner());
        *now += by;
    }
}

impl Clock for FixedClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// UUIDv7 ids from a fixed millisecond and a counter: repeatable, still ordered.
#[derive(Debug)]
pub struct SequentialIds {
    unix_millis: u64,
    counter: AtomicU64,
}

impl SequentialIds {
    pub fn new(unix_millis: u64) -> Self {
        Self {
            unix_millis,
            counter: AtomicU64::new(0),
        }
    }
}

impl IdSource for SequentialIds {
    fn new_id(&self) -> Uuid {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let mut tail = [0u8; 10];
        tail[2..].copy_from_slice(&n.to_be_bytes());
        uuid::Builder::from_unix_timestamp_millis(self.unix_millis, &tail).into_uuid()
    }
}

/// Beijing time (Asia/Shanghai has kept UTC+8 without daylight saving since 1991).
pub const BEIJING: UtcOffset = time::macros::offset!(+8);

/// The time in Beijing, for display and for the working day.
pub fn beijing(at: OffsetDateTime) -> OffsetDateTime {
    at.to_offset(BEIJING)
}

/// Midnight at the start of the Beijing day that contains `at`.
pub fn beijing_day_start(at: OffsetDateTime) -> OffsetDateTime {
    beijing(at).replace_time(Time::MIDNIGHT)
}

/// Unix milliseconds of a time, the form every store keeps times in.
pub fn unix_millis(at: OffsetDateTime) -> i64 {
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// The time of a Unix millisecond count (out-of-range values clamp to the epoch).
pub fn from_unix_millis(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn fixed_clock_moves_only_when_advanced() {
        let clock = FixedClock::new(datetime!(2020-01-29 08:00 UTC));
        assert_eq!(clock.now(), datetime!(2020-01-29 08:00 UTC));
        clock.advance(Duration::minutes(5));
        assert_eq!(clock.now(), datetime!(2020-01-29 08:05 UTC));
    }

    #[test]
    fn sequential_ids_are_v7_distinct_and_ordered() {
        let ids = SequentialIds::new(1_580_256_000_000);
        let a = ids.new_id();
        let b = ids.new_id();
        assert_eq!(a.get_version_num(), 7);
        assert_ne!(a, b);
        assert!(a < b);
    }

    #[test]
    fn the_beijing_day_starts_at_local_midnight() {
        // 17:30 UTC on the 28th is already 01:30 on the 29th in Beijing.
        let at = datetime!(2020-01-28 17:30 UTC);
        assert_eq!(beijing_day_start(at), datetime!(2020-01-29 00:00 +8));
        assert_eq!(beijing_day_start(at), datetime!(2020-01-28 16:00 UTC));
    }

    #[test]
    fn millis_round_trip() {
        let at = datetime!(2020-01-29 08:00:00.123 UTC);
        assert_eq!(from_unix_millis(unix_millis(at)), at);
        assert_eq!(unix_millis(OffsetDateTime::UNIX_EPOCH), 0);
    }
}
