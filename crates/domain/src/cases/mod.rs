//! Suspected cases (二(四)): the ledger's rules, escalation of the immediate report,
//! webhook retries, exposure overlap, and the EARS fever-rate methods ([`ears`]).

pub mod ears;

use crate::FieldError;
use crate::error::TextFault;
use crate::screening::{Answers, Symptom, Temperature, named_enum};
use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};

named_enum! {
    /// Where a case record was opened.
    Source {
        /// A re-check in the buffer zone ended `suspected`.
        Buffer = "buffer",
        /// A staff member's shift check.
        StaffCheck = "staff_check",
        /// By hand: a staff member reporting symptoms, or a call.
        Manual = "manual",
    }
}

named_enum! {
    /// What was done with the person.
    Action {
        /// Escorted to a fever clinic (发热门诊).
        FeverClinic = "fever_clinic",
        SentHome = "sent_home",
        Isolated = "isolated",
        /// Handed to the health authority (卫健部门).
        HandedToHealth = "handed_to_health",
    }
}

named_enum! {
    /// How a case ended.
    CaseOutcome {
        Excluded = "excluded",
        Confirmed = "confirmed",
        Unknown = "unknown",
    }
}

named_enum! {
    /// How an upward report reached the district command office.
    Channel {
        Phone = "phone",
        Document = "document",
        Wechat = "wechat",
        /// Through this system, to the `upper` account.
        System = "system",
        Other = "other",
    }
}

named_enum! {
    /// A case record's status: open until its outcome is recorded.
    Status {
        Open = "open",
        Closed = "closed",
    }
}

/// The longest free text of a case record (notes, report content).
pub const MAX_TEXT: usize = 1000;

/// Trims free text and refuses control characters (line breaks aside) and overlong text.
pub fn text(raw: &str, field: &'static str, required: bool) -> Result<String, FieldError> {
    crate::error::free_text(raw, MAX_TEXT, required).map_err(|fault| match fault {
        TextFault::Required => FieldError::new(field, "cases.text.required"),
        TextFault::TooLong => FieldError::new(field, "cases.text.too_long"),
        TextFault::Invalid => FieldError::new(field, "cases.text.invalid"),
    })
}

/// What a hand-opened case record must hold: at least one symptom or one temperature,
/// an onset no later than today, and trips within the 14 days before onset.
pub fn check_new_case(
    symptoms: &[Symptom],
    readings: &[Temperature],
    onset: Option<Date>,
    answers: Answers,
    today: Date,
) -> Result<Answers, FieldError> {
    if symptoms.is_empty() && readings.is_empty() {
        return Err(FieldError::new("symptoms", "cases.evidence.required"));
    }
    if readings.len() > 20 {
        return Err(FieldError::new(
            "temperatures",
            "cases.temperatures.too_many",
        ));
    }
    let reference = match onset {
        Some(d) if d > today => return Err(FieldError::new("onset", "cases.onset.future")),
        Some(d) if d < today - Duration::days(60) => {
            return Err(FieldError::new("onset", "cases.onset.too_old"));
        }
        Some(d) => d,
        None => today,
    };
    answers.validate_before(reference, today)
}

/// An outcome's date may not be in the future nor before the case was opened.
pub fn check_outcome_date(on: Date, opened: Date, today: Date) -> Result<Date, FieldError> {
    if on > today {
        Err(FieldError::new("date", "cases.outcome.future"))
    } else if on < opened {
        Err(FieldError::new("date", "cases.outcome.before_opened"))
    } else {
        Ok(on)
    }
}

/// How far an unacknowledged alert has climbed (二(四)2: report at once to the leadership
/// group, which reports upward).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    /// Raised: every leader's screen and the site's robots.
    Raised,
    /// One deadline passed: to the group leader (组长).
    GroupHead,
    /// Two deadlines passed: the whole leadership group, everyone mentioned.
    WholeGroup,
    /// Three deadlines passed: flagged for the upward report to the district.
    Upward,
}

impl Level {
    pub const ALL: [Level; 4] = [
        Level::Raised,
        Level::GroupHead,
        Level::WholeGroup,
        Level::Upward,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Level::Raised => "raised",
            Level::GroupHead => "group_head",
            Level::WholeGroup => "whole_group",
            Level::Upward => "upward",
        }
    }

    pub const fn number(self) -> u8 {
        match self {
            Level::Raised => 0,
            Level::GroupHead => 1,
            Level::WholeGroup => 2,
            Level::Upward => 3,
        }
    }

    pub fn from_number(n: i64) -> Option<Level> {
        Level::ALL.into_iter().find(|l| i64::from(l.number()) == n)
    }

    /// Whether robot messages at this level mention everyone (@all).
    pub const fn mentions_all(self) -> bool {
        matches!(self, Level::WholeGroup | Level::Upward)
    }
}

/// The level an alert raised at `raised` should have reached at `now` when nobody has
/// acknowledged it: one step per `deadline` passed, up to [`Level::Upward`].
pub fn level_due(raised: OffsetDateTime, now: OffsetDateTime, deadline: Duration) -> Level {
    if deadline <= Duration::ZERO || now < raised {
        return Level::Raised;
    }
    let passed = (now - raised).whole_seconds() / deadline.whole_seconds().max(1);
    Level::from_number(passed.min(3)).unwrap_or(Level::Upward)
}

/// The next escalation an unacknowledged alert needs, if one is due.
pub fn escalation(
    current: Level,
    raised: OffsetDateTime,
    now: OffsetDateTime,
    deadline: Duration,
) -> Option<Level> {
    let due = level_due(raised, now, deadline);
    (due > current).then_some(due)
}

/// Attempts a webhook delivery gets before it is marked failed.
pub const MAX_ATTEMPTS: u32 = 6;

/// When to try a failed webhook delivery again, after `attempts` tries: 30 s, doubling to
/// 8 min; `None` once [`MAX_ATTEMPTS`] are spent (the delivery is marked failed).
pub fn retry_after(attempts: u32) -> Option<Duration> {
    (1..MAX_ATTEMPTS)
        .contains(&attempts)
        .then(|| Duration::seconds(30 * (1_i64 << (attempts - 1))))
}

/// A span of time someone was in the hall.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stay {
    pub from: OffsetDateTime,
    pub until: OffsetDateTime,
}

impl Stay {
    /// A visitor's assumed stay from their door record: the plan records no exits per
    /// person, so each visit is taken to last `length`.
    pub fn visit(at: OffsetDateTime, length: Duration) -> Stay {
        Stay {
            from: at,
            until: at + length,
        }
    }

    /// The shared part of two stays, if they meet at all.
    pub fn overlap(self, other: Stay) -> Option<Stay> {
        let from = self.from.max(other.from);
        let until = self.until.min(other.until);
        (from < until).then_some(Stay { from, until })
    }

    pub fn minutes(self) -> i64 {
        (self.until - self.from).whole_minutes()
    }
}

/// A staff member's time on duty on one day: from the pre-shift check to the post-shift
/// check, or to `end_of_day` (closing time, or now) when the post-shift check is missing.
pub fn duty(pre: OffsetDateTime, post: Option<OffsetDateTime>, end_of_day: OffsetDateTime) -> Stay {
    let until = post.filter(|p| *p > pre).unwrap_or(end_of_day.max(pre));
    Stay { from: pre, until }
}

/// EARS over the days a hall was open. A day with nobody screened (closed, or before the
/// site recorded anything) gets no statistic and is left out of every baseline, so closed
/// weekends and a new site's empty past do not read as days without fever.
pub fn ears_open_days(
    screened: &[u32],
    abnormal: &[u32],
    p: &ears::EarsParams,
) -> Vec<Option<ears::EarsDay>> {
    let open: Vec<usize> = (0..screened.len().min(abnormal.len()))
        .filter(|i| screened[*i] > 0)
        .collect();
    let counts: Vec<u32> = open.iter().map(|i| abnormal[*i]).collect();
    let mut out = vec![None; screened.len()];
    for (i, day) in open.into_iter().zip(ears::ears(&counts, p)) {
        out[i] = Some(day);
    }
    out
}

/// Whole minutes from `from` to `to`, if `to` happened.
pub fn minutes_between(from: OffsetDateTime, to: Option<OffsetDateTime>) -> Option<i64> {
    to.map(|t| (t - from).whole_minutes().max(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::screening::Trip;
    use time::macros::{date, datetime};

    fn t(tenths: u16) -> Temperature {
        Temperature::from_tenths(tenths).unwrap()
    }

    #[test]
    fn a_case_needs_a_symptom_or_a_reading() {
        let today = date!(2020 - 01 - 29);
        let none = check_new_case(&[], &[], None, Answers::default(), today);
        assert_eq!(none.unwrap_err().code, "cases.evidence.required");
        assert!(check_new_case(&[Symptom::Cough], &[], None, Answers::default(), today).is_ok());
        assert!(check_new_case(&[], &[t(381)], None, Answers::default(), today).is_ok());
    }

    #[test]
    fn onset_and_travel_dates_are_checked_against_onset_and_today() {
        let today = date!(2020 - 01 - 29);
        let future = check_new_case(
            &[Symptom::Fever],
            &[],
            Some(date!(2020 - 01 - 30)),
            Answers::default(),
            today,
        );
        assert_eq!(future.unwrap_err().code, "cases.onset.future");
        let trip = |from, to| Answers {
            travel: vec![Trip {
                place: "武汉".into(),
                from,
                to,
            }],
            ..Answers::default()
        };
        let onset = Some(date!(2020 - 01 - 25));
        // 14 days before an onset of the 25th is the 11th.
        let ok = check_new_case(
            &[Symptom::Fever],
            &[],
            onset,
            trip(date!(2020 - 01 - 11), date!(2020 - 01 - 20)),
            today,
        );
        assert!(ok.is_ok());
        let old = check_new_case(
            &[Symptom::Fever],
            &[],
            onset,
            trip(date!(2020 - 01 - 10), date!(2020 - 01 - 20)),
            today,
        );
        assert_eq!(old.unwrap_err().code, "screening.travel.too_old");
        let ahead = check_new_case(
            &[Symptom::Fever],
            &[],
            onset,
            trip(date!(2020 - 01 - 20), date!(2020 - 01 - 30)),
            today,
        );
        assert_eq!(ahead.unwrap_err().code, "screening.travel.future");
    }

    #[test]
    fn outcome_dates_fall_between_opening_and_today() {
        let (opened, today) = (date!(2020 - 01 - 27), date!(2020 - 01 - 29));
        assert!(check_outcome_date(date!(2020 - 01 - 28), opened, today).is_ok());
        assert_eq!(
            check_outcome_date(date!(2020 - 01 - 30), opened, today)
                .unwrap_err()
                .code,
            "cases.outcome.future"
        );
        assert_eq!(
            check_outcome_date(date!(2020 - 01 - 26), opened, today)
                .unwrap_err()
                .code,
            "cases.outcome.before_opened"
        );
    }

    #[test]
    fn free_text_is_trimmed_and_bounded() {
        assert_eq!(text("  送发热门诊 ", "note", true).unwrap(), "送发热门诊");
        assert_eq!(
            text("  ", "note", true).unwrap_err().code,
            "cases.text.required"
        );
        assert_eq!(text("", "note", false).unwrap(), "");
        assert_eq!(
            text(&"字".repeat(MAX_TEXT + 1), "note", false)
                .unwrap_err()
                .code,
            "cases.text.too_long"
        );
        assert_eq!(
            text("a\u{0}b", "note", false).unwrap_err().code,
            "cases.text.invalid"
        );
        assert!(text("第一行\n第二行", "note", false).is_ok());
    }

    #[test]
    fn an_unacknowledged_alert_climbs_one_level_per_deadline() {
        let raised = datetime!(2020-01-29 09:00 UTC);
        let d = Duration::minutes(15);
        assert_eq!(level_due(raised, raised, d), Level::Raised);
        assert_eq!(
            level_due(raised, raised + Duration::minutes(14), d),
            Level::Raised
        );
        assert_eq!(level_due(raised, raised + d, d), Level::GroupHead);
        assert_eq!(
            level_due(raised, raised + Duration::minutes(30), d),
            Level::WholeGroup
        );
        assert_eq!(
            level_due(raised, raised + Duration::minutes(45), d),
            Level::Upward
        );
        assert_eq!(
            level_due(raised, raised + Duration::hours(9), d),
            Level::Upward
        );
        // A clock behind the alert never escalates.
        assert_eq!(
            level_due(raised, raised - Duration::minutes(40), d),
            Level::Raised
        );
        assert_eq!(
            escalation(Level::Raised, raised, raised + d, d),
            Some(Level::GroupHead)
        );
        assert_eq!(escalation(Level::GroupHead, raised, raised + d, d), None);
        // A late tick skips straight to the level due.
        assert_eq!(
            escalation(Level::Raised, raised, raised + Duration::hours(1), d),
            Some(Level::Upward)
        );
        assert_eq!(
            escalation(Level::Upward, raised, raised + Duration::hours(2), d),
            None
        );
    }

    #[test]
    fn levels_round_trip_and_mention_everyone_from_the_whole_group_up() {
        for l in Level::ALL {
            assert_eq!(Level::from_number(i64::from(l.number())), Some(l));
        }
        assert_eq!(Level::from_number(4), None);
        assert!(!Level::GroupHead.mentions_all());
        assert!(Level::WholeGroup.mentions_all());
    }

    #[test]
    fn failed_deliveries_back_off_then_give_up() {
        assert_eq!(retry_after(0), None);
        assert_eq!(retry_after(1), Some(Duration::seconds(30)));
        assert_eq!(retry_after(2), Some(Duration::seconds(60)));
        assert_eq!(retry_after(5), Some(Duration::seconds(480)));
        assert_eq!(retry_after(MAX_ATTEMPTS), None);
    }

    #[test]
    fn stays_overlap_by_their_shared_part() {
        let at = datetime!(2020-01-29 09:00 UTC);
        let hour = Duration::hours(1);
        let suspect = Stay::visit(at, hour);
        let later = Stay::visit(at + Duration::minutes(40), hour);
        let shared = suspect.overlap(later).unwrap();
        assert_eq!(shared.from, at + Duration::minutes(40));
        assert_eq!(shared.minutes(), 20);
        assert_eq!(suspect.overlap(Stay::visit(at + hour, hour)), None);
        assert_eq!(
            suspect.overlap(Stay::visit(at - Duration::minutes(90), hour)),
            None
        );
        let staff = duty(at - hour, None, at + Duration::hours(8));
        assert_eq!(staff.overlap(suspect).unwrap().minutes(), 60);
        let left = duty(
            at - hour,
            Some(at + Duration::minutes(10)),
            at + Duration::hours(8),
        );
        assert_eq!(left.overlap(suspect).unwrap().minutes(), 10);
    }

    #[test]
    fn ears_runs_over_open_days_only() {
        let p = ears::EarsParams::default();
        // Open Monday to Friday: weekends have nobody screened.
        let mut screened = Vec::new();
        let mut abnormal = Vec::new();
        for week in 0..3 {
            for day in 0..7 {
                let open = day < 5;
                screened.push(if open { 50 } else { 0 });
                abnormal.push(if open { 1 + (day + week) % 2 } else { 0 });
            }
        }
        let days = ears_open_days(&screened, &abnormal, &p);
        assert_eq!(days.len(), 21);
        assert!(days[5].is_none() && days[6].is_none(), "weekends have none");
        // The open days alone, as one series, give the same statistics.
        let open: Vec<u32> = (0..21)
            .filter(|i| screened[*i] > 0)
            .map(|i| abnormal[i])
            .collect();
        let direct = ears::ears(&open, &p);
        let mapped: Vec<ears::EarsDay> = days.into_iter().flatten().collect();
        assert_eq!(mapped, direct);
        // A new site: its empty past is no baseline, so two fevers on day one raise nothing.
        let mut screened = vec![0; 29];
        screened.push(40);
        let mut abnormal = vec![0; 29];
        abnormal.push(2);
        let days = ears_open_days(&screened, &abnormal, &p);
        assert!(days[29].unwrap().alarms(&p).is_empty());
        assert_eq!(days[29].unwrap().c1, None);
    }

    #[test]
    fn response_times_are_whole_minutes() {
        let at = datetime!(2020-01-29 09:00 UTC);
        assert_eq!(
            minutes_between(at, Some(at + Duration::seconds(150))),
            Some(2)
        );
        assert_eq!(minutes_between(at, None), None);
        assert_eq!(
            minutes_between(at, Some(at - Duration::minutes(1))),
            Some(0)
        );
    }

    #[test]
    fn names_round_trip() {
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(*a));
        }
        assert_eq!(
            CaseOutcome::parse("confirmed"),
            Some(CaseOutcome::Confirmed)
        );
        assert_eq!(Channel::parse("fax"), None);
        assert_eq!(Source::parse("staff_check"), Some(Source::StaffCheck));
        assert_eq!(Status::parse("closed"), Some(Status::Closed));
    }
}
