//! Budget periods in UTC: a day, a week from Monday, a calendar month, or for ever.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::policy::Reset;

/// Seconds since the Unix epoch, now.
pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
}

/// (year, month, day) of a day counted from 1970-01-01 (Howard Hinnant's `civil_from_days`).
pub fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `YYYY-MM-DD` of a day counted from 1970-01-01.
pub fn day_string(days: i64) -> String {
    let (y, m, d) = civil(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// The budget period containing `now` (Unix seconds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Period {
    /// Names the period in counter keys: `d2026-12-02`, `w2026-11-30` (its Monday),
    /// `m2026-12`, `all`.
    pub id: String,
    /// The first day of the period (`YYYY-MM-DD`; `None`: for ever).
    pub first_day: Option<String>,
    /// How long a counter of the period is worth keeping.
    pub ttl: Duration,
}

impl Period {
    pub fn containing(reset: Option<Reset>, now: i64) -> Period {
        let days = now.div_euclid(86_400);
        const DAY: u64 = 86_400;
        match reset {
            Some(Reset::Daily) => {
                let d = day_string(days);
                Period {
                    id: format!("d{d}"),
                    first_day: Some(d),
                    ttl: Duration::from_secs(2 * DAY),
                }
            }
            Some(Reset::Weekly) => {
                // 1970-01-01 was a Thursday: Monday is 0.
                let monday = days - (days + 3).rem_euclid(7);
                let d = day_string(monday);
                Period {
                    id: format!("w{d}"),
                    first_day: Some(d),
                    ttl: Duration::from_secs(8 * DAY),
                }
            }
            Some(Reset::Monthly) => {
                let (y, m, _) = civil(days);
                Period {
                    id: format!("m{y:04}-{m:02}"),
                    first_day: Some(format!("{y:04}-{m:02}-01")),
                    ttl: Duration::from_secs(32 * DAY),
                }
            }
            None => Period {
                id: "all".into(),
                first_day: None,
                ttl: Duration::from_secs(3650 * DAY),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_are_right_across_leap_years() {
        assert_eq!(civil(0), (1970, 1, 1));
        assert_eq!(day_string(11_016), "2000-02-29");
        assert_eq!(day_string(20_789), "2026-12-02");
    }

    #[test]
    fn periods_start_on_their_first_day() {
        let now = 20_789 * 86_400 + 3_600; // 2026-12-02 01:00 UTC, a Wednesday
        assert_eq!(
            Period::containing(Some(Reset::Daily), now).id,
            "d2026-12-02"
        );
        assert_eq!(
            Period::containing(Some(Reset::Weekly), now).id,
            "w2026-11-30"
        );
        let m = Period::containing(Some(Reset::Monthly), now);
        assert_eq!(
            (m.id.as_str(), m.first_day.as_deref()),
            ("m2026-12", Some("2026-12-01"))
        );
        assert_eq!(Period::containing(None, now).id, "all");
    }
}
