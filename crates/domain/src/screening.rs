//! Entrance screening (seed clauses 二(一), 二(二), 二(三), 二(五)3): the door's decision,
//! the buffer zone's re-check rule, the occupancy count, staff checks and retention.
//!
//! Temperatures are kept in tenths of a degree Celsius (`366` is 36.6 °C), the
//! resolution of every thermometer at the door, so no rule compares floating point.

use crate::FieldError;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use time::{Date, Duration, OffsetDateTime};

/// The lowest and highest readings a person can have; anything outside is a measurement
/// error (a cold forehead, a scanner pointed at a lamp), never a person's temperature.
pub const MIN_READING: u16 = 340;
pub const MAX_READING: u16 = 430;

/// A body temperature in tenths of a degree, 34.0 to 43.0 °C.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Temperature(u16);

impl Temperature {
    /// From degrees as sent by the API or a device (`36.6`); one decimal is kept.
    pub fn from_celsius(c: f64) -> Result<Temperature, FieldError> {
        if !c.is_finite() {
            return Err(FieldError::new(
                "temperature_c",
                "screening.temperature.invalid",
            ));
        }
        let tenths = (c * 10.0).round();
        if !(f64::from(MIN_READING)..=f64::from(MAX_READING)).contains(&tenths) {
            return Err(FieldError::new(
                "temperature_c",
                "screening.temperature.range",
            ));
        }
        // In range, so the conversion is exact.
        Ok(Temperature(tenths as u16))
    }

    /// From text typed on a keypad or in a form: `36.6`, `36,6` or `366` (tenths, as a
    /// keypad without a decimal point sends).
    pub fn parse(raw: &str) -> Result<Temperature, FieldError> {
        let s = raw.trim().replace(['，', ','], ".");
        if s.is_empty() {
            return Err(FieldError::new(
                "temperature_c",
                "screening.temperature.missing",
            ));
        }
        let invalid = FieldError::new("temperature_c", "screening.temperature.invalid");
        let ok = s.bytes().all(|b| b.is_ascii_digit() || b == b'.')
            && s.bytes().filter(|b| *b == b'.').count() <= 1
            && !s.starts_with('.')
            && s.len() <= 5;
        if !ok {
            return Err(invalid);
        }
        let value: f64 = s.parse().map_err(|_| invalid)?;
        if !s.contains('.') && s.len() == 3 {
            return Temperature::from_celsius(value / 10.0);
        }
        if s.split_once('.').is_some_and(|(_, f)| f.len() > 1) {
            return Err(invalid);
        }
        Temperature::from_celsius(value)
    }

    pub const fn from_tenths(tenths: u16) -> Option<Temperature> {
        if tenths >= MIN_READING && tenths <= MAX_READING {
            Some(Temperature(tenths))
        } else {
            None
        }
    }

    pub const fn tenths(self) -> u16 {
        self.0
    }

    pub fn celsius(self) -> f64 {
        f64::from(self.0) / 10.0
    }

    /// Whether the reading is at or above a site's threshold (in tenths).
    pub const fn is_abnormal(self, threshold: u16) -> bool {
        self.0 >= threshold
    }
}

impl std::fmt::Display for Temperature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.0 / 10, self.0 % 10)
    }
}

macro_rules! named_enum {
    ($(#[$m:meta])* $name:ident { $($(#[$vm:meta])* $v:ident = $s:literal),+ $(,)? }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vm])* $v),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$v),+];

            pub const fn as_str(self) -> &'static str {
                match self { $($name::$v => $s),+ }
            }

            pub fn parse(s: &str) -> Option<$name> {
                $name::ALL.iter().copied().find(|v| v.as_str() == s)
            }
        }
    };
}
pub(crate) use named_enum;

named_enum! {
    /// Who is being screened.
    SubjectKind {
        Citizen = "citizen",
        /// Staff of a resident unit at a window (窗口工作人员).
        WindowStaff = "window_staff",
        /// Staff of the bureau itself (机关工作人员).
        BureauStaff = "bureau_staff",
        Other = "other",
    }
}

impl SubjectKind {
    pub const fn is_staff(self) -> bool {
        matches!(self, SubjectKind::WindowStaff | SubjectKind::BureauStaff)
    }
}

named_enum! {
    /// What the door tells the person.
    Decision {
        /// 请进.
        Admit = "admit",
        /// 请佩戴口罩: no mask, no entry.
        RefuseNoMask = "refuse_no_mask",
        /// 缓冲区复检: temperature at or above the threshold.
        Buffer = "buffer",
        /// 请稍候: the hall is full.
        Wait = "wait",
    }
}

named_enum! {
    /// The staff check a reading is (二(五)3: measured before and after work).
    Phase {
        PreShift = "pre_shift",
        PostShift = "post_shift",
    }
}

named_enum! {
    /// Which way a person passed the door.
    Direction {
        In = "in",
        Out = "out",
    }
}

/// The door's decision, in the plan's order: a high temperature goes to the buffer zone
/// whether or not there is a mask (one is handed over there); then no mask, no entry;
/// then a full hall waits; otherwise in.
pub fn decide(
    temperature: Temperature,
    mask: bool,
    threshold: u16,
    inside: u32,
    capacity: u32,
) -> Decision {
    if temperature.is_abnormal(threshold) {
        Decision::Buffer
    } else if !mask {
        Decision::RefuseNoMask
    } else if inside >= capacity {
        Decision::Wait
    } else {
        Decision::Admit
    }
}

/// A phase is for staff only.
pub fn check_phase(kind: SubjectKind, phase: Option<Phase>) -> Result<(), FieldError> {
    match phase {
        Some(_) if !kind.is_staff() => Err(FieldError::new("phase", "screening.phase.not_staff")),
        _ => Ok(()),
    }
}

/// The occupancy after one passage: never below zero.
pub const fn occupancy_after(inside: u32, direction: Direction) -> u32 {
    match direction {
        Direction::In => inside.saturating_add(1),
        Direction::Out => inside.saturating_sub(1),
    }
}

named_enum! {
    /// Symptoms asked about in the buffer zone.
    Symptom {
        Fever = "fever",
        Cough = "cough",
        Fatigue = "fatigue",
        SoreThroat = "sore_throat",
        BreathingDifficulty = "breathing_difficulty",
        Diarrhoea = "diarrhoea",
    }
}

/// Parses a list of symptom names; unknown names and repeats are refused.
pub fn parse_symptoms<'a>(
    names: impl IntoIterator<Item = &'a str>,
) -> Result<Vec<Symptom>, FieldError> {
    let mut out = Vec::new();
    for n in names {
        let s = Symptom::parse(n.trim())
            .ok_or(FieldError::new("symptoms", "screening.symptom.unknown"))?;
        if !out.contains(&s) {
            out.push(s);
        }
    }
    Ok(out)
}

time::serde::format_description!(iso_date, Date, "[year]-[month]-[day]");

/// One stay outside the district in the last 14 days; dates as `YYYY-MM-DD`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trip {
    pub place: String,
    #[serde(with = "iso_date")]
    pub from: Date,
    #[serde(with = "iso_date")]
    pub to: Date,
}

/// The four epidemiological questions of 二(四)1.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Answers {
    /// Travel or residence outside the district in the last 14 days, with places and dates.
    #[serde(default)]
    pub travel: Vec<Trip>,
    /// Contact with people from epidemic areas.
    #[serde(default)]
    pub epidemic_area_contact: bool,
    /// Contact with mammals, poultry or wild animals.
    #[serde(default)]
    pub animal_contact: bool,
    /// Close contact with similar cases.
    #[serde(default)]
    pub case_contact: bool,
    /// Free-text details the checker noted (at most 500 characters).
    #[serde(default)]
    pub details: String,
}

/// How far back the travel question asks.
pub const TRAVEL_DAYS: i64 = 14;

impl Answers {
    /// Whether any of the four questions was answered "yes".
    pub fn any_yes(&self) -> bool {
        !self.travel.is_empty()
            || self.epidemic_area_contact
            || self.animal_contact
            || self.case_contact
    }

    /// Checks places and dates: each trip names a place, ends no later than `today`,
    /// starts no earlier than 14 days before it, and does not end before it starts.
    pub fn validate(self, today: Date) -> Result<Answers, FieldError> {
        self.validate_before(today, today)
    }

    /// As [`Answers::validate`], with the 14 days counted back from `reference` (the onset
    /// of symptoms in a case record) while no date may be after `today`.
    pub fn validate_before(mut self, reference: Date, today: Date) -> Result<Answers, FieldError> {
        let earliest = reference - Duration::days(TRAVEL_DAYS);
        for trip in &mut self.travel {
            let place = trip.place.trim();
            if place.is_empty() || place.chars().count() > 50 || place.chars().any(char::is_control)
            {
                return Err(FieldError::new("travel", "screening.travel.place"));
            }
            trip.place = place.to_owned();
            if trip.to > today || trip.from > today {
                return Err(FieldError::new("travel", "screening.travel.future"));
            }
            if trip.from < earliest || trip.to < earliest {
                return Err(FieldError::new("travel", "screening.travel.too_old"));
            }
            if trip.to < trip.from {
                return Err(FieldError::new("travel", "screening.travel.order"));
            }
        }
        if self.travel.len() > 10 {
            return Err(FieldError::new("travel", "screening.travel.too_many"));
        }
        self.details = self.details.trim().to_owned();
        if self.details.chars().count() > 500 {
            return Err(FieldError::new("details", "screening.details.too_long"));
        }
        Ok(self)
    }
}

named_enum! {
    /// The result of a re-check in the buffer zone.
    Outcome {
        /// Admitted.
        Cleared = "cleared",
        /// Another rest, then another re-check.
        Recheck = "recheck",
        /// Opens a suspected-case record.
        Suspected = "suspected",
    }
}

/// Buffer-zone settings: how long a person rests before a re-check, how many re-checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BufferRules {
    pub rest: Duration,
    pub max_rechecks: u8,
}

impl Default for BufferRules {
    fn default() -> Self {
        BufferRules {
            rest: Duration::minutes(5),
            max_rechecks: 3,
        }
    }
}

impl BufferRules {
    /// When the next re-check is due after the last measurement.
    pub fn due_at(&self, last_measured: OffsetDateTime) -> OffsetDateTime {
        last_measured + self.rest
    }

    /// The outcome of re-check number `attempt` (1-based) when the checker leaves it to
    /// the rule:
    /// * still at or above the threshold on the last allowed re-check, or any symptom
    ///   together with a "yes" to one of the four questions: `suspected`;
    /// * below the threshold with no symptom: `cleared`;
    /// * otherwise `recheck`, while re-checks remain; once none remain, `suspected`:
    ///   nobody is left waiting without a decision, and the checker may override.
    pub fn outcome(
        &self,
        attempt: u8,
        temperature: Temperature,
        threshold: u16,
        symptoms: &[Symptom],
        answers: &Answers,
    ) -> Outcome {
        let last = attempt >= self.max_rechecks;
        let abnormal = temperature.is_abnormal(threshold);
        if (abnormal && last) || (!symptoms.is_empty() && answers.any_yes()) {
            Outcome::Suspected
        } else if !abnormal && symptoms.is_empty() {
            Outcome::Cleared
        } else if last {
            Outcome::Suspected
        } else {
            Outcome::Recheck
        }
    }

    /// Whether the checker may still choose `recheck` for attempt `attempt`.
    pub fn may_recheck(&self, attempt: u8) -> bool {
        attempt < self.max_rechecks
    }
}

/// How long door records of people never suspected are kept (default 28 days).
pub const DEFAULT_RETENTION_DAYS: u16 = 28;

/// Records made before this time are purged (counts are kept).
pub fn purge_before(now: OffsetDateTime, retention_days: u16) -> OffsetDateTime {
    crate::clock::beijing_day_start(now) - Duration::days(i64::from(retention_days))
}

/// The Beijing date of a time, as the day a record counts for.
pub fn day_of(at: OffsetDateTime) -> Date {
    crate::clock::beijing(at).date()
}

/// A spreadsheet cell safe from formula injection: text that a spreadsheet would take as
/// a formula (starting with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a
/// leading apostrophe (OWASP's CSV injection advice).
pub fn csv_safe(cell: &str) -> Cow<'_, str> {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{cell}")),
        _ => Cow::Borrowed(cell),
    }
}

/// The number a citizen's self-registration shows, for the volunteer to type: four
/// digits from the registration's random part.
pub fn registration_number(random: u16) -> String {
    format!("{:04}", random % 10_000)
}

/// Parses a registration number typed by a volunteer (four digits; empty is none).
pub fn parse_registration_number(raw: &str) -> Result<Option<String>, FieldError> {
    let s = raw.trim();
    if s.is_empty() {
        Ok(None)
    } else if s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()) {
        Ok(Some(s.to_owned()))
    } else {
        Err(FieldError::new(
            "registration",
            "screening.registration.invalid",
        ))
    }
}

/// What a day's staff checks are missing for one person.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct StaffDay {
    pub pre_shift: bool,
    pub post_shift: bool,
}

impl StaffDay {
    /// The checks still missing. A post-shift check is only missing once the hall's
    /// last opening period has ended (`after_hours`).
    pub fn missing(self, after_hours: bool) -> Vec<Phase> {
        let mut out = Vec::new();
        if !self.pre_shift {
            out.push(Phase::PreShift);
        }
        if after_hours && !self.post_shift {
            out.push(Phase::PostShift);
        }
        out
    }
}

/// Whether `at` (any offset) is past the end of the last opening range of
/// `opening_hours` (`08:30-12:00,14:30-17:30`) on its Beijing day.
pub fn after_hours(opening_hours: &str, at: OffsetDateTime) -> bool {
    let local = crate::clock::beijing(at);
    let minutes = u16::from(local.hour()) * 60 + u16::from(local.minute());
    let close = opening_hours
        .split(',')
        .filter_map(|r| r.split_once('-'))
        .filter_map(|(_, end)| end.split_once(':'))
        .filter_map(|(h, m)| {
            Some(h.trim().parse::<u16>().ok()? * 60 + m.trim().parse::<u16>().ok()?)
        })
        .max()
        .unwrap_or(24 * 60);
    minutes >= close
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn t(s: &str) -> Temperature {
        Temperature::parse(s).unwrap()
    }

    #[test]
    fn readings_are_tenths_of_a_degree_in_the_human_range() {
        assert_eq!(t("36.6").tenths(), 366);
        assert_eq!(t(" 37,3 ").tenths(), 373);
        assert_eq!(t("366").tenths(), 366);
        assert_eq!(t("38").tenths(), 380);
        assert_eq!(t("34.0").to_string(), "34.0");
        assert_eq!(t("43").tenths(), 430);
        assert_eq!(Temperature::from_celsius(36.649).unwrap().tenths(), 366);
        assert!((t("36.6").celsius() - 36.6).abs() < 1e-9);
        let code = |s: &str| Temperature::parse(s).unwrap_err().code;
        assert_eq!(code(""), "screening.temperature.missing");
        assert_eq!(code("  "), "screening.temperature.missing");
        for bad in ["abc", "36.65", "-36", "3 6", ".5", "36..6", "1e2", "36.6.1"] {
            assert_eq!(code(bad), "screening.temperature.invalid", "{bad}");
        }
        for out in ["33.9", "43.1", "12", "100", "0"] {
            assert_eq!(code(out), "screening.temperature.range", "{out}");
        }
        for c in [f64::NAN, f64::INFINITY] {
            assert_eq!(
                Temperature::from_celsius(c).unwrap_err().code,
                "screening.temperature.invalid"
            );
        }
        assert!(Temperature::from_celsius(33.94).is_err());
        assert_eq!(Temperature::from_tenths(339), None);
        assert_eq!(
            Temperature::from_tenths(430).map(Temperature::tenths),
            Some(430)
        );
    }

    #[test]
    fn the_door_decides_in_the_plans_order() {
        use Decision::*;
        let th = 373;
        assert_eq!(decide(t("36.6"), true, th, 0, 100), Admit);
        assert_eq!(decide(t("37.2"), true, th, 99, 100), Admit);
        // at the threshold is abnormal
        assert_eq!(decide(t("37.3"), true, th, 0, 100), Buffer);
        // a fever goes to the buffer zone even without a mask, and even when full
        assert_eq!(decide(t("38.5"), false, th, 100, 100), Buffer);
        assert_eq!(decide(t("36.6"), false, th, 0, 100), RefuseNoMask);
        assert_eq!(decide(t("36.6"), false, th, 100, 100), RefuseNoMask);
        assert_eq!(decide(t("36.6"), true, th, 100, 100), Wait);
        assert_eq!(decide(t("36.6"), true, th, 150, 100), Wait);
        // a site's own threshold counts
        assert_eq!(decide(t("37.5"), true, 380, 0, 100), Admit);
    }

    #[test]
    fn names_round_trip() {
        for k in SubjectKind::ALL {
            assert_eq!(SubjectKind::parse(k.as_str()), Some(*k));
        }
        for d in Decision::ALL {
            assert_eq!(Decision::parse(d.as_str()), Some(*d));
        }
        assert_eq!(Phase::parse("pre_shift"), Some(Phase::PreShift));
        assert_eq!(Direction::parse("sideways"), None);
        assert!(SubjectKind::WindowStaff.is_staff() && !SubjectKind::Other.is_staff());
        assert_eq!(
            serde_json::to_string(&Decision::RefuseNoMask).unwrap(),
            "\"refuse_no_mask\""
        );
    }

    #[test]
    fn phases_are_for_staff_only() {
        assert!(check_phase(SubjectKind::BureauStaff, Some(Phase::PreShift)).is_ok());
        assert!(check_phase(SubjectKind::Citizen, None).is_ok());
        assert_eq!(
            check_phase(SubjectKind::Citizen, Some(Phase::PostShift))
                .unwrap_err()
                .code,
            "screening.phase.not_staff"
        );
    }

    #[test]
    fn occupancy_never_goes_below_zero() {
        assert_eq!(occupancy_after(0, Direction::Out), 0);
        assert_eq!(occupancy_after(2, Direction::Out), 1);
        assert_eq!(occupancy_after(2, Direction::In), 3);
        assert_eq!(occupancy_after(u32::MAX, Direction::In), u32::MAX);
    }

    #[test]
    fn symptoms_are_known_names_without_repeats() {
        assert_eq!(
            parse_symptoms(["cough", "fever", "cough"]).unwrap(),
            vec![Symptom::Cough, Symptom::Fever]
        );
        assert_eq!(
            parse_symptoms(["sneezing"]).unwrap_err().code,
            "screening.symptom.unknown"
        );
        assert!(parse_symptoms([]).unwrap().is_empty());
    }

    fn trip(place: &str, from: Date, to: Date) -> Answers {
        Answers {
            travel: vec![Trip {
                place: place.into(),
                from,
                to,
            }],
            ..Answers::default()
        }
    }

    #[test]
    fn travel_is_within_the_last_fourteen_days() {
        let today = date!(2020 - 01 - 29);
        let ok = trip(" 武汉 ", date!(2020 - 01 - 15), date!(2020 - 01 - 20))
            .validate(today)
            .unwrap();
        assert_eq!(ok.travel[0].place, "武汉");
        assert!(ok.any_yes());
        let code = |a: Answers| a.validate(today).unwrap_err().code;
        assert_eq!(
            code(trip("武汉", date!(2020 - 01 - 20), date!(2020 - 01 - 30))),
            "screening.travel.future"
        );
        assert_eq!(
            code(trip("武汉", date!(2020 - 01 - 14), date!(2020 - 01 - 20))),
            "screening.travel.too_old"
        );
        assert_eq!(
            code(trip("武汉", date!(2020 - 01 - 25), date!(2020 - 01 - 20))),
            "screening.travel.order"
        );
        assert_eq!(
            code(trip("", date!(2020 - 01 - 20), date!(2020 - 01 - 20))),
            "screening.travel.place"
        );
        let long = Answers {
            details: "字".repeat(501),
            ..Answers::default()
        };
        assert_eq!(code(long), "screening.details.too_long");
        assert!(!Answers::default().any_yes());
        let contact = Answers {
            animal_contact: true,
            ..Answers::default()
        };
        assert!(contact.any_yes());
    }

    #[test]
    fn trips_read_and_write_iso_dates() {
        let t: Trip =
            serde_json::from_str(r#"{"place":"武汉","from":"2020-01-18","to":"2020-01-22"}"#)
                .unwrap();
        assert_eq!(t.from, date!(2020 - 01 - 18));
        assert!(
            serde_json::to_string(&t)
                .unwrap()
                .contains("\"to\":\"2020-01-22\"")
        );
        assert!(
            serde_json::from_str::<Trip>(r#"{"place":"x","from":"18/01/2020","to":"2020-01-22"}"#)
                .is_err()
        );
    }

    #[test]
    fn the_buffer_rule_decides_a_recheck() {
        use Outcome::*;
        let rules = BufferRules::default();
        let th = 373;
        let none = Answers::default();
        let yes = Answers {
            case_contact: true,
            ..Answers::default()
        };
        let cough = [Symptom::Cough];
        // below the threshold, no symptom: cleared, whatever the answers
        assert_eq!(rules.outcome(1, t("36.8"), th, &[], &none), Cleared);
        assert_eq!(rules.outcome(1, t("36.8"), th, &[], &yes), Cleared);
        // still high with re-checks left: another rest
        assert_eq!(rules.outcome(1, t("37.6"), th, &[], &none), Recheck);
        assert_eq!(rules.outcome(2, t("37.3"), th, &[], &none), Recheck);
        // still high on the last allowed re-check: suspected
        assert_eq!(rules.outcome(3, t("37.3"), th, &[], &none), Suspected);
        // a symptom and a "yes": suspected at once, even below the threshold
        assert_eq!(rules.outcome(1, t("36.8"), th, &cough, &yes), Suspected);
        // a symptom without a "yes": another rest while re-checks remain
        assert_eq!(rules.outcome(1, t("36.8"), th, &cough, &none), Recheck);
        assert_eq!(rules.outcome(3, t("36.8"), th, &cough, &none), Suspected);
        assert!(rules.may_recheck(2) && !rules.may_recheck(3));
        assert_eq!(
            rules.due_at(datetime!(2020-01-29 09:00 UTC)),
            datetime!(2020-01-29 09:05 UTC)
        );
        let one = BufferRules {
            rest: Duration::minutes(10),
            max_rechecks: 1,
        };
        assert_eq!(one.outcome(1, t("37.5"), th, &[], &none), Suspected);
    }

    #[test]
    fn retention_counts_whole_beijing_days() {
        // 2020-02-26 10:00 Beijing; 28 days back from that day's midnight.
        let now = datetime!(2020-02-26 02:00 UTC);
        assert_eq!(purge_before(now, 28), datetime!(2020-01-29 00:00 +8));
        assert_eq!(
            day_of(datetime!(2020-01-28 17:30 UTC)),
            date!(2020 - 01 - 29)
        );
    }

    #[test]
    fn spreadsheet_cells_cannot_start_a_formula() {
        assert_eq!(csv_safe("=1+2"), "'=1+2");
        assert_eq!(csv_safe("+86 138"), "'+86 138");
        assert_eq!(csv_safe("-3"), "'-3");
        assert_eq!(csv_safe("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_safe("\tx"), "'\tx");
        assert_eq!(csv_safe("张三"), "张三");
        assert_eq!(csv_safe(""), "");
    }

    #[test]
    fn registration_numbers_are_four_digits() {
        assert_eq!(registration_number(7), "0007");
        assert_eq!(registration_number(65_535), "5535");
        assert_eq!(parse_registration_number(" 0427 "), Ok(Some("0427".into())));
        assert_eq!(parse_registration_number(""), Ok(None));
        for bad in ["427", "04270", "04a7"] {
            assert!(parse_registration_number(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn staff_checks_missing_depend_on_the_hour() {
        let none = StaffDay::default();
        assert_eq!(none.missing(false), vec![Phase::PreShift]);
        assert_eq!(none.missing(true), vec![Phase::PreShift, Phase::PostShift]);
        let both = StaffDay {
            pre_shift: true,
            post_shift: true,
        };
        assert!(both.missing(true).is_empty());
        let hours = "08:30-12:00,14:30-17:30";
        // 17:29 and 17:30 Beijing
        assert!(!after_hours(hours, datetime!(2020-01-29 09:29 UTC)));
        assert!(after_hours(hours, datetime!(2020-01-29 09:30 UTC)));
        assert!(!after_hours("", datetime!(2020-01-29 15:00 UTC)));
    }
}
