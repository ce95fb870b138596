//! Who is asking and whether they may: the one gate every request passes.
//!
//! [`guard`] runs on every matched route. It finds the route's permission in [`ROUTES`]
//! (a route missing from the table is refused: fail closed), works out the [`Principal`]
//! from a bearer token or the session cookie (enforcing the idle and absolute timeouts),
//! keeps everything but the setup page closed until the first administrator exists,
//! checks the CSRF token of every state-changing browser request, and asks the domain's
//! permission table whether the role may. Handlers then check objects against the
//! principal's [`Scope`]: a record outside it is answered 404, as if it did not exist.

use crate::AppState;
use crate::error::ApiError;
use crate::i18n::Locale;
use axum::body::Body;
use axum::extract::{ConnectInfo, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use fangkong_domain::access::{Permission, Role, Scope};
use fangkong_store::accounts::{self, Account};
use fangkong_store::org;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use time::OffsetDateTime;

use Permission as P;

/// Every route and the permission it needs: `(method, path as routed, permission)`.
/// `HEAD` follows `GET`. A test walks this table for every role.
pub const ROUTES: &[(&str, &str, Permission)] = &[
    // shell, assets, operations
    ("GET", "/", P::Public),
    ("GET", "/lang/{tag}", P::Public),
    ("GET", "/static/{*path}", P::Public),
    ("GET", "/healthz", P::Public),
    ("GET", "/livez", P::Public),
    ("GET", "/api/openapi.json", P::Public),
    ("GET", "/metrics", P::Metrics),
    ("GET", "/live", P::SignedIn),
    ("GET", "/panels/sync", P::SyncRead),
    // setup and accounts
    ("GET", "/setup", P::Public),
    ("POST", "/setup", P::Public),
    ("GET", "/login", P::Public),
    ("POST", "/login", P::Public),
    ("POST", "/logout", P::SignedIn),
    ("GET", "/account", P::SignedIn),
    ("POST", "/account/password", P::SignedIn),
    ("POST", "/account/tokens", P::SignedIn),
    ("POST", "/account/tokens/{id}/revoke", P::SignedIn),
    ("POST", "/api/v1/auth/token", P::Public),
    ("GET", "/api/v1/auth/tokens", P::SignedIn),
    ("DELETE", "/api/v1/auth/tokens/{id}", P::SignedIn),
    ("GET", "/admin/users", P::UsersManage),
    ("POST", "/admin/users", P::UsersManage),
    ("POST", "/admin/users/{id}/password", P::UsersManage),
    ("POST", "/admin/users/{id}/unlock", P::UsersManage),
    ("POST", "/admin/users/{id}/person", P::UsersManage),
    ("GET", "/api/v1/users", P::UsersManage),
    ("POST", "/api/v1/users", P::UsersManage),
    ("GET", "/audit", P::AuditRead),
    ("GET", "/api/v1/audit", P::AuditRead),
    // organisation
    ("GET", "/org", P::OrgRead),
    ("POST", "/org/sites", P::OrgManage),
    ("GET", "/org/sites/{code}", P::OrgRead),
    ("POST", "/org/sites/{code}", P::OrgManage),
    ("POST", "/org/sites/{code}/checkpoints", P::OrgManage),
    ("POST", "/org/sites/{code}/units", P::OrgManage),
    ("GET", "/org/sites/{code}/people", P::PeopleRead),
    ("POST", "/org/sites/{code}/people", P::PeopleManage),
    ("POST", "/org/people/{id}/reveal/{field}", P::PersonalReveal),
    ("GET", "/org/sites/{code}/groups", P::OrgRead),
    ("POST", "/org/sites/{code}/groups/{kind}", P::OrgManage),
    (
        "POST",
        "/org/sites/{code}/groups/{kind}/members",
        P::OrgManage,
    ),
    (
        "POST",
        "/org/sites/{code}/groups/{kind}/members/{person}/remove",
        P::OrgManage,
    ),
    ("GET", "/api/v1/sites", P::OrgRead),
    ("POST", "/api/v1/sites", P::OrgManage),
    ("GET", "/api/v1/sites/{code}", P::OrgRead),
    ("GET", "/api/v1/sites/{code}/checkpoints", P::OrgRead),
    ("GET", "/api/v1/sites/{code}/groups", P::OrgRead),
    ("GET", "/api/v1/sites/{code}/people", P::PeopleRead),
    ("POST", "/api/v1/people", P::PeopleManage),
    ("GET", "/api/v1/people/{id}", P::PeopleRead),
    ("DELETE", "/api/v1/people/{id}", P::PeopleManage),
    ("POST", "/org/people/{id}/remove", P::PeopleManage),
    ("POST", "/api/v1/people/{id}/reveal", P::PersonalReveal),
    // entrance screening
    ("GET", "/door", P::ScreeningRecord),
    ("GET", "/door/{site}/{checkpoint}", P::ScreeningRecord),
    ("GET", "/door/{site}/{checkpoint}/poster", P::OrgRead),
    ("GET", "/buffer", P::BufferCheck),
    ("GET", "/panels/buffer", P::BufferCheck),
    ("GET", "/buffer/{id}", P::BufferCheck),
    ("POST", "/buffer/{id}", P::BufferCheck),
    ("GET", "/occupancy", P::OccupancyRead),
    ("GET", "/panels/occupancy", P::OccupancyRead),
    ("POST", "/occupancy/{site}", P::ScreeningRecords),
    ("GET", "/staff-checks", P::StaffCheckSelf),
    ("POST", "/staff-checks", P::StaffCheckSelf),
    ("GET", "/staff-checks/missing", P::StaffChecksRead),
    ("GET", "/panels/staff-missing", P::StaffChecksRead),
    ("GET", "/screening/records", P::ScreeningRecords),
    ("GET", "/screening/records.csv", P::ScreeningRecords),
    ("GET", "/screening/records.xlsx", P::ScreeningRecords),
    ("GET", "/screening/devices", P::DevicesManage),
    ("POST", "/screening/devices", P::DevicesManage),
    ("POST", "/screening/devices/{id}/revoke", P::DevicesManage),
    ("GET", "/r/{site}/{checkpoint}", P::Public),
    ("POST", "/r/{site}/{checkpoint}", P::Public),
    ("POST", "/api/v1/screenings", P::ScreeningRecord),
    ("GET", "/api/v1/screenings", P::ScreeningRecords),
    ("GET", "/api/v1/screenings/{id}", P::ScreeningRecords),
    ("POST", "/api/v1/screenings/{id}/rechecks", P::BufferCheck),
    ("POST", "/api/v1/screenings/purge", P::RecordsPurge),
    ("POST", "/api/v1/door-events", P::ScreeningRecord),
    ("GET", "/api/v1/sites/{code}/occupancy", P::OccupancyRead),
    ("GET", "/api/v1/buffer", P::BufferCheck),
    ("GET", "/api/v1/staff-checks", P::StaffChecksRead),
    ("POST", "/api/v1/registrations", P::Public),
    ("GET", "/api/v1/devices", P::DevicesManage),
    ("POST", "/api/v1/devices", P::DevicesManage),
    ("DELETE", "/api/v1/devices/{id}", P::DevicesManage),
    // suspected cases, alerts, upward reports, robots
    ("GET", "/cases", P::CasesRead),
    ("GET", "/cases.xlsx", P::CasesExport),
    ("GET", "/cases/new", P::CasesOpen),
    ("POST", "/cases/new", P::CasesOpen),
    ("GET", "/cases/{id}", P::CasesRead),
    ("GET", "/cases/{id}/print", P::CasesRead),
    ("POST", "/cases/{id}/reveal/{field}", P::PersonalReveal),
    ("POST", "/cases/{id}/actions", P::CasesWrite),
    ("POST", "/cases/{id}/outcome", P::CasesWrite),
    ("POST", "/cases/{id}/acknowledge", P::AlertsAcknowledge),
    ("POST", "/cases/{id}/upward-report", P::UpwardReport),
    ("GET", "/cases/{id}/exposures", P::CasesRead),
    ("GET", "/cases/{id}/exposures.csv", P::CasesExport),
    ("GET", "/cases/{id}/exposures.xlsx", P::CasesExport),
    ("GET", "/alerts", P::AlertsRead),
    ("GET", "/panels/alerts", P::AlertsRead),
    ("POST", "/alerts/{id}/acknowledge", P::AlertsAcknowledge),
    ("GET", "/cases/webhooks", P::WebhooksManage),
    ("POST", "/cases/webhooks", P::WebhooksManage),
    ("POST", "/cases/webhooks/{id}/active", P::WebhooksManage),
    ("POST", "/api/v1/cases", P::CasesOpen),
    ("GET", "/api/v1/cases", P::CasesRead),
    ("GET", "/api/v1/cases/response-times", P::CasesRead),
    ("GET", "/api/v1/cases/{id}", P::CasesRead),
    ("POST", "/api/v1/cases/{id}/reveal", P::PersonalReveal),
    ("POST", "/api/v1/cases/{id}/actions", P::CasesWrite),
    ("POST", "/api/v1/cases/{id}/outcome", P::CasesWrite),
    (
        "POST",
        "/api/v1/cases/{id}/acknowledge",
        P::AlertsAcknowledge,
    ),
    ("POST", "/api/v1/cases/{id}/upward-report", P::UpwardReport),
    ("GET", "/api/v1/cases/{id}/exposures", P::CasesRead),
    ("GET", "/api/v1/alerts", P::AlertsRead),
    (
        "POST",
        "/api/v1/alerts/{id}/acknowledge",
        P::AlertsAcknowledge,
    ),
    ("GET", "/api/v1/upward-reports", P::CasesRead),
    ("GET", "/api/v1/fever-rates", P::AlertsRead),
    ("GET", "/api/v1/sites/{code}/webhooks", P::WebhooksManage),
    ("POST", "/api/v1/sites/{code}/webhooks", P::WebhooksManage),
    ("GET", "/api/v1/webhooks/deliveries", P::WebhooksManage),
    // daily reports (三(三))
    ("GET", "/reports", P::ReportsRead),
    ("GET", "/reports/archive", P::ReportsRead),
    ("GET", "/reports/{site}/{date}", P::ReportsRead),
    ("GET", "/reports/{site}/{date}/print", P::ReportsRead),
    ("GET", "/reports/{site}/{date}/xlsx", P::ReportsRead),
    ("GET", "/reports/{site}/{date}/csv", P::ReportsRead),
    ("POST", "/reports/{site}/{date}/submit", P::ReportsSubmit),
    (
        "POST",
        "/reports/{site}/{date}/acknowledge",
        P::ReportsDecide,
    ),
    ("POST", "/reports/{site}/{date}/return", P::ReportsDecide),
    ("GET", "/dashboard", P::ReportsRead),
    ("GET", "/panels/dashboard", P::ReportsRead),
    ("GET", "/api/v1/reports/daily", P::ReportsRead),
    ("GET", "/api/v1/reports/trends", P::ReportsRead),
    (
        "POST",
        "/api/v1/reports/daily/{site}/{date}/submit",
        P::ReportsSubmit,
    ),
    (
        "POST",
        "/api/v1/reports/daily/{site}/{date}/acknowledge",
        P::ReportsDecide,
    ),
    (
        "POST",
        "/api/v1/reports/daily/{site}/{date}/return",
        P::ReportsDecide,
    ),
    // the hotline (二(七)) and the working calendar
    ("GET", "/hotline", P::HotlineRead),
    ("POST", "/hotline/tickets", P::HotlineHandle),
    ("GET", "/hotline/tickets/{id}", P::HotlineRead),
    // Each step checks its own permission (a department replies, the hotline does the rest).
    ("POST", "/hotline/tickets/{id}/{verb}", P::HotlineRead),
    ("GET", "/hotline/report", P::Public),
    ("POST", "/hotline/report", P::Public),
    ("GET", "/hotline/summary.xlsx", P::HotlineSummary),
    ("GET", "/hotline/similar", P::HotlineRead),
    ("GET", "/hotline/hot", P::HotlineRead),
    ("GET", "/hotline/settings", P::HotlineManage),
    ("POST", "/hotline/departments", P::HotlineManage),
    ("POST", "/hotline/departments/{id}/users", P::HotlineManage),
    ("POST", "/hotline/answers", P::HotlineManage),
    ("GET", "/calendar", P::SignedIn),
    ("POST", "/calendar", P::CalendarManage),
    ("POST", "/api/v1/tickets", P::HotlineHandle),
    ("GET", "/api/v1/tickets", P::HotlineRead),
    ("GET", "/api/v1/tickets/similar", P::HotlineRead),
    ("GET", "/api/v1/tickets/{id}", P::HotlineRead),
    ("POST", "/api/v1/tickets/{id}/answer", P::HotlineHandle),
    ("POST", "/api/v1/tickets/{id}/transfer", P::HotlineHandle),
    ("POST", "/api/v1/tickets/{id}/reply", P::HotlineReply),
    ("POST", "/api/v1/tickets/{id}/review", P::HotlineHandle),
    ("POST", "/api/v1/tickets/{id}/follow-up", P::HotlineHandle),
    ("POST", "/api/v1/tickets/{id}/close", P::HotlineHandle),
    ("POST", "/api/v1/tickets/{id}/reopen", P::HotlineHandle),
    ("POST", "/api/v1/tickets/{id}/merge", P::HotlineHandle),
    ("POST", "/api/v1/tickets/{id}/supervise", P::HotlineHandle),
    ("POST", "/api/v1/tickets/{id}/reveal", P::HotlineReveal),
    ("GET", "/api/v1/hotline/supervision", P::HotlineRead),
    ("GET", "/api/v1/hotline/hot", P::HotlineRead),
    ("GET", "/api/v1/hotline/summary", P::HotlineSummary),
    ("GET", "/api/v1/hotline/departments", P::HotlineRead),
    ("POST", "/api/v1/hotline/departments", P::HotlineManage),
    (
        "POST",
        "/api/v1/hotline/departments/{id}/users",
        P::HotlineManage,
    ),
    ("GET", "/api/v1/hotline/answers", P::HotlineRead),
    ("POST", "/api/v1/hotline/answers", P::HotlineManage),
    ("GET", "/api/v1/calendar/deadline", P::Public),
    ("GET", "/api/v1/calendar/{date}", P::Public),
    ("POST", "/api/v1/calendar/{date}", P::CalendarManage),
    // records forwarded by site nodes
    ("POST", "/api/v1/sync/events", P::SyncWrite),
    ("GET", "/api/v1/sync/events/{id}", P::SyncRead),
];

/// Routes open before the first administrator exists.
const OPEN_BEFORE_SETUP: &[&str] = &[
    "/setup",
    "/static/{*path}",
    "/healthz",
    "/livez",
    "/lang/{tag}",
    "/api/openapi.json",
];

/// The permission a route needs, `None` when the route is not in the table.
pub fn permission_for(method: &Method, path: &str) -> Option<Permission> {
    let method = if method == Method::HEAD {
        "GET"
    } else {
        method.as_str()
    };
    ROUTES
        .iter()
        .find(|(m, p, _)| *m == method && *p == path)
        .map(|(_, _, perm)| *perm)
}

/// The session cookie: an opaque random id; only its hash is stored.
pub const SESSION_COOKIE: &str = "fk_session";
/// The CSRF cookie for forms shown before signing in (double-submit).
pub const CSRF_COOKIE: &str = "fk_csrf";
/// The form field and header that carry the CSRF token.
pub const CSRF_FIELD: &str = "_csrf";
pub const CSRF_HEADER: &str = "x-csrf-token";

/// Session and token lifetimes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthSettings {
    /// A session unused this long ends (default 30 minutes).
    pub idle: Duration,
    /// A session ends this long after sign-in whatever happens (default 12 hours).
    pub absolute: Duration,
    /// API tokens last this long (default 30 days).
    pub token_lifetime: Duration,
    /// Cookies marked `Secure`: `Some(true)` always, `Some(false)` never, `None` when the
    /// request arrived over TLS at a proxy (`X-Forwarded-Proto: https`).
    pub secure_cookies: Option<bool>,
}

impl Default for AuthSettings {
    fn default() -> Self {
        AuthSettings {
            idle: Duration::from_secs(30 * 60),
            absolute: Duration::from_secs(12 * 3600),
            token_lifetime: Duration::from_secs(30 * 24 * 3600),
            secure_cookies: None,
        }
    }
}

/// Whether the first administrator exists (read once from the store, then kept), and the
/// one-time code the setup page asks for.
#[derive(Debug, Clone, Default)]
pub struct SetupState(Arc<AtomicBool>, Arc<String>);

impl SetupState {
    pub fn new(code: String) -> SetupState {
        SetupState(Arc::default(), Arc::new(code))
    }

    /// Whether `given` is the setup code (constant time; an empty code never matches).
    pub fn code_matches(&self, given: &str) -> bool {
        !self.1.is_empty()
            && constant_eq(
                given.trim().to_ascii_uppercase().as_bytes(),
                self.1.as_bytes(),
            )
    }

    pub async fn done(&self, store: &fangkong_store::Store) -> Result<bool, ApiError> {
        if self.0.load(Ordering::Acquire) {
            return Ok(true);
        }
        let done = accounts::any_user(store).await?;
        if done {
            self.0.store(true, Ordering::Release);
        }
        Ok(done)
    }

    pub fn mark_done(&self) {
        self.0.store(true, Ordering::Release);
    }
}

/// How the request proved who it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    Anonymous,
    /// A browser session: its secret (for sign-out) and CSRF token.
    Session {
        secret: String,
        csrf: String,
    },
    Token,
}

/// The one asking: an account (with how it signed in) or the public.
#[derive(Debug, Clone)]
pub struct Principal {
    pub account: Option<Account>,
    pub via: Via,
    /// Client address (for the audit log and lockouts).
    pub addr: String,
    /// The CSRF token forms on this page must carry.
    pub csrf: String,
    /// Lookups shared by the requests of this process.
    pub cache: crate::cache::Cache,
}

impl Principal {
    pub fn role(&self) -> Role {
        self.account.as_ref().map_or(Role::Public, |a| a.role)
    }

    pub fn can(&self, p: Permission) -> bool {
        self.role().can(p)
    }

    /// The user name for the audit log (`-` for the public).
    pub fn actor(&self) -> &str {
        self.account.as_ref().map_or("-", |a| a.username.as_str())
    }

    /// The account, for routes that need one (the guard has made sure there is one).
    pub fn account(&self) -> Result<&Account, ApiError> {
        self.account
            .as_ref()
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "auth.required"))
    }

    /// The sites of this principal's subtree, `(id, code)`, from the cache when fresh.
    async fn subtree(
        &self,
        store: &fangkong_store::Store,
    ) -> Result<crate::cache::Subtree, ApiError> {
        let Some(a) = &self.account else {
            return Ok(Arc::default());
        };
        if let Some(hit) = self.cache.subtree(a.site_id) {
            return Ok(hit);
        }
        let sites = Arc::new(org::subtree_sites(store, a.site_id).await?);
        self.cache.put_subtree(a.site_id, sites.clone());
        Ok(sites)
    }

    /// The sites this principal's grants cover: its site and its subtree.
    pub async fn scope(&self, store: &fangkong_store::Store) -> Result<Scope, ApiError> {
        Ok(Scope::new(
            self.subtree(store).await?.iter().map(|(id, _)| *id),
        ))
    }

    /// The codes of the sites inside the scope.
    pub async fn scope_codes(
        &self,
        store: &fangkong_store::Store,
    ) -> Result<std::collections::HashSet<String>, ApiError> {
        Ok(self
            .subtree(store)
            .await?
            .iter()
            .map(|(_, code)| code.clone())
            .collect())
    }

    /// A site by code with its checkpoints if it is inside the scope; otherwise "not
    /// found". Served from the cache when fresh (door readings look this up every time).
    pub async fn door_site(
        &self,
        store: &fangkong_store::Store,
        code: &str,
    ) -> Result<crate::cache::DoorSite, ApiError> {
        let found = match self.cache.site(code) {
            Some(hit) => hit,
            None => {
                let site = org::find_site(store, code)
                    .await?
                    .ok_or_else(ApiError::not_found)?;
                let checkpoints = org::checkpoints(store, site.id).await?;
                let entry = Arc::new((site, checkpoints));
                self.cache.put_site(code.to_owned(), entry.clone());
                entry
            }
        };
        if self
            .subtree(store)
            .await?
            .iter()
            .any(|(id, _)| *id == found.0.id)
        {
            Ok(found)
        } else {
            Err(ApiError::not_found())
        }
    }

    /// A site by code if it is inside the scope; otherwise "not found".
    pub async fn site_in_scope(
        &self,
        store: &fangkong_store::Store,
        code: &str,
    ) -> Result<org::Site, ApiError> {
        Ok(self.door_site(store, code).await?.0.clone())
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Principal>().cloned().ok_or_else(|| {
            tracing::error!(path = %parts.uri.path(), "route reached without the access guard");
            ApiError::internal()
        })
    }
}

/// Reads one cookie.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
        .filter(|v| !v.is_empty())
}

/// Whether cookies set on this answer must be `Secure`.
pub fn secure(settings: &AuthSettings, headers: &HeaderMap) -> bool {
    settings.secure_cookies.unwrap_or_else(|| {
        headers
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.eq_ignore_ascii_case("https"))
    })
}

/// A `Set-Cookie` value; `max_age` `None` makes a browser-session cookie, `Some(0)`
/// removes it.
pub fn set_cookie(
    name: &str,
    value: &str,
    max_age: Option<u64>,
    same_site: &str,
    secure: bool,
) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite={same_site}");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The client's address as seen on the connection.
pub fn client_addr(req: &Request) -> String {
    req.extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string())
}

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.starts_with("application/x-www-form-urlencoded") || v.starts_with("multipart/")
        })
}

/// A refusal: a problem document under `/api`, a page or a redirect elsewhere.
fn refuse(path: &str, locale: Locale, status: StatusCode, code: &'static str) -> Response {
    if is_api(path) {
        let mut res = ApiError::new(status, code).into_response();
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        res
    } else {
        crate::home::error_page(locale, status)
    }
}

/// The gate (see the module documentation).
pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let locale = Locale::negotiate(req.headers());
    let path = req.uri().path().to_owned();
    let Some(routed) = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
    else {
        return next.run(req).await;
    };
    let Some(permission) = permission_for(req.method(), &routed) else {
        if ROUTES.iter().any(|(_, p, _)| *p == routed) {
            // A known address with a method it does not take: the router answers 405.
            return next.run(req).await;
        }
        tracing::error!(method = %req.method(), route = routed, "route has no declared permission; refused");
        return refuse(&path, locale, StatusCode::FORBIDDEN, "forbidden");
    };
    match admit(&state, req, permission, &routed, locale).await {
        Ok((req, touch)) => {
            let changes = !is_safe(req.method()) && !HOT_ROUTES.contains(&routed.as_str());
            let res = next.run(req).await;
            if changes && (res.status().is_success() || res.status().is_redirection()) {
                invalidate(&state).await;
            }
            if let Some(secret) = touch
                && let Err(e) =
                    accounts::touch_session(&state.store, &secret, state.clock.now()).await
            {
                tracing::warn!(error = %e, "cannot record session activity");
            }
            res
        }
        Err(res) => res,
    }
}

/// Decides; on success returns the request carrying its [`Principal`], and the session
/// to mark as active.
async fn admit(
    state: &AppState,
    req: Request,
    permission: Permission,
    routed: &str,
    locale: Locale,
) -> Result<(Request, Option<String>), Response> {
    let path = req.uri().path().to_owned();
    let fail = |e: ApiError| {
        if is_api(&path) {
            e.into_response()
        } else {
            crate::home::error_page(locale, e.status)
        }
    };
    let now = state.clock.now();
    let addr = client_addr(&req);
    let headers = req.headers().clone();

    // Who: a bearer token, else the session cookie, else the public.
    let mut touch = None;
    let mut expired = false;
    let (account, via) = if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let token = auth
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim)
            .unwrap_or("");
        match token_account(state, token, now)
            .await
            .map_err(|e| fail(e.into()))?
        {
            Some(a) => (Some(a), Via::Token),
            None => {
                return Err(refuse(
                    &path,
                    locale,
                    StatusCode::UNAUTHORIZED,
                    "auth.token_invalid",
                ));
            }
        }
    } else if let Some(secret) = cookie(&headers, SESSION_COOKIE) {
        match accounts::find_session(&state.store, secret)
            .await
            .map_err(|e| fail(e.into()))?
        {
            Some(s) if live(&s, now, &state.auth) => {
                if now - s.last_seen_at > time::Duration::seconds(60) {
                    touch = Some(secret.to_owned());
                }
                (
                    Some(s.account),
                    Via::Session {
                        secret: secret.to_owned(),
                        csrf: s.csrf,
                    },
                )
            }
            Some(_) => {
                expired = true;
                end_session(state, secret).await;
                (None, Via::Anonymous)
            }
            None => {
                expired = true;
                (None, Via::Anonymous)
            }
        }
    } else {
        (None, Via::Anonymous)
    };

    // Nothing but setup until the first administrator exists.
    if !state.setup.done(&state.store).await.map_err(fail)? && !OPEN_BEFORE_SETUP.contains(&routed)
    {
        return Err(if is_api(&path) {
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "setup.required").into_response()
        } else {
            Redirect::to("/setup").into_response()
        });
    }

    // CSRF: every state-changing request from a browser (a session, or a form).
    let csrf_expected = match &via {
        Via::Session { csrf, .. } => Some(csrf.clone()),
        Via::Token => None,
        Via::Anonymous => cookie(&headers, CSRF_COOKIE).map(str::to_owned),
    };
    let needs_csrf = !is_safe(req.method())
        && (matches!(via, Via::Session { .. }) || (via == Via::Anonymous && is_form(&headers)));
    let req = if needs_csrf {
        let (ok, req) = csrf_matches(req, csrf_expected.as_deref()).await;
        if !ok {
            tracing::warn!(
                path,
                "state-changing request without a valid CSRF token refused"
            );
            record_refusal(state, account.as_ref(), &addr, routed, "csrf").await;
            return Err(refuse(&path, locale, StatusCode::FORBIDDEN, "csrf.invalid"));
        }
        req
    } else {
        req
    };

    let role = account.as_ref().map_or(Role::Public, |a| a.role);
    if !role.can(permission) {
        if account.is_some() {
            record_refusal(state, account.as_ref(), &addr, routed, "permission").await;
        }
        return Err(if account.is_some() {
            refuse(&path, locale, StatusCode::FORBIDDEN, "forbidden")
        } else if is_api(&path) {
            refuse(
                &path,
                locale,
                StatusCode::UNAUTHORIZED,
                if expired {
                    "auth.expired"
                } else {
                    "auth.required"
                },
            )
        } else {
            let next = req
                .uri()
                .path_and_query()
                .map_or("/", |p| p.as_str())
                .to_owned();
            let mut to = format!("/login?next={}", crate::home::encode(&next));
            if expired {
                to.push_str("&expired=1");
            }
            Redirect::to(&to).into_response()
        });
    }

    // An account whose password an administrator reset must choose its own first.
    if account.as_ref().is_some_and(|a| a.must_change)
        && !matches!(
            routed,
            "/account" | "/account/password" | "/logout" | "/static/{*path}" | "/lang/{tag}"
        )
    {
        return Err(if is_api(&path) {
            ApiError::new(StatusCode::FORBIDDEN, "password.must_change").into_response()
        } else {
            Redirect::to("/account").into_response()
        });
    }

    let csrf = csrf_expected.unwrap_or_default();
    let mut req = req;
    req.extensions_mut().insert(Principal {
        account,
        via,
        addr,
        csrf,
        cache: state.cache.clone(),
    });
    Ok((req, touch))
}

/// The account behind a bearer token, from the cache when fresh.
pub async fn token_account(
    state: &AppState,
    token: &str,
    now: OffsetDateTime,
) -> fangkong_store::Result<Option<Account>> {
    let hash = accounts::secret_hash(token);
    if let Some(hit) = state.cache.token(&hash) {
        return Ok(Some(hit));
    }
    let found = accounts::token_account(&state.store, token, now).await?;
    if let Some(a) = &found {
        state.cache.put_token(hash, a.clone());
    }
    Ok(found)
}

/// Routes that record at the door: they change no account, site or entrance, so they
/// leave the cache alone. Any other successful change empties it.
const HOT_ROUTES: &[&str] = &[
    "/api/v1/tickets",
    "/api/v1/tickets/{id}/answer",
    "/api/v1/tickets/{id}/transfer",
    "/api/v1/tickets/{id}/reply",
    "/api/v1/tickets/{id}/review",
    "/api/v1/tickets/{id}/follow-up",
    "/api/v1/tickets/{id}/close",
    "/api/v1/tickets/{id}/reopen",
    "/api/v1/tickets/{id}/merge",
    "/api/v1/tickets/{id}/supervise",
    "/api/v1/tickets/{id}/reveal",
    "/api/v1/screenings",
    "/api/v1/door-events",
    "/api/v1/screenings/{id}/rechecks",
    "/api/v1/registrations",
    "/api/v1/sync/events",
    "/r/{site}/{checkpoint}",
    "/buffer/{id}",
    "/staff-checks",
    "/api/v1/cases",
    "/api/v1/cases/{id}/actions",
    "/api/v1/cases/{id}/outcome",
    "/api/v1/cases/{id}/acknowledge",
    "/api/v1/cases/{id}/upward-report",
    "/api/v1/alerts/{id}/acknowledge",
    "/cases/new",
    "/cases/{id}/actions",
    "/cases/{id}/outcome",
    "/cases/{id}/acknowledge",
    "/cases/{id}/upward-report",
    "/alerts/{id}/acknowledge",
    "/cases/{id}/reveal/{field}",
    "/api/v1/cases/{id}/reveal",
];

/// After a change that may touch accounts, tokens or the organisation: empties this
/// process's cache and tells the others.
async fn invalidate(state: &AppState) {
    state.cache.clear();
    if let Err(e) = state.store.publish(crate::cache::TOPIC, "").await {
        tracing::warn!(error = %e, "cannot tell other processes to empty their cache");
    }
}

/// Records a signed-in account's refused request in the audit log (outcome `denied`).
async fn record_refusal(
    state: &AppState,
    account: Option<&Account>,
    addr: &str,
    routed: &str,
    reason: &str,
) {
    let Some(a) = account else { return };
    let record = fangkong_store::audit::Record {
        actor: &a.username,
        addr,
        action: "access.denied",
        target: format!("route:{routed}"),
        site: &a.site_code,
        outcome: fangkong_domain::audit::Outcome::Denied,
        detail: serde_json::json!({"reason": reason}),
    };
    if let Err(e) =
        fangkong_store::audit::append_now(&state.store, state.clock.now(), &record).await
    {
        tracing::warn!(error = %e, "a refusal was not recorded");
    }
}

/// Whether a session is inside both timeouts.
fn live(s: &accounts::Session, now: OffsetDateTime, settings: &AuthSettings) -> bool {
    let idle = time::Duration::try_from(settings.idle).unwrap_or(time::Duration::MAX);
    let absolute = time::Duration::try_from(settings.absolute).unwrap_or(time::Duration::MAX);
    now - s.last_seen_at < idle && now - s.created_at < absolute
}

async fn end_session(state: &AppState, secret: &str) {
    let result = async {
        let mut tx = state.store.begin().await?;
        accounts::delete_session(&mut tx, secret).await?;
        tx.commit().await
    }
    .await;
    if let Err(e) = result {
        tracing::warn!(error = %e, "cannot remove an ended session");
    }
}

/// Compares the request's CSRF token (header, or form field) with the expected one in
/// constant time; gives the request back with its body intact.
async fn csrf_matches(req: Request, expected: Option<&str>) -> (bool, Request) {
    let Some(expected) = expected else {
        return (false, req);
    };
    if let Some(got) = req.headers().get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        let ok = constant_eq(got.as_bytes(), expected.as_bytes());
        return (ok, req);
    }
    if !is_form(req.headers()) {
        return (false, req);
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, crate::BODY_LIMIT).await else {
        return (false, Request::from_parts(parts, Body::empty()));
    };
    let fields: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).unwrap_or_default();
    let ok = fields
        .iter()
        .find(|(k, _)| k == CSRF_FIELD)
        .is_some_and(|(_, v)| constant_eq(v.as_bytes(), expected.as_bytes()));
    (ok, Request::from_parts(parts, Body::from(bytes)))
}

fn constant_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_route_is_declared_once() {
        let mut seen = std::collections::HashSet::new();
        for (m, p, _) in ROUTES {
            assert!(seen.insert((m, p)), "{m} {p} twice");
        }
        assert_eq!(permission_for(&Method::HEAD, "/"), Some(P::Public));
        assert_eq!(permission_for(&Method::GET, "/nowhere"), None);
        for open in OPEN_BEFORE_SETUP {
            assert_eq!(
                permission_for(&Method::GET, open),
                Some(P::Public),
                "{open}"
            );
        }
    }

    /// Every `.route("path", method(..))` written in this crate is in the table with each of
    /// its methods, so a page route cannot be added without declaring its permission (the
    /// API's routes are checked against the OpenAPI document by the end-to-end matrix).
    #[test]
    fn every_routed_page_declares_its_permission() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut found = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for call in text.split(".route(").skip(1) {
                let Some(path) = call.split('"').nth(1) else {
                    continue;
                };
                if !path.starts_with('/') {
                    continue;
                }
                let body = call.split(".route(").next().unwrap_or(call);
                let body = &body[..body.find("\n}").unwrap_or(body.len())];
                for method in ["get", "post", "delete", "put", "patch"] {
                    let called = body.contains(&format!("{method}("));
                    if called {
                        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
                        assert!(
                            permission_for(&m, path).is_some(),
                            "{m} {path} is routed but has no declared permission"
                        );
                        found += 1;
                    }
                }
            }
        }
        assert!(found > 30, "found only {found} routes: is the scan broken?");
    }

    #[test]
    fn cookies_are_read_and_written_safely() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; fk_session=abc; lang=en"),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("abc"));
        assert_eq!(cookie(&h, "missing"), None);
        let c = set_cookie(SESSION_COOKIE, "abc", None, "Lax", true);
        assert_eq!(
            c.to_str().unwrap(),
            "fk_session=abc; Path=/; HttpOnly; SameSite=Lax; Secure"
        );
        let settings = AuthSettings::default();
        assert!(!secure(&settings, &h));
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert!(secure(&settings, &h));
        let never = AuthSettings {
            secure_cookies: Some(false),
            ..settings
        };
        assert!(!secure(&never, &h));
    }

    #[test]
    fn sessions_end_when_idle_or_old() {
        let t0 = time::macros::datetime!(2020-01-29 01:00 UTC);
        let account = Account {
            id: uuid::Uuid::nil(),
            username: "a".into(),
            role: Role::Admin,
            site_id: uuid::Uuid::nil(),
            site_code: "JD".into(),
            must_change: false,
            person_id: None,
        };
        let s = accounts::Session {
            account,
            csrf: String::new(),
            created_at: t0,
            last_seen_at: t0 + time::Duration::hours(11),
        };
        let settings = AuthSettings::default();
        assert!(live(
            &s,
            t0 + time::Duration::minutes(11 * 60 + 29),
            &settings
        ));
        assert!(!live(
            &s,
            t0 + time::Duration::minutes(11 * 60 + 31),
            &settings
        ));
        let busy = accounts::Session {
            last_seen_at: t0 + time::Duration::minutes(12 * 60 - 1),
            ..s
        };
        assert!(!live(&busy, t0 + time::Duration::hours(12), &settings));
    }

    #[test]
    fn the_setup_code_must_match() {
        let s = SetupState::new("ABCDE23456".into());
        assert!(s.code_matches(" abcde23456 "));
        assert!(!s.code_matches("ABCDE23457"));
        assert!(!s.code_matches(""));
        assert!(!SetupState::default().code_matches(""));
    }

    #[test]
    fn tokens_compare_in_constant_time_and_exactly() {
        assert!(constant_eq(b"abc", b"abc"));
        assert!(!constant_eq(b"abc", b"abd"));
        assert!(!constant_eq(b"abc", b"abcd"));
    }
}
