//! The demo district: Jiedong district's service centre and the centres under it.
//!
//! Names follow the real district (揭阳市揭东区); codes, addresses, capacities and the
//! window layout are illustrative.

use crate::org::{Name, NewSite, NewUnit, SiteCode, SiteKind};

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
