//! Who is asking: the roles of the plan.
//!
//! Accounts and the permission table arrive with the access-control area; this module
//! names the roles so navigation and later grants share one vocabulary.

use serde::{Deserialize, Serialize};

/// A role from the plan (MISSION.md, "Who uses it").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// System administrator of a site and its subtree.
    Admin,
    /// Leadership group (组长, 常务副组长, 副组长).
    Leader,
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
    /// Door volunteer (健康检查志愿服务队).
    Volunteer,
    /// Window staff of a resident unit.
    Window,
    /// Administrator of one resident unit.
    UnitAdmin,
    /// District command office: read-only reports and urgent reports.
    Upper,
    /// Anyone not signed in: citizens on their phones.
    Public,
}

impl Role {
    pub const ALL: [Role; 12] = [
        Role::Admin,
        Role::Leader,
        Role::Support,
        Role::Service,
        Role::Web,
        Role::Hotline,
        Role::Procurement,
        Role::Volunteer,
        Role::Window,
        Role::UnitAdmin,
        Role::Upper,
        Role::Public,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Leader => "leader",
            Role::Support => "support",
            Role::Service => "service",
            Role::Web => "web",
            Role::Hotline => "hotline",
            Role::Procurement => "procurement",
            Role::Volunteer => "volunteer",
            Role::Window => "window",
            Role::UnitAdmin => "unit_admin",
            Role::Upper => "upper",
            Role::Public => "public",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_through_its_name() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
