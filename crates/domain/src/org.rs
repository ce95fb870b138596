//! The organisation: sites in a tree, their checkpoints, resident units and their
//! windows, the people who work there, and the leadership group with its five working
//! groups (seed 三(一)).

use crate::FieldError;
use serde::{Deserialize, Serialize};

/// What kind of centre a site is (seed 三(一): the district centre, its traffic-police
/// branch, town/street public service centres, village/community service centres).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SiteKind {
    District,
    TrafficBranch,
    Town,
    Village,
}

impl SiteKind {
    pub const ALL: [SiteKind; 4] = [
        SiteKind::District,
        SiteKind::TrafficBranch,
        SiteKind::Town,
        SiteKind::Village,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            SiteKind::District => "district",
            SiteKind::TrafficBranch => "traffic_branch",
            SiteKind::Town => "town",
            SiteKind::Village => "village",
        }
    }

    pub fn parse(s: &str) -> Result<SiteKind, FieldError> {
        SiteKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(FieldError::new("kind", "site.kind.invalid"))
    }

    /// Which kind of site may stand directly above this one (`None`: only at the root).
    pub const fn parent_kind(self) -> Option<SiteKind> {
        match self {
            SiteKind::District => None,
            SiteKind::TrafficBranch | SiteKind::Town => Some(SiteKind::District),
            SiteKind::Village => Some(SiteKind::Town),
        }
    }
}

/// A site's short code, unique across the whole deployment (`JD`, `JD-QX`, `JD-QX-01`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SiteCode(String);

impl SiteCode {
    /// 1 to 32 characters: ASCII upper-case letters, digits and inner hyphens.
    pub fn parse(raw: &str) -> Result<SiteCode, FieldError> {
        let s = raw.trim();
        let ok = !s.is_empty()
            && s.len() <= 32
            && s.bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
            && !s.starts_with('-')
            && !s.ends_with('-')
            && !s.contains("--");
        if ok {
            Ok(SiteCode(s.to_owned()))
        } else {
            Err(FieldError::new("code", "site.code.invalid"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for SiteCode {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        SiteCode::parse(&s)
    }
}

impl From<SiteCode> for String {
    fn from(c: SiteCode) -> String {
        c.0
    }
}

impl std::fmt::Display for SiteCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// A display name (site, unit): trimmed, 1 to 64 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Name(String);

impl Name {
    pub fn parse(raw: &str, field: &'static str) -> Result<Name, FieldError> {
        let s = raw.trim();
        let count = s.chars().count();
        if count == 0 {
            return Err(FieldError::new(field, "name.empty"));
        }
        if count > 64 || s.chars().any(char::is_control) {
            return Err(FieldError::new(field, "name.invalid"));
        }
        Ok(Name(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How many people may be inside a site at once: 1 to 100 000.
pub fn parse_capacity(n: i64) -> Result<u32, FieldError> {
    u32::try_from(n)
        .ok()
        .filter(|c| (1..=100_000).contains(c))
        .ok_or(FieldError::new("capacity", "site.capacity.invalid"))
}

/// A site to be created, already validated field by field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewSite {
    pub code: SiteCode,
    pub name: Name,
    pub kind: SiteKind,
    pub parent: Option<SiteCode>,
    pub address: String,
    pub capacity: u32,
}

/// Checks that a site of `kind` may hang under a parent of `parent_kind`.
pub fn check_placement(kind: SiteKind, parent_kind: Option<SiteKind>) -> Result<(), FieldError> {
    match (kind.parent_kind(), parent_kind) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(FieldError::new("parent", "site.parent.not_allowed")),
        (Some(_), None) => Err(FieldError::new("parent", "site.parent.required")),
        (Some(want), Some(got)) if want == got => Ok(()),
        (Some(_), Some(_)) => Err(FieldError::new("parent", "site.parent.wrong_kind")),
    }
}

/// A resident unit (进驻单位) with windows in a hall, or the bureau itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewUnit {
    pub code: String,
    pub name: Name,
    pub is_bureau: bool,
    /// Window numbers this unit staffs in the hall.
    pub windows: Vec<u32>,
}

/// A site's temperature threshold in tenths of a degree Celsius (37.3 °C → 373).
pub const DEFAULT_THRESHOLD: u16 = 373;

/// Parses a threshold typed as degrees Celsius with at most one decimal, 36.0 to 40.0.
pub fn parse_threshold(raw: &str) -> Result<u16, FieldError> {
    let bad = FieldError::new("threshold", "site.threshold.invalid");
    let s = raw.trim();
    let (whole, frac) = s.split_once('.').unwrap_or((s, "0"));
    if whole.is_empty()
        || frac.len() != 1
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
        || whole.len() > 2
    {
        return Err(bad);
    }
    let tenths =
        whole.parse::<u16>().map_err(|_| bad)? * 10 + frac.parse::<u16>().map_err(|_| bad)?;
    if (360..=400).contains(&tenths) {
        Ok(tenths)
    } else {
        Err(bad)
    }
}

/// An address: trimmed, at most 200 characters, no control characters; may be empty.
pub fn parse_address(raw: &str) -> Result<String, FieldError> {
    let s = raw.trim();
    if s.chars().count() > 200 || s.chars().any(char::is_control) {
        Err(FieldError::new("address", "site.address.invalid"))
    } else {
        Ok(s.to_owned())
    }
}

/// Shows a threshold as degrees with one decimal.
pub fn format_tenths(tenths: u16) -> String {
    format!("{}.{}", tenths / 10, tenths % 10)
}

/// Opening hours: one or more `HH:MM-HH:MM` ranges separated by commas, each ending after
/// it starts and after the previous one ends (`08:30-12:00,14:30-17:30`).
pub fn parse_opening_hours(raw: &str) -> Result<String, FieldError> {
    let bad = FieldError::new("opening_hours", "site.hours.invalid");
    let minutes = |t: &str| -> Option<u32> {
        let (h, m) = t.trim().split_once(':')?;
        if h.len() != 2 || m.len() != 2 || !h.bytes().chain(m.bytes()).all(|b| b.is_ascii_digit()) {
            return None;
        }
        let (h, m) = (h.parse::<u32>().ok()?, m.parse::<u32>().ok()?);
        (h < 24 && m < 60).then_some(h * 60 + m)
    };
    let mut last_end = None;
    let mut out = Vec::new();
    for part in raw.split([',', '，']) {
        let (a, b) = part.split_once('-').ok_or(bad)?;
        let (start, end) = (minutes(a).ok_or(bad)?, minutes(b).ok_or(bad)?);
        if end <= start || last_end.is_some_and(|l| start < l) {
            return Err(bad);
        }
        last_end = Some(end);
        out.push(format!("{}-{}", a.trim(), b.trim()));
    }
    Ok(out.join(","))
}

/// The plan's hours at the district hall: mornings and afternoons on working days.
pub const DEFAULT_OPENING_HOURS: &str = "08:30-12:00,14:30-17:30";

/// An entrance where people are measured (seed 二(二): the south gate is the only one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewCheckpoint {
    pub code: SiteCode,
    pub name: Name,
    pub is_main: bool,
}

/// Whether a person is staff of the hall (bureau or resident unit) or a volunteer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonKind {
    Staff,
    Volunteer,
}

impl PersonKind {
    pub const ALL: [PersonKind; 2] = [PersonKind::Staff, PersonKind::Volunteer];

    pub const fn as_str(self) -> &'static str {
        match self {
            PersonKind::Staff => "staff",
            PersonKind::Volunteer => "volunteer",
        }
    }

    pub fn parse(s: &str) -> Result<PersonKind, FieldError> {
        PersonKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(FieldError::new("kind", "person.kind.invalid"))
    }
}

/// The leadership group and its five working groups (seed 三(一)).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupKind {
    /// 疫情防控领导小组.
    Leadership,
    /// 综合保障组.
    Support,
    /// 优化服务组.
    Service,
    /// 网络网站组.
    Web,
    /// 热线舆情组.
    Hotline,
    /// 采购服务组.
    Procurement,
}

impl GroupKind {
    pub const ALL: [GroupKind; 6] = [
        GroupKind::Leadership,
        GroupKind::Support,
        GroupKind::Service,
        GroupKind::Web,
        GroupKind::Hotline,
        GroupKind::Procurement,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            GroupKind::Leadership => "leadership",
            GroupKind::Support => "support",
            GroupKind::Service => "service",
            GroupKind::Web => "web",
            GroupKind::Hotline => "hotline",
            GroupKind::Procurement => "procurement",
        }
    }

    pub fn parse(s: &str) -> Result<GroupKind, FieldError> {
        GroupKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or(FieldError::new("group", "group.kind.invalid"))
    }

    /// The duties the plan gives the group, as a starting text the site may rewrite.
    pub const fn default_duties(self) -> &'static str {
        match self {
            GroupKind::Leadership => {
                "负责局机关及下属单位、区政务服务中心疫情防控工作的组织、指挥、协调工作，及时向上级报告防控情况，积极争取区卫健、公安等部门的支持配合。"
            }
            GroupKind::Support => {
                "负责健康检查志愿服务队、健康检查区和缓冲区、工作人员上岗前与下班后体温监测、环境清洁消毒和用餐安排。"
            }
            GroupKind::Service => {
                "负责优化办事服务：推行网上办、免证办和容缺受理，推进一窗通办，减少大厅排队等候时间。"
            }
            GroupKind::Web => {
                "负责通过政务服务网、门户网站、微信公众号等渠道及时公开政务信息和办事指引。"
            }
            GroupKind::Hotline => {
                "负责政务热线：哄抬物价举报、违规行为投诉、疫情线索、防疫咨询和困难求助的受理、转办、督办，回应热点问题，报告异常情况。"
            }
            GroupKind::Procurement => {
                "负责防护服、口罩、手套、酒精、消毒液等防疫物资的储备、调配和发放。"
            }
        }
    }

    /// Positions a member may hold in this group.
    pub fn positions(self) -> &'static [Position] {
        match self {
            GroupKind::Leadership => &[
                Position::Head,
                Position::ExecutiveDeputy,
                Position::Deputy,
                Position::Member,
            ],
            _ => &[Position::Head, Position::Deputy, Position::Member],
        }
    }
}

/// A member's position in a group: 组长, 常务副组长 (leadership group only), 副组长, 成员.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Position {
    Head,
    ExecutiveDeputy,
    Deputy,
    Member,
}

impl Position {
    pub const ALL: [Position; 4] = [
        Position::Head,
        Position::ExecutiveDeputy,
        Position::Deputy,
        Position::Member,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Position::Head => "head",
            Position::ExecutiveDeputy => "executive_deputy",
            Position::Deputy => "deputy",
            Position::Member => "member",
        }
    }

    /// Parses a position and checks the group has it.
    pub fn parse_for(s: &str, group: GroupKind) -> Result<Position, FieldError> {
        Position::ALL
            .into_iter()
            .find(|p| p.as_str() == s && group.positions().contains(p))
            .ok_or(FieldError::new("position", "group.position.invalid"))
    }
}

/// Window numbers typed as a list (`4, 5，6`): each 1 to 999, none repeated; may be empty.
pub fn parse_windows(raw: &str) -> Result<Vec<u32>, FieldError> {
    let bad = FieldError::new("windows", "unit.windows.invalid");
    let mut out: Vec<u32> = Vec::new();
    for part in raw
        .split([',', '，', '、', ' '])
        .filter(|p| !p.trim().is_empty())
    {
        let n: u32 = part.trim().parse().map_err(|_| bad)?;
        if !(1..=999).contains(&n) || out.contains(&n) {
            return Err(bad);
        }
        out.push(n);
    }
    Ok(out)
}

/// Written duties: up to 2 000 characters, no control characters but line breaks.
pub fn parse_duties(raw: &str) -> Result<String, FieldError> {
    let s = raw.trim();
    if s.chars().count() > 2000 || s.chars().any(|c| c.is_control() && c != '\n' && c != '\r') {
        return Err(FieldError::new("duties", "group.duties.invalid"));
    }
    Ok(s.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_are_degrees_with_one_decimal_in_range() {
        assert_eq!(parse_threshold("37.3"), Ok(373));
        assert_eq!(parse_threshold(" 38 "), Ok(380));
        assert_eq!(format_tenths(373), "37.3");
        for bad in ["", "37.", "37.25", "35.9", "40.1", "abc", "-37.3", "373"] {
            assert!(parse_threshold(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn addresses_are_trimmed_and_bounded() {
        assert_eq!(parse_address(" 曲溪街道 ").unwrap(), "曲溪街道");
        assert_eq!(parse_address("").unwrap(), "");
        for bad in ["a\nb", &"路".repeat(201)] {
            assert_eq!(parse_address(bad).unwrap_err().code, "site.address.invalid");
        }
    }

    #[test]
    fn opening_hours_are_ordered_ranges() {
        assert_eq!(
            parse_opening_hours("08:30-12:00， 14:30-17:30").unwrap(),
            "08:30-12:00,14:30-17:30"
        );
        for bad in [
            "",
            "8:30-12:00",
            "+8:30-12:00",
            "12:00-08:30",
            "08:00-12:00,11:00-13:00",
            "24:00-25:00",
            "08:00",
        ] {
            assert_eq!(
                parse_opening_hours(bad).unwrap_err().code,
                "site.hours.invalid",
                "{bad}"
            );
        }
    }

    #[test]
    fn windows_are_a_list_of_distinct_numbers() {
        assert_eq!(parse_windows("4, 5，6、7"), Ok(vec![4, 5, 6, 7]));
        assert_eq!(parse_windows("  "), Ok(vec![]));
        for bad in ["0", "1000", "4,4", "a", "-1"] {
            assert_eq!(
                parse_windows(bad).unwrap_err().code,
                "unit.windows.invalid",
                "{bad}"
            );
        }
    }

    #[test]
    fn only_the_leadership_group_has_an_executive_deputy() {
        assert_eq!(
            Position::parse_for("executive_deputy", GroupKind::Leadership),
            Ok(Position::ExecutiveDeputy)
        );
        assert!(Position::parse_for("executive_deputy", GroupKind::Hotline).is_err());
        assert!(Position::parse_for("boss", GroupKind::Leadership).is_err());
        for g in GroupKind::ALL {
            assert_eq!(GroupKind::parse(g.as_str()), Ok(g));
            assert!(!g.default_duties().is_empty());
            assert!(parse_duties(g.default_duties()).is_ok());
        }
        assert!(parse_duties("a\u{7}b").is_err());
        assert_eq!(parse_duties(" 第一行\n第二行 ").unwrap(), "第一行\n第二行");
        for k in PersonKind::ALL {
            assert_eq!(PersonKind::parse(k.as_str()), Ok(k));
        }
        assert!(PersonKind::parse("boss").is_err());
    }

    #[test]
    fn site_codes_accept_the_documented_shape() {
        for ok in ["JD", "JD-QX", "JD-QX-01", " JD-JJ "] {
            assert!(SiteCode::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "jd",
            "JD_QX",
            "-JD",
            "JD-",
            "JD--QX",
            "揭东",
            &"A".repeat(33),
        ] {
            assert_eq!(
                SiteCode::parse(bad),
                Err(FieldError::new("code", "site.code.invalid")),
                "{bad}"
            );
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            Name::parse("  揭东区政务服务中心 ", "name")
                .unwrap()
                .as_str(),
            "揭东区政务服务中心"
        );
        assert_eq!(Name::parse("   ", "name").unwrap_err().code, "name.empty");
        assert_eq!(
            Name::parse(&"中".repeat(65), "name").unwrap_err().code,
            "name.invalid"
        );
        assert_eq!(
            Name::parse("a\u{0}b", "name").unwrap_err().code,
            "name.invalid"
        );
    }

    #[test]
    fn capacity_is_positive_and_bounded() {
        assert_eq!(parse_capacity(200), Ok(200));
        assert!(parse_capacity(0).is_err());
        assert!(parse_capacity(-5).is_err());
        assert!(parse_capacity(100_001).is_err());
    }

    #[test]
    fn placement_follows_the_plan_hierarchy() {
        use SiteKind::*;
        assert!(check_placement(District, None).is_ok());
        assert!(check_placement(Town, Some(District)).is_ok());
        assert!(check_placement(TrafficBranch, Some(District)).is_ok());
        assert!(check_placement(Village, Some(Town)).is_ok());
        assert_eq!(
            check_placement(District, Some(District)).unwrap_err().code,
            "site.parent.not_allowed"
        );
        assert_eq!(
            check_placement(Town, None).unwrap_err().code,
            "site.parent.required"
        );
        assert_eq!(
            check_placement(Village, Some(District)).unwrap_err().code,
            "site.parent.wrong_kind"
        );
    }

    #[test]
    fn kinds_parse_from_their_names() {
        for k in SiteKind::ALL {
            assert_eq!(SiteKind::parse(k.as_str()), Ok(k));
        }
        assert!(SiteKind::parse("city").is_err());
    }
}
