//! The hotline's pages: the operators' workbench (intake, search with highlights,
//! supervision, today's hot terms), a ticket with its timeline and the steps its status
//! allows, the citizens' form, and the daily summary as XLSX.

use crate::AppState;
use crate::access::Principal;
use crate::cases_pages::parse_form;
use crate::error::ApiError;
use crate::home::{Shell, render};
use crate::hotline::{self as api, Hit, SearchQuery, StepBody, TicketBody, Verb};
use crate::i18n::Locale;
use crate::screening_pages::{fail, form_idem};
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use fangkong_domain::access::Permission;
use fangkong_domain::clock::beijing;
use fangkong_domain::hotline::{Category, Channel, Satisfaction, Status};
use fangkong_store::hotline as store;
use fangkong_store::org;
use serde::Deserialize;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/hotline", get(workbench))
        .route("/hotline/tickets", post(intake_form))
        .route("/hotline/tickets/{id}", get(ticket_page))
        .route("/hotline/tickets/{id}/{verb}", post(step_form))
        .route("/hotline/report", get(public_page).post(public_form))
        .route("/hotline/summary.xlsx", get(summary_xlsx))
        .route("/hotline/similar", get(similar_panel))
        .route("/hotline/hot", get(hot_page))
        .route("/hotline/settings", get(settings_page))
        .route("/hotline/departments", post(department_form))
        .route("/hotline/departments/{id}/users", post(link_form))
        .route("/hotline/answers", post(answer_form))
        .route("/calendar", get(calendar_page).post(override_form))
}

fn local(at: time::OffsetDateTime) -> String {
    let b = beijing(at);
    format!(
        "{}-{:02}-{:02} {:02}:{:02}",
        b.year(),
        u8::from(b.month()),
        b.day(),
        b.hour(),
        b.minute()
    )
}

fn options(
    locale: Locale,
    prefix: &str,
    values: &[&'static str],
) -> Vec<(&'static str, &'static str)> {
    values
        .iter()
        .map(|v| (*v, locale.t(&format!("{prefix}.{v}"))))
        .collect()
}

fn categories(locale: Locale) -> Vec<(&'static str, &'static str)> {
    let v: Vec<&'static str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    options(locale, "hotline.category", &v)
}

fn channels(locale: Locale) -> Vec<(&'static str, &'static str)> {
    let v: Vec<&'static str> = Channel::ALL.iter().map(|c| c.as_str()).collect();
    options(locale, "hotline.channel", &v)
}

fn statuses(locale: Locale) -> Vec<(&'static str, &'static str)> {
    let v: Vec<&'static str> = Status::ALL.iter().map(|c| c.as_str()).collect();
    options(locale, "hotline.status", &v)
}

/// Every message key the pages build from stored names.
pub fn label_keys() -> Vec<String> {
    let mut keys = Vec::new();
    for c in Category::ALL {
        keys.push(format!("hotline.category.{}", c.as_str()));
    }
    for c in Channel::ALL {
        keys.push(format!("hotline.channel.{}", c.as_str()));
    }
    for s in Status::ALL {
        keys.push(format!("hotline.status.{}", s.as_str()));
    }
    for s in Satisfaction::ALL {
        keys.push(format!("hotline.satisfaction.{}", s.as_str()));
    }
    for e in fangkong_domain::hotline::EventKind::ALL {
        keys.push(format!("hotline.event.{}", e.as_str()));
    }
    for s in ["on_time", "near_due", "overdue"] {
        keys.push(format!("hotline.standing.{s}"));
    }
    keys
}

struct Line {
    id: Uuid,
    number: String,
    category: &'static str,
    status: &'static str,
    standing: String,
    standing_label: &'static str,
    due: String,
    department: String,
    escalated: bool,
}

#[derive(Template)]
#[template(path = "hotline.html")]
struct Workbench {
    shell: Shell,
    can_take: bool,
    form_key: String,
    form: TicketBody,
    errors: crate::auth::FormErrors,
    channels: Vec<(&'static str, &'static str)>,
    categories: Vec<(&'static str, &'static str)>,
    statuses: Vec<(&'static str, &'static str)>,
    q: SearchQuery,
    searched: bool,
    total: usize,
    hits: Vec<(Hit, &'static str, &'static str)>,
    due: Vec<Line>,
    hot: Vec<(String, u32, f64)>,
    /// Today's summary (for the roles that read summaries).
    summary: Option<api::Summary>,
    /// Category and satisfaction labels of the summary.
    summary_labels: Vec<(&'static str, i64)>,
    can_summary: bool,
    can_manage: bool,
}

async fn lines(
    state: &AppState,
    locale: Locale,
    tickets: Vec<store::Ticket>,
    sites: &[Uuid],
) -> Result<Vec<Line>, ApiError> {
    let deps = store::departments(&state.store, sites).await?;
    let now = state.clock.now();
    Ok(tickets
        .into_iter()
        .map(|t| {
            let standing = api::standing(&t, now).map_or("", |s| s.as_str());
            Line {
                id: t.id,
                category: locale.t(&format!("hotline.category.{}", t.category.as_str())),
                status: locale.t(&format!("hotline.status.{}", t.status.as_str())),
                standing_label: if standing.is_empty() {
                    ""
                } else {
                    locale.t(&format!("hotline.standing.{standing}"))
                },
                standing: standing.to_owned(),
                due: local(t.due_at),
                department: t
                    .department_id
                    .and_then(|d| deps.iter().find(|x| x.id == d))
                    .map(|d| d.name.clone())
                    .unwrap_or_default(),
                escalated: t.escalated_at.is_some(),
                number: t.number,
            }
        })
        .collect())
}

async fn workbench_page(
    state: &AppState,
    locale: Locale,
    who: &Principal,
    q: SearchQuery,
    form: TicketBody,
    errors: crate::auth::FormErrors,
) -> Result<Workbench, ApiError> {
    let reach = api::reach(state, who).await?;
    let searched = [&q.q, &q.category, &q.status, &q.from, &q.until]
        .iter()
        .any(|v| v.as_deref().is_some_and(|s| !s.trim().is_empty()));
    let (total, hits) = if searched {
        let found = api::find(state, who, &q).await?;
        (
            found.total,
            found
                .items
                .into_iter()
                .map(|h| {
                    let c = locale.t(&format!("hotline.category.{}", h.category));
                    let s = locale.t(&format!("hotline.status.{}", h.status));
                    (h, c, s)
                })
                .collect(),
        )
    } else {
        (0, Vec::new())
    };
    let due = lines(
        state,
        locale,
        api::supervision(state, &reach).await?,
        &reach.sites,
    )
    .await?;
    let today = beijing(state.clock.now()).date();
    let summary = if who.can(Permission::HotlineSummary) {
        Some(api::summary(state, &reach.sites, today).await?)
    } else {
        None
    };
    let terms = match &summary {
        Some(s) => s.hot_terms.clone(),
        None if reach.departments.is_none() => api::hot_terms(state, &reach.sites, today).await?,
        None => Vec::new(),
    };
    let hot = terms
        .into_iter()
        .take(10)
        .map(|t| (t.term, t.today, t.mean))
        .collect();
    let summary_labels = summary.as_ref().map_or_else(Vec::new, |s| {
        s.by_category
            .iter()
            .map(|c| (locale.t(&format!("hotline.category.{}", c.key)), c.n))
            .chain(
                s.satisfaction
                    .iter()
                    .map(|c| (locale.t(&format!("hotline.satisfaction.{}", c.key)), c.n)),
            )
            .collect()
    });
    Ok(Workbench {
        shell: Shell::of(locale, "/hotline", who),
        can_take: who.can(Permission::HotlineHandle),
        form_key: state.ids.new_id().to_string(),
        form,
        errors,
        channels: channels(locale),
        categories: categories(locale),
        statuses: statuses(locale),
        q,
        searched,
        total,
        hits,
        due,
        hot,
        summary,
        summary_labels,
        can_summary: who.can(Permission::HotlineSummary),
        can_manage: who.can(Permission::HotlineManage),
    })
}

async fn workbench(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Query(q): Query<SearchQuery>,
) -> Response {
    let form = TicketBody {
        channel: "phone".to_owned(),
        ..TicketBody::default()
    };
    match workbench_page(
        &state,
        locale,
        &who,
        q,
        form,
        crate::auth::FormErrors::none(),
    )
    .await
    {
        Ok(p) => render(&p),
        Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let errors = crate::auth::FormErrors::of(locale, &e.fields);
            let form = TicketBody::default();
            match workbench_page(&state, locale, &who, SearchQuery::default(), form, errors).await {
                Ok(p) => render(&p),
                Err(e) => fail(locale, &e),
            }
        }
        Err(e) => fail(locale, &e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct IntakeForm {
    channel: String,
    category: String,
    content: String,
    caller_name: String,
    caller_phone: String,
    place: String,
    urgent: Option<String>,
    form_key: String,
}

impl IntakeForm {
    fn body(&self) -> TicketBody {
        TicketBody {
            channel: self.channel.clone(),
            category: self.category.clone(),
            content: self.content.clone(),
            caller_name: Some(self.caller_name.clone()),
            caller_phone: Some(self.caller_phone.clone()),
            place: Some(self.place.clone()),
            urgent: self.urgent.is_some(),
            site: None,
        }
    }
}

/// The new ticket's id from a creation answer.
async fn created_id(res: Response) -> Option<Uuid> {
    let bytes = axum::body::to_bytes(res.into_body(), 256 * 1024)
        .await
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v["id"].as_str().and_then(|s| Uuid::parse_str(s).ok())
}

async fn intake_form(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    body: Bytes,
) -> Response {
    let (f, fingerprint) = match parse_form::<IntakeForm>(locale, &body) {
        Ok(parsed) => parsed,
        Err(res) => return *res,
    };
    let idem = form_idem("POST /hotline/tickets", &who, &f.form_key, &fingerprint);
    let b = f.body();
    let outcome = async {
        let site = crate::screening::site_of(&state, &who, None).await?;
        api::take(&state, &who, &site, &b, &idem).await
    }
    .await;
    match outcome {
        Ok(res) => match created_id(res).await {
            Some(id) => Redirect::to(&format!("/hotline/tickets/{id}?new=1")).into_response(),
            None => Redirect::to("/hotline").into_response(),
        },
        Err(e) if !e.fields.is_empty() => {
            let errors = crate::auth::FormErrors::of(locale, &e.fields);
            match workbench_page(&state, locale, &who, SearchQuery::default(), b, errors).await {
                Ok(p) => (StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response(),
                Err(e) => fail(locale, &e),
            }
        }
        Err(e) => fail(locale, &e),
    }
}

struct EventLine {
    at: String,
    actor: String,
    kind: &'static str,
    department: String,
    detail: String,
}

#[derive(Template)]
#[template(path = "ticket.html")]
struct TicketPage {
    shell: Shell,
    t: api::TicketDto,
    category: &'static str,
    channel: &'static str,
    status: &'static str,
    standing_label: &'static str,
    due: String,
    created: String,
    events: Vec<EventLine>,
    duplicates: Vec<api::Duplicate>,
    departments: Vec<store::Department>,
    satisfactions: Vec<(&'static str, &'static str)>,
    form_key: String,
    error: &'static str,
    is_new: bool,
    /// The steps the status allows, by verb.
    allows: Vec<&'static str>,
    /// Knowledge-base answers for a direct answer.
    answers: Vec<store::Answer>,
}

impl TicketPage {
    fn allows(&self, verb: &str) -> bool {
        self.allows.contains(&verb)
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TicketQuery {
    new: Option<String>,
    error: Option<String>,
}

async fn ticket_view(
    state: &AppState,
    locale: Locale,
    who: &Principal,
    id: Uuid,
    q: &TicketQuery,
) -> Result<TicketPage, ApiError> {
    let (t, assigned, reach) = api::visible(state, who, id).await?;
    let dto = api::ticket_dto(state, &t, &assigned).await?;
    let can_handle = who.can(Permission::HotlineHandle);
    let can_reply = who.can(Permission::HotlineReply);
    let duplicates = if can_handle && !matches!(t.status, Status::Merged | Status::Closed) {
        let bands = fangkong_domain::hotline::text::band_keys(&t.content);
        api::duplicates(
            state,
            &reach,
            &t.content,
            &bands,
            t.caller_phone.as_deref(),
            Some(t.id),
        )
        .await?
        .into_iter()
        .filter(|d| d.status != "merged")
        .collect()
    } else {
        Vec::new()
    };
    use fangkong_domain::hotline::{Action, next};
    let mut allows = Vec::new();
    for (verb, action) in [
        ("answer", Action::Answer),
        ("transfer", Action::Transfer),
        ("reply", Action::Reply),
        ("review", Action::Accept),
        ("follow-up", Action::FollowUp),
        ("close", Action::Close),
        ("reopen", Action::Reopen),
        ("supervise", Action::Supervise),
        ("merge", Action::MergeInto),
    ] {
        let permitted = if verb == "reply" {
            can_reply
        } else {
            can_handle
        };
        if permitted && next(t.status, action).is_ok() {
            allows.push(verb);
        }
    }
    let answers = if allows.contains(&"answer") {
        api::suggest_answers(state, &reach.sites, &t.content).await?
    } else {
        Vec::new()
    };
    let events = dto
        .timeline
        .iter()
        .map(|e| EventLine {
            at: time::OffsetDateTime::parse(&e.at, &time::format_description::well_known::Rfc3339)
                .map(local)
                .unwrap_or_default(),
            actor: e.actor.clone(),
            kind: locale.t(&format!("hotline.event.{}", e.kind)),
            department: e.department.clone().unwrap_or_default(),
            detail: e.detail.clone(),
        })
        .collect();
    let error = q.error.as_deref().map_or("", |code| {
        [format!("problem.{code}"), code.to_owned()]
            .iter()
            .map(|k| (k.clone(), locale.t(k)))
            .find(|(k, m)| *m != k.as_str())
            .map_or("", |(_, m)| m)
    });
    Ok(TicketPage {
        shell: Shell::of(locale, "/hotline", who),
        category: locale.t(&format!("hotline.category.{}", dto.category)),
        channel: locale.t(&format!("hotline.channel.{}", dto.channel)),
        status: locale.t(&format!("hotline.status.{}", dto.status)),
        standing_label: dto
            .standing
            .as_deref()
            .map_or("", |s| locale.t(&format!("hotline.standing.{s}"))),
        due: local(t.due_at),
        created: local(t.created_at),
        events,
        duplicates,
        departments: store::departments(&state.store, &reach.sites).await?,
        satisfactions: Satisfaction::ALL
            .iter()
            .map(|s| {
                (
                    s.as_str(),
                    locale.t(&format!("hotline.satisfaction.{}", s.as_str())),
                )
            })
            .collect(),
        form_key: state.ids.new_id().to_string(),
        error,
        is_new: q.new.is_some(),
        allows,
        answers,
        t: dto,
    })
}

async fn ticket_page(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path(id): Path<Uuid>,
    Query(q): Query<TicketQuery>,
) -> Response {
    match ticket_view(&state, locale, &who, id, &q).await {
        Ok(p) => render(&p),
        Err(e) => fail(locale, &e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StepForm {
    version: Option<i64>,
    text: String,
    department: String,
    co_department: Vec<String>,
    workdays: String,
    hours: String,
    accept: String,
    satisfaction: String,
    into: String,
    form_key: String,
}

fn number(raw: &str) -> Option<i64> {
    raw.trim().parse().ok()
}

async fn step_form(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path((id, verb)): Path<(Uuid, String)>,
    body: Bytes,
) -> Response {
    let Some(v) = Verb::parse(&verb) else {
        return fail(locale, &ApiError::not_found());
    };
    // Several co-handling departments arrive as repeated fields.
    let (f, fingerprint) = match parse_form::<Vec<(String, String)>>(locale, &body) {
        Ok((pairs, fp)) => {
            let mut f = StepForm::default();
            for (k, val) in pairs {
                match k.as_str() {
                    "version" => f.version = number(&val),
                    "text" => f.text = val,
                    "department" => f.department = val,
                    "co_department" if !val.trim().is_empty() => f.co_department.push(val),
                    "workdays" => f.workdays = val,
                    "hours" => f.hours = val,
                    "accept" => f.accept = val,
                    "satisfaction" => f.satisfaction = val,
                    "into" => f.into = val,
                    "form_key" => f.form_key = val,
                    _ => {}
                }
            }
            (f, fp)
        }
        Err(res) => return *res,
    };
    let idem = form_idem(
        "POST /hotline/tickets/{id}/{verb}",
        &who,
        &f.form_key,
        &fingerprint,
    );
    let b = StepBody {
        version: f.version,
        text: Some(f.text.clone()),
        department: Some(f.department.clone()).filter(|d| !d.is_empty()),
        co_departments: f.co_department.clone(),
        workdays: number(&f.workdays),
        hours: number(&f.hours),
        accept: match f.accept.as_str() {
            "yes" => Some(true),
            "no" => Some(false),
            _ => None,
        },
        satisfaction: Some(f.satisfaction.clone()).filter(|s| !s.is_empty()),
        into: Some(f.into.clone()),
    };
    match api::act(&state, &who, id, v, &b, &idem).await {
        Ok(_) => {
            let to = if v == Verb::Merge {
                "/hotline".to_owned()
            } else {
                format!("/hotline/tickets/{id}")
            };
            Redirect::to(&to).into_response()
        }
        Err(e) if e.status.is_client_error() && e.status != StatusCode::NOT_FOUND => {
            let code = e.fields.first().map_or(e.code, |f| f.code);
            Redirect::to(&format!("/hotline/tickets/{id}?error={code}")).into_response()
        }
        Err(e) => fail(locale, &e),
    }
}

// ---- the citizens' form ---------------------------------------------------------------------

#[derive(Template)]
#[template(path = "hotline_public.html")]
struct PublicPage {
    shell: Shell,
    csrf: String,
    form: IntakeForm,
    categories: Vec<(&'static str, &'static str)>,
    errors: crate::auth::FormErrors,
    number: Option<String>,
    answers: Vec<store::Answer>,
}

async fn public_view(
    state: &AppState,
    locale: Locale,
    csrf: String,
    form: IntakeForm,
    errors: crate::auth::FormErrors,
    number: Option<String>,
) -> Result<PublicPage, ApiError> {
    // Each showing of the form is one submission: a double click stores one ticket.
    let mut form = form;
    if form.form_key.is_empty() {
        form.form_key = state.ids.new_id().to_string();
    }
    let sites: Vec<Uuid> = org::list_sites(&state.store)
        .await?
        .iter()
        .map(|s| s.site.id)
        .collect();
    Ok(PublicPage {
        shell: Shell::new(locale, "/hotline/report"),
        csrf,
        form,
        categories: categories(locale),
        errors,
        number,
        answers: api::find_answers(state, &sites, "", true)
            .await?
            .into_iter()
            .take(10)
            .collect(),
    })
}

async fn public_page(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    headers: HeaderMap,
) -> Response {
    let (csrf, cookie) = form_csrf(&state, &who, &headers);
    match public_view(
        &state,
        locale,
        csrf,
        IntakeForm::default(),
        crate::auth::FormErrors::none(),
        None,
    )
    .await
    {
        Ok(p) => crate::auth::with_cookie(render(&p), cookie),
        Err(e) => fail(locale, &e),
    }
}

/// The anti-forgery token of the citizens' form: the session's, or for the public a
/// cookie pair (set when missing).
fn form_csrf(
    state: &AppState,
    who: &Principal,
    headers: &HeaderMap,
) -> (String, Option<axum::http::HeaderValue>) {
    if who.account.is_some() {
        (who.csrf.clone(), None)
    } else {
        crate::auth::anonymous_csrf(headers, &state.auth)
    }
}

async fn public_form(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (f, fingerprint) = match parse_form::<IntakeForm>(locale, &body) {
        Ok(parsed) => parsed,
        Err(res) => return *res,
    };
    if state.public_tickets.check_key(&who.addr).is_err() {
        return fail(
            locale,
            &ApiError::new(StatusCode::TOO_MANY_REQUESTS, "registration.rate_limited"),
        );
    }
    let idem = form_idem("POST /hotline/report", &who, &f.form_key, &fingerprint);
    let b = TicketBody {
        channel: "web".to_owned(),
        urgent: false,
        ..f.body()
    };
    let outcome = async {
        let root = org::list_sites(&state.store)
            .await?
            .into_iter()
            .find(|s| s.depth == 0)
            .ok_or_else(ApiError::not_found)?;
        api::take(&state, &who, &root.site, &b, &idem).await
    }
    .await;
    let (csrf, cookie) = form_csrf(&state, &who, &headers);
    let shown = match outcome {
        Ok(res) => {
            let bytes = axum::body::to_bytes(res.into_body(), 256 * 1024)
                .await
                .unwrap_or_default();
            let number = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v["number"].as_str().map(str::to_owned));
            public_view(
                &state,
                locale,
                csrf,
                IntakeForm::default(),
                crate::auth::FormErrors::none(),
                number,
            )
            .await
        }
        Err(e) if !e.fields.is_empty() => {
            let errors = crate::auth::FormErrors::of(locale, &e.fields);
            public_view(&state, locale, csrf, f, errors, None).await
        }
        Err(e) => Err(e),
    };
    match shown {
        Ok(p) => crate::auth::with_cookie(render(&p), cookie),
        Err(e) => fail(locale, &e),
    }
}

// ---- the summary as a spreadsheet -----------------------------------------------------------

#[derive(Debug, Deserialize)]
struct DayForm {
    date: Option<String>,
}

async fn summary_xlsx(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Query(q): Query<DayForm>,
) -> Response {
    let outcome = async {
        let day = api::day_or_today(&state, q.date.as_deref())?;
        let scope = who.scope(&state.store).await?;
        let sites: Vec<Uuid> = org::list_sites(&state.store)
            .await?
            .iter()
            .map(|s| s.site.id)
            .filter(|id| scope.covers(*id))
            .collect();
        let s = api::summary(&state, &sites, day).await?;
        workbook(locale, &s).map_err(|_| ApiError::internal())
    }
    .await;
    match outcome {
        Ok((bytes, name)) => (
            [
                (
                    header::CONTENT_TYPE,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
                ),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}\""),
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(e) => fail(locale, &e),
    }
}

fn workbook(
    locale: Locale,
    s: &api::Summary,
) -> Result<(Vec<u8>, String), rust_xlsxwriter::XlsxError> {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let sheet = wb.add_worksheet();
    let bold = Format::new().set_bold();
    let title = Format::new().set_bold().set_font_size(16);
    sheet.write_with_format(0, 0, locale.t("hotline.summary.title"), &title)?;
    sheet.write(
        1,
        0,
        format!("{} {}", locale.t("hotline.summary.date"), s.date),
    )?;
    let mut row = 3u32;
    let mut block = |sheet: &mut rust_xlsxwriter::Worksheet,
                     heading: &str,
                     items: Vec<(String, i64)>|
     -> Result<(), rust_xlsxwriter::XlsxError> {
        sheet.write_with_format(row, 0, heading, &bold)?;
        row += 1;
        for (k, n) in items {
            sheet.write(row, 0, k)?;
            sheet.write(row, 1, n as f64)?;
            row += 1;
        }
        row += 1;
        Ok(())
    };
    block(
        sheet,
        locale.t("hotline.summary.totals"),
        vec![
            (locale.t("hotline.summary.total").to_owned(), s.total),
            (locale.t("hotline.summary.urgent").to_owned(), s.urgent),
            (
                locale.t("hotline.summary.overdue_now").to_owned(),
                s.overdue_now,
            ),
        ],
    )?;
    let label = |prefix: &str, v: &[api::Count]| -> Vec<(String, i64)> {
        v.iter()
            .map(|c| (locale.t(&format!("{prefix}.{}", c.key)).to_owned(), c.n))
            .collect()
    };
    block(
        sheet,
        locale.t("hotline.summary.by_category"),
        label("hotline.category", &s.by_category),
    )?;
    block(
        sheet,
        locale.t("hotline.summary.by_channel"),
        label("hotline.channel", &s.by_channel),
    )?;
    block(
        sheet,
        locale.t("hotline.summary.satisfaction"),
        label("hotline.satisfaction", &s.satisfaction),
    )?;
    block(
        sheet,
        locale.t("hotline.summary.hot"),
        s.hot_terms
            .iter()
            .map(|h| (h.term.clone(), i64::from(h.today)))
            .collect(),
    )?;
    sheet.write_with_format(row, 0, locale.t("hotline.summary.departments"), &bold)?;
    row += 1;
    for (i, h) in [
        "hotline.department",
        "hotline.summary.received",
        "hotline.summary.open",
        "hotline.summary.overdue",
        "hotline.satisfaction.satisfied",
        "hotline.satisfaction.basic",
        "hotline.satisfaction.unsatisfied",
    ]
    .iter()
    .enumerate()
    {
        sheet.write_with_format(row, u16::try_from(i).unwrap_or(0), locale.t(h), &bold)?;
    }
    row += 1;
    for d in &s.departments {
        sheet.write(row, 0, d.name.as_str())?;
        for (i, n) in [
            d.received_today,
            d.open,
            d.overdue,
            d.satisfied,
            d.basic,
            d.unsatisfied,
        ]
        .iter()
        .enumerate()
        {
            sheet.write(row, u16::try_from(i + 1).unwrap_or(1), *n as f64)?;
        }
        row += 1;
    }
    sheet.set_column_width(0, 28)?;
    Ok((
        wb.save_to_buffer()?,
        format!("hotline-summary-{}.xlsx", s.date),
    ))
}

// ---- live duplicate suggestions while a ticket is typed --------------------------------------

#[derive(Template)]
#[template(path = "hotline_similar.html")]
struct SimilarPanel {
    locale: Locale,
    duplicates: Vec<api::Duplicate>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SimilarForm {
    content: String,
    caller_phone: String,
}

/// The intake form's suggestions: near-duplicates of what is typed and the caller's recent
/// tickets (htmx fragment).
async fn similar_panel(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Query(f): Query<SimilarForm>,
) -> Response {
    let outcome = async {
        let reach = api::reach(&state, &who).await?;
        let phone = Some(f.caller_phone.trim())
            .filter(|p| fangkong_domain::privacy::Phone::parse(p, "caller_phone").is_ok());
        if f.content.trim().chars().count() < 4 && phone.is_none() {
            return Ok(Vec::new());
        }
        let bands = fangkong_domain::hotline::text::band_keys(&f.content);
        api::duplicates(&state, &reach, &f.content, &bands, phone, None).await
    }
    .await;
    match outcome {
        Ok(duplicates) => render(&SimilarPanel { locale, duplicates }),
        Err(e) => fail(locale, &e),
    }
}

// ---- hot issues -----------------------------------------------------------------------------

struct HotTermView {
    term: String,
    /// The day's tickets with this term.
    href: String,
    today: u32,
    mean: f64,
    score: f64,
    chart: crate::charts::Chart,
    trend: String,
}

#[derive(Template)]
#[template(path = "hotline_hot.html")]
struct HotPage {
    shell: Shell,
    date: String,
    tickets: usize,
    terms: Vec<HotTermView>,
    clusters: Vec<(api::HotCluster, &'static str)>,
    chart_height: u32,
    bar_width: u32,
    can_manage: bool,
}

async fn hot_page(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Query(q): Query<DayForm>,
) -> Response {
    let outcome = async {
        let day = api::day_or_today(&state, q.date.as_deref())?;
        let reach = api::reach(&state, &who).await?;
        let hot = api::hot_issues(&state, &reach.sites, day).await?;
        let first = day - time::Duration::days(fangkong_domain::hotline::hot::BASELINE_DAYS as i64);
        let terms = hot
            .terms
            .into_iter()
            .map(|t| {
                let points: Vec<(String, u32, bool)> = t
                    .trend
                    .iter()
                    .enumerate()
                    .map(|(i, n)| {
                        let d = first + time::Duration::days(i as i64);
                        (d.to_string(), *n, d == day)
                    })
                    .collect();
                HotTermView {
                    href: format!(
                        "/hotline?q={}&from={day}&until={day}",
                        crate::home::encode(&t.term)
                    ),
                    chart: crate::charts::bars(&points),
                    trend: t
                        .trend
                        .iter()
                        .map(u32::to_string)
                        .collect::<Vec<_>>()
                        .join(" "),
                    term: t.term,
                    today: t.today,
                    mean: t.mean,
                    score: t.score,
                }
            })
            .collect();
        let clusters = hot
            .clusters
            .into_iter()
            .map(|c| {
                let label = locale.t(&format!("hotline.category.{}", c.category));
                (c, label)
            })
            .collect();
        Ok::<_, ApiError>(HotPage {
            shell: Shell::of(locale, "/hotline/hot", &who),
            date: day.to_string(),
            tickets: hot.tickets,
            terms,
            clusters,
            chart_height: crate::charts::HEIGHT,
            bar_width: crate::charts::BAR,
            can_manage: who.can(Permission::HotlineManage),
        })
    }
    .await;
    match outcome {
        Ok(p) => render(&p),
        Err(e) => fail(locale, &e),
    }
}

// ---- departments and the knowledge base -------------------------------------------------------

#[derive(Template)]
#[template(path = "hotline_settings.html")]
struct SettingsPage {
    shell: Shell,
    departments: Vec<(store::Department, Vec<String>)>,
    accounts: Vec<String>,
    answers: Vec<store::Answer>,
    q: String,
    error: &'static str,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SettingsQuery {
    q: String,
    error: String,
}

async fn settings_page(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Query(q): Query<SettingsQuery>,
) -> Response {
    let outcome = async {
        let reach = api::reach(&state, &who).await?;
        let deps = store::departments(&state.store, &reach.sites).await?;
        let ids: Vec<Uuid> = deps.iter().map(|d| d.id).collect();
        let links = store::department_users(&state.store, &ids).await?;
        let departments = deps
            .into_iter()
            .map(|d| {
                let users = links
                    .iter()
                    .filter(|(id, _)| *id == d.id)
                    .map(|(_, u)| u.clone())
                    .collect();
                (d, users)
            })
            .collect();
        let accounts = fangkong_store::accounts::list_users(&state.store)
            .await?
            .into_iter()
            .filter(|a| {
                a.role == fangkong_domain::access::Role::Department
                    && reach.sites.contains(&a.site_id)
            })
            .map(|a| a.username)
            .collect();
        let error = if q.error.is_empty() {
            ""
        } else {
            locale.t(&q.error)
        };
        Ok::<_, ApiError>(SettingsPage {
            shell: Shell::of(locale, "/hotline/settings", &who),
            departments,
            accounts,
            answers: api::find_answers(&state, &reach.sites, &q.q, false).await?,
            q: q.q,
            error,
        })
    }
    .await;
    match outcome {
        Ok(p) => render(&p),
        Err(e) => fail(locale, &e),
    }
}

/// Back to a page, with the first field error's message key when the change failed.
fn back(to: &str, outcome: Result<(), ApiError>, locale: Locale) -> Response {
    match outcome {
        Ok(()) => Redirect::to(to).into_response(),
        Err(e) if !e.fields.is_empty() => {
            Redirect::to(&format!("{to}?error={}", e.fields[0].code)).into_response()
        }
        Err(e) => fail(locale, &e),
    }
}

async fn department_form(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    body: Bytes,
) -> Response {
    let (f, _) = match parse_form::<api::DepartmentBody>(locale, &body) {
        Ok(parsed) => parsed,
        Err(res) => return *res,
    };
    let outcome = api::add_department(&state, &who, &f).await.map(|_| ());
    back("/hotline/settings", outcome, locale)
}

async fn link_form(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path(id): Path<Uuid>,
    body: Bytes,
) -> Response {
    #[derive(Deserialize)]
    struct LinkForm {
        username: String,
        linked: String,
    }
    let (f, _) = match parse_form::<LinkForm>(locale, &body) {
        Ok(parsed) => parsed,
        Err(res) => return *res,
    };
    let b = api::LinkBody {
        username: f.username,
        linked: f.linked == "yes",
    };
    back(
        "/hotline/settings",
        api::link(&state, &who, id, &b).await,
        locale,
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct AnswerForm {
    id: String,
    title: String,
    body: String,
    published: Option<String>,
    back: String,
}

async fn answer_form(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    body: Bytes,
) -> Response {
    let (f, _) = match parse_form::<AnswerForm>(locale, &body) {
        Ok(parsed) => parsed,
        Err(res) => return *res,
    };
    let b = api::AnswerBody {
        id: Uuid::parse_str(f.id.trim()).ok(),
        title: f.title,
        body: f.body,
        published: f.published.is_some(),
    };
    let to = if f.back == "hot" {
        "/hotline/hot"
    } else {
        "/hotline/settings"
    };
    back(
        to,
        api::save_answer(&state, &who, &b).await.map(|_| ()),
        locale,
    )
}

// ---- the working calendar -------------------------------------------------------------------

struct CalendarCell {
    date: String,
    day: u8,
    workday: bool,
    kind: &'static str,
    name: String,
}

#[derive(Template)]
#[template(path = "calendar.html")]
struct CalendarPage {
    shell: Shell,
    month: String,
    prev: String,
    next: String,
    /// Weeks of seven cells from Monday; `None` outside the month.
    weeks: Vec<Vec<Option<CalendarCell>>>,
    no_data: bool,
    overrides: Vec<fangkong_domain::calendar::Override>,
    can_manage: bool,
    error: &'static str,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MonthQuery {
    month: String,
    error: String,
}

async fn calendar_page(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Query(q): Query<MonthQuery>,
) -> Response {
    let outcome = async {
        let today = beijing(state.clock.now()).date();
        let first = time::Date::parse(
            &format!("{}-01", q.month.trim()),
            &time::format_description::well_known::Iso8601::DATE,
        )
        .unwrap_or_else(|_| today.replace_day(1).unwrap_or(today));
        let cal = api::calendar(&state).await?;
        let mut weeks = Vec::new();
        let mut week: Vec<Option<CalendarCell>> = (0..first.weekday().number_days_from_monday())
            .map(|_| None)
            .collect();
        let mut no_data = false;
        let mut d = first;
        while d.month() == first.month() {
            match cal.day(d) {
                Ok(day) => week.push(Some(CalendarCell {
                    date: d.to_string(),
                    day: d.day(),
                    workday: day.workday,
                    kind: match day.kind {
                        fangkong_domain::calendar::DayKind::Workday => "workday",
                        fangkong_domain::calendar::DayKind::Weekend => "weekend",
                        fangkong_domain::calendar::DayKind::Holiday => "holiday",
                        fangkong_domain::calendar::DayKind::Makeup => "makeup",
                        fangkong_domain::calendar::DayKind::Override => "override",
                    },
                    name: day.name.unwrap_or_default(),
                })),
                Err(_) => {
                    no_data = true;
                    week.push(None);
                }
            }
            if week.len() == 7 {
                weeks.push(std::mem::take(&mut week));
            }
            d = match d.next_day() {
                Some(n) => n,
                None => break,
            };
        }
        if !week.is_empty() {
            week.resize_with(7, || None);
            weeks.push(week);
        }
        let month = |d: time::Date| format!("{}-{:02}", d.year(), u8::from(d.month()));
        let prev = first.previous_day().map_or(first, |p| p);
        let error = if q.error.is_empty() {
            ""
        } else {
            locale.t(&q.error)
        };
        Ok::<_, ApiError>(CalendarPage {
            shell: Shell::of(locale, "/calendar", &who),
            month: month(first),
            prev: month(prev),
            next: month(d),
            weeks,
            no_data,
            overrides: cal.overrides().cloned().collect(),
            can_manage: who.can(Permission::CalendarManage),
            error,
        })
    }
    .await;
    match outcome {
        Ok(p) => render(&p),
        Err(e) => fail(locale, &e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OverrideForm {
    date: String,
    workday: String,
    name: String,
    remove: Option<String>,
}

async fn override_form(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    body: Bytes,
) -> Response {
    let (f, _) = match parse_form::<OverrideForm>(locale, &body) {
        Ok(parsed) => parsed,
        Err(res) => return *res,
    };
    let month: String = f.date.trim().chars().take(7).collect();
    let to = format!("/calendar?month={month}");
    let outcome = async {
        let date = time::Date::parse(
            f.date.trim(),
            &time::format_description::well_known::Iso8601::DATE,
        )
        .map_err(|_| fangkong_domain::FieldError::new("date", "hotline.date.invalid"))?;
        let b = api::OverrideBody {
            workday: f.workday == "yes",
            name: f.name.clone(),
            remove: f.remove.is_some(),
        };
        api::set_override(&state, &who, date, &b).await.map(|_| ())
    }
    .await;
    match outcome {
        Ok(()) => Redirect::to(&to).into_response(),
        Err(e) => {
            let code = e.fields.first().map_or(e.code, |f| f.code);
            Redirect::to(&format!("{to}&error={code}")).into_response()
        }
    }
}
