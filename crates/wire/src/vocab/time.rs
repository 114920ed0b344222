//! Timestamps as the decoders see them: nanoseconds since the Unix epoch, taken from the
//! packet (replay, live) or the clock (MITM). Decoders never read the wall clock themselves,
//! so replay and live capture run the same code and tests are exact.

use serde::{Serialize, Serializer};
use std::fmt;

/// A point in time, nanoseconds since 1970-01-01T00:00:00Z.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ts(pub i64);

impl Ts {
    /// The clock now (the MITM proxy's timestamps).
    pub fn now() -> Ts {
        let d = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        Ts(d.as_nanos() as i64)
    }

    /// Milliseconds from `earlier` to `self`, rounded to the microsecond (never negative).
    pub fn ms_since(self, earlier: Ts) -> f64 {
        let ns = (self.0 - earlier.0).max(0);
        (ns / 1_000) as f64 / 1_000.0
    }
}

/// Milliseconds between two optional points, `None` if either is unknown.
pub(crate) fn ms_between(from: Option<Ts>, to: Option<Ts>) -> Option<f64> {
    Some(to?.ms_since(from?))
}

impl fmt::Display for Ts {
    /// RFC 3339 UTC with microseconds, e.g. `2026-11-24T07:30:27.123456Z`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // i64 nanoseconds span years 1677..2262, all inside `time`'s range.
        let t = time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(self.0))
            .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.microsecond()
        )
    }
}

impl Serialize for Ts {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_rfc3339_with_micros() {
        assert_eq!(Ts(0).to_string(), "1970-01-01T00:00:00.000000Z");
        // 2024-02-29T23:59:59.123456789Z
        let t = Ts(1_709_251_199_123_456_789);
        assert_eq!(t.to_string(), "2024-02-29T23:59:59.123456Z");
        assert_eq!(Ts(-1).to_string(), "1969-12-31T23:59:59.999999Z");
    }

    #[test]
    fn ms_rounds_to_microseconds() {
        assert_eq!(Ts(2_500_700).ms_since(Ts(0)), 2.5);
        assert_eq!(Ts(0).ms_since(Ts(5)), 0.0);
    }
}
