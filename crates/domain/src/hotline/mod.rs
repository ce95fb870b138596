//! The government hotline (二(七)): tickets, their workflow from intake to close, deadlines
//! in working days or working hours, supervision of overdue work, near-duplicates
//! ([`text`]) and hot issues ([`hot`]).

pub mod hot;
pub mod text;

use crate::FieldError;
use crate::calendar::{BusinessHours, Calendar, NoData};
use crate::clock::beijing;
use crate::error::TextFault;
use crate::privacy::{PersonName, Phone};
use crate::screening::named_enum;
use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};

named_enum! {
    /// How a ticket reached the hotline.
    Channel {
        Phone = "phone",
        Wechat = "wechat",
        /// The citizens' web form.
        Web = "web",
        /// At the hall's counter.
        WalkIn = "walk_in",
    }
}

named_enum! {
    /// What a ticket is about (二(七)).
    Category {
        /// 哄抬物价举报.
        PriceGouging = "price_gouging",
        /// 违规行为投诉.
        Violation = "violation",
        /// 疫情线索提供.
        EpidemicClue = "epidemic_clue",
        /// 防疫知识咨询.
        PreventionQuestion = "prevention_question",
        /// 个人困难求助.
        Hardship = "hardship",
        Other = "other",
    }
}

named_enum! {
    /// Where a ticket stands.
    Status {
        /// Taken, with the hotline (受理).
        New = "new",
        /// Answered by the operator directly (直接答复), awaiting follow-up or close.
        Answered = "answered",
        /// With the responsible department (已转办).
        Transferred = "transferred",
        /// The department replied; the hotline reviews (待审核).
        Replied = "replied",
        /// Returned to the department for rework (退回重办).
        Returned = "returned",
        /// The reply was accepted (审核通过), awaiting the follow-up call.
        Accepted = "accepted",
        /// The caller was called back (已回访).
        FollowedUp = "followed_up",
        /// Done (办结).
        Closed = "closed",
        /// Merged into a parent ticket (已并案), answered with it.
        Merged = "merged",
    }
}

named_enum! {
    /// The caller's rating at the follow-up call.
    Satisfaction {
        Satisfied = "satisfied",
        Basic = "basic",
        Unsatisfied = "unsatisfied",
    }
}

named_enum! {
    /// An entry of a ticket's timeline.
    EventKind {
        Created = "created",
        Answered = "answered",
        Transferred = "transferred",
        Replied = "replied",
        /// A co-handling department's reply (协办意见): no change of status.
        CoReplied = "co_replied",
        Accepted = "accepted",
        Returned = "returned",
        FollowedUp = "followed_up",
        Closed = "closed",
        Reopened = "reopened",
        /// Another ticket was merged into this one.
        Absorbed = "absorbed",
        Merged = "merged",
        /// A supervision notice (督办) to the department.
        Supervised = "supervised",
        /// Overdue: raised to the hotline group's leader.
        Escalated = "escalated",
    }
}

impl Status {
    /// Waiting on a department.
    pub const fn with_department(self) -> bool {
        matches!(self, Status::Transferred | Status::Returned)
    }

    /// Still to be done by someone (the deadline applies).
    pub const fn is_open(self) -> bool {
        matches!(
            self,
            Status::New | Status::Transferred | Status::Replied | Status::Returned
        )
    }
}

/// The longest content of a ticket, reply or note.
pub const MAX_CONTENT: usize = 2000;
/// The longest place.
pub const MAX_PLACE: usize = 100;

/// Trims text and refuses control characters (line breaks aside) and overlong text.
pub fn text_field(
    raw: &str,
    field: &'static str,
    max: usize,
    required: bool,
) -> Result<String, FieldError> {
    crate::error::free_text(raw, max, required).map_err(|fault| match fault {
        TextFault::Required => FieldError::new(field, "hotline.text.required"),
        TextFault::TooLong => FieldError::new(field, "hotline.text.too_long"),
        TextFault::Invalid => FieldError::new(field, "hotline.text.invalid"),
    })
}

/// A ticket as taken, checked field by field.
#[derive(Debug, Clone)]
pub struct NewTicket {
    pub channel: Channel,
    pub category: Category,
    pub content: String,
    pub caller_name: Option<PersonName>,
    pub caller_phone: Option<Phone>,
    pub place: String,
    pub urgent: bool,
}

/// The raw fields of an intake, as typed or posted.
#[derive(Debug, Clone, Default)]
pub struct Intake<'a> {
    pub channel: &'a str,
    pub category: &'a str,
    pub content: &'a str,
    pub caller_name: Option<&'a str>,
    pub caller_phone: Option<&'a str>,
    pub place: Option<&'a str>,
    pub urgent: bool,
}

/// Checks an intake; every bad field is reported.
pub fn check_intake(raw: &Intake<'_>) -> Result<NewTicket, Vec<FieldError>> {
    let mut errors = Vec::new();
    let channel = Channel::parse(raw.channel.trim())
        .ok_or(FieldError::new("channel", "hotline.channel.invalid"));
    let category = Category::parse(raw.category.trim())
        .ok_or(FieldError::new("category", "hotline.category.invalid"));
    let content = text_field(raw.content, "content", MAX_CONTENT, true);
    let place = text_field(raw.place.unwrap_or(""), "place", MAX_PLACE, false);
    let name = match raw.caller_name.map(str::trim).filter(|s| !s.is_empty()) {
        Some(n) => PersonName::parse(n, "caller_name").map(Some),
        None => Ok(None),
    };
    let phone = match raw.caller_phone.map(str::trim).filter(|s| !s.is_empty()) {
        Some(p) => Phone::parse(p, "caller_phone").map(Some),
        None => Ok(None),
    };
    macro_rules! take {
        ($r:expr) => {
            match $r {
                Ok(v) => Some(v),
                Err(e) => {
                    errors.push(e);
                    None
                }
            }
        };
    }
    let (channel, category, content, place, name, phone) = (
        take!(channel),
        take!(category),
        take!(content),
        take!(place),
        take!(name),
        take!(phone),
    );
    match (channel, category, content, place, name, phone) {
        (
            Some(channel),
            Some(category),
            Some(content),
            Some(place),
            Some(caller_name),
            Some(caller_phone),
        ) if errors.is_empty() => Ok(NewTicket {
            channel,
            category,
            content,
            caller_name,
            caller_phone,
            place,
            urgent: raw.urgent,
        }),
        _ => Err(errors),
    }
}

/// The ticket number read out on the phone: `RX20200129-0007`, the Beijing day and the
/// day's sequence.
pub fn number(day: Date, seq: u32) -> String {
    format!(
        "RX{:04}{:02}{:02}-{seq:04}",
        day.year(),
        u8::from(day.month()),
        day.day()
    )
}

/// The day and sequence of a ticket number (`RX20200129-0007`, case-insensitive).
pub fn parse_number(s: &str) -> Option<(Date, u32)> {
    let s = s.trim();
    if !looks_like_number(s) {
        return None;
    }
    let part = |r: std::ops::Range<usize>| s.get(r).and_then(|p| p.parse::<u32>().ok());
    let month = time::Month::try_from(u8::try_from(part(6..8)?).ok()?).ok()?;
    let day = Date::from_calendar_date(
        i32::try_from(part(2..6)?).ok()?,
        month,
        u8::try_from(part(8..10)?).ok()?,
    )
    .ok()?;
    Some((day, s.get(11..)?.parse().ok()?))
}

/// Whether `s` looks like a ticket number (`RX20200129-0007`, case-insensitive).
pub fn looks_like_number(s: &str) -> bool {
    let s = s.trim().as_bytes();
    s.len() >= 15
        && s[..2].eq_ignore_ascii_case(b"RX")
        && s[2..10].iter().all(u8::is_ascii_digit)
        && s[10] == b'-'
        && s[11..].iter().all(u8::is_ascii_digit)
}

/// What someone does to a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Answer,
    Transfer,
    /// The lead department's reply.
    Reply,
    /// A co-handling department's reply.
    CoReply,
    Accept,
    Return,
    FollowUp,
    Close,
    Reopen,
    Supervise,
    /// Merge this ticket into another.
    MergeInto,
}

/// Why an action is refused: nothing changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The action does not apply to the ticket's status.
    #[error("not allowed in this status")]
    WrongStatus,
    /// The ticket changed since the page was read.
    #[error("the ticket changed")]
    VersionChanged,
    /// A ticket cannot be merged into itself, into a merged ticket, or when closed.
    #[error("cannot merge")]
    CannotMerge,
    /// The department is not on this ticket.
    #[error("not this ticket's department")]
    NotAssigned,
}

/// The status after `action`, or why it is refused.
pub fn next(status: Status, action: Action) -> Result<Status, Refusal> {
    use Action as A;
    use Status as S;
    let to = match (action, status) {
        (A::Answer, S::New) => S::Answered,
        (A::Transfer, S::New | S::Transferred | S::Returned | S::Answered) => S::Transferred,
        (A::Reply, S::Transferred | S::Returned) => S::Replied,
        (A::CoReply, S::Transferred | S::Returned | S::Replied) => status,
        (A::Accept, S::Replied) => S::Accepted,
        (A::Return, S::Replied) => S::Returned,
        (A::FollowUp, S::Answered | S::Accepted) => S::FollowedUp,
        (A::Close, S::Answered | S::Accepted | S::FollowedUp) => S::Closed,
        (A::Reopen, S::Closed) => S::New,
        (A::Supervise, S::Transferred | S::Returned) => status,
        (A::MergeInto, S::New | S::Answered | S::Transferred | S::Replied | S::Returned) => {
            S::Merged
        }
        _ => return Err(Refusal::WrongStatus),
    };
    Ok(to)
}

/// Checks a merge of `child` (status) into `parent` (status).
pub fn check_merge(
    child: uuid::Uuid,
    child_status: Status,
    parent: uuid::Uuid,
    parent_status: Status,
) -> Result<(), Refusal> {
    if child == parent || matches!(parent_status, Status::Merged | Status::Closed) {
        return Err(Refusal::CannotMerge);
    }
    next(child_status, Action::MergeInto)
        .map(|_| ())
        .map_err(|_| Refusal::CannotMerge)
}

/// Working days given to handle a ticket of `category`, unless the operator says otherwise.
pub const fn default_workdays(category: Category) -> u32 {
    match category {
        Category::PreventionQuestion => 1,
        Category::EpidemicClue => 2,
        Category::PriceGouging | Category::Violation | Category::Hardship => 3,
        Category::Other => 5,
    }
}

/// Working hours given to an urgent ticket unless the operator says otherwise.
pub const URGENT_HOURS: u32 = 2;

/// A deadline as asked: working days, or working hours for urgent tickets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Term {
    Workdays(u32),
    Hours(u32),
}

impl Term {
    /// The default term of a ticket.
    pub const fn default_for(category: Category, urgent: bool) -> Term {
        if urgent {
            Term::Hours(URGENT_HOURS)
        } else {
            Term::Workdays(default_workdays(category))
        }
    }

    /// Checks an operator's term: 1 to 30 working days, or 1 to 48 working hours.
    pub fn check(workdays: Option<i64>, hours: Option<i64>) -> Result<Option<Term>, FieldError> {
        match (workdays, hours) {
            (None, None) => Ok(None),
            (Some(d), None) => u32::try_from(d)
                .ok()
                .filter(|d| (1..=30).contains(d))
                .map(|d| Some(Term::Workdays(d)))
                .ok_or(FieldError::new("workdays", "hotline.term.invalid")),
            (None, Some(h)) => u32::try_from(h)
                .ok()
                .filter(|h| (1..=48).contains(h))
                .map(|h| Some(Term::Hours(h)))
                .ok_or(FieldError::new("hours", "hotline.term.invalid")),
            (Some(_), Some(_)) => Err(FieldError::new("workdays", "hotline.term.both")),
        }
    }

    /// The instant a ticket taken at `from` is due: the close of business of the N-th
    /// working day after `from`'s day, or N working hours later.
    pub fn due(
        self,
        calendar: &Calendar,
        hours: BusinessHours,
        from: OffsetDateTime,
    ) -> Result<OffsetDateTime, NoData> {
        match self {
            Term::Workdays(n) => {
                let day = calendar.add_workdays(beijing(from).date(), n)?;
                Ok(hours.close_of(day))
            }
            Term::Hours(n) => hours.add_working_minutes(calendar, from, i64::from(n) * 60),
        }
    }
}

/// How an open ticket stands against its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    OnTime,
    /// Due within a day (an hour for urgent tickets).
    NearDue,
    Overdue,
}

impl Standing {
    pub fn of(due: OffsetDateTime, now: OffsetDateTime, urgent: bool) -> Standing {
        let near = if urgent {
            Duration::hours(1)
        } else {
            Duration::days(1)
        };
        if now > due {
            Standing::Overdue
        } else if due - now <= near {
            Standing::NearDue
        } else {
            Standing::OnTime
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Standing::OnTime => "on_time",
            Standing::NearDue => "near_due",
            Standing::Overdue => "overdue",
        }
    }
}

/// A department ticket are transferred to: a short code and a name.
pub fn check_department(code: &str, name: &str) -> Result<(String, String), Vec<FieldError>> {
    let mut errors = Vec::new();
    let code = code.trim();
    if code.is_empty()
        || code.len() > 32
        || !code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
    {
        errors.push(FieldError::new("code", "hotline.department.code.invalid"));
    }
    let name = match crate::org::Name::parse(name, "name") {
        Ok(n) => n.as_str().to_owned(),
        Err(e) => {
            errors.push(e);
            String::new()
        }
    };
    if errors.is_empty() {
        Ok((code.to_owned(), name))
    } else {
        Err(errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    fn intake<'a>(content: &'a str, category: &'a str) -> Intake<'a> {
        Intake {
            channel: "phone",
            category,
            content,
            caller_name: Some("张三"),
            caller_phone: Some("13800138000"),
            place: Some("曲溪街道"),
            urgent: false,
        }
    }

    #[test]
    fn an_intake_is_checked_field_by_field() {
        let t = check_intake(&intake("  某药店口罩卖50元一个  ", "price_gouging")).unwrap();
        assert_eq!(t.content, "某药店口罩卖50元一个");
        assert_eq!(t.category, Category::PriceGouging);
        assert_eq!(t.caller_phone.unwrap().as_str(), "13800138000");
        let errors = check_intake(&Intake {
            channel: "fax",
            category: "gossip",
            content: "   ",
            caller_phone: Some("12"),
            ..Intake::default()
        })
        .unwrap_err();
        let codes: Vec<_> = errors.iter().map(|e| (e.field, e.code)).collect();
        assert_eq!(
            codes,
            [
                ("channel", "hotline.channel.invalid"),
                ("category", "hotline.category.invalid"),
                ("content", "hotline.text.required"),
                ("caller_phone", "phone.invalid"),
            ]
        );
        let long = "疫".repeat(MAX_CONTENT + 1);
        assert_eq!(
            check_intake(&intake(&long, "other")).unwrap_err()[0].code,
            "hotline.text.too_long"
        );
        // The caller may stay anonymous.
        let anon = check_intake(&Intake {
            channel: "web",
            category: "other",
            content: "咨询",
            ..Intake::default()
        })
        .unwrap();
        assert!(anon.caller_name.is_none() && anon.caller_phone.is_none());
    }

    #[test]
    fn numbers_read_well_on_the_phone() {
        assert_eq!(number(date!(2020 - 01 - 29), 7), "RX20200129-0007");
        assert_eq!(number(date!(2020 - 01 - 29), 12345), "RX20200129-12345");
        assert!(looks_like_number("rx20200129-0007"));
        assert!(!looks_like_number("RX2020012-0007"));
        assert!(!looks_like_number("口罩"));
        assert_eq!(
            parse_number(" rx20200129-0007 "),
            Some((date!(2020 - 01 - 29), 7))
        );
        assert_eq!(parse_number("RX20201329-0007"), None);
        assert_eq!(parse_number("口罩"), None);
    }

    #[test]
    fn the_workflow_runs_from_intake_to_close_and_refuses_the_rest() {
        use Action as A;
        let mut s = Status::New;
        for (a, want) in [
            (A::Transfer, Status::Transferred),
            (A::Supervise, Status::Transferred),
            (A::CoReply, Status::Transferred),
            (A::Reply, Status::Replied),
            (A::Return, Status::Returned),
            (A::Reply, Status::Replied),
            (A::Accept, Status::Accepted),
            (A::FollowUp, Status::FollowedUp),
            (A::Close, Status::Closed),
            (A::Reopen, Status::New),
            (A::Answer, Status::Answered),
            (A::Close, Status::Closed),
        ] {
            s = next(s, a).unwrap();
            assert_eq!(s, want, "{a:?}");
        }
        for a in [
            A::Reply,
            A::Answer,
            A::Transfer,
            A::Accept,
            A::Supervise,
            A::MergeInto,
        ] {
            assert_eq!(next(Status::Closed, a), Err(Refusal::WrongStatus), "{a:?}");
        }
        assert_eq!(next(Status::New, A::Reply), Err(Refusal::WrongStatus));
        assert_eq!(next(Status::Merged, A::Answer), Err(Refusal::WrongStatus));
        assert_eq!(
            next(Status::Transferred, A::Close),
            Err(Refusal::WrongStatus)
        );
        assert!(Status::Returned.with_department() && !Status::Replied.with_department());
        assert!(Status::Replied.is_open() && !Status::Answered.is_open());
    }

    #[test]
    fn merges_need_two_live_tickets() {
        let (a, b) = (uuid::Uuid::from_u128(1), uuid::Uuid::from_u128(2));
        assert!(check_merge(a, Status::New, b, Status::Transferred).is_ok());
        assert_eq!(
            check_merge(a, Status::New, a, Status::New),
            Err(Refusal::CannotMerge)
        );
        assert_eq!(
            check_merge(a, Status::Closed, b, Status::New),
            Err(Refusal::CannotMerge)
        );
        assert_eq!(
            check_merge(a, Status::New, b, Status::Merged),
            Err(Refusal::CannotMerge)
        );
        assert_eq!(
            check_merge(a, Status::New, b, Status::Closed),
            Err(Refusal::CannotMerge)
        );
    }

    #[test]
    fn terms_are_working_days_or_working_hours() {
        let c = Calendar::default();
        let h = BusinessHours::default();
        // Taken on 29 January 2020 (holiday): 3 working days → 5 February 17:30.
        let due = Term::default_for(Category::PriceGouging, false)
            .due(&c, h, datetime!(2020-01-29 02:00 UTC))
            .unwrap();
        assert_eq!(beijing(due), datetime!(2020-02-05 17:30 +8));
        // Urgent, at 11:00 on a Monday: 2 working hours → 14:30 + 1 h.
        let due = Term::default_for(Category::EpidemicClue, true)
            .due(&c, h, datetime!(2026-11-30 03:00 UTC))
            .unwrap();
        assert_eq!(beijing(due), datetime!(2026-11-30 15:30 +8));
        assert_eq!(Term::check(Some(3), None).unwrap(), Some(Term::Workdays(3)));
        assert_eq!(Term::check(None, Some(4)).unwrap(), Some(Term::Hours(4)));
        assert_eq!(Term::check(None, None).unwrap(), None);
        assert!(Term::check(Some(0), None).is_err());
        assert!(Term::check(Some(31), None).is_err());
        assert!(Term::check(None, Some(49)).is_err());
        assert_eq!(
            Term::check(Some(1), Some(1)).unwrap_err().code,
            "hotline.term.both"
        );
        assert!(
            Term::Workdays(3)
                .due(&c, h, datetime!(2026-12-30 02:00 UTC))
                .is_err()
        );
    }

    #[test]
    fn standing_flags_near_and_overdue() {
        let due = datetime!(2026-11-30 09:30 UTC);
        assert_eq!(
            Standing::of(due, datetime!(2026-11-28 09:00 UTC), false),
            Standing::OnTime
        );
        assert_eq!(
            Standing::of(due, datetime!(2026-11-30 01:00 UTC), false),
            Standing::NearDue
        );
        assert_eq!(
            Standing::of(due, datetime!(2026-11-30 07:00 UTC), true),
            Standing::OnTime
        );
        assert_eq!(
            Standing::of(due, datetime!(2026-11-30 09:00 UTC), true),
            Standing::NearDue
        );
        assert_eq!(
            Standing::of(due, datetime!(2026-11-30 09:31 UTC), true),
            Standing::Overdue
        );
    }

    #[test]
    fn departments_have_a_code_and_a_name() {
        assert_eq!(
            check_department("SCJG", " 区市场监督管理局 ").unwrap(),
            ("SCJG".to_owned(), "区市场监督管理局".to_owned())
        );
        let e = check_department("scjg", "").unwrap_err();
        assert_eq!(e.len(), 2);
    }
}
