//! The working calendar shared by every area: weekends, public holidays and make-up working
//! days (调休) as announced by the State Council, business hours, and deadlines counted in
//! working days or working hours.
//!
//! The calendar comes from data, never from a weekday rule alone (REFERENCES.md): the
//! shipped notices cover [`FIRST_YEAR`] to [`LAST_YEAR`], and administrators may override
//! single days ([`Override`]). A date outside the covered years is an error
//! ([`NoData`]), never a guess.

use serde::{Deserialize, Serialize};
use time::{Date, Duration, Month, OffsetDateTime, PrimitiveDateTime, Time, Weekday};

use crate::FieldError;
use crate::clock::{BEIJING, beijing};

/// The first and last years of the shipped State Council notices.
pub const FIRST_YEAR: i32 = 2019;
pub const LAST_YEAR: i32 = 2026;

/// One holiday of a notice: the days off and the weekend days worked in exchange.
struct Notice {
    name: &'static str,
    first: (i32, u8, u8),
    last: (i32, u8, u8),
    makeup: &'static [(i32, u8, u8)],
}

const fn n(
    name: &'static str,
    first: (i32, u8, u8),
    last: (i32, u8, u8),
    makeup: &'static [(i32, u8, u8)],
) -> Notice {
    Notice {
        name,
        first,
        last,
        makeup,
    }
}

/// 国务院办公厅关于部分节假日安排的通知, 2019 to 2026, with 国办发明电〔2019〕3号 (Labour
/// Day 2019 made four days) and 国办发明电〔2020〕1号 (the 2020 Spring Festival holiday
/// extended to 2 February, so 1 February was no longer a make-up working day). A holiday
/// "joined with the weekend" (与周末连休) lists the weekend days too.
const NOTICES: &[Notice] = &[
    // 2019
    n("元旦", (2018, 12, 30), (2019, 1, 1), &[(2018, 12, 29)]),
    n(
        "春节",
        (2019, 2, 4),
        (2019, 2, 10),
        &[(2019, 2, 2), (2019, 2, 3)],
    ),
    n("清明节", (2019, 4, 5), (2019, 4, 7), &[]),
    n(
        "劳动节",
        (2019, 5, 1),
        (2019, 5, 4),
        &[(2019, 4, 28), (2019, 5, 5)],
    ),
    n("端午节", (2019, 6, 7), (2019, 6, 9), &[]),
    n("中秋节", (2019, 9, 13), (2019, 9, 15), &[]),
    n(
        "国庆节",
        (2019, 10, 1),
        (2019, 10, 7),
        &[(2019, 9, 29), (2019, 10, 12)],
    ),
    // 2020
    n("元旦", (2020, 1, 1), (2020, 1, 1), &[]),
    n("春节", (2020, 1, 24), (2020, 2, 2), &[(2020, 1, 19)]),
    n("清明节", (2020, 4, 4), (2020, 4, 6), &[]),
    n(
        "劳动节",
        (2020, 5, 1),
        (2020, 5, 5),
        &[(2020, 4, 26), (2020, 5, 9)],
    ),
    n("端午节", (2020, 6, 25), (2020, 6, 27), &[(2020, 6, 28)]),
    n(
        "国庆节、中秋节",
        (2020, 10, 1),
        (2020, 10, 8),
        &[(2020, 9, 27), (2020, 10, 10)],
    ),
    // 2021
    n("元旦", (2021, 1, 1), (2021, 1, 3), &[]),
    n(
        "春节",
        (2021, 2, 11),
        (2021, 2, 17),
        &[(2021, 2, 7), (2021, 2, 20)],
    ),
    n("清明节", (2021, 4, 3), (2021, 4, 5), &[]),
    n(
        "劳动节",
        (2021, 5, 1),
        (2021, 5, 5),
        &[(2021, 4, 25), (2021, 5, 8)],
    ),
    n("端午节", (2021, 6, 12), (2021, 6, 14), &[]),
    n("中秋节", (2021, 9, 19), (2021, 9, 21), &[(2021, 9, 18)]),
    n(
        "国庆节",
        (2021, 10, 1),
        (2021, 10, 7),
        &[(2021, 9, 26), (2021, 10, 9)],
    ),
    // 2022
    n("元旦", (2022, 1, 1), (2022, 1, 3), &[]),
    n(
        "春节",
        (2022, 1, 31),
        (2022, 2, 6),
        &[(2022, 1, 29), (2022, 1, 30)],
    ),
    n("清明节", (2022, 4, 3), (2022, 4, 5), &[(2022, 4, 2)]),
    n(
        "劳动节",
        (2022, 4, 30),
        (2022, 5, 4),
        &[(2022, 4, 24), (2022, 5, 7)],
    ),
    n("端午节", (2022, 6, 3), (2022, 6, 5), &[]),
    n("中秋节", (2022, 9, 10), (2022, 9, 12), &[]),
    n(
        "国庆节",
        (2022, 10, 1),
        (2022, 10, 7),
        &[(2022, 10, 8), (2022, 10, 9)],
    ),
    // 2023
    n("元旦", (2022, 12, 31), (2023, 1, 2), &[]),
    n(
        "春节",
        (2023, 1, 21),
        (2023, 1, 27),
        &[(2023, 1, 28), (2023, 1, 29)],
    ),
    n("清明节", (2023, 4, 5), (2023, 4, 5), &[]),
    n(
        "劳动节",
        (2023, 4, 29),
        (2023, 5, 3),
        &[(2023, 4, 23), (2023, 5, 6)],
    ),
    n("端午节", (2023, 6, 22), (2023, 6, 24), &[(2023, 6, 25)]),
    n(
        "中秋节、国庆节",
        (2023, 9, 29),
        (2023, 10, 6),
        &[(2023, 10, 7), (2023, 10, 8)],
    ),
    // 2024
    n("元旦", (2023, 12, 30), (2024, 1, 1), &[]),
    n(
        "春节",
        (2024, 2, 10),
        (2024, 2, 17),
        &[(2024, 2, 4), (2024, 2, 18)],
    ),
    n("清明节", (2024, 4, 4), (2024, 4, 6), &[(2024, 4, 7)]),
    n(
        "劳动节",
        (2024, 5, 1),
        (2024, 5, 5),
        &[(2024, 4, 28), (2024, 5, 11)],
    ),
    n("端午节", (2024, 6, 8), (2024, 6, 10), &[]),
    n("中秋节", (2024, 9, 15), (2024, 9, 17), &[(2024, 9, 14)]),
    n(
        "国庆节",
        (2024, 10, 1),
        (2024, 10, 7),
        &[(2024, 9, 29), (2024, 10, 12)],
    ),
    // 2025
    n("元旦", (2025, 1, 1), (2025, 1, 1), &[]),
    n(
        "春节",
        (2025, 1, 28),
        (2025, 2, 4),
        &[(2025, 1, 26), (2025, 2, 8)],
    ),
    n("清明节", (2025, 4, 4), (2025, 4, 6), &[]),
    n("劳动节", (2025, 5, 1), (2025, 5, 5), &[(2025, 4, 27)]),
    n("端午节", (2025, 5, 31), (2025, 6, 2), &[]),
    n(
        "国庆节、中秋节",
        (2025, 10, 1),
        (2025, 10, 8),
        &[(2025, 9, 28), (2025, 10, 11)],
    ),
    // 2026
    n("元旦", (2026, 1, 1), (2026, 1, 3), &[(2026, 1, 4)]),
    n(
        "春节",
        (2026, 2, 15),
        (2026, 2, 23),
        &[(2026, 2, 14), (2026, 2, 28)],
    ),
    n("清明节", (2026, 4, 4), (2026, 4, 6), &[]),
    n("劳动节", (2026, 5, 1), (2026, 5, 5), &[(2026, 5, 9)]),
    n("端午节", (2026, 6, 19), (2026, 6, 21), &[]),
    n("中秋节", (2026, 9, 25), (2026, 9, 27), &[]),
    n(
        "国庆节",
        (2026, 10, 1),
        (2026, 10, 7),
        &[(2026, 9, 20), (2026, 10, 10)],
    ),
];

fn ymd((y, m, d): (i32, u8, u8)) -> Date {
    // The table above is checked by `every_notice_date_is_valid`.
    Date::from_calendar_date(y, Month::try_from(m).unwrap_or(Month::January), d)
        .unwrap_or(Date::MIN)
}

/// What kind of day a date is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum DayKind {
    /// Monday to Friday, no holiday.
    Workday,
    /// Saturday or Sunday, no make-up work.
    Weekend,
    /// A public holiday's day off.
    Holiday,
    /// A weekend day worked in exchange for a holiday (调休上班).
    Makeup,
    /// Set by an administrator.
    Override,
}

/// One day of the calendar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Day {
    pub date: Date,
    pub workday: bool,
    pub kind: DayKind,
    /// The holiday's name (春节), `调休上班 (春节)` for a make-up day, or an override's name.
    pub name: Option<String>,
}

/// An administrator's change to one day (a local closure, a notice after shipping).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    pub date: Date,
    pub workday: bool,
    pub name: String,
}

/// The calendar has no notice for this year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the working calendar has no data for {year}")]
pub struct NoData {
    pub year: i32,
}

/// The longest override name.
pub const MAX_OVERRIDE_NAME: usize = 40;

/// Checks an override: a covered year and a name of 1 to 40 characters.
pub fn check_override(date: Date, workday: bool, name: &str) -> Result<Override, FieldError> {
    if !(FIRST_YEAR..=LAST_YEAR).contains(&date.year()) {
        return Err(FieldError::new("date", "calendar.no_data"));
    }
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > MAX_OVERRIDE_NAME
        || name.chars().any(char::is_control)
    {
        return Err(FieldError::new("name", "calendar.name.invalid"));
    }
    Ok(Override {
        date,
        workday,
        name: name.to_owned(),
    })
}

/// The shipped notices with an administrator's overrides on top.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    overrides: std::collections::BTreeMap<Date, Override>,
}

impl Calendar {
    pub fn new(overrides: impl IntoIterator<Item = Override>) -> Calendar {
        Calendar {
            overrides: overrides.into_iter().map(|o| (o.date, o)).collect(),
        }
    }

    pub fn overrides(&self) -> impl Iterator<Item = &Override> {
        self.overrides.values()
    }

    /// The day `date` is, from the notices and the overrides.
    pub fn day(&self, date: Date) -> Result<Day, NoData> {
        if !(FIRST_YEAR..=LAST_YEAR).contains(&date.year()) {
            return Err(NoData { year: date.year() });
        }
        if let Some(o) = self.overrides.get(&date) {
            return Ok(Day {
                date,
                workday: o.workday,
                kind: DayKind::Override,
                name: Some(o.name.clone()),
            });
        }
        for notice in NOTICES {
            if (ymd(notice.first)..=ymd(notice.last)).contains(&date) {
                return Ok(Day {
                    date,
                    workday: false,
                    kind: DayKind::Holiday,
                    name: Some(notice.name.to_owned()),
                });
            }
            if notice.makeup.iter().any(|&m| ymd(m) == date) {
                return Ok(Day {
                    date,
                    workday: true,
                    kind: DayKind::Makeup,
                    name: Some(format!("调休上班（{}）", notice.name)),
                });
            }
        }
        let weekend = matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday);
        Ok(Day {
            date,
            workday: !weekend,
            kind: if weekend {
                DayKind::Weekend
            } else {
                DayKind::Workday
            },
            name: None,
        })
    }

    pub fn is_workday(&self, date: Date) -> Result<bool, NoData> {
        self.day(date).map(|d| d.workday)
    }

    /// The `workdays`-th working day after `start` (`start` itself does not count; zero
    /// gives `start`).
    pub fn add_workdays(&self, start: Date, workdays: u32) -> Result<Date, NoData> {
        // Covered years are checked even for zero, so a query never silently passes.
        self.day(start)?;
        let mut at = start;
        let mut left = workdays;
        while left > 0 {
            at = at.next_day().ok_or(NoData { year: i32::MAX })?;
            if self.is_workday(at)? {
                left -= 1;
            }
        }
        Ok(at)
    }

    /// Working days strictly after `from` up to and including `to` (zero when `to` is not
    /// after `from`).
    pub fn workdays_between(&self, from: Date, to: Date) -> Result<u32, NoData> {
        let mut n = 0;
        let mut at = from;
        while at < to {
            at = at.next_day().ok_or(NoData { year: i32::MAX })?;
            if self.is_workday(at)? {
                n += 1;
            }
        }
        Ok(n)
    }
}

/// Business hours of a working day, Beijing time: a morning and an afternoon session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BusinessHours {
    pub morning: (Time, Time),
    pub afternoon: (Time, Time),
}

impl Default for BusinessHours {
    /// 08:30–12:00 and 14:30–17:30, the hall's usual opening hours.
    fn default() -> Self {
        BusinessHours {
            morning: (
                Time::from_hms(8, 30, 0).unwrap_or(Time::MIDNIGHT),
                Time::from_hms(12, 0, 0).unwrap_or(Time::MIDNIGHT),
            ),
            afternoon: (
                Time::from_hms(14, 30, 0).unwrap_or(Time::MIDNIGHT),
                Time::from_hms(17, 30, 0).unwrap_or(Time::MIDNIGHT),
            ),
        }
    }
}

impl BusinessHours {
    /// Parses `HH:MM-HH:MM,HH:MM-HH:MM`; the four times must increase.
    pub fn parse(s: &str) -> Result<BusinessHours, FieldError> {
        let bad = FieldError::new("business_hours", "calendar.hours.invalid");
        let format = time::macros::format_description!("[hour]:[minute]");
        let times: Vec<Time> = s
            .split([',', '-'])
            .map(|t| Time::parse(t.trim(), &format).map_err(|_| bad))
            .collect::<Result<_, _>>()?;
        let [a, b, c, d] = times[..] else {
            return Err(bad);
        };
        if !(a < b && b <= c && c < d) {
            return Err(bad);
        }
        Ok(BusinessHours {
            morning: (a, b),
            afternoon: (c, d),
        })
    }

    fn sessions(self) -> [(Time, Time); 2] {
        [self.morning, self.afternoon]
    }

    /// The end of the last session of a day, as an instant.
    pub fn close_of(self, day: Date) -> OffsetDateTime {
        PrimitiveDateTime::new(day, self.afternoon.1).assume_offset(BEIJING)
    }

    /// The instant `minutes` working minutes after `from`: time counts only inside business
    /// hours of working days.
    pub fn add_working_minutes(
        self,
        calendar: &Calendar,
        from: OffsetDateTime,
        minutes: i64,
    ) -> Result<OffsetDateTime, NoData> {
        let local = beijing(from);
        let mut day = local.date();
        let mut at = local.time();
        let mut left = Duration::minutes(minutes);
        loop {
            if calendar.is_workday(day)? {
                for (open, close) in self.sessions() {
                    let start = at.max(open);
                    if start >= close {
                        continue;
                    }
                    let room = close - start;
                    if left <= room {
                        return Ok(PrimitiveDateTime::new(day, start).assume_offset(BEIJING) + left);
                    }
                    left -= room;
                    at = close;
                }
            }
            day = day.next_day().ok_or(NoData { year: i32::MAX })?;
            at = Time::MIDNIGHT;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn cal() -> Calendar {
        Calendar::default()
    }

    #[test]
    fn every_notice_date_is_valid_and_holidays_never_overlap() {
        let mut days = std::collections::HashSet::new();
        for notice in NOTICES {
            assert_ne!(ymd(notice.first), Date::MIN, "{}", notice.name);
            assert_ne!(ymd(notice.last), Date::MIN, "{}", notice.name);
            assert!(ymd(notice.first) <= ymd(notice.last), "{}", notice.name);
            let mut d = ymd(notice.first);
            while d <= ymd(notice.last) {
                assert!(days.insert(d), "{d} twice");
                d = d.next_day().unwrap();
            }
            for &m in notice.makeup {
                let m = ymd(m);
                assert_ne!(m, Date::MIN);
                assert!(
                    matches!(m.weekday(), Weekday::Saturday | Weekday::Sunday),
                    "make-up day {m} is a weekday"
                );
                assert!(days.insert(m), "{m} twice");
            }
        }
    }

    #[test]
    fn the_2020_spring_festival_was_extended_to_2_february() {
        let c = cal();
        // 19 January (a Sunday) was worked; 24 January to 2 February off.
        assert!(c.is_workday(date!(2020 - 01 - 19)).unwrap());
        assert!(c.is_workday(date!(2020 - 01 - 23)).unwrap());
        let mut d = date!(2020 - 01 - 24);
        while d <= date!(2020 - 02 - 02) {
            let day = c.day(d).unwrap();
            assert!(!day.workday, "{d}");
            assert_eq!(day.name.as_deref(), Some("春节"));
            d = d.next_day().unwrap();
        }
        // 1 February was a make-up Saturday before the extension; not any more.
        assert_eq!(c.day(date!(2020 - 02 - 01)).unwrap().kind, DayKind::Holiday);
        assert!(c.is_workday(date!(2020 - 02 - 03)).unwrap());
        assert_eq!(c.day(date!(2020 - 01 - 19)).unwrap().kind, DayKind::Makeup);
    }

    #[test]
    fn deadlines_count_working_days_after_the_start() {
        let c = cal();
        // The plan's own day: Wednesday 29 January 2020, inside the extended holiday.
        assert_eq!(
            c.add_workdays(date!(2020 - 01 - 29), 1).unwrap(),
            date!(2020 - 02 - 03)
        );
        assert_eq!(
            c.add_workdays(date!(2020 - 01 - 29), 5).unwrap(),
            date!(2020 - 02 - 07)
        );
        // Friday 17 January 2020: the make-up Sunday 19 January counts.
        assert_eq!(
            c.add_workdays(date!(2020 - 01 - 17), 1).unwrap(),
            date!(2020 - 01 - 19)
        );
        assert_eq!(
            c.add_workdays(date!(2020 - 01 - 17), 3).unwrap(),
            date!(2020 - 01 - 21)
        );
        // Across National Day 2020: 30 Sep + 1 → 9 Oct (10 Oct is a make-up Saturday).
        assert_eq!(
            c.add_workdays(date!(2020 - 09 - 30), 1).unwrap(),
            date!(2020 - 10 - 09)
        );
        assert_eq!(
            c.add_workdays(date!(2020 - 09 - 30), 2).unwrap(),
            date!(2020 - 10 - 10)
        );
        assert_eq!(
            c.add_workdays(date!(2026 - 11 - 30), 0).unwrap(),
            date!(2026 - 11 - 30)
        );
        // Ordinary weeks skip the weekend.
        assert_eq!(
            c.add_workdays(date!(2026 - 11 - 27), 1).unwrap(),
            date!(2026 - 11 - 30)
        );
        assert_eq!(
            c.workdays_between(date!(2020 - 01 - 29), date!(2020 - 02 - 07))
                .unwrap(),
            5
        );
    }

    #[test]
    fn past_the_last_year_is_an_error_never_a_guess() {
        let c = cal();
        assert_eq!(c.day(date!(2027 - 01 - 04)), Err(NoData { year: 2027 }));
        assert_eq!(c.day(date!(2018 - 06 - 01)), Err(NoData { year: 2018 }));
        assert_eq!(
            c.add_workdays(date!(2026 - 12 - 30), 3),
            Err(NoData { year: 2027 })
        );
        assert_eq!(
            c.add_workdays(date!(2027 - 03 - 01), 0),
            Err(NoData { year: 2027 })
        );
        assert!(c.day(date!(2026 - 12 - 31)).unwrap().workday);
    }

    #[test]
    fn overrides_win_over_the_notices() {
        let o = check_override(date!(2026 - 12 - 01), false, " 临时闭厅 ").unwrap();
        assert_eq!(o.name, "临时闭厅");
        let c = Calendar::new([
            o,
            check_override(date!(2026 - 10 - 01), true, "应急值班").unwrap(),
        ]);
        let day = c.day(date!(2026 - 12 - 01)).unwrap();
        assert!(!day.workday);
        assert_eq!(day.kind, DayKind::Override);
        assert!(c.is_workday(date!(2026 - 10 - 01)).unwrap());
        assert_eq!(c.overrides().count(), 2);
        assert_eq!(
            check_override(date!(2027 - 01 - 01), false, "x")
                .unwrap_err()
                .code,
            "calendar.no_data"
        );
        assert_eq!(
            check_override(date!(2026 - 01 - 01), false, " ")
                .unwrap_err()
                .code,
            "calendar.name.invalid"
        );
    }

    #[test]
    fn makeup_days_carry_their_holidays_name() {
        let day = cal().day(date!(2026 - 02 - 28)).unwrap();
        assert!(day.workday);
        assert_eq!(day.name.as_deref(), Some("调休上班（春节）"));
        let day = cal().day(date!(2026 - 11 - 29)).unwrap();
        assert_eq!(
            (day.workday, day.kind, day.name),
            (false, DayKind::Weekend, None)
        );
    }

    #[test]
    fn working_hours_skip_lunch_nights_and_holidays() {
        let c = cal();
        let h = BusinessHours::default();
        // Monday 30 Nov 2026 10:00 Beijing (02:00 UTC) + 4 h → 2 h morning, then 14:30–16:30.
        let at = h
            .add_working_minutes(&c, datetime!(2026-11-30 02:00 UTC), 240)
            .unwrap();
        assert_eq!(beijing(at).time(), Time::from_hms(16, 30, 0).unwrap());
        // Friday 17:00 + 2 h → Monday 10:00 (30 min Friday, 90 min Monday).
        let at = h
            .add_working_minutes(&c, datetime!(2026-11-27 09:00 UTC), 120)
            .unwrap();
        assert_eq!(beijing(at), datetime!(2026-11-30 10:00 +8));
        // Called at night during the 2020 Spring Festival: the clock starts on 3 February.
        let at = h
            .add_working_minutes(&c, datetime!(2020-01-29 14:00 UTC), 60)
            .unwrap();
        assert_eq!(beijing(at), datetime!(2020-02-03 09:30 +8));
        // Exactly at closing time the deadline is the close.
        let at = h
            .add_working_minutes(&c, datetime!(2026-11-30 08:30 UTC), 60)
            .unwrap();
        assert_eq!(beijing(at), datetime!(2026-11-30 17:30 +8));
        assert_eq!(
            h.close_of(date!(2026 - 11 - 30)),
            datetime!(2026-11-30 17:30 +8)
        );
    }

    #[test]
    fn business_hours_parse_and_refuse_disorder() {
        let h = BusinessHours::parse("09:00-12:00,13:30-17:00").unwrap();
        assert_eq!(h.afternoon.1, Time::from_hms(17, 0, 0).unwrap());
        for bad in [
            "",
            "09:00-12:00",
            "12:00-09:00,13:00-14:00",
            "9-12,13-17",
            "09:00-12:00,11:00-17:00",
        ] {
            assert!(BusinessHours::parse(bad).is_err(), "{bad}");
        }
    }
}
