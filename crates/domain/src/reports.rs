//! The daily screening report (三(三) 排查日报告制度): its figures, assembled from the
//! counters the writers keep; the roll-up of a subtree; the submit / acknowledge / return
//! workflow with versions; the daily deadline, timeliness and completeness.

use crate::FieldError;
use crate::screening::named_enum;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

/// The longest remark or return comment.
pub const MAX_TEXT: usize = 1000;

/// The default daily deadline, Beijing time (the plan's reports go up by the afternoon).
pub const DEFAULT_DEADLINE: Time = time::macros::time!(16:00);

/// One row of a section: a count, summed in a roll-up (or, for `max`, its largest value).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SectionRow {
    /// Stable key; its label is `reports.<section>.<key>` in each locale.
    pub key: String,
    pub n: i64,
    /// Rolled up as the largest value rather than the sum.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub max: bool,
}

/// A section a later area adds to the report (disinfection, PPE, hotline, queue …).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Section {
    /// Stable key; its title is `reports.<key>.title` in each locale.
    pub key: String,
    pub rows: Vec<SectionRow>,
}

/// The figures of one site (or, rolled up, one subtree) for one Beijing day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Figures {
    /// People screened at the door (every subject kind).
    pub screened: i64,
    pub screened_citizens: i64,
    pub screened_window_staff: i64,
    pub screened_bureau_staff: i64,
    pub screened_other: i64,
    pub admitted: i64,
    pub refused_no_mask: i64,
    /// Sent to the buffer zone with a high temperature.
    pub sent_to_buffer: i64,
    /// Asked to wait (a queue at the door).
    pub waited: i64,
    /// Screened without a mask (whatever the decision).
    pub no_mask: i64,
    /// Re-checks made in the buffer zone.
    pub rechecked: i64,
    /// People cleared by a re-check and let in.
    pub cleared: i64,
    /// Suspected-case records opened (buffer zone, staff checks, by hand).
    pub suspected: i64,
    /// Of those, still open / closed with an outcome (at the time of the report).
    pub cases_open: i64,
    pub cases_closed: i64,
    /// Staff on the site's roster, expected to check twice a day.
    pub staff_expected: i64,
    /// Staff who made their pre-shift / post-shift check.
    pub staff_pre_shift: i64,
    pub staff_post_shift: i64,
    /// Checks done (pre- plus post-shift) and still missing.
    pub staff_checks_done: i64,
    pub staff_checks_missing: i64,
    /// Most people inside at once (in a roll-up: the busiest hall's peak).
    pub occupancy_peak: i64,
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, format = DateTime))]
    pub occupancy_peak_at: Option<OffsetDateTime>,
    /// Passages counted at the door (devices and taps).
    pub door_in: i64,
    pub door_out: i64,
    /// Alerts raised to the leadership group (cases and fever-rate breakouts).
    pub alerts_raised: i64,
    pub alerts_acknowledged: i64,
    /// Minutes from raising to acknowledging: the sum (for the mean) and the longest.
    pub ack_minutes_total: i64,
    pub ack_minutes_max: i64,
    /// Sections of later areas, in registration order.
    #[serde(default)]
    pub sections: Vec<Section>,
}

impl Figures {
    /// The door counters of a day (`(metric, count)` as the writers keep them) as figures.
    pub fn from_counters<'a>(counters: impl IntoIterator<Item = (&'a str, i64)>) -> Figures {
        let mut f = Figures::default();
        for (metric, n) in counters {
            // Every re-check outcome (cleared, again, suspected) is one re-check.
            if metric.starts_with("buffer.") {
                f.rechecked += n;
            }
            let slot = match metric {
                "screened.citizen" => &mut f.screened_citizens,
                "screened.window_staff" => &mut f.screened_window_staff,
                "screened.bureau_staff" => &mut f.screened_bureau_staff,
                "screened.other" => &mut f.screened_other,
                "decision.admit" => &mut f.admitted,
                "decision.refuse_no_mask" => &mut f.refused_no_mask,
                "decision.buffer" => &mut f.sent_to_buffer,
                "decision.wait" => &mut f.waited,
                "no_mask" => &mut f.no_mask,
                "buffer.cleared" => &mut f.cleared,
                "cases.opened" => &mut f.suspected,
                "door.in" => &mut f.door_in,
                "door.out" => &mut f.door_out,
                _ => continue,
            };
            *slot += n;
        }
        f.screened = f.screened_citizens
            + f.screened_window_staff
            + f.screened_bureau_staff
            + f.screened_other;
        f
    }

    /// Sets the staff figures: `expected` on the roster, `pre`/`post` who checked.
    /// Post-shift checks are only missing once the hall has closed for the day.
    pub fn set_staff(&mut self, expected: i64, pre: i64, post: i64, closed: bool) {
        self.staff_expected = expected;
        self.staff_pre_shift = pre;
        self.staff_post_shift = post;
        self.staff_checks_done = pre + post;
        let post_missing = if closed { (expected - post).max(0) } else { 0 };
        self.staff_checks_missing = (expected - pre).max(0) + post_missing;
    }

    /// Mean minutes to acknowledge, to a tenth; none when nothing was acknowledged.
    pub fn ack_minutes_mean(&self) -> Option<f64> {
        (self.alerts_acknowledged > 0).then(|| {
            (self.ack_minutes_total as f64 / self.alerts_acknowledged as f64 * 10.0).round() / 10.0
        })
    }

    /// Adds another site's figures: counts add up; the peak is the larger one (people in
    /// two halls are never inside "at once" in one place); sections add row by row.
    pub fn absorb(&mut self, o: &Figures) {
        macro_rules! add {
            ($($f:ident),+) => { $(self.$f += o.$f;)+ };
        }
        add!(
            screened,
            screened_citizens,
            screened_window_staff,
            screened_bureau_staff,
            screened_other,
            admitted,
            refused_no_mask,
            sent_to_buffer,
            waited,
            no_mask,
            rechecked,
            cleared,
            suspected,
            cases_open,
            cases_closed,
            staff_expected,
            staff_pre_shift,
            staff_post_shift,
            staff_checks_done,
            staff_checks_missing,
            door_in,
            door_out,
            alerts_raised,
            alerts_acknowledged,
            ack_minutes_total
        );
        if o.occupancy_peak > self.occupancy_peak {
            self.occupancy_peak = o.occupancy_peak;
            self.occupancy_peak_at = o.occupancy_peak_at;
        }
        self.ack_minutes_max = self.ack_minutes_max.max(o.ack_minutes_max);
        for s in &o.sections {
            match self.sections.iter_mut().find(|x| x.key == s.key) {
                None => self.sections.push(s.clone()),
                Some(mine) => {
                    for r in &s.rows {
                        match mine.rows.iter_mut().find(|x| x.key == r.key) {
                            None => mine.rows.push(r.clone()),
                            Some(m) if r.max => m.n = m.n.max(r.n),
                            Some(m) => m.n += r.n,
                        }
                    }
                }
            }
        }
    }

    /// The figures of several sites together (each counted once).
    pub fn sum<'a>(all: impl IntoIterator<Item = &'a Figures>) -> Figures {
        let mut total = Figures::default();
        for f in all {
            total.absorb(f);
        }
        total
    }
}

/// A site's subtree summed, with how completely and timely the sites below reported.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Rollup {
    pub figures: Figures,
    pub completeness: Completeness,
}

named_enum! {
    /// Where a version of a report stands.
    Status {
        /// Sent up; the parent has not decided yet.
        Submitted = "submitted",
        /// The parent site acknowledged it.
        Acknowledged = "acknowledged",
        /// The parent site sent it back with a comment; a new version is due.
        Returned = "returned",
    }
}

named_enum! {
    /// Whether a site's report for a day came in on time.
    Timeliness {
        /// Not submitted, and the deadline has not passed.
        Due = "due",
        OnTime = "on_time",
        Late = "late",
        /// Not submitted, and the deadline has passed.
        Missing = "missing",
    }
}

/// The deadline of the report of `day`: `at` Beijing time that day.
pub fn deadline(day: Date, at: Time) -> OffsetDateTime {
    PrimitiveDateTime::new(day, at).assume_offset(crate::clock::BEIJING)
}

/// Timeliness from the first submission (a resubmission after a return does not make a
/// report late; DHIS2 counts timeliness the same way).
pub fn timeliness(
    first_submitted: Option<OffsetDateTime>,
    deadline: OffsetDateTime,
    now: OffsetDateTime,
) -> Timeliness {
    match first_submitted {
        Some(at) if at <= deadline => Timeliness::OnTime,
        Some(_) => Timeliness::Late,
        None if now > deadline => Timeliness::Missing,
        None => Timeliness::Due,
    }
}

/// Parses a deadline setting `HH:MM`.
pub fn parse_deadline(raw: &str) -> Option<Time> {
    let (h, m) = raw.trim().split_once(':')?;
    Time::from_hms(h.parse().ok()?, m.parse().ok()?, 0).ok()
}

/// A report can be made for today or an earlier day, never a day to come.
pub fn check_day(day: Date, today: Date) -> Result<(), FieldError> {
    if day > today {
        return Err(FieldError::new("date", "reports.date.future"));
    }
    Ok(())
}

/// Trims a remark or comment; refuses control characters (line breaks aside) and overlong
/// text; `required` refuses an empty one.
pub fn text(raw: &str, field: &'static str, required: bool) -> Result<String, FieldError> {
    let t = raw.trim();
    if required && t.is_empty() {
        return Err(FieldError::new(field, "reports.text.required"));
    }
    if t.chars().count() > MAX_TEXT {
        return Err(FieldError::new(field, "reports.text.too_long"));
    }
    if t.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(FieldError::new(field, "reports.text.invalid"));
    }
    Ok(t.to_owned())
}

/// The latest version of a site's report for a day, as the workflow rules see it.
#[derive(Debug, Clone, Copy)]
pub struct Latest<'a> {
    pub status: Status,
    pub figures: &'a Figures,
    pub remarks: &'a str,
    /// For a site with sites below it: the roll-up it submitted.
    pub rollup: Option<&'a Rollup>,
}

/// Why a workflow step is refused (error codes, translated at the edge).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The same figures and remarks were submitted already and stand.
    Unchanged,
    /// Acknowledge or return a report nobody submitted.
    NotSubmitted,
    /// The latest version was acknowledged or returned already.
    AlreadyDecided,
    /// A site acknowledges or returns only the reports of sites below it.
    NotAChild,
    /// A site submits only its own report (its parent acknowledges it, so must not write it).
    NotOwnSite,
    /// The version the reviewer looked at is no longer the latest.
    VersionChanged,
}

impl Refusal {
    pub const fn code(self) -> &'static str {
        match self {
            Refusal::Unchanged => "reports.unchanged",
            Refusal::NotSubmitted => "reports.not_submitted",
            Refusal::AlreadyDecided => "reports.already_decided",
            Refusal::NotAChild => "reports.not_a_child",
            Refusal::NotOwnSite => "reports.not_own_site",
            Refusal::VersionChanged => "reports.version_changed",
        }
    }
}

/// Whether a new version may be submitted: the first one always; after a return always
/// (the site answers the comment); otherwise only when the figures, the roll-up or the
/// remarks changed (a correction, or more sites below have reported), so pressing submit
/// twice makes no second version.
pub fn check_submit(
    latest: Option<Latest<'_>>,
    figures: &Figures,
    rollup: Option<&Rollup>,
    remarks: &str,
) -> Result<(), Refusal> {
    match latest {
        Some(l)
            if l.status != Status::Returned
                && l.figures == figures
                && l.rollup == rollup
                && l.remarks == remarks =>
        {
            Err(Refusal::Unchanged)
        }
        _ => Ok(()),
    }
}

/// Whether the parent may acknowledge or return the latest version `(number, status)`;
/// `seen` is the version the reviewer looked at, when known.
pub fn check_decision(latest: Option<(u32, Status)>, seen: Option<u32>) -> Result<(), Refusal> {
    match latest {
        None => Err(Refusal::NotSubmitted),
        Some((v, _)) if seen.is_some_and(|s| s != v) => Err(Refusal::VersionChanged),
        Some((_, Status::Submitted)) => Ok(()),
        Some(_) => Err(Refusal::AlreadyDecided),
    }
}

/// How complete a subtree's reporting is for a day (DHIS2's completeness and timeliness).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Completeness {
    /// Sites expected to report (the subtree below the site).
    pub expected: u32,
    /// Of them, submitted at least once.
    pub reported: u32,
    pub on_time: u32,
    pub late: u32,
    /// Past the deadline with nothing submitted.
    pub missing: u32,
}

impl Completeness {
    pub fn of(all: impl IntoIterator<Item = Timeliness>) -> Completeness {
        let mut c = Completeness::default();
        for t in all {
            c.expected += 1;
            match t {
                Timeliness::OnTime => {
                    c.reported += 1;
                    c.on_time += 1;
                }
                Timeliness::Late => {
                    c.reported += 1;
                    c.late += 1;
                }
                Timeliness::Missing => c.missing += 1,
                Timeliness::Due => {}
            }
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime, time};

    #[test]
    fn counters_become_figures_and_every_recheck_counts() {
        let f = Figures::from_counters([
            ("screened.citizen", 40),
            ("screened.window_staff", 6),
            ("screened.bureau_staff", 3),
            ("screened.other", 1),
            ("decision.admit", 45),
            ("decision.refuse_no_mask", 2),
            ("decision.buffer", 3),
            ("no_mask", 4),
            ("buffer.cleared", 2),
            ("buffer.recheck", 3),
            ("buffer.suspected", 1),
            ("cases.opened", 1),
            ("door.in", 7),
            ("staff.pre_shift", 9),
            ("something.new", 100),
        ]);
        assert_eq!(f.screened, 50);
        assert_eq!(f.screened_citizens, 40);
        assert_eq!(f.admitted, 45);
        assert_eq!(f.refused_no_mask, 2);
        assert_eq!(f.sent_to_buffer, 3);
        assert_eq!(f.no_mask, 4);
        assert_eq!(f.cleared, 2);
        assert_eq!(f.rechecked, 6);
        assert_eq!(f.suspected, 1);
        assert_eq!(f.door_in, 7);
        assert_eq!(f.door_out, 0);
    }

    #[test]
    fn post_shift_checks_are_missing_only_after_closing() {
        let mut f = Figures::default();
        f.set_staff(10, 8, 0, false);
        assert_eq!((f.staff_checks_done, f.staff_checks_missing), (8, 2));
        f.set_staff(10, 8, 7, true);
        assert_eq!((f.staff_checks_done, f.staff_checks_missing), (15, 5));
        // Checks by people no longer on the roster never make "missing" negative.
        f.set_staff(2, 3, 3, true);
        assert_eq!(f.staff_checks_missing, 0);
    }

    #[test]
    fn a_roll_up_adds_counts_and_keeps_the_busiest_halls_peak() {
        let a = Figures {
            screened: 10,
            admitted: 9,
            occupancy_peak: 12,
            occupancy_peak_at: Some(datetime!(2020-01-29 02:00 UTC)),
            alerts_acknowledged: 1,
            ack_minutes_total: 4,
            ack_minutes_max: 4,
            sections: vec![Section {
                key: "hygiene".into(),
                rows: vec![
                    SectionRow {
                        key: "rounds".into(),
                        n: 3,
                        max: false,
                    },
                    SectionRow {
                        key: "longest_gap".into(),
                        n: 90,
                        max: true,
                    },
                ],
            }],
            ..Figures::default()
        };
        let b = Figures {
            screened: 5,
            admitted: 5,
            occupancy_peak: 30,
            occupancy_peak_at: Some(datetime!(2020-01-29 03:00 UTC)),
            alerts_acknowledged: 1,
            ack_minutes_total: 10,
            ack_minutes_max: 10,
            sections: vec![Section {
                key: "hygiene".into(),
                rows: vec![
                    SectionRow {
                        key: "rounds".into(),
                        n: 2,
                        max: false,
                    },
                    SectionRow {
                        key: "longest_gap".into(),
                        n: 60,
                        max: true,
                    },
                ],
            }],
            ..Figures::default()
        };
        let t = Figures::sum([&a, &b]);
        assert_eq!((t.screened, t.admitted), (15, 14));
        assert_eq!(t.occupancy_peak, 30);
        assert_eq!(t.occupancy_peak_at, b.occupancy_peak_at);
        assert_eq!(t.ack_minutes_max, 10);
        assert_eq!(t.ack_minutes_mean(), Some(7.0));
        assert_eq!(t.sections[0].rows[0].n, 5);
        assert_eq!(t.sections[0].rows[1].n, 90);
        assert_eq!(Figures::default().ack_minutes_mean(), None);
    }

    #[test]
    fn the_deadline_is_beijing_time_on_the_day() {
        let d = deadline(date!(2020 - 01 - 29), DEFAULT_DEADLINE);
        assert_eq!(d, datetime!(2020-01-29 08:00 UTC));
        assert_eq!(parse_deadline("16:00"), Some(time!(16:00)));
        assert_eq!(parse_deadline(" 9:30 "), Some(time!(9:30)));
        assert_eq!(parse_deadline("24:00"), None);
        assert_eq!(parse_deadline("16"), None);
    }

    #[test]
    fn timeliness_follows_the_first_submission() {
        let d = datetime!(2020-01-29 08:00 UTC);
        let before = datetime!(2020-01-29 07:59 UTC);
        let after = datetime!(2020-01-29 08:01 UTC);
        assert_eq!(timeliness(None, d, before), Timeliness::Due);
        assert_eq!(timeliness(None, d, d), Timeliness::Due);
        assert_eq!(timeliness(None, d, after), Timeliness::Missing);
        assert_eq!(timeliness(Some(d), d, after), Timeliness::OnTime);
        assert_eq!(timeliness(Some(after), d, after), Timeliness::Late);
        let c = Completeness::of([
            Timeliness::OnTime,
            Timeliness::Late,
            Timeliness::Missing,
            Timeliness::Due,
        ]);
        assert_eq!(
            c,
            Completeness {
                expected: 4,
                reported: 2,
                on_time: 1,
                late: 1,
                missing: 1
            }
        );
    }

    #[test]
    fn no_report_for_a_day_to_come() {
        let today = date!(2020 - 01 - 29);
        assert!(check_day(today, today).is_ok());
        assert!(check_day(date!(2020 - 01 - 28), today).is_ok());
        assert_eq!(
            check_day(date!(2020 - 01 - 30), today).unwrap_err().code,
            "reports.date.future"
        );
    }

    #[test]
    fn submitting_twice_unchanged_is_refused_but_corrections_and_answers_to_a_return_are_not() {
        let f = Figures {
            screened: 3,
            ..Figures::default()
        };
        let g = Figures {
            screened: 4,
            ..Figures::default()
        };
        let r = Rollup {
            figures: f.clone(),
            completeness: Completeness::default(),
        };
        let more = Rollup {
            figures: g.clone(),
            completeness: Completeness::default(),
        };
        assert_eq!(check_submit(None, &f, None, ""), Ok(()));
        let submitted = Latest {
            status: Status::Submitted,
            figures: &f,
            remarks: "ok",
            rollup: None,
        };
        assert_eq!(
            check_submit(Some(submitted), &f, None, "ok"),
            Err(Refusal::Unchanged)
        );
        assert_eq!(check_submit(Some(submitted), &g, None, "ok"), Ok(()));
        assert_eq!(
            check_submit(Some(submitted), &f, None, "late record"),
            Ok(())
        );
        let acked = Latest {
            status: Status::Acknowledged,
            ..submitted
        };
        assert_eq!(
            check_submit(Some(acked), &f, None, "ok"),
            Err(Refusal::Unchanged)
        );
        let returned = Latest {
            status: Status::Returned,
            ..submitted
        };
        assert_eq!(check_submit(Some(returned), &f, None, "ok"), Ok(()));
        // A centre whose sites below reported since may send its roll-up again.
        let parent = Latest {
            rollup: Some(&r),
            ..submitted
        };
        assert_eq!(
            check_submit(Some(parent), &f, Some(&r), "ok"),
            Err(Refusal::Unchanged)
        );
        assert_eq!(check_submit(Some(parent), &f, Some(&more), "ok"), Ok(()));
    }

    #[test]
    fn only_a_submitted_report_is_acknowledged_or_returned() {
        assert_eq!(check_decision(None, None), Err(Refusal::NotSubmitted));
        assert_eq!(check_decision(Some((1, Status::Submitted)), None), Ok(()));
        assert_eq!(
            check_decision(Some((2, Status::Submitted)), Some(2)),
            Ok(())
        );
        assert_eq!(
            check_decision(Some((1, Status::Acknowledged)), None),
            Err(Refusal::AlreadyDecided)
        );
        assert_eq!(
            check_decision(Some((1, Status::Returned)), None),
            Err(Refusal::AlreadyDecided)
        );
        // The reviewer saw version 1; the site has since sent version 2.
        assert_eq!(
            check_decision(Some((2, Status::Submitted)), Some(1)),
            Err(Refusal::VersionChanged)
        );
    }

    #[test]
    fn remarks_are_trimmed_and_bounded() {
        assert_eq!(text("  无异常 ", "remarks", false).unwrap(), "无异常");
        assert_eq!(
            text(" ", "comment", true).unwrap_err().code,
            "reports.text.required"
        );
        assert_eq!(
            text(&"字".repeat(MAX_TEXT + 1), "remarks", false)
                .unwrap_err()
                .code,
            "reports.text.too_long"
        );
        assert_eq!(
            text("a\u{7}b", "remarks", false).unwrap_err().code,
            "reports.text.invalid"
        );
        assert_eq!(
            text("第一行\n第二行", "remarks", false).unwrap(),
            "第一行\n第二行"
        );
    }
}
