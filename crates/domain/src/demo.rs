//! The demo district: Jiedong district's service centre and the centres under it.
//!
//! Names follow the real district (揭阳市揭东区); codes, addresses, capacities and the
//! window layout are illustrative.

use crate::org::{GroupKind, Name, NewSite, NewUnit, PersonKind, Position, SiteCode, SiteKind};
use crate::privacy::{IdNumber, PersonName, Phone};
use time::{Date, Month};

/// One demo site with the resident units in its hall.
#[derive(Debug, Clone)]
pub struct DemoSite {
    pub site: NewSite,
    pub units: Vec<NewUnit>,
}

/// (code, name, kind, parent code, address, capacity)
type SiteLine = (
    &'static str,
    &'static str,
    SiteKind,
    Option<&'static str>,
    &'static str,
    u32,
);

const SITES: &[SiteLine] = &[
    (
        "JD",
        "揭东区政务服务中心",
        SiteKind::District,
        None,
        "揭阳市揭东区曲溪街道政务服务中心大楼（正门南门）",
        200,
    ),
    (
        "JD-JJ",
        "揭东区政务服务中心交警分中心",
        SiteKind::TrafficBranch,
        Some("JD"),
        "揭阳市揭东区曲溪街道交警大队一楼",
        60,
    ),
    (
        "JD-QX",
        "曲溪街道公共服务中心",
        SiteKind::Town,
        Some("JD"),
        "揭东区曲溪街道办事处一楼",
        50,
    ),
    (
        "JD-PD",
        "磐东街道公共服务中心",
        SiteKind::Town,
        Some("JD"),
        "揭东区磐东街道办事处一楼",
        50,
    ),
    (
        "JD-XC",
        "锡场镇公共服务中心",
        SiteKind::Town,
        Some("JD"),
        "揭东区锡场镇人民政府一楼",
        40,
    ),
    (
        "JD-XH",
        "新亨镇公共服务中心",
        SiteKind::Town,
        Some("JD"),
        "揭东区新亨镇人民政府一楼",
        40,
    ),
    (
        "JD-YJ",
        "玉滘镇公共服务中心",
        SiteKind::Town,
        Some("JD"),
        "揭东区玉滘镇人民政府一楼",
        40,
    ),
    (
        "JD-YC",
        "月城镇公共服务中心",
        SiteKind::Town,
        Some("JD"),
        "揭东区月城镇人民政府一楼",
        30,
    ),
    (
        "JD-QX-01",
        "曲溪街道新乡村党群服务中心",
        SiteKind::Village,
        Some("JD-QX"),
        "曲溪街道新乡村委会",
        15,
    ),
    (
        "JD-QX-02",
        "曲溪街道路篦村党群服务中心",
        SiteKind::Village,
        Some("JD-QX"),
        "曲溪街道路篦村委会",
        15,
    ),
    (
        "JD-PD-01",
        "磐东街道乔南社区党群服务中心",
        SiteKind::Village,
        Some("JD-PD"),
        "磐东街道乔南社区居委会",
        15,
    ),
    (
        "JD-XC-01",
        "锡场镇锡西村党群服务中心",
        SiteKind::Village,
        Some("JD-XC"),
        "锡场镇锡西村委会",
        12,
    ),
    (
        "JD-XH-01",
        "新亨镇仙美村党群服务中心",
        SiteKind::Village,
        Some("JD-XH"),
        "新亨镇仙美村委会",
        12,
    ),
];

/// Resident units of the district hall: (code, name, is the bureau, windows).
const DISTRICT_UNITS: &[(&str, &str, bool, &[u32])] = &[
    (
        "ZSJ",
        "区政务服务数据管理局（“大一门”综合服务）",
        true,
        &[1, 2, 3],
    ),
    ("GA", "区公安分局", false, &[4, 5, 6]),
    ("RS", "区人力资源和社会保障局", false, &[7, 8]),
    ("SJ", "区市场监督管理局", false, &[9, 10, 11]),
    ("ZR", "区自然资源局", false, &[12]),
    ("ZJ", "区住房和城乡建设局", false, &[13]),
    ("YB", "区医疗保障局", false, &[14, 15]),
    ("SW", "国家税务总局揭阳市揭东区税务局", false, &[16, 17, 18]),
    ("BDC", "区不动产登记中心", false, &[19, 20]),
    ("GZJ", "市公共资源交易中心揭东分中心", false, &[21]),
];

/// The whole demo district, parents before children.
pub fn district() -> Vec<DemoSite> {
    SITES
        .iter()
        .map(|&(code, name, kind, parent, address, capacity)| DemoSite {
            site: NewSite {
                code: SiteCode::parse(code).expect("demo code is valid"),
                name: Name::parse(name, "name").expect("demo name is valid"),
                kind,
                parent: parent.map(|p| SiteCode::parse(p).expect("demo parent is valid")),
                address: address.to_owned(),
                capacity,
            },
            units: units_for(kind),
        })
        .collect()
}

fn units_for(kind: SiteKind) -> Vec<NewUnit> {
    let unit = |code: &str, name: &str, is_bureau: bool, windows: &[u32]| NewUnit {
        code: code.to_owned(),
        name: Name::parse(name, "name").expect("demo unit name is valid"),
        is_bureau,
        windows: windows.to_vec(),
    };
    match kind {
        SiteKind::District => DISTRICT_UNITS
            .iter()
            .map(|&(c, n, b, w)| unit(c, n, b, w))
            .collect(),
        SiteKind::TrafficBranch => vec![
            unit("JJ", "揭东交警大队车驾管业务", false, &[1, 2, 3, 4]),
            unit("ZSJ", "区政务服务数据管理局导询台", true, &[]),
        ],
        SiteKind::Town => vec![
            unit("ZHFW", "综合服务窗口", true, &[1, 2, 3]),
            unit("SB", "社保医保窗口", false, &[4]),
        ],
        SiteKind::Village => vec![unit("DB", "代办服务窗口", true, &[1])],
    }
}

/// A demo person: fictitious, with a valid (never issued) ID number and phone number.
#[derive(Debug, Clone)]
pub struct DemoPerson {
    pub kind: PersonKind,
    /// Code of the resident unit the person works for (`None`: the site itself).
    pub unit: Option<String>,
    pub job: &'static str,
    pub name: PersonName,
    pub phone: Phone,
    pub id_number: IdNumber,
    /// Memberships in the leadership group and the working groups.
    pub groups: Vec<(GroupKind, Position)>,
}

/// (name, job, kind, unit, groups)
type PersonLine = (
    &'static str,
    &'static str,
    PersonKind,
    Option<&'static str>,
    &'static [(GroupKind, Position)],
);

use GroupKind as G;
use Position as P;

/// The district hall's people: the leadership group as the plan forms it (party secretary
/// heads it, the director is executive deputy), the five working groups, the door
/// volunteers and some window staff.
const DISTRICT_PEOPLE: &[PersonLine] = &[
    (
        "陈志远",
        "局党组书记",
        PersonKind::Staff,
        Some("ZSJ"),
        &[(G::Leadership, P::Head)],
    ),
    (
        "林建华",
        "局长",
        PersonKind::Staff,
        Some("ZSJ"),
        &[(G::Leadership, P::ExecutiveDeputy)],
    ),
    (
        "黄晓明",
        "副局长",
        PersonKind::Staff,
        Some("ZSJ"),
        &[(G::Leadership, P::Deputy), (G::Support, P::Head)],
    ),
    (
        "郑丽娟",
        "副局长",
        PersonKind::Staff,
        Some("ZSJ"),
        &[(G::Leadership, P::Deputy), (G::Service, P::Head)],
    ),
    (
        "吴国栋",
        "纪检组长",
        PersonKind::Staff,
        Some("ZSJ"),
        &[(G::Leadership, P::Deputy), (G::Procurement, P::Head)],
    ),
    (
        "蔡伟强",
        "办公室主任",
        PersonKind::Staff,
        Some("ZSJ"),
        &[(G::Support, P::Deputy)],
    ),
    (
        "许文静",
        "信息股股长",
        PersonKind::Staff,
        Some("ZSJ"),
        &[(G::Web, P::Head)],
    ),
    (
        "杨海燕",
        "热线中心主任",
        PersonKind::Staff,
        Some("ZSJ"),
        &[(G::Hotline, P::Head)],
    ),
    (
        "谢佳慧",
        "热线话务员",
        PersonKind::Staff,
        Some("ZSJ"),
        &[(G::Hotline, P::Member)],
    ),
    (
        "刘振宇",
        "综合窗口主管",
        PersonKind::Staff,
        Some("ZSJ"),
        &[(G::Service, P::Member)],
    ),
    (
        "王淑芬",
        "财务",
        PersonKind::Staff,
        Some("ZSJ"),
        &[(G::Procurement, P::Member)],
    ),
    (
        "李嘉欣",
        "网站编辑",
        PersonKind::Staff,
        Some("ZSJ"),
        &[(G::Web, P::Member)],
    ),
    (
        "张国强",
        "健康检查志愿者",
        PersonKind::Volunteer,
        None,
        &[(G::Support, P::Member)],
    ),
    (
        "邱美玲",
        "健康检查志愿者",
        PersonKind::Volunteer,
        None,
        &[(G::Support, P::Member)],
    ),
    ("方俊杰", "健康检查志愿者", PersonKind::Volunteer, None, &[]),
    ("詹晓红", "健康检查志愿者", PersonKind::Volunteer, None, &[]),
    ("孙立新", "窗口工作人员", PersonKind::Staff, Some("RS"), &[]),
    ("马丽", "窗口工作人员", PersonKind::Staff, Some("BDC"), &[]),
    ("周建国", "窗口工作人员", PersonKind::Staff, Some("GA"), &[]),
];

/// Each town or village centre: its head, a door volunteer and a window clerk.
const SMALL_PEOPLE: &[PersonLine] = &[
    (
        "洪少雄",
        "中心主任",
        PersonKind::Staff,
        None,
        &[(G::Leadership, P::Head)],
    ),
    (
        "卢秀英",
        "健康检查志愿者",
        PersonKind::Volunteer,
        None,
        &[(G::Support, P::Member)],
    ),
    ("江海涛", "窗口工作人员", PersonKind::Staff, None, &[]),
];

/// Jiedong district's administrative division code (ID numbers start with it).
const REGION: &str = "445203";

/// The demo people of the site at `index` in [`district`], numbered from `first` so every
/// ID number and phone in the demo is distinct.
pub fn people(site: &DemoSite, index: usize) -> Vec<DemoPerson> {
    let lines = if site.site.kind == SiteKind::District {
        DISTRICT_PEOPLE
    } else {
        SMALL_PEOPLE
    };
    let bureau = site
        .units
        .iter()
        .find(|u| u.is_bureau)
        .map(|u| u.code.clone());
    lines
        .iter()
        .enumerate()
        .filter_map(|(i, &(name, job, kind, unit, groups))| {
            let n = index * 100 + i;
            let unit = match unit {
                Some(code) => site
                    .units
                    .iter()
                    .find(|u| u.code == code)
                    .map(|u| u.code.clone()),
                None if kind == PersonKind::Staff => bureau.clone(),
                None => None,
            };
            let year = 1965 + i32::try_from(n % 35).ok()?;
            let month = Month::try_from(u8::try_from(1 + n % 12).ok()?).ok()?;
            let birth =
                Date::from_calendar_date(year, month, u8::try_from(1 + n % 28).ok()?).ok()?;
            Some(DemoPerson {
                kind,
                unit,
                job,
                name: PersonName::parse(name, "name").ok()?,
                phone: Phone::parse(&format!("1380{:07}", 6630000 + n), "phone").ok()?,
                id_number: IdNumber::compose(REGION, birth, u16::try_from(n % 1000).ok()?)?,
                groups: groups.to_vec(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::org::check_placement;
    use std::collections::HashMap;

    #[test]
    fn demo_district_is_a_valid_tree_with_parents_first() {
        let sites = district();
        assert_eq!(sites.len(), 13);
        let mut seen: HashMap<String, SiteKind> = HashMap::new();
        for s in &sites {
            let parent_kind = s.site.parent.as_ref().map(|p| {
                *seen
                    .get(p.as_str())
                    .unwrap_or_else(|| panic!("{} listed before its parent", s.site.code))
            });
            check_placement(s.site.kind, parent_kind).expect("placement follows the plan");
            assert!(
                seen.insert(s.site.code.as_str().to_owned(), s.site.kind)
                    .is_none(),
                "duplicate code {}",
                s.site.code
            );
        }
    }

    #[test]
    fn demo_people_are_valid_distinct_and_staff_the_groups() {
        let today = Date::from_calendar_date(2020, Month::January, 29).unwrap();
        let sites = district();
        let mut ids = std::collections::HashSet::new();
        let mut phones = std::collections::HashSet::new();
        for (i, s) in sites.iter().enumerate() {
            let people = people(s, i);
            let expected = if i == 0 {
                DISTRICT_PEOPLE.len()
            } else {
                SMALL_PEOPLE.len()
            };
            assert_eq!(people.len(), expected, "{}", s.site.code);
            for p in &people {
                assert!(IdNumber::parse(p.id_number.as_str(), "id", today).is_ok());
                assert!(p.id_number.as_str().starts_with(REGION));
                assert!(ids.insert(p.id_number.as_str().to_owned()));
                assert!(phones.insert(p.phone.as_str().to_owned()));
                if let Some(u) = &p.unit {
                    assert!(
                        s.units.iter().any(|x| &x.code == u),
                        "{u} at {}",
                        s.site.code
                    );
                }
                assert_eq!(
                    p.unit.is_some(),
                    p.kind == PersonKind::Staff,
                    "{:?}",
                    p.name
                );
            }
        }
        let hall = people(&sites[0], 0);
        for g in GroupKind::ALL {
            let heads = hall
                .iter()
                .filter(|p| p.groups.contains(&(g, Position::Head)))
                .count();
            assert_eq!(heads, 1, "{g:?} has one head");
        }
    }

    #[test]
    fn every_site_has_a_bureau_desk_and_distinct_windows() {
        for s in district() {
            assert!(s.units.iter().any(|u| u.is_bureau), "{}", s.site.code);
            let mut windows: Vec<u32> = s.units.iter().flat_map(|u| u.windows.clone()).collect();
            let n = windows.len();
            windows.sort_unstable();
            windows.dedup();
            assert_eq!(windows.len(), n, "window numbers repeat at {}", s.site.code);
        }
    }
}
