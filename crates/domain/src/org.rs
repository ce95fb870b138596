//! The organisation: sites in a tree, resident units and their windows.

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

#[cfg(test)]
mod tests {
    use super::*;

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
