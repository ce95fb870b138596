//! The app shell: layout, role-based navigation, language switch, the home page and its
//! panels, and friendly error pages in both languages.

use crate::access::Principal;
use crate::error::ApiError;
use crate::i18n::{self, Locale};
use crate::{AppState, VERSION};
use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use fangkong_domain::access::{Permission, Role};
use fangkong_domain::clock::{beijing, beijing_day_start};
use fangkong_store::{Backend, org, sync};
use serde::Deserialize;
use std::any::Any;
use time::macros::format_description;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(home))
        .route("/panels/sync", get(sync_panel))
        .route("/lang/{tag}", get(set_language))
}

/// One navigation entry and the permission its page needs (from the one permission table).
struct NavEntry {
    href: &'static str,
    key: &'static str,
    permission: Permission,
}

/// The navigation, in order. Later areas add their entries here.
const NAV: &[NavEntry] = &[
    NavEntry {
        href: "/",
        key: "nav.home",
        permission: Permission::Public,
    },
    NavEntry {
        href: "/org",
        key: "nav.org",
        permission: Permission::OrgRead,
    },
    NavEntry {
        href: "/door",
        key: "nav.door",
        permission: Permission::ScreeningRecord,
    },
    NavEntry {
        href: "/buffer",
        key: "nav.buffer",
        permission: Permission::BufferCheck,
    },
    NavEntry {
        href: "/occupancy",
        key: "nav.occupancy",
        permission: Permission::OccupancyRead,
    },
    NavEntry {
        href: "/staff-checks",
        key: "nav.staff_checks",
        permission: Permission::StaffCheckSelf,
    },
    NavEntry {
        href: "/staff-checks/missing",
        key: "nav.staff_missing",
        permission: Permission::StaffChecksRead,
    },
    NavEntry {
        href: "/screening/records",
        key: "nav.records",
        permission: Permission::ScreeningRecords,
    },
    NavEntry {
        href: "/dashboard",
        key: "nav.dashboard",
        permission: Permission::ReportsRead,
    },
    NavEntry {
        href: "/hotline",
        key: "nav.hotline",
        permission: Permission::HotlineRead,
    },
    NavEntry {
        href: "/reports",
        key: "nav.reports",
        permission: Permission::ReportsRead,
    },
    NavEntry {
        href: "/reports/archive",
        key: "nav.reports_archive",
        permission: Permission::ReportsRead,
    },
    NavEntry {
        href: "/alerts",
        key: "nav.alerts",
        permission: Permission::AlertsRead,
    },
    NavEntry {
        href: "/cases",
        key: "nav.cases",
        permission: Permission::CasesRead,
    },
    NavEntry {
        href: "/cases/new",
        key: "nav.case_new",
        permission: Permission::CasesOpen,
    },
    NavEntry {
        href: "/cases/webhooks",
        key: "nav.webhooks",
        permission: Permission::WebhooksManage,
    },
    NavEntry {
        href: "/screening/devices",
        key: "nav.devices",
        permission: Permission::DevicesManage,
    },
    NavEntry {
        href: "/admin/users",
        key: "nav.users",
        permission: Permission::UsersManage,
    },
    NavEntry {
        href: "/audit",
        key: "nav.audit",
        permission: Permission::AuditRead,
    },
    NavEntry {
        href: "/api/openapi.json",
        key: "nav.api",
        permission: Permission::SignedIn,
    },
];

/// A navigation link as shown.
pub struct NavItem {
    pub href: &'static str,
    pub label: &'static str,
    pub current: bool,
}

fn nav_for(role: Role, locale: Locale, path: &str) -> Vec<NavItem> {
    NAV.iter()
        .filter(|e| role.can(e.permission))
        .map(|e| NavItem {
            href: e.href,
            label: locale.t(e.key),
            current: e.href == path,
        })
        .collect()
}

/// What every page's layout needs.
pub struct Shell {
    pub locale: Locale,
    pub nav: Vec<NavItem>,
    pub lang_href: String,
    pub other_tag: &'static str,
    pub version: &'static str,
    /// The signed-in user's name, for the header.
    pub user: Option<String>,
    /// The CSRF token every form and htmx request on the page carries.
    pub csrf: String,
    /// Whether the live alert banner shows (leaders and whoever else reads alerts).
    pub alerts: bool,
}

impl Shell {
    /// A page for the public (not signed in).
    pub fn new(locale: Locale, path: &str) -> Shell {
        let other = match locale {
            Locale::ZhCn => Locale::En,
            Locale::En => Locale::ZhCn,
        };
        Shell {
            locale,
            nav: nav_for(Role::Public, locale, path),
            lang_href: format!("/lang/{}?next={}", other.tag(), encode(path)),
            other_tag: other.tag(),
            version: VERSION,
            user: None,
            csrf: String::new(),
            alerts: false,
        }
    }

    /// A page for whoever is asking.
    pub fn of(locale: Locale, path: &str, who: &Principal) -> Shell {
        Shell {
            nav: nav_for(who.role(), locale, path),
            user: who.account.as_ref().map(|a| a.username.clone()),
            csrf: who.csrf.clone(),
            alerts: who.can(Permission::AlertsRead),
            ..Shell::new(locale, path)
        }
    }

    /// The `hx-headers` value that sends the CSRF token with htmx requests.
    pub fn hx_headers(&self) -> String {
        serde_json::json!({ (crate::access::CSRF_HEADER): self.csrf }).to_string()
    }

    pub fn t(&self, key: &str) -> &'static str {
        self.locale.t(key)
    }
}

/// A time as shown: Beijing time, to the minute.
pub fn local_time(t: time::OffsetDateTime) -> String {
    beijing(t)
        .format(format_description!("[year]-[month]-[day] [hour]:[minute]"))
        .unwrap_or_default()
}

/// [`local_time`] for templates, which hold times by reference.
pub fn shown(t: &time::OffsetDateTime) -> String {
    local_time(*t)
}

/// Percent-encodes a path for a query value.
pub fn encode(path: &str) -> String {
    path.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'/' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

pub fn render(t: &impl Template) -> Response {
    match t.render() {
        Ok(html) => Html(html).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "template failed");
            error_page(Locale::ZhCn, StatusCode::INTERNAL_SERVER_ERROR)
        }
    }
}

struct SiteLine {
    code: String,
    name: String,
    kind: &'static str,
    capacity: u32,
    depth: u32,
}

#[derive(Template)]
#[template(path = "home.html")]
struct HomePage {
    shell: Shell,
    sites: Vec<SiteLine>,
    count: i64,
    unit: &'static str,
    database: &'static str,
    schema_version: i64,
    started: String,
    /// The live count of forwarded records is for roles that read them.
    can_sync: bool,
    /// Today's daily report of the account's own site, for roles that read reports.
    report: Option<TodayReport>,
}

/// Where the own site's report for today stands.
struct TodayReport {
    href: String,
    status: &'static str,
    status_code: &'static str,
    timeliness: &'static str,
    timeliness_code: &'static str,
    deadline: String,
}

async fn today_report(
    state: &AppState,
    locale: Locale,
    who: &Principal,
) -> Result<Option<TodayReport>, ApiError> {
    use fangkong_domain::reports as rules;
    let Some(acc) = who.account.as_ref() else {
        return Ok(None);
    };
    if !who.can(fangkong_domain::access::Permission::ReportsRead) {
        return Ok(None);
    }
    let now = state.clock.now();
    let day = fangkong_domain::screening::day_of(now);
    let versions =
        fangkong_store::reports::versions(&state.store, &state.vault, acc.site_id, day).await?;
    let deadline = rules::deadline(day, state.reports.deadline);
    let timeliness = rules::timeliness(versions.first().map(|v| v.submitted_at), deadline, now);
    let status = versions.last().map_or("draft", |v| v.status.as_str());
    Ok(Some(TodayReport {
        href: format!("/reports/{}/{day}", encode(&acc.site_code)),
        status: locale.t(&format!("reports.status.{status}")),
        status_code: status,
        timeliness: locale.t(&format!("reports.timeliness.{}", timeliness.as_str())),
        timeliness_code: timeliness.as_str(),
        deadline: local_time(deadline),
    }))
}

#[derive(Template)]
#[template(path = "welcome.html")]
struct WelcomePage {
    shell: Shell,
}

async fn home(State(state): State<AppState>, locale: Locale, who: Principal) -> Response {
    if who.account.is_none() {
        return render(&WelcomePage {
            shell: Shell::new(locale, "/"),
        });
    }
    match home_page(&state, locale, &who).await {
        Ok(page) => render(&page),
        Err(e) => error_page(locale, e.status),
    }
}

async fn home_page(
    state: &AppState,
    locale: Locale,
    who: &Principal,
) -> Result<HomePage, ApiError> {
    let scope = who.scope(&state.store).await?;
    let lines = org::list_sites(&state.store)
        .await?
        .into_iter()
        .filter(|t| scope.covers(t.site.id))
        .map(|t| SiteLine {
            kind: locale.t(&format!("kind.{}", t.site.kind.as_str())),
            code: t.site.code,
            name: t.site.name,
            capacity: t.site.capacity,
            depth: t.depth.min(3),
        })
        .collect();
    let count = sync::count_since(&state.store, beijing_day_start(state.clock.now())).await?;
    let format = format_description!("[year]-[month]-[day] [hour]:[minute]");
    Ok(HomePage {
        shell: Shell::of(locale, "/", who),
        sites: lines,
        count,
        unit: locale.t("panel.sync.count"),
        database: locale.t(match state.store.backend() {
            Backend::Sqlite => "db.sqlite",
            Backend::Postgres => "db.postgres",
        }),
        schema_version: state.schema_version,
        can_sync: who.can(fangkong_domain::access::Permission::SyncRead),
        report: today_report(state, locale, who).await?,
        started: beijing(state.started).format(format).unwrap_or_default(),
    })
}

#[derive(Template)]
#[template(path = "panel_sync.html")]
struct SyncPanel {
    count: i64,
    unit: &'static str,
}

async fn sync_panel(State(state): State<AppState>, locale: Locale) -> Response {
    match sync::count_since(&state.store, beijing_day_start(state.clock.now())).await {
        Ok(count) => render(&SyncPanel {
            count,
            unit: locale.t("panel.sync.count"),
        }),
        Err(e) => ApiError::from(e).into_response(),
    }
}

#[derive(Debug, Deserialize)]
struct Next {
    next: Option<String>,
}

/// Keeps the chosen language in a cookie and returns to the page the user was on.
async fn set_language(Path(tag): Path<String>, Query(q): Query<Next>) -> Response {
    let Some(locale) = Locale::from_tag(&tag) else {
        return not_found_page(Locale::ZhCn);
    };
    let next = q
        .next
        .filter(|n| is_local_path(n))
        .unwrap_or_else(|| "/".to_owned());
    let cookie = format!(
        "{}={}; Path=/; Max-Age=31536000; SameSite=Lax",
        i18n::COOKIE,
        locale.tag()
    );
    let mut res = Redirect::to(&next).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

/// Only a path on this site: never an open redirect (`//host`, `/\\host`, or characters
/// a browser strips, such as a tab in `/\t/host`).
pub fn is_local_path(next: &str) -> bool {
    next.starts_with('/')
        && !next.starts_with("//")
        && next
            .chars()
            .all(|c| !c.is_control() && !c.is_whitespace() && c != '\\')
        && next.parse::<axum::http::uri::PathAndQuery>().is_ok()
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    shell: Shell,
    status: u16,
    title: &'static str,
    body: &'static str,
}

/// A friendly page for a failed request, in the user's language.
pub fn error_page(locale: Locale, status: StatusCode) -> Response {
    let (title, body) = match status {
        StatusCode::NOT_FOUND => ("error.404.title", "error.404.body"),
        StatusCode::FORBIDDEN => ("error.403.title", "error.403.body"),
        StatusCode::UNAUTHORIZED => ("error.401.title", "error.401.body"),
        StatusCode::UNPROCESSABLE_ENTITY | StatusCode::BAD_REQUEST => {
            ("error.400.title", "error.400.body")
        }
        _ => ("error.500.title", "error.500.body"),
    };
    let page = ErrorPage {
        shell: Shell::new(locale, ""),
        status: status.as_u16(),
        title: locale.t(title),
        body: locale.t(body),
    };
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(_) => (status, PANIC_PAGE).into_response(),
    }
}

fn not_found_page(locale: Locale) -> Response {
    error_page(locale, StatusCode::NOT_FOUND)
}

/// Unknown addresses: a problem document under `/api`, a friendly page elsewhere.
pub async fn not_found(locale: Locale, uri: Uri) -> Response {
    if uri.path().starts_with("/api/") {
        ApiError::not_found().into_response()
    } else {
        not_found_page(locale)
    }
}

const PANIC_PAGE: Html<&str> = Html(
    "<!DOCTYPE html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>服务暂时出现问题 · Something went wrong</title><link rel=\"stylesheet\" href=\"/static/app.css\"></head><body><main id=\"main\"><section class=\"error-page\"><p class=\"code\">500</p><h1>服务暂时出现问题</h1><p>我们已记录此问题。请稍后再试。</p><h1 lang=\"en\">Something went wrong on our side</h1><p lang=\"en\">We have logged the problem. Please try again shortly.</p><p><a class=\"button\" href=\"/\">返回首页 · Home</a></p></section></main></body></html>",
);

/// A handler panicked: log it, answer with a page that reveals nothing.
pub fn panic_page(err: Box<dyn Any + Send + 'static>) -> Response {
    let what = err
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| err.downcast_ref::<&str>().copied())
        .unwrap_or("unknown");
    tracing::error!(panic = what, "handler panicked");
    (StatusCode::INTERNAL_SERVER_ERROR, PANIC_PAGE).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn navigation_follows_roles() {
        let public: Vec<_> = nav_for(Role::Public, Locale::ZhCn, "/")
            .iter()
            .map(|n| n.href)
            .collect();
        assert_eq!(public, ["/"]);
        let admin: Vec<_> = nav_for(Role::Admin, Locale::En, "/")
            .iter()
            .map(|n| n.href)
            .collect();
        assert_eq!(
            admin,
            [
                "/",
                "/org",
                "/door",
                "/buffer",
                "/occupancy",
                "/staff-checks",
                "/staff-checks/missing",
                "/screening/records",
                "/dashboard",
                "/hotline",
                "/reports",
                "/reports/archive",
                "/alerts",
                "/cases",
                "/cases/new",
                "/cases/webhooks",
                "/screening/devices",
                "/admin/users",
                "/audit",
                "/api/openapi.json"
            ]
        );
        let volunteer: Vec<_> = nav_for(Role::Volunteer, Locale::ZhCn, "/")
            .iter()
            .map(|n| n.href)
            .collect();
        assert_eq!(
            volunteer,
            [
                "/",
                "/org",
                "/door",
                "/buffer",
                "/occupancy",
                "/api/openapi.json"
            ]
        );
        for role in Role::ALL {
            assert!(
                nav_for(role, Locale::ZhCn, "/")
                    .iter()
                    .any(|n| n.href == "/" && n.current)
            );
        }
    }

    #[test]
    fn only_local_paths_are_followed() {
        for ok in ["/", "/a/b?c=d", "/%E4%B8%AD"] {
            assert!(is_local_path(ok), "{ok}");
        }
        for bad in [
            "",
            "x",
            "//evil.example",
            "/\\evil.example",
            "/\t/evil.example",
            "/\n",
            "/ a",
            "https://evil.example",
        ] {
            assert!(!is_local_path(bad), "{bad:?}");
        }
    }

    #[test]
    fn language_links_keep_the_page() {
        let shell = Shell::new(Locale::ZhCn, "/a b");
        assert_eq!(shell.lang_href, "/lang/en?next=/a%20b");
        assert_eq!(shell.other_tag, "en");
    }

    #[test]
    fn error_pages_render_in_both_languages() {
        for (locale, word) in [(Locale::ZhCn, "页面不存在"), (Locale::En, "Page not found")] {
            let page = ErrorPage {
                shell: Shell::new(locale, ""),
                status: 404,
                title: locale.t("error.404.title"),
                body: locale.t("error.404.body"),
            };
            let html = page.render().unwrap();
            assert!(html.contains(word), "{html}");
            assert!(html.contains(&format!("lang=\"{}\"", locale.tag())));
        }
    }
}
