//! The audit log for administrators: a page with filters and the same list in the API.
//! Entries of sites outside the reader's subtree are not shown; sign-in events carry no
//! site until they succeed, so they are shown to administrators of the root site only.

use crate::AppState;
use crate::access::Principal;
use crate::error::ApiError;
use crate::home::{Shell, error_page, local_time, render};
use crate::i18n::Locale;
use askama::Template;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use fangkong_domain::audit::Outcome;
use fangkong_domain::clock::{BEIJING, from_unix_millis};
use fangkong_store::audit::{self, Filter, Stored};
use fangkong_store::org;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Entries per page.
const PAGE: u32 = 100;

pub fn router() -> Router<AppState> {
    Router::new().route("/audit", get(audit_page))
}

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list))
}

/// Filters; dates are Beijing calendar days `YYYY-MM-DD`.
#[derive(Debug, Default, Clone, Deserialize, IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    pub actor: String,
    /// Prefix of the action, e.g. `auth.` or `person.reveal`.
    pub action: String,
    pub site: String,
    /// `ok`, `denied` or `failed`.
    pub outcome: String,
    pub from: String,
    pub until: String,
    /// Older than this sequence number (next page).
    pub before: Option<i64>,
}

fn day(s: &str) -> Option<time::OffsetDateTime> {
    let d = time::Date::parse(
        s.trim(),
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .ok()?;
    Some(d.midnight().assume_offset(BEIJING))
}

impl AuditQuery {
    fn filter(&self) -> Filter {
        let text = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        Filter {
            actor: text(&self.actor),
            action: text(&self.action),
            site: text(&self.site),
            outcome: Outcome::parse(self.outcome.trim()),
            from: day(&self.from),
            until: day(&self.until).map(|d| d + time::Duration::days(1)),
            before: self.before,
            sites: None,
            siteless: false,
        }
    }
}

/// One audit entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct EntryDto {
    pub seq: i64,
    /// RFC 3339.
    pub at: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub site: String,
    pub addr: String,
    pub outcome: String,
    /// JSON object with details.
    pub detail: serde_json::Value,
    pub hash: String,
}

async fn visible(
    state: &AppState,
    who: &Principal,
    q: &AuditQuery,
) -> Result<Vec<Stored>, ApiError> {
    let codes = who.scope_codes(&state.store).await?;
    // Failed sign-ins belong to no site: only administrators of a root site see them.
    let at_root = match &who.account {
        Some(a) => org::find_site(&state.store, &a.site_code)
            .await?
            .is_some_and(|s| s.parent.is_none()),
        None => false,
    };
    let filter = Filter {
        sites: Some(codes.into_iter().collect()),
        siteless: at_root,
        ..q.filter()
    };
    Ok(audit::list(&state.store, &filter, PAGE).await?)
}

/// Audit entries you may see, newest first, 100 at a time.
#[utoipa::path(get, path = "/api/v1/audit", tag = "audit",
    params(AuditQuery),
    responses((status = 200, body = [EntryDto])))]
async fn list(
    State(state): State<AppState>,
    who: Principal,
    Query(q): Query<AuditQuery>,
) -> Result<Json<Vec<EntryDto>>, ApiError> {
    Ok(Json(
        visible(&state, &who, &q)
            .await?
            .into_iter()
            .map(|s| EntryDto {
                seq: s.entry.seq,
                at: from_unix_millis(s.entry.at)
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
                actor: s.entry.actor,
                action: s.entry.action,
                target: s.entry.target,
                site: s.entry.site,
                addr: s.entry.addr,
                outcome: s.entry.outcome.as_str().to_owned(),
                detail: serde_json::from_str(&s.entry.detail).unwrap_or_default(),
                hash: s.hash,
            })
            .collect(),
    ))
}

struct Line {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    target: String,
    site: String,
    addr: String,
    outcome: &'static str,
    outcome_label: &'static str,
    detail: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    shell: Shell,
    q: AuditQuery,
    lines: Vec<Line>,
    next: Option<String>,
}

async fn audit_page(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Query(q): Query<AuditQuery>,
) -> Response {
    let entries = match visible(&state, &who, &q).await {
        Ok(e) => e,
        Err(e) => return error_page(locale, e.status),
    };
    let next = (entries.len() == PAGE as usize)
        .then(|| entries.last().map(|l| l.entry.seq))
        .flatten()
        .and_then(|seq| {
            serde_urlencoded::to_string([
                ("actor", q.actor.as_str()),
                ("action", q.action.as_str()),
                ("site", q.site.as_str()),
                ("outcome", q.outcome.as_str()),
                ("from", q.from.as_str()),
                ("until", q.until.as_str()),
                ("before", &seq.to_string()),
            ])
            .ok()
        });
    let lines = entries
        .into_iter()
        .map(|s| Line {
            seq: s.entry.seq,
            at: local_time(from_unix_millis(s.entry.at)),
            actor: s.entry.actor,
            action: s.entry.action,
            target: s.entry.target,
            site: s.entry.site,
            addr: s.entry.addr,
            outcome: s.entry.outcome.as_str(),
            outcome_label: locale.t(&format!("audit.outcome.{}", s.entry.outcome.as_str())),
            detail: s.entry.detail,
        })
        .collect();
    render(&AuditPage {
        shell: Shell::of(locale, "/audit", &who),
        q,
        lines,
        next,
    })
}
