//! The CDC Early Aberration Reporting System methods C1, C2 and C3 (Hutwagner et al.,
//! "The Bioterrorism Preparedness and Response Early Aberration Reporting System (EARS)",
//! Emerging Infectious Diseases, 2005), applied to daily counts such as the abnormal
//! temperatures of a service hall.
//!
//! Definitions (the reference sheet), for daily counts `y_t`, oldest first:
//!
//! - The baseline is `B = 7` days; `μ` is its mean and `s` its sample standard deviation
//!   (denominator `B − 1`). A flat baseline has `s = 0`, so every statistic divides by
//!   `s' = max(s, floor)` with a configurable floor ([`EarsParams::sd_floor`], default 0.5).
//! - **C1**: baseline `t−7 … t−1`; `C1_t = (y_t − μ) / s'`. Alarm when `C1_t > c1`
//!   (default 3).
//! - **C2**: baseline `t−9 … t−3`, leaving a two-day guard band (`t−2`, `t−1`) so that a
//!   rise that started yesterday does not hide in its own baseline;
//!   `C2_t = (y_t − μ) / s'`. Alarm when `C2_t > c2` (default 3).
//! - **C3**: `C3_t = Σ_{i=0..2} max(0, C2_{t−i} − 1)`, the excesses of the last three C2
//!   values over 1. Alarm when `C3_t > c3` (default 2).
//!
//! A statistic is `None` on a day without its full history: C1 needs 7 earlier days (first
//! at index 7), C2 needs 9 (index 9) and C3 needs C2 on three consecutive days (index 11).
//! Every threshold is strict: a statistic exactly at its threshold raises no alarm.

use serde::{Deserialize, Serialize};

use crate::FieldError;

/// `B`, the number of baseline days.
const BASELINE_DAYS: usize = 7;
/// `B` as a float, for the mean and the `B − 1` denominator.
const BASELINE_DAYS_F64: f64 = 7.0;
/// Distance from day `t` back to the newest baseline day of C1 (`t−1`).
const C1_LAG: usize = 1;
/// Distance from day `t` back to the newest baseline day of C2 (`t−3`: guard band `t−2`, `t−1`).
const C2_LAG: usize = 3;
/// Number of consecutive C2 values summed by C3 (`t−2`, `t−1`, `t`).
const C3_SPAN: usize = 3;

/// Thresholds of the three methods and the standard-deviation floor (see the module
/// documentation for the definitions).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EarsParams {
    /// C1 alarms when `C1_t > c1`.
    pub c1: f64,
    /// C2 alarms when `C2_t > c2`.
    pub c2: f64,
    /// C3 alarms when `C3_t > c3`.
    pub c3: f64,
    /// The smallest standard deviation a statistic divides by: `s' = max(s, sd_floor)`.
    pub sd_floor: f64,
}

impl Default for EarsParams {
    /// The CDC defaults: C1 and C2 alarm above 3, C3 above 2; the floor is 0.5.
    fn default() -> Self {
        Self {
            c1: 3.0,
            c2: 3.0,
            c3: 2.0,
            sd_floor: 0.5,
        }
    }
}

impl EarsParams {
    /// Returns the parameters when every threshold and the floor are finite and strictly
    /// positive; otherwise `Err(FieldError::new("ears", "cases.ears.invalid"))`.
    ///
    /// [`ears`] expects validated parameters: with a floor of zero a flat baseline would
    /// divide by zero.
    pub fn validate(self) -> Result<EarsParams, FieldError> {
        let positive = |v: f64| v.is_finite() && v > 0.0;
        if [self.c1, self.c2, self.c3, self.sd_floor]
            .into_iter()
            .all(positive)
        {
            Ok(self)
        } else {
            Err(FieldError::new("ears", "cases.ears.invalid"))
        }
    }
}

/// Which EARS method raised an alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// C1: the last seven days as baseline.
    C1,
    /// C2: seven days as baseline after a two-day guard band.
    C2,
    /// C3: the sum of the last three C2 excesses over 1.
    C3,
}

impl Method {
    /// The stable lowercase name, as serialized: `"c1"`, `"c2"`, `"c3"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Method::C1 => "c1",
            Method::C2 => "c2",
            Method::C3 => "c3",
        }
    }
}

/// The three statistics of one day (`None` without the full history) and its count.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct EarsDay {
    /// The day's count `y_t`.
    pub count: u32,
    /// `C1_t`, from index 7 on.
    pub c1: Option<f64>,
    /// `C2_t`, from index 9 on.
    pub c2: Option<f64>,
    /// `C3_t`, from index 11 on.
    pub c3: Option<f64>,
}

impl EarsDay {
    /// The methods whose statistic strictly exceeds its threshold in `p`, in the order C1,
    /// C2, C3. A missing statistic raises no alarm.
    pub fn alarms(&self, p: &EarsParams) -> Vec<Method> {
        [
            (Method::C1, self.c1, p.c1),
            (Method::C2, self.c2, p.c2),
            (Method::C3, self.c3, p.c3),
        ]
        .into_iter()
        .filter(|&(_, statistic, threshold)| statistic.is_some_and(|v| v > threshold))
        .map(|(method, _, _)| method)
        .collect()
    }
}

/// Runs C1, C2 and C3 over daily counts (oldest first, one per consecutive day) and returns
/// one [`EarsDay`] per day, in the same order. `p` should have passed
/// [`EarsParams::validate`].
pub fn ears(counts: &[u32], p: &EarsParams) -> Vec<EarsDay> {
    let c2: Vec<Option<f64>> = (0..counts.len())
        .map(|t| statistic(counts, t, C2_LAG, p.sd_floor))
        .collect();
    counts
        .iter()
        .zip(&c2)
        .enumerate()
        .map(|(t, (&count, &c2_t))| EarsDay {
            count,
            c1: statistic(counts, t, C1_LAG, p.sd_floor),
            c2: c2_t,
            c3: c3_at(&c2, t),
        })
        .collect()
}

/// `(y_t − μ) / max(s, floor)` over the baseline `t−lag−6 … t−lag`, or `None` when the
/// series does not reach back that far.
fn statistic(counts: &[u32], t: usize, lag: usize, sd_floor: f64) -> Option<f64> {
    let newest = t.checked_sub(lag)?;
    let oldest = newest.checked_sub(BASELINE_DAYS - 1)?;
    let baseline = counts.get(oldest..=newest)?;
    let y = f64::from(*counts.get(t)?);
    let (mean, sd) = mean_sd(baseline);
    Some((y - mean) / sd.max(sd_floor))
}

/// Mean and sample standard deviation (denominator `B − 1`) of a `B`-day baseline.
fn mean_sd(baseline: &[u32]) -> (f64, f64) {
    debug_assert_eq!(baseline.len(), BASELINE_DAYS);
    let mean = baseline.iter().map(|&y| f64::from(y)).sum::<f64>() / BASELINE_DAYS_F64;
    let squares: f64 = baseline
        .iter()
        .map(|&y| (f64::from(y) - mean).powi(2))
        .sum();
    (mean, (squares / (BASELINE_DAYS_F64 - 1.0)).sqrt())
}

/// `Σ_{i=0..2} max(0, C2_{t−i} − 1)`, or `None` unless all three C2 values exist.
fn c3_at(c2: &[Option<f64>], t: usize) -> Option<f64> {
    let oldest = t.checked_sub(C3_SPAN - 1)?;
    c2.get(oldest..=t)?
        .iter()
        .try_fold(0.0, |sum, &c2| Some(sum + (c2? - 1.0).max(0.0)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOLERANCE: f64 = 1e-9;

    #[track_caller]
    fn assert_close(actual: Option<f64>, expected: f64) {
        let actual = actual.expect("the statistic exists");
        assert!(
            (actual - expected).abs() < TOLERANCE,
            "expected {expected}, got {actual}"
        );
    }

    fn with_floor(sd_floor: f64) -> EarsParams {
        EarsParams {
            sd_floor,
            ..EarsParams::default()
        }
    }

    #[test]
    fn c1_on_a_worked_series() {
        // Day 7 has 9; its baseline is days 0..=6: 2, 3, 1, 4, 2, 3, 5.
        //   μ  = 20 / 7 = 2.857142857…
        //   Σy² = 4 + 9 + 1 + 16 + 4 + 9 + 25 = 68
        //   Σ(y − μ)² = 68 − 20²/7 = (476 − 400) / 7 = 76/7
        //   s² = (76/7) / 6 = 38/21,  s = √(38/21) = 1.345185418…  (above the 0.5 floor)
        //   C1 = (9 − 20/7) / s = (43/7) / 1.345185418… = 4.566550498…
        let days = ears(&[2, 3, 1, 4, 2, 3, 5, 9], &EarsParams::default());
        assert_eq!(days.len(), 8);
        assert_eq!(days[7].count, 9);
        assert_close(days[7].c1, 4.566_550_498_860_887);
        assert_close(days[7].c1, (43.0 / 7.0) / (38.0_f64 / 21.0).sqrt());
        assert_eq!(days[7].c2, None);
        assert_eq!(days[7].c3, None);
        assert_eq!(days[7].alarms(&EarsParams::default()), vec![Method::C1]);
        // A C1 of 4.57 stays below a threshold of 5.
        let strict = EarsParams {
            c1: 5.0,
            ..EarsParams::default()
        };
        assert!(days[7].alarms(&strict).is_empty());
    }

    #[test]
    fn c2_skips_the_two_day_guard_band() {
        // Days 0..=6 alternate 1, 2; days 7, 8 and 9 are 8.
        let counts = [1, 2, 1, 2, 1, 2, 1, 8, 8, 8];
        let days = ears(&counts, &EarsParams::default());

        // C2 on day 9: baseline days 0..=6 = 1, 2, 1, 2, 1, 2, 1.
        //   μ = 10/7, Σy² = 16, Σ(y − μ)² = 16 − 100/7 = 12/7
        //   s² = 12/42 = 2/7, s = 0.534522483…
        //   C2 = (8 − 10/7) / s = (46/7) / 0.534522483… = 12.294017127…
        assert_close(days[9].c2, 12.294_017_127_971_52);
        // C1 on day 9: baseline days 2..=8 = 1, 2, 1, 2, 1, 8, 8 holds the rise itself.
        //   μ = 23/7, Σy² = 139, Σ(y − μ)² = 139 − 529/7 = 444/7
        //   s² = 444/42 = 74/7, s = 3.251373336…
        //   C1 = (8 − 23/7) / s = (33/7) / 3.251373336… = 1.449936758…
        assert_close(days[9].c1, 1.449_936_758_040_364_6);
        // C2 sees the rise; C1 does not (and C3 needs two more days of C2).
        assert_eq!(days[9].alarms(&EarsParams::default()), vec![Method::C2]);

        // Days t−1 and t−2 (7 and 8) are outside C2's baseline: changing them leaves C2_9
        // as it was, while C1_9 moves.
        let mut guard_changed = counts;
        guard_changed[7] = 0;
        guard_changed[8] = 100;
        let changed = ears(&guard_changed, &EarsParams::default());
        assert_eq!(changed[9].c2, days[9].c2);
        assert_ne!(changed[9].c1, days[9].c1);

        // Day t−3 (6) is the newest baseline day of C2 and day t−9 (0) the oldest.
        for baseline_day in [0, 6] {
            let mut baseline_changed = counts;
            baseline_changed[baseline_day] += 3;
            let changed = ears(&baseline_changed, &EarsParams::default());
            assert_ne!(changed[9].c2, days[9].c2, "day {baseline_day}");
        }
    }

    #[test]
    fn c3_sums_the_last_three_c2_excesses_over_one() {
        let counts = [1, 3, 1, 3, 1, 3, 1, 3, 1, 5, 4, 6, 2];
        let days = ears(&counts, &EarsParams::default());

        // Every baseline of days 9, 10 and 11 alternates 1 and 3, so Σ(y − μ)² = 48/7 and
        // s = √(8/7) = 1.069044967…
        //   C2_9:  days 0..=6 = 1,3,1,3,1,3,1, μ = 13/7, C2 = (5 − 13/7)/s = (22/7)/s = 2.939873661…
        //   C2_10: days 1..=7 = 3,1,3,1,3,1,3, μ = 15/7, C2 = (4 − 15/7)/s = (13/7)/s = 1.737198072…
        //   C2_11: days 2..=8 = 1,3,1,3,1,3,1, μ = 13/7, C2 = (6 − 13/7)/s = (29/7)/s = 3.875288007…
        assert_close(days[9].c2, 2.939_873_661_036_668);
        assert_close(days[10].c2, 1.737_198_072_430_758_5);
        assert_close(days[11].c2, 3.875_288_007_730_153_7);
        //   C3_11 = (C2_9 − 1) + (C2_10 − 1) + (C2_11 − 1) = (64/7)/s − 3 = 32/√14 − 3
        //         = 5.552359741…
        assert_close(days[11].c3, 5.552_359_741_197_581);
        assert_close(days[11].c3, 32.0 / 14.0_f64.sqrt() - 3.0);

        // C2_12: days 3..=9 = 3,1,3,1,3,1,5, μ = 17/7, Σy² = 55, Σ(y − μ)² = 96/7,
        //   s = √(16/7) = 4/√7, C2 = (2 − 17/7)/s = −3/(4√7) = −0.283473354…
        // A negative C2 contributes nothing:
        //   C3_12 = (C2_10 − 1) + (C2_11 − 1) + 0 = 6/√(8/7) − 2 = 3.612486080…
        assert_close(days[12].c2, -0.283_473_354_756_920_4);
        assert_close(days[12].c3, 3.612_486_080_160_912);

        // The same sums from the C2 values the code computed.
        for t in 11..counts.len() {
            let expected: f64 = (0..3)
                .map(|i| (days[t - i].c2.unwrap() - 1.0).max(0.0))
                .sum();
            assert_close(days[t].c3, expected);
        }
    }

    #[test]
    fn a_flat_baseline_divides_by_the_floor() {
        // Seven zeros: μ = 0, s = 0, so s' = 0.5 and C1 = 3 / 0.5 = 6.
        let mut counts = vec![0; 7];
        counts.push(3);
        let days = ears(&counts, &EarsParams::default());
        assert_close(days[7].c1, 6.0);
        assert_eq!(days[7].alarms(&EarsParams::default()), vec![Method::C1]);

        // The floor comes from the parameters: with 1.0, C1 = 3 / 1 = 3, not above 3.
        let days = ears(&counts, &with_floor(1.0));
        assert_close(days[7].c1, 3.0);
        assert!(days[7].alarms(&with_floor(1.0)).is_empty());

        // C2 uses the same floor: nine zeros then 3 gives C2 = 6.
        let mut counts = vec![0; 9];
        counts.push(3);
        let days = ears(&counts, &EarsParams::default());
        assert_close(days[9].c2, 6.0);
    }

    #[test]
    fn the_floor_also_lifts_a_small_nonzero_deviation() {
        // Baseline 1, 1, 1, 1, 1, 1, 2: μ = 8/7, Σ(y − μ)² = 10 − 64/7 = 6/7,
        // s = √(1/7) = 0.377964473… < 0.5, so s' = 0.5 and C1 = (3 − 8/7) / 0.5 = 26/7.
        let days = ears(&[1, 1, 1, 1, 1, 1, 2, 3], &EarsParams::default());
        assert_close(days[7].c1, 26.0 / 7.0);
        // With a floor below s, s itself is used: (13/7) / √(1/7) = 13/√7.
        let days = ears(&[1, 1, 1, 1, 1, 1, 2, 3], &with_floor(0.1));
        assert_close(days[7].c1, 13.0 / 7.0_f64.sqrt());
    }

    #[test]
    fn statistics_need_their_full_history() {
        assert!(ears(&[], &EarsParams::default()).is_empty());

        let short = ears(&[4, 0, 9, 1, 2, 3], &EarsParams::default());
        assert_eq!(short.len(), 6);
        assert!(
            short
                .iter()
                .all(|d| d.c1.is_none() && d.c2.is_none() && d.c3.is_none())
        );
        assert_eq!(
            short.iter().map(|d| d.count).collect::<Vec<_>>(),
            vec![4, 0, 9, 1, 2, 3]
        );

        let counts: Vec<u32> = (0..14).map(|t| t % 3).collect();
        let days = ears(&counts, &EarsParams::default());
        assert_eq!(days.len(), 14);
        let first = |pick: fn(&EarsDay) -> Option<f64>| days.iter().position(|d| pick(d).is_some());
        assert_eq!(first(|d| d.c1), Some(7));
        assert_eq!(first(|d| d.c2), Some(9));
        assert_eq!(first(|d| d.c3), Some(11));
        // Once a statistic exists, it exists on every later day.
        assert!(days[7..].iter().all(|d| d.c1.is_some()));
        assert!(days[9..].iter().all(|d| d.c2.is_some()));
        assert!(days[11..].iter().all(|d| d.c3.is_some()));
        // A day without statistics raises no alarm.
        assert!(
            days[..7]
                .iter()
                .all(|d| d.alarms(&EarsParams::default()).is_empty())
        );
    }

    #[test]
    fn thresholds_are_strict() {
        let p = EarsParams::default();
        let at = EarsDay {
            count: 0,
            c1: Some(3.0),
            c2: Some(3.0),
            c3: Some(2.0),
        };
        assert!(at.alarms(&p).is_empty());
        let above = EarsDay {
            count: 0,
            c1: Some(3.0 + 1e-12),
            c2: Some(3.0 + 1e-12),
            c3: Some(2.0 + 1e-12),
        };
        assert_eq!(above.alarms(&p), vec![Method::C1, Method::C2, Method::C3]);
        assert!(EarsDay::default().alarms(&p).is_empty());

        // From a series: nine zeros, then 1, 0, 1 (floor 0.5). The baselines are all zero,
        // so C2 = 2·y: C2_9 = 2, C2_10 = 0, C2_11 = 2, and C3_11 = 1 + 0 + 1 = 2 exactly.
        let days = ears(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1], &p);
        assert_eq!(days[11].c3, Some(2.0));
        assert!(days[11].alarms(&p).is_empty());
        let lower = EarsParams { c3: 1.999, ..p };
        assert_eq!(days[11].alarms(&lower), vec![Method::C3]);
    }

    #[test]
    fn validate_refuses_non_positive_and_non_finite_values() {
        let p = EarsParams::default();
        assert_eq!(p.validate(), Ok(p));
        let tiny = EarsParams {
            sd_floor: 1e-6,
            ..p
        };
        assert_eq!(tiny.validate(), Ok(tiny));

        let refused = Err(FieldError::new("ears", "cases.ears.invalid"));
        for bad in [0.0, -0.0, -1.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            assert_eq!(
                EarsParams { c1: bad, ..p }.validate(),
                refused,
                "c1 = {bad}"
            );
            assert_eq!(
                EarsParams { c2: bad, ..p }.validate(),
                refused,
                "c2 = {bad}"
            );
            assert_eq!(
                EarsParams { c3: bad, ..p }.validate(),
                refused,
                "c3 = {bad}"
            );
            assert_eq!(with_floor(bad).validate(), refused, "sd_floor = {bad}");
        }
    }

    #[test]
    fn a_month_at_a_service_hall_with_one_outbreak_day() {
        // Abnormal temperatures a day at a service hall: mostly 0–2, then 6 on day 20.
        let counts = [
            1, 0, 2, 1, 0, 1, 1, 0, 2, 1, // days 0–9
            0, 1, 2, 1, 0, 1, 1, 0, 2, 1, // days 10–19
            6, 1, 0, 1, 2, 1, 0, 1, 1, 0, // days 20–29
        ];
        let p = EarsParams::default();
        let days = ears(&counts, &p);
        assert_eq!(days.len(), 30);

        // Day 20, C1: baseline days 13..=19 = 1, 0, 1, 1, 0, 2, 1: μ = 6/7, Σy² = 8,
        //   Σ(y − μ)² = 8 − 36/7 = 20/7, s = √(10/21) = 0.690065559…,
        //   C1 = (36/7) / s = 7.452708040…
        // C2: baseline days 11..=17 = 1, 2, 1, 0, 1, 1, 0 has the same μ and s: same value.
        assert_close(days[20].c1, 7.452_708_040_897_425);
        assert_close(days[20].c2, 7.452_708_040_897_425);

        let alarming: Vec<(usize, Vec<Method>)> = days
            .iter()
            .enumerate()
            .map(|(t, d)| (t, d.alarms(&p)))
            .filter(|(_, alarms)| !alarms.is_empty())
            .collect();
        // All three methods on the outbreak day; C3 keeps ringing for the next two days
        // because C2_20 stays inside its three-day sum. From day 21 on the 6 sits in C1's
        // baseline and the guard band of C2, so neither alarms again.
        assert_eq!(
            alarming,
            vec![
                (20, vec![Method::C1, Method::C2, Method::C3]),
                (21, vec![Method::C3]),
                (22, vec![Method::C3]),
            ]
        );
    }

    #[test]
    fn methods_have_stable_names() {
        for (method, name) in [(Method::C1, "c1"), (Method::C2, "c2"), (Method::C3, "c3")] {
            assert_eq!(method.as_str(), name);
            assert_eq!(
                serde_json::to_string(&method).unwrap(),
                format!("\"{name}\"")
            );
            assert_eq!(
                serde_json::from_str::<Method>(&format!("\"{name}\"")).unwrap(),
                method
            );
        }
        let day = EarsDay {
            count: 3,
            c1: Some(1.5),
            c2: None,
            c3: None,
        };
        assert_eq!(
            serde_json::to_string(&day).unwrap(),
            r#"{"count":3,"c1":1.5,"c2":null,"c3":null}"#
        );
    }
}
