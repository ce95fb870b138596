//! The daily screening report over the API (三(三) 排查日报告制度): a site's figures for a
//! day assembled from the counters, the roll-up of its subtree with completeness, and the
//! submit / acknowledge / return workflow with versions. The pages share these functions.
//!
//! Later areas add a section to every report through [`SECTIONS`]: one function that
//! returns the section of a site's day. Nothing else changes.

use crate::AppState;
use crate::access::Principal;
use crate::cases::{finish, to_text};
use crate::error::ApiError;
use crate::idempotency::{Idem, IdempotencyKey, JsonBody};
use crate::live::Topic;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use fangkong_domain::FieldError;
use fangkong_domain::audit::Outcome as AuditOutcome;
use fangkong_domain::reports::{
    self as rules, Completeness, Figures, Latest, Refusal, Rollup, Section, Status, Timeliness,
};
use fangkong_domain::screening::{after_hours, day_of};
use fangkong_store::audit::{self, Record};
use fangkong_store::cases::AlertSummary;
use fangkong_store::org::{self, Site, SiteInTree};
use fangkong_store::reports::{self as store, Version};
use fangkong_store::{StoreError, Tx};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use time::{Date, OffsetDateTime, Time};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// Report settings of a deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The daily deadline, Beijing time.
    pub deadline: Time,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            deadline: rules::DEFAULT_DEADLINE,
        }
    }
}

// ---- the extension point ----------------------------------------------------------------

/// What a section source is asked for: one site's day.
pub struct SectionQuery<'a> {
    pub state: &'a AppState,
    pub site: &'a Site,
    pub day: Date,
}

pub type SectionFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Option<Section>, ApiError>> + Send + 'a>>;

/// The sections later areas add to the daily report (disinfection, PPE, hotline, queue):
/// each is one function in its own module, listed here. `None` leaves the section out
/// for that site and day. Sections are frozen with the rest of a submitted version and
/// summed row by row in a roll-up.
pub const SECTIONS: &[for<'a> fn(&'a SectionQuery<'a>) -> SectionFuture<'a>] =
    &[crate::cases::report_section, crate::hotline::report_section];

// ---- figures ------------------------------------------------------------------------------

/// The site tree, read once per request.
pub struct Tree(pub Vec<SiteInTree>);

impl Tree {
    pub async fn load(state: &AppState) -> Result<Tree, ApiError> {
        Ok(Tree(org::list_sites(&state.store).await?))
    }

    /// The site and every site below it, in tree order (the site first).
    pub fn subtree(&self, id: Uuid) -> Vec<&Site> {
        let Some(i) = self.0.iter().position(|s| s.site.id == id) else {
            return Vec::new();
        };
        let depth = self.0[i].depth;
        std::iter::once(&self.0[i].site)
            .chain(
                self.0[i + 1..]
                    .iter()
                    .take_while(|s| s.depth > depth)
                    .map(|s| &s.site),
            )
            .collect()
    }

    pub fn depth(&self, id: Uuid) -> u32 {
        self.0
            .iter()
            .find(|s| s.site.id == id)
            .map_or(0, |s| s.depth)
    }
}

/// The live figures of each site on `day`, with the staff figures (post-shift checks are
/// only missing once the hall has closed) and the sections of later areas.
pub async fn live_figures(
    state: &AppState,
    sites: &[&Site],
    day: Date,
) -> Result<HashMap<Uuid, Figures>, ApiError> {
    let now = state.clock.now();
    let today = day_of(now);
    let ids: Vec<Uuid> = sites.iter().map(|s| s.id).collect();
    let mut parts = store::day_parts(&state.store, &ids, day).await?;
    let mut out = HashMap::new();
    for site in sites {
        let p = parts.remove(&site.id).unwrap_or_default();
        let mut f = p.figures;
        let closed = day < today || (day == today && after_hours(&site.opening_hours, now));
        f.set_staff(p.staff_expected, p.staff_pre, p.staff_post, closed);
        for source in SECTIONS {
            let q = SectionQuery { state, site, day };
            if let Some(s) = source(&q).await? {
                f.sections.push(s);
            }
        }
        out.insert(site.id, f);
    }
    Ok(out)
}

/// A site's report for a day as it stands: its versions and the figures that count (the
/// latest version's, frozen, unless it was returned; the live figures otherwise).
#[derive(Debug, Clone)]
pub struct Standing {
    pub versions: Vec<Version>,
    pub live: Figures,
    pub timeliness: Timeliness,
}

impl Standing {
    pub fn latest(&self) -> Option<&Version> {
        self.versions.last()
    }

    /// The figures that count for this site in a roll-up and on screen.
    pub fn figures(&self) -> &Figures {
        match self.latest() {
            Some(v) if v.status != Status::Returned => &v.figures,
            _ => &self.live,
        }
    }

    pub fn status(&self) -> Option<Status> {
        self.latest().map(|v| v.status)
    }
}

/// The standing of every site of `sites` on `day`: six queries for the figures whatever
/// the number of sites, the sections' own (two a site for the cases section), one for the
/// versions.
pub async fn standings(
    state: &AppState,
    sites: &[&Site],
    day: Date,
) -> Result<HashMap<Uuid, Standing>, ApiError> {
    let mut live = live_figures(state, sites, day).await?;
    let ids: Vec<Uuid> = sites.iter().map(|s| s.id).collect();
    let mut versions: HashMap<Uuid, Vec<Version>> = HashMap::new();
    for v in store::between(&state.store, &state.vault, &ids, day, day, 100_000).await? {
        versions.entry(v.site_id).or_default().push(v);
    }
    let deadline = rules::deadline(day, state.reports.deadline);
    let now = state.clock.now();
    Ok(sites
        .iter()
        .map(|s| {
            let versions = versions.remove(&s.id).unwrap_or_default();
            let first = versions.first().map(|v| v.submitted_at);
            (
                s.id,
                Standing {
                    timeliness: rules::timeliness(first, deadline, now),
                    versions,
                    live: live.remove(&s.id).unwrap_or_default(),
                },
            )
        })
        .collect())
}

/// The roll-up of a subtree (the site first): every site counted once, and how complete
/// and timely the sites below reported.
pub fn roll_up(subtree: &[&Site], standing: &HashMap<Uuid, Standing>) -> Rollup {
    let figures = Figures::sum(
        subtree
            .iter()
            .filter_map(|s| standing.get(&s.id))
            .map(Standing::figures),
    );
    let completeness = Completeness::of(
        subtree
            .iter()
            .skip(1)
            .filter_map(|s| standing.get(&s.id))
            .map(|s| s.timeliness),
    );
    Rollup {
        figures,
        completeness,
    }
}

// ---- the API ------------------------------------------------------------------------------

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_daily))
        .routes(routes!(post_submit))
        .routes(routes!(post_acknowledge))
        .routes(routes!(post_return))
        .routes(routes!(get_trends))
}

/// Which report.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DailyQuery {
    /// Site code; your own site when left out.
    pub site: Option<String>,
    /// Beijing date `YYYY-MM-DD`; today when left out.
    pub date: Option<String>,
    /// `true`: the figures of the site's whole subtree, each site counted once, with
    /// completeness and every site's line.
    #[serde(default)]
    pub rollup: bool,
}

/// One version of a report.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct VersionDto {
    pub version: u32,
    /// `submitted`, `acknowledged` or `returned`.
    pub status: String,
    pub submitted_by: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub submitted_at: OffsetDateTime,
    pub remarks: String,
    pub decided_by: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub decided_at: Option<OffsetDateTime>,
    /// The parent's comment on a return.
    pub comment: Option<String>,
    /// The site's own figures as submitted.
    pub figures: Figures,
    /// For a site with sites below it: the roll-up as it stood when this version was
    /// submitted (the live roll-up moves as the sites below report).
    pub rollup: Option<Rollup>,
}

/// One site's line in a roll-up.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SiteLine {
    pub site: String,
    pub site_name: String,
    pub depth: u32,
    /// `draft` (nothing submitted), `submitted`, `acknowledged` or `returned`.
    pub status: String,
    pub version: Option<u32>,
    /// `due`, `on_time`, `late` or `missing`.
    pub timeliness: String,
    #[serde(flatten)]
    pub figures: Figures,
}

/// A daily report: the figures (a site's own, or with `rollup` its subtree's), where the
/// report stands in the workflow, and its versions.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DailyReportDto {
    pub site: String,
    pub site_name: String,
    /// `YYYY-MM-DD`, Beijing time.
    pub date: String,
    pub rollup: bool,
    #[serde(flatten)]
    pub figures: Figures,
    /// Mean minutes to acknowledge an alert, to a tenth.
    pub ack_minutes_mean: Option<f64>,
    /// `draft` (nothing submitted), `submitted`, `acknowledged` or `returned`.
    pub status: String,
    pub version: Option<u32>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub deadline: OffsetDateTime,
    /// `due`, `on_time`, `late` or `missing`.
    pub timeliness: String,
    /// The site's live figures differ from its latest submitted version (records
    /// arrived after it): a correction is due as a new version.
    pub changed_since_submitted: bool,
    /// For a site with sites below it: how many reported, and how many on time.
    pub completeness: Option<Completeness>,
    /// With `rollup`: every site of the subtree (the site first).
    pub sites: Vec<SiteLine>,
    pub versions: Vec<VersionDto>,
}

fn status_text(s: Option<Status>) -> String {
    s.map_or("draft", Status::as_str).to_owned()
}

pub fn version_dto(v: &Version) -> VersionDto {
    VersionDto {
        version: v.version,
        status: v.status.as_str().to_owned(),
        submitted_by: v.submitted_by.clone(),
        submitted_at: v.submitted_at,
        remarks: v.remarks.clone(),
        decided_by: v.decided_by.clone(),
        decided_at: v.decided_at,
        comment: v.comment.clone(),
        figures: v.figures.clone(),
        rollup: v.rollup.clone(),
    }
}

pub fn parse_day(raw: Option<&str>, today: Date) -> Result<Date, ApiError> {
    let day = match raw.map(str::trim).filter(|d| !d.is_empty()) {
        None => today,
        Some(d) => {
            Date::parse(d, &time::format_description::well_known::Iso8601::DATE).map_err(|_| {
                ApiError::invalid(vec![FieldError::new("date", "reports.date.invalid")])
            })?
        }
    };
    rules::check_day(day, today).map_err(|e| ApiError::invalid(vec![e]))?;
    Ok(day)
}

/// A report assembled for one site and day.
pub struct Assembled {
    pub tree: Tree,
    pub site: Site,
    pub day: Date,
    pub standing: HashMap<Uuid, Standing>,
}

impl Assembled {
    pub fn own(&self) -> &Standing {
        &self.standing[&self.site.id]
    }

    pub fn subtree(&self) -> Vec<&Site> {
        self.tree.subtree(self.site.id)
    }

    pub fn has_children(&self) -> bool {
        self.subtree().len() > 1
    }

    pub fn rollup(&self) -> Rollup {
        roll_up(&self.subtree(), &self.standing)
    }

    /// The roll-up this site would submit now: the sites below as they stand, this site
    /// with its live figures. `None` for a site with none below.
    pub fn rollup_to_submit(&self) -> Option<Rollup> {
        self.has_children().then(|| {
            let mut standing = self.standing.clone();
            if let Some(s) = standing.get_mut(&self.site.id) {
                s.versions.clear();
            }
            roll_up(&self.subtree(), &standing)
        })
    }

    /// Whether the live figures (or, for a site with sites below, the roll-up) differ
    /// from the latest version still standing.
    pub fn changed_since_submitted(&self) -> bool {
        let own = self.own();
        own.latest().is_some_and(|v| {
            v.status != Status::Returned
                && (v.figures != own.live || v.rollup != self.rollup_to_submit())
        })
    }

    pub fn dto(&self, state: &AppState, rollup: bool) -> DailyReportDto {
        let own = self.own();
        let subtree = self.subtree();
        let r = self.rollup();
        let figures = if rollup {
            r.figures.clone()
        } else {
            own.figures().clone()
        };
        let sites = if rollup {
            subtree
                .iter()
                .map(|s| {
                    let st = &self.standing[&s.id];
                    SiteLine {
                        site: s.code.clone(),
                        site_name: s.name.clone(),
                        depth: self.tree.depth(s.id),
                        status: status_text(st.status()),
                        version: st.latest().map(|v| v.version),
                        timeliness: st.timeliness.as_str().to_owned(),
                        figures: st.figures().clone(),
                    }
                })
                .collect()
        } else {
            Vec::new()
        };
        DailyReportDto {
            site: self.site.code.clone(),
            site_name: self.site.name.clone(),
            date: self.day.to_string(),
            rollup,
            ack_minutes_mean: figures.ack_minutes_mean(),
            figures,
            status: status_text(own.status()),
            version: own.latest().map(|v| v.version),
            deadline: rules::deadline(self.day, state.reports.deadline),
            timeliness: own.timeliness.as_str().to_owned(),
            changed_since_submitted: self.changed_since_submitted(),
            completeness: self.has_children().then_some(r.completeness),
            sites,
            versions: own.versions.iter().map(version_dto).collect(),
        }
    }
}

/// Assembles the report of a site (in the asker's scope, else 404) for a day.
pub async fn assemble(
    state: &AppState,
    who: &Principal,
    code: Option<&str>,
    date: Option<&str>,
) -> Result<Assembled, ApiError> {
    let site = crate::screening::site_of(state, who, code).await?;
    let day = parse_day(date, day_of(state.clock.now()))?;
    let tree = Tree::load(state).await?;
    let standing = {
        let subtree = tree.subtree(site.id);
        standings(state, &subtree, day).await?
    };
    Ok(Assembled {
        tree,
        site,
        day,
        standing,
    })
}

/// A site's daily report: its figures assembled from the day's counters (nobody retypes a
/// figure), or with `rollup=true` the sum of its subtree with completeness. A submitted
/// version's figures are frozen; `changed_since_submitted` says whether records arrived
/// after it.
#[utoipa::path(get, path = "/api/v1/reports/daily", tag = "reports",
    params(DailyQuery),
    responses((status = 200, body = DailyReportDto), (status = 404, description = "No such site in your scope"),
        (status = 422, description = "Bad or future date")))]
async fn get_daily(
    State(state): State<AppState>,
    who: Principal,
    Query(q): Query<DailyQuery>,
) -> Result<Json<DailyReportDto>, ApiError> {
    let a = assemble(&state, &who, q.site.as_deref(), q.date.as_deref()).await?;
    Ok(Json(a.dto(&state, q.rollup)))
}

/// What the submitting person adds.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitBody {
    /// Remarks (anomalies first, 异常情况优先报告); up to 1000 characters.
    #[serde(default)]
    pub remarks: String,
}

/// The parent's comment when returning a report.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// Required to return a report; optional to acknowledge one.
    #[serde(default)]
    pub comment: String,
    /// The version reviewed; when given and a newer one has come in, 409
    /// `reports.version_changed` and nothing changes.
    #[serde(default)]
    pub version: Option<u32>,
}

fn refused(r: Refusal) -> ApiError {
    let status = match r {
        Refusal::NotAChild | Refusal::NotOwnSite => StatusCode::FORBIDDEN,
        _ => StatusCode::CONFLICT,
    };
    ApiError::new(status, r.code())
}

/// A racing submission took the version number: the caller tries again.
fn raced(e: StoreError) -> ApiError {
    match e {
        StoreError::Unique { .. } => ApiError::new(StatusCode::CONFLICT, "reports.conflict"),
        other => other.into(),
    }
}

async fn audit_report(
    tx: &mut Tx,
    state: &AppState,
    who: &Principal,
    action: &str,
    site: &Site,
    day: Date,
    detail: serde_json::Value,
) -> Result<(), ApiError> {
    audit::append(
        tx,
        state.clock.now(),
        &Record {
            actor: who.actor(),
            addr: &who.addr,
            action,
            target: format!("report:{}:{day}", site.code),
            site: &site.code,
            outcome: AuditOutcome::Ok,
            detail,
        },
    )
    .await?;
    Ok(())
}

/// Submits a new version of a site's report (page and API): its live figures are frozen
/// in it, and for a site with sites below it the roll-up too.
pub async fn submit(
    state: &AppState,
    who: &Principal,
    code: &str,
    date: &str,
    remarks: &str,
    idem: &Idem<'_>,
) -> Result<Response, ApiError> {
    let a = assemble(state, who, Some(code), Some(date)).await?;
    // The parent acknowledges a site's report, so it must not also write it.
    if a.site.id != who.account()?.site_id {
        return Err(refused(Refusal::NotOwnSite));
    }
    let remarks = rules::text(remarks, "remarks", false).map_err(|e| ApiError::invalid(vec![e]))?;
    let now = state.clock.now();
    let own = a.own();
    let rollup = a.rollup_to_submit();
    let mut tx = state.store.begin().await?;
    if let Some(replay) = idem.check_in(&mut tx).await? {
        return Ok(replay);
    }
    let latest = store::latest_in(&mut tx, &state.vault, a.site.id, a.day).await?;
    rules::check_submit(
        latest.as_ref().map(|v| Latest {
            status: v.status,
            figures: &v.figures,
            remarks: &v.remarks,
            rollup: v.rollup.as_ref(),
        }),
        &own.live,
        rollup.as_ref(),
        &remarks,
    )
    .map_err(refused)?;
    let v = Version {
        id: state.ids.new_id(),
        site_id: a.site.id,
        day: a.day,
        version: latest.as_ref().map_or(1, |v| v.version + 1),
        figures: own.live.clone(),
        rollup,
        remarks,
        submitted_by: who.actor().to_owned(),
        submitted_at: now,
        status: Status::Submitted,
        decided_by: None,
        decided_at: None,
        comment: None,
    };
    store::insert(&mut tx, &state.vault, &v)
        .await
        .map_err(raced)?;
    store::settle_reminder(&mut tx, a.site.id, a.day, now, who.actor()).await?;
    audit_report(
        &mut tx,
        state,
        who,
        "report.submit",
        &a.site,
        a.day,
        serde_json::json!({"version": v.version, "screened": v.figures.screened}),
    )
    .await?;
    let mut standing = a.standing.clone();
    if let Some(s) = standing.get_mut(&a.site.id) {
        s.versions.push(v);
        if s.versions.len() == 1 {
            s.timeliness = rules::timeliness(
                Some(now),
                rules::deadline(a.day, state.reports.deadline),
                now,
            );
        }
    }
    let after = Assembled { standing, ..a };
    let res = finish(
        state,
        idem,
        tx,
        StatusCode::CREATED,
        to_text(&after.dto(state, false))?,
    )
    .await?;
    state.live.touch(Topic::Reports);
    state.live.touch(Topic::Alerts);
    Ok(res)
}

/// A parent's decision on a report.
pub struct Decision<'a> {
    /// `Acknowledged` or `Returned`.
    pub status: Status,
    pub comment: &'a str,
    /// The version the reviewer looked at, when known: a newer one is refused.
    pub seen: Option<u32>,
}

/// Acknowledges or returns the latest version of the report of a site below the asker's
/// own (page and API).
pub async fn decide(
    state: &AppState,
    who: &Principal,
    code: &str,
    date: &str,
    d: &Decision<'_>,
    idem: &Idem<'_>,
) -> Result<Response, ApiError> {
    let status = d.status;
    let a = assemble(state, who, Some(code), Some(date)).await?;
    if a.site.id == who.account()?.site_id {
        return Err(refused(Refusal::NotAChild));
    }
    let comment = rules::text(d.comment, "comment", status == Status::Returned)
        .map_err(|e| ApiError::invalid(vec![e]))?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    if let Some(replay) = idem.check_in(&mut tx).await? {
        return Ok(replay);
    }
    let latest = store::latest_in(&mut tx, &state.vault, a.site.id, a.day).await?;
    rules::check_decision(latest.as_ref().map(|v| (v.version, v.status)), d.seen)
        .map_err(refused)?;
    let Some(mut v) = latest else {
        return Err(refused(Refusal::NotSubmitted));
    };
    let note = (!comment.is_empty()).then_some(comment.as_str());
    let (a_site, day, version) = (a.site.id, a.day, v.version);
    if !store::decide(&mut tx, &state.vault, v.id, status, who.actor(), now, note).await? {
        return Err(refused(Refusal::AlreadyDecided));
    }
    // A returned report tells the site at once: its leaders' banner and its group robots
    // (without the comment, which may name a person). The new version settles it.
    let returned = status == Status::Returned;
    if returned {
        let summary = AlertSummary {
            day: Some(a.day.to_string()),
            returned: Some(v.version),
            ..AlertSummary::default()
        };
        fangkong_store::cases::raise(
            &mut tx,
            state.ids.new_id(),
            a.site.id,
            "report",
            None,
            &store::returned_key(a.site.id, a.day, v.version),
            now,
            &summary,
            state.ids.as_ref(),
        )
        .await?;
    }
    let action = match status {
        Status::Returned => "report.return",
        _ => "report.acknowledge",
    };
    audit_report(
        &mut tx,
        state,
        who,
        action,
        &a.site,
        a.day,
        serde_json::json!({"version": v.version}),
    )
    .await?;
    v.status = status;
    v.decided_by = Some(who.actor().to_owned());
    v.decided_at = Some(now);
    v.comment = note.map(str::to_owned);
    let mut standing = a.standing.clone();
    if let Some(s) = standing.get_mut(&a.site.id)
        && let Some(last) = s.versions.last_mut()
    {
        *last = v;
    }
    let after = Assembled { standing, ..a };
    let res = finish(
        state,
        idem,
        tx,
        StatusCode::OK,
        to_text(&after.dto(state, false))?,
    )
    .await?;
    state.live.touch(Topic::Reports);
    if returned {
        // A new version committed while the return was being made settles its notice.
        if let Err(e) = settle_if_reported(state, a_site, day, version).await {
            tracing::warn!(error = %e, "cannot settle a returned report's notice");
        }
        state.live.touch(Topic::Alerts);
        state.robots.notify_one();
    }
    Ok(res)
}

/// Settles a site's report notices of a day when a version newer than `after` is in: the
/// second look that closes the race between raising a notice and a submission settling
/// the notices it can see.
async fn settle_if_reported(
    state: &AppState,
    site: Uuid,
    day: Date,
    after: u32,
) -> Result<(), StoreError> {
    let mut tx = state.store.begin().await?;
    if store::latest_in(&mut tx, &state.vault, site, day)
        .await?
        .is_some_and(|v| v.version > after)
    {
        store::settle_reminder(&mut tx, site, day, state.clock.now(), "system").await?;
    }
    tx.commit().await
}

/// Reviews the day's figures and submits them up the tree as a new version. Refused with
/// 409 `reports.unchanged` when the same figures and remarks stand already.
#[utoipa::path(post, path = "/api/v1/reports/daily/{site}/{date}/submit", tag = "reports",
    request_body = SubmitBody,
    params(("site" = String, Path, description = "Site code"), ("date" = String, Path, description = "YYYY-MM-DD"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays return the first answer")),
    responses((status = 201, body = DailyReportDto), (status = 403, description = "Another site's report: each site submits its own"),
        (status = 404, description = "No such site in your scope"),
        (status = 409, description = "Unchanged since the last version"), (status = 422, description = "Bad or future date, overlong remarks")))]
async fn post_submit(
    State(state): State<AppState>,
    who: Principal,
    Path((site, date)): Path<(String, String)>,
    key: IdempotencyKey,
    body: JsonBody<SubmitBody>,
) -> Result<Response, ApiError> {
    // The key covers the site and date too: reused for another report, it is a conflict.
    let fingerprint = format!("{site}/{date}/{}", body.fingerprint);
    let scope = "POST /api/v1/reports/daily/{site}/{date}/submit";
    let idem = Idem::raw(scope, &who, key.0.as_deref(), &fingerprint);
    submit(&state, &who, &site, &date, &body.value.remarks, &idem).await
}

/// Acknowledges the submitted report of a site below yours.
#[utoipa::path(post, path = "/api/v1/reports/daily/{site}/{date}/acknowledge", tag = "reports",
    request_body = DecisionBody,
    params(("site" = String, Path, description = "Site code"), ("date" = String, Path, description = "YYYY-MM-DD"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays return the first answer")),
    responses((status = 200, body = DailyReportDto), (status = 403, description = "Your own site's report"),
        (status = 404, description = "No such site in your scope"),
        (status = 409, description = "Not submitted, decided already, or a newer version came in than the one reviewed")))]
async fn post_acknowledge(
    State(state): State<AppState>,
    who: Principal,
    Path((site, date)): Path<(String, String)>,
    key: IdempotencyKey,
    body: JsonBody<DecisionBody>,
) -> Result<Response, ApiError> {
    let scope = "POST /api/v1/reports/daily/{site}/{date}/acknowledge";
    let fingerprint = format!("{site}/{date}/{}", body.fingerprint);
    let idem = Idem::raw(scope, &who, key.0.as_deref(), &fingerprint);
    let d = Decision {
        status: Status::Acknowledged,
        comment: &body.value.comment,
        seen: body.value.version,
    };
    decide(&state, &who, &site, &date, &d, &idem).await
}

/// Returns the submitted report of a site below yours with a comment; the site submits a
/// new version.
#[utoipa::path(post, path = "/api/v1/reports/daily/{site}/{date}/return", tag = "reports",
    request_body = DecisionBody,
    params(("site" = String, Path, description = "Site code"), ("date" = String, Path, description = "YYYY-MM-DD"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays return the first answer")),
    responses((status = 200, body = DailyReportDto), (status = 403, description = "Your own site's report"),
        (status = 404, description = "No such site in your scope"),
        (status = 409, description = "Not submitted, decided already, or a newer version came in than the one reviewed"), (status = 422, description = "No comment")))]
async fn post_return(
    State(state): State<AppState>,
    who: Principal,
    Path((site, date)): Path<(String, String)>,
    key: IdempotencyKey,
    body: JsonBody<DecisionBody>,
) -> Result<Response, ApiError> {
    let scope = "POST /api/v1/reports/daily/{site}/{date}/return";
    let fingerprint = format!("{site}/{date}/{}", body.fingerprint);
    let idem = Idem::raw(scope, &who, key.0.as_deref(), &fingerprint);
    let d = Decision {
        status: Status::Returned,
        comment: &body.value.comment,
        seen: body.value.version,
    };
    decide(&state, &who, &site, &date, &d, &idem).await
}

/// One day of a trend: the subtree's door figures.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TrendDay {
    pub date: String,
    pub screened: i64,
    pub admitted: i64,
    pub refused_no_mask: i64,
    pub sent_to_buffer: i64,
    pub suspected: i64,
}

/// Days of a site's subtree up to `until`, every day present (zero when nothing was
/// recorded), oldest first.
pub async fn trend(
    state: &AppState,
    tree: &Tree,
    site: &Site,
    until: Date,
    days: u16,
) -> Result<Vec<TrendDay>, ApiError> {
    let from = until - time::Duration::days(i64::from(days.max(1)) - 1);
    let ids: Vec<Uuid> = tree.subtree(site.id).iter().map(|s| s.id).collect();
    let mut series: HashMap<Date, Figures> = store::counter_series(&state.store, &ids, from, until)
        .await?
        .into_iter()
        .collect();
    let mut out = Vec::new();
    let mut d = from;
    while d <= until {
        let f = series.remove(&d).unwrap_or_default();
        out.push(TrendDay {
            date: d.to_string(),
            screened: f.screened,
            admitted: f.admitted,
            refused_no_mask: f.refused_no_mask,
            sent_to_buffer: f.sent_to_buffer,
            suspected: f.suspected,
        });
        let Some(next) = d.next_day() else { break };
        d = next;
    }
    Ok(out)
}

/// Which trend.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrendQuery {
    /// Site code (its whole subtree); your own site when left out.
    pub site: Option<String>,
    /// How many days up to today: 1 to 90, 30 when left out.
    pub days: Option<u16>,
}

/// The daily door figures of a site's subtree over the last days (the dashboard's trend
/// charts), every day present.
#[utoipa::path(get, path = "/api/v1/reports/trends", tag = "reports",
    params(TrendQuery),
    responses((status = 200, body = [TrendDay]), (status = 404, description = "No such site in your scope"),
        (status = 422, description = "Days out of range")))]
async fn get_trends(
    State(state): State<AppState>,
    who: Principal,
    Query(q): Query<TrendQuery>,
) -> Result<Json<Vec<TrendDay>>, ApiError> {
    let days = q.days.unwrap_or(30);
    if !(1..=90).contains(&days) {
        return Err(ApiError::invalid(vec![FieldError::new(
            "days",
            "reports.days.invalid",
        )]));
    }
    let site = crate::screening::site_of(&state, &who, q.site.as_deref()).await?;
    let tree = Tree::load(&state).await?;
    Ok(Json(
        trend(&state, &tree, &site, day_of(state.clock.now()), days).await?,
    ))
}

// ---- reminders ----------------------------------------------------------------------------

/// Past a day's deadline, raises one reminder alert for each site with no report for it:
/// banner for its leaders and the parent's, and a message to its group robots. Submitting
/// settles it. Yesterday is looked at too, so a deadline passed while no server ran is
/// still reminded; a site added after a day's deadline owes nothing for that day. Returns
/// how many were raised.
pub async fn remind(state: &AppState) -> Result<usize, StoreError> {
    let now = state.clock.now();
    let today = day_of(now);
    let days = [today.previous_day(), Some(today)]
        .into_iter()
        .flatten()
        .filter(|d| now > rules::deadline(*d, state.reports.deadline));
    let sites = org::list_sites(&state.store).await?;
    let ids: Vec<Uuid> = sites.iter().map(|s| s.site.id).collect();
    let mut n = 0;
    for day in days {
        let due: std::collections::HashSet<Uuid> =
            store::sites_existing_at(&state.store, rules::deadline(day, state.reports.deadline))
                .await?
                .into_iter()
                .collect();
        let reported: std::collections::HashSet<Uuid> =
            store::between(&state.store, &state.vault, &ids, day, day, 100_000)
                .await?
                .into_iter()
                .map(|v| v.site_id)
                .collect();
        for s in sites
            .iter()
            .filter(|s| due.contains(&s.site.id) && !reported.contains(&s.site.id))
        {
            let summary = AlertSummary {
                day: Some(day.to_string()),
                ..AlertSummary::default()
            };
            let dedupe = store::reminder_key(s.site.id, day);
            let raised =
                crate::cases_alerts::raise_once(state, s.site.id, "report", &dedupe, &summary)
                    .await?;
            if raised {
                tracing::warn!(site = %s.site.code, %day, "daily report missing past its deadline");
                n += 1;
                // A report committed while the reminder was being raised settles it now.
                settle_if_reported(state, s.site.id, day, 0).await?;
            }
        }
    }
    if n > 0 {
        state.live.touch(Topic::Alerts);
        state.live.touch(Topic::Reports);
        state.robots.notify_one();
    }
    Ok(n)
}
