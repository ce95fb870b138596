//! Who may do what: the roles of the plan and the one permission table.
//!
//! Every route declares one [`Permission`]; [`Role::can`] answers from [`GRANTS`], the only
//! place grants are written. A grant always applies to the account's own site and the
//! sites below it (see [`Scope`]); records of other subtrees do not exist for the account.

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
    /// A department hotline tickets are transferred to (承办单位): sees and replies to its
    /// own tickets only.
    Department,
    /// A thermal scanner or door counter: records readings and passages with its token.
    Device,
    /// Anyone not signed in: citizens on their phones.
    Public,
}

impl Role {
    pub const ALL: [Role; 14] = [
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
        Role::Department,
        Role::Device,
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
            Role::Department => "department",
            Role::Device => "device",
            Role::Public => "public",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// What a route or an action needs. Later areas add their own permissions here and to
/// [`GRANTS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Anyone, signed in or not (citizens' pages, sign-in, health checks).
    Public,
    /// Any signed-in account: its own password, tokens and the dashboard.
    SignedIn,
    /// See sites, checkpoints, resident units, windows and the working groups.
    OrgRead,
    /// Create and change sites, checkpoints, units, windows and the working groups.
    OrgManage,
    /// See staff and volunteers (personal fields masked).
    PeopleRead,
    /// Add and change staff and volunteers.
    PeopleManage,
    /// Reveal one personal field of one person (audited).
    PersonalReveal,
    /// Create accounts, reset passwords, lift lockouts.
    UsersManage,
    /// Read the audit log.
    AuditRead,
    /// Forward records from a site node.
    SyncWrite,
    /// See forwarded records and their counts.
    SyncRead,
    /// Scrape `/metrics`.
    Metrics,
    /// Record a door screening or a passage (the checkpoint page, devices).
    ScreeningRecord,
    /// Re-check people in the buffer zone.
    BufferCheck,
    /// See the live occupancy of halls.
    OccupancyRead,
    /// List and export door records (personal fields masked).
    ScreeningRecords,
    /// Record one's own pre- and post-shift temperature.
    StaffCheckSelf,
    /// See who is missing today's staff checks.
    StaffChecksRead,
    /// Register devices and revoke their tokens.
    DevicesManage,
    /// Run the retention purge of door records now (it also runs hourly).
    RecordsPurge,
    /// See the suspected-case ledger (personal fields masked) and its exposure lists.
    CasesRead,
    /// Open a case record by hand (a staff member reporting symptoms).
    CasesOpen,
    /// Record a case's actions and outcome.
    CasesWrite,
    /// Export the ledger and exposure lists with personal fields in full (audited).
    CasesExport,
    /// See open alerts (the banner) and the fever-rate dashboard.
    AlertsRead,
    /// Acknowledge an alert for the leadership group.
    AlertsAcknowledge,
    /// Record a report to the district command office.
    UpwardReport,
    /// Configure a site's group-robot webhooks and read their delivery log.
    WebhooksManage,
    /// Read daily reports, roll-ups, their archive and the leadership dashboard.
    ReportsRead,
    /// Review and submit a site's daily report.
    ReportsSubmit,
    /// Acknowledge or return the daily reports of the sites below.
    ReportsDecide,
    /// See hotline tickets (a department: only those sent to it), search them, and see
    /// hot issues and supervision lists.
    HotlineRead,
    /// Take tickets and carry them through: answer, transfer, review, follow up, close,
    /// reopen, merge, supervise.
    HotlineHandle,
    /// A department's reply to a ticket sent to it.
    HotlineReply,
    /// Reveal a caller's name or phone (audited), to call back.
    HotlineReveal,
    /// Keep the knowledge base and the departments.
    HotlineManage,
    /// Read and export the daily hotline summary.
    HotlineSummary,
    /// Change days of the working calendar.
    CalendarManage,
}

impl Permission {
    pub const ALL: [Permission; 38] = [
        Permission::Public,
        Permission::SignedIn,
        Permission::OrgRead,
        Permission::OrgManage,
        Permission::PeopleRead,
        Permission::PeopleManage,
        Permission::PersonalReveal,
        Permission::UsersManage,
        Permission::AuditRead,
        Permission::SyncWrite,
        Permission::SyncRead,
        Permission::Metrics,
        Permission::ScreeningRecord,
        Permission::BufferCheck,
        Permission::OccupancyRead,
        Permission::ScreeningRecords,
        Permission::StaffCheckSelf,
        Permission::StaffChecksRead,
        Permission::DevicesManage,
        Permission::RecordsPurge,
        Permission::CasesRead,
        Permission::CasesOpen,
        Permission::CasesWrite,
        Permission::CasesExport,
        Permission::AlertsRead,
        Permission::AlertsAcknowledge,
        Permission::UpwardReport,
        Permission::WebhooksManage,
        Permission::ReportsRead,
        Permission::ReportsSubmit,
        Permission::ReportsDecide,
        Permission::HotlineRead,
        Permission::HotlineHandle,
        Permission::HotlineReply,
        Permission::HotlineReveal,
        Permission::HotlineManage,
        Permission::HotlineSummary,
        Permission::CalendarManage,
    ];
}

use Permission as P;
use Role as R;

/// Staff roles that work in a hall and see its organisation.
const STAFF: &[Role] = &[
    R::Admin,
    R::Leader,
    R::Support,
    R::Service,
    R::Web,
    R::Hotline,
    R::Procurement,
    R::Volunteer,
    R::Window,
    R::UnitAdmin,
    R::Upper,
];

/// The permission table: each permission and the roles granted it (besides `Public` and
/// `SignedIn`, which follow from being anyone or having an account).
pub const GRANTS: &[(Permission, &[Role])] = &[
    (P::OrgRead, STAFF),
    (P::OrgManage, &[R::Admin, R::Leader]),
    (
        P::PeopleRead,
        &[R::Admin, R::Leader, R::Support, R::Service, R::UnitAdmin],
    ),
    (P::PeopleManage, &[R::Admin, R::Support, R::UnitAdmin]),
    // Unit administrators see their hall's people masked: a grant covers a whole site,
    // not one unit, so revealing is kept to the hall's leadership and support group.
    (P::PersonalReveal, &[R::Admin, R::Leader, R::Support]),
    (P::UsersManage, &[R::Admin]),
    (P::AuditRead, &[R::Admin]),
    (P::SyncWrite, &[R::Admin]),
    (P::SyncRead, &[R::Admin, R::Leader, R::Upper]),
    (P::Metrics, &[R::Admin]),
    // The door is kept by the volunteer team under the support group (综合保障组).
    (
        P::ScreeningRecord,
        &[R::Admin, R::Support, R::Volunteer, R::Device],
    ),
    (P::BufferCheck, &[R::Admin, R::Support, R::Volunteer]),
    (P::OccupancyRead, STAFF),
    (P::ScreeningRecords, &[R::Admin, R::Leader, R::Support]),
    (
        P::StaffCheckSelf,
        &[
            R::Admin,
            R::Leader,
            R::Support,
            R::Service,
            R::Web,
            R::Hotline,
            R::Procurement,
            R::Window,
            R::UnitAdmin,
        ],
    ),
    (
        P::StaffChecksRead,
        &[R::Admin, R::Leader, R::Support, R::UnitAdmin],
    ),
    (P::DevicesManage, &[R::Admin]),
    (P::RecordsPurge, &[R::Admin]),
    // 二(四): the leadership group receives the report at once and reports upward; the
    // support group (综合保障组) runs the door and keeps the ledger with it; the district
    // command office reads what is reported to it.
    (P::CasesRead, &[R::Admin, R::Leader, R::Support, R::Upper]),
    // A unit administrator reports a staff member of the unit but does not read the ledger.
    (
        P::CasesOpen,
        &[R::Admin, R::Leader, R::Support, R::UnitAdmin],
    ),
    (P::CasesWrite, &[R::Admin, R::Leader, R::Support]),
    (P::CasesExport, &[R::Admin, R::Leader]),
    (P::AlertsRead, &[R::Admin, R::Leader, R::Support, R::Upper]),
    (P::AlertsAcknowledge, &[R::Admin, R::Leader]),
    (P::UpwardReport, &[R::Admin, R::Leader]),
    (P::WebhooksManage, &[R::Admin]),
    // 三(三): the support group compiles the daily report and the leadership group answers
    // for it; the parent site's leaders acknowledge or return; the district office reads.
    (P::ReportsRead, &[R::Admin, R::Leader, R::Support, R::Upper]),
    (P::ReportsSubmit, &[R::Admin, R::Leader, R::Support]),
    (P::ReportsDecide, &[R::Admin, R::Leader]),
    // 二(七): the hotline group (热线舆情组) takes, transfers, supervises and follows up;
    // departments see and answer only what is sent to them; the leadership group and the
    // district office read the summaries.
    (
        P::HotlineRead,
        &[R::Admin, R::Leader, R::Hotline, R::Department],
    ),
    (P::HotlineHandle, &[R::Admin, R::Hotline]),
    (P::HotlineReply, &[R::Admin, R::Department]),
    (P::HotlineReveal, &[R::Admin, R::Hotline]),
    (P::HotlineManage, &[R::Admin, R::Hotline]),
    (
        P::HotlineSummary,
        &[R::Admin, R::Leader, R::Hotline, R::Upper],
    ),
    (P::CalendarManage, &[R::Admin]),
];

impl Role {
    /// Whether this role holds `permission` (within its own subtree).
    pub fn can(self, permission: Permission) -> bool {
        match permission {
            Permission::Public => true,
            Permission::SignedIn => self != Role::Public,
            p => GRANTS
                .iter()
                .any(|(g, roles)| *g == p && roles.contains(&self)),
        }
    }

    /// Roles an administrator may give an account (devices are registered on their own
    /// page, and the public is no account).
    pub fn assignable() -> impl Iterator<Item = Role> {
        Role::ALL
            .into_iter()
            .filter(|r| !matches!(r, Role::Public | Role::Device))
    }
}

/// The sites an account's grants cover: its own site and every site below it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Scope {
    sites: std::collections::HashSet<uuid::Uuid>,
}

impl Scope {
    pub fn new(sites: impl IntoIterator<Item = uuid::Uuid>) -> Scope {
        Scope {
            sites: sites.into_iter().collect(),
        }
    }

    /// Whether a record of `site` is visible: outside the scope it does not exist.
    pub fn covers(&self, site: uuid::Uuid) -> bool {
        self.sites.contains(&site)
    }

    pub fn len(&self) -> usize {
        self.sites.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sites.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_permission_but_public_and_signed_in_is_in_the_table_once() {
        for p in Permission::ALL {
            let n = GRANTS.iter().filter(|(g, _)| *g == p).count();
            let expected = usize::from(!matches!(p, P::Public | P::SignedIn));
            assert_eq!(n, expected, "{p:?}");
        }
    }

    #[test]
    fn the_public_holds_only_public() {
        for p in Permission::ALL {
            assert_eq!(Role::Public.can(p), p == P::Public, "{p:?}");
        }
    }

    #[test]
    fn admins_hold_everything_and_the_upper_office_only_reads() {
        assert!(Permission::ALL.into_iter().all(|p| Role::Admin.can(p)));
        for p in [
            P::OrgManage,
            P::PeopleManage,
            P::PersonalReveal,
            P::UsersManage,
            P::SyncWrite,
        ] {
            assert!(!Role::Upper.can(p), "{p:?}");
        }
        assert!(Role::Upper.can(P::SyncRead));
        assert!(!Role::Volunteer.can(P::PeopleRead));
        assert!(Role::Volunteer.can(P::SignedIn));
        assert_eq!(Role::assignable().count(), 12);
        assert!(Role::assignable().all(|r| r != Role::Device));
    }

    #[test]
    fn devices_only_record_at_the_door() {
        for p in Permission::ALL {
            let expected = matches!(p, P::Public | P::SignedIn | P::ScreeningRecord);
            assert_eq!(Role::Device.can(p), expected, "{p:?}");
        }
        assert!(Role::Volunteer.can(P::BufferCheck));
        assert!(!Role::Volunteer.can(P::ScreeningRecords));
        assert!(Role::UnitAdmin.can(P::StaffChecksRead));
        assert!(!Role::Window.can(P::StaffChecksRead));
        assert!(Role::Window.can(P::StaffCheckSelf));
    }

    #[test]
    fn leaders_acknowledge_and_report_upward_the_district_only_reads() {
        for p in [P::AlertsAcknowledge, P::UpwardReport, P::CasesExport] {
            assert!(Role::Leader.can(p), "{p:?}");
            assert!(!Role::Upper.can(p), "{p:?}");
            assert!(!Role::Volunteer.can(p), "{p:?}");
        }
        assert!(Role::Upper.can(P::CasesRead) && Role::Upper.can(P::AlertsRead));
        assert!(!Role::Upper.can(P::CasesWrite));
        assert!(Role::UnitAdmin.can(P::CasesOpen) && !Role::UnitAdmin.can(P::CasesRead));
        assert!(
            !Role::UnitAdmin.can(P::CasesWrite),
            "no blind changes of cases"
        );
        assert!(!Role::Leader.can(P::WebhooksManage));
    }

    #[test]
    fn departments_only_read_and_reply_to_their_tickets() {
        for p in Permission::ALL {
            let expected = matches!(
                p,
                P::Public | P::SignedIn | P::HotlineRead | P::HotlineReply
            );
            assert_eq!(Role::Department.can(p), expected, "{p:?}");
        }
        assert!(Role::Hotline.can(P::HotlineHandle) && !Role::Hotline.can(P::HotlineReply));
        assert!(Role::Upper.can(P::HotlineSummary) && !Role::Upper.can(P::HotlineRead));
        assert!(!Role::Leader.can(P::HotlineReveal));
    }

    #[test]
    fn a_scope_covers_only_its_sites() {
        let a = uuid::Uuid::from_u128(1);
        let scope = Scope::new([a]);
        assert!(scope.covers(a));
        assert!(!scope.covers(uuid::Uuid::from_u128(2)));
        assert_eq!(scope.len(), 1);
        assert!(Scope::default().is_empty());
    }

    #[test]
    fn every_role_round_trips_through_its_name() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse("root"), None);
    }
}
