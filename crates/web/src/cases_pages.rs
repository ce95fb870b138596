//! Suspected-case pages: the ledger (台账) and its paper-like export, a case with its
//! timeline and forms, the printable record, the exposure list and its export for the
//! health authority, the leaders' alert dashboard with the fever-rate chart, the live
//! alert banner, and the group robots' settings with their delivery log.

use crate::AppState;
use crate::access::Principal;
use crate::auth::FormErrors;
use crate::cases::{
    self as api, ActionBody, AlertDto, CaseBody, CaseDto, CaseLine, CaseQuery, DeliveryDto,
    ExposureList, FeverDay, OutcomeBody, ReadingBody, ResponseTimes, UpwardBody, WebhookBody,
    WebhookDto,
};
use crate::charts::{self, Chart};
use crate::error::ApiError;
use crate::home::{Shell, local_time, render};
use crate::i18n::Locale;
use crate::screening_pages::{attachment, fail, form_idem, serde_html_form, symptom_choices};
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use fangkong_domain::access::Permission;
use fangkong_domain::audit::Outcome as AuditOutcome;
use fangkong_domain::cases::{Action, CaseOutcome, Channel, Status};
use fangkong_domain::screening::{Answers, SubjectKind, Trip, csv_safe};
use fangkong_store::audit::{self, Record};
use fangkong_store::org;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/cases", get(ledger_page))
        .route("/cases.xlsx", get(ledger_xlsx))
        .route("/cases/new", get(new_page).post(new_form))
        .route("/cases/webhooks", get(webhooks_page).post(webhook_form))
        .route("/cases/webhooks/{id}/active", post(webhook_active))
        .route("/cases/{id}", get(case_page))
        .route("/cases/{id}/print", get(print_page))
        .route("/cases/{id}/reveal/{field}", post(reveal_field))
        .route("/cases/{id}/actions", post(action_form))
        .route("/cases/{id}/outcome", post(outcome_form))
        .route("/cases/{id}/acknowledge", post(case_ack_form))
        .route("/cases/{id}/upward-report", post(upward_form))
        .route("/cases/{id}/exposures", get(exposures_page))
        .route("/cases/{id}/exposures.csv", get(exposures_csv))
        .route("/cases/{id}/exposures.xlsx", get(exposures_xlsx))
        .route("/alerts", get(alerts_page))
        .route("/panels/alerts", get(alerts_panel))
        .route("/alerts/{id}/acknowledge", post(alert_ack_form))
}

/// Words for stored names.
pub fn label(locale: impl std::borrow::Borrow<Locale>, prefix: &str, value: &str) -> &'static str {
    locale.borrow().t(&format!("{prefix}.{value}"))
}

fn symptoms_text(locale: Locale, symptoms: &[String]) -> String {
    symptoms
        .iter()
        .map(|s| label(locale, "symptom", s))
        .collect::<Vec<_>>()
        .join("、")
}

fn minutes(m: Option<i64>) -> String {
    m.map(|m| m.to_string()).unwrap_or_else(|| "—".into())
}

/// The site choices of the asker's scope, `(code, name)`.
async fn site_choices(
    state: &AppState,
    who: &Principal,
) -> Result<Vec<(String, String)>, ApiError> {
    let scope = who.scope(&state.store).await?;
    Ok(org::list_sites(&state.store)
        .await?
        .into_iter()
        .filter(|s| scope.covers(s.site.id))
        .map(|s| (s.site.code, s.site.name))
        .collect())
}

// ---- the ledger -----------------------------------------------------------------------

/// A ledger line as shown.
struct LineView {
    id: Uuid,
    at: String,
    site: String,
    source: &'static str,
    kind: &'static str,
    status: &'static str,
    status_code: String,
    outcome: &'static str,
    name: String,
    symptoms: String,
    highest: String,
    ack: String,
    report: String,
}

fn line_view(locale: Locale, l: &CaseLine) -> LineView {
    LineView {
        id: l.id,
        at: local_time(l.opened_at),
        site: l.site.clone(),
        source: label(locale, "cases.source", &l.source),
        kind: label(locale, "kind", &l.subject_kind),
        status: label(locale, "cases.status", &l.status),
        status_code: l.status.clone(),
        outcome: l
            .outcome
            .as_deref()
            .map_or("", |o| label(locale, "cases.outcome", o)),
        name: l.name.clone(),
        symptoms: symptoms_text(locale, &l.symptoms),
        highest: l.highest_c.map(|t| format!("{t:.1}")).unwrap_or_default(),
        ack: minutes(l.minutes_to_acknowledge),
        report: minutes(l.minutes_to_report),
    }
}

#[derive(Template)]
#[template(path = "cases.html")]
struct LedgerPage {
    shell: Shell,
    q: CaseQuery,
    query: String,
    sites: Vec<(String, String)>,
    lines: Vec<LineView>,
    times: Vec<ResponseTimes>,
    errors: FormErrors,
    can_write: bool,
    can_export: bool,
}

fn ledger_query(q: &CaseQuery) -> String {
    let pairs: Vec<(&str, &str)> = [
        ("site", &q.site),
        ("status", &q.status),
        ("outcome", &q.outcome),
        ("subject_kind", &q.subject_kind),
        ("from", &q.from),
        ("until", &q.until),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_deref().filter(|v| !v.is_empty()).map(|v| (k, v)))
    .collect();
    serde_urlencoded::to_string(pairs).unwrap_or_default()
}

async fn ledger_page(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Query(q): Query<CaseQuery>,
) -> Response {
    let sites = match site_choices(&state, &who).await {
        Ok(s) => s,
        Err(e) => return fail(locale, &e),
    };
    let (lines, times, errors) = match api::case_filter(&state, &who, &q).await {
        Ok(f) => {
            let lines = api::case_lines(&state, &f, 500).await;
            let times = api::response_times(&state, &f).await;
            match (lines, times) {
                (Ok(l), Ok(t)) => (l, t, FormErrors::none()),
                (Err(e), _) | (_, Err(e)) => return fail(locale, &e),
            }
        }
        Err(e) if !e.fields.is_empty() => {
            (Vec::new(), Vec::new(), FormErrors::of(locale, &e.fields))
        }
        Err(e) => return fail(locale, &e),
    };
    render(&LedgerPage {
        shell: Shell::of(locale, "/cases", &who),
        query: ledger_query(&q),
        q,
        sites,
        lines: lines.iter().map(|l| line_view(locale, l)).collect(),
        times,
        errors,
        can_write: who.can(Permission::CasesOpen),
        can_export: who.can(Permission::CasesExport),
    })
}

/// Audits an export of personal data before it is handed out; no audit, no export.
async fn audit_export(
    state: &AppState,
    who: &Principal,
    action: &str,
    target: String,
    site: &str,
    detail: serde_json::Value,
) -> Result<(), ApiError> {
    audit::append_now(
        &state.store,
        state.clock.now(),
        &Record {
            actor: who.actor(),
            addr: &who.addr,
            action,
            target,
            site,
            outcome: AuditOutcome::Ok,
            detail,
        },
    )
    .await
    .map(drop)
    .map_err(ApiError::from)
}

fn xlsx_response(
    bytes: Result<Vec<u8>, rust_xlsxwriter::XlsxError>,
    locale: Locale,
    name: &str,
) -> Response {
    match bytes {
        Ok(b) => attachment(
            b,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            name,
        ),
        Err(e) => {
            tracing::error!(error = %e, "cannot build a spreadsheet");
            fail(locale, &ApiError::internal())
        }
    }
}

/// One ledger row in full, for the export.
async fn ledger_row(
    state: &AppState,
    locale: Locale,
    c: &fangkong_store::cases::Case,
    site: &str,
) -> Result<Vec<String>, ApiError> {
    let (name, phone) = api::full_person(state, &c.details).await?;
    let d = &c.details;
    let temps = d
        .temperatures
        .iter()
        .map(|(at, t)| {
            format!(
                "{} {}.{}℃",
                local_time(fangkong_domain::clock::from_unix_millis(*at)),
                t / 10,
                t % 10
            )
        })
        .collect::<Vec<_>>()
        .join("；");
    let travel = d
        .answers
        .travel
        .iter()
        .map(|t| format!("{} {}—{}", t.place, t.from, t.to))
        .collect::<Vec<_>>()
        .join("；");
    let yes_no = |b: bool| {
        locale
            .t(if b { "answer.yes" } else { "answer.no" })
            .to_owned()
    };
    let actions = d
        .actions
        .iter()
        .map(|a| {
            let what = label(locale, "cases.action", a.action.as_str());
            if a.note.is_empty() {
                what.to_owned()
            } else {
                format!("{what}（{}）", a.note)
            }
        })
        .collect::<Vec<_>>()
        .join("；");
    let symptoms: Vec<String> = d.symptoms.iter().map(|s| s.as_str().to_owned()).collect();
    Ok(vec![
        local_time(c.opened_at),
        site.to_owned(),
        label(locale, "cases.source", c.source.as_str()).to_owned(),
        label(locale, "kind", c.kind.as_str()).to_owned(),
        name,
        phone,
        symptoms_text(locale, &symptoms),
        d.onset.map(|o| o.to_string()).unwrap_or_default(),
        temps,
        travel,
        yes_no(d.answers.epidemic_area_contact),
        yes_no(d.answers.animal_contact),
        yes_no(d.answers.case_contact),
        actions,
        c.outcome
            .map(|o| label(locale, "cases.outcome", o.as_str()).to_owned())
            .unwrap_or_default(),
        c.outcome_on.map(|o| o.to_string()).unwrap_or_default(),
        minutes(fangkong_domain::cases::minutes_between(
            c.opened_at,
            c.acknowledged_at,
        )),
        minutes(fangkong_domain::cases::minutes_between(
            c.opened_at,
            c.reported_at,
        )),
    ])
}

const LEDGER_HEADERS: [&str; 18] = [
    "ledger.col.opened_at",
    "ledger.col.site",
    "ledger.col.source",
    "ledger.col.kind",
    "ledger.col.name",
    "ledger.col.phone",
    "ledger.col.symptoms",
    "ledger.col.onset",
    "ledger.col.temperatures",
    "ledger.col.travel",
    "ledger.col.epidemic_area",
    "ledger.col.animals",
    "ledger.col.case_contact",
    "ledger.col.actions",
    "ledger.col.outcome",
    "ledger.col.outcome_on",
    "ledger.col.ack_minutes",
    "ledger.col.report_minutes",
];

/// The ledger as a spreadsheet laid out like the paper 台账: title, site and period,
/// numbered rows, signature lines. Names and phones in full, so only for leaders; audited.
async fn ledger_xlsx(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Query(q): Query<CaseQuery>,
) -> Response {
    let built = async {
        let f = api::case_filter(&state, &who, &q).await?;
        let cases = fangkong_store::cases::list_cases(&state.store, &state.vault, &f, 5000).await?;
        let codes = api::site_codes(&state).await?;
        let mut rows = Vec::with_capacity(cases.len());
        for c in &cases {
            let site = codes.get(&c.site_id).cloned().unwrap_or_default();
            rows.push(ledger_row(&state, locale, c, &site).await?);
        }
        let site = q
            .site
            .clone()
            .or_else(|| who.account.as_ref().map(|a| a.site_code.clone()))
            .unwrap_or_default();
        audit_export(
            &state,
            &who,
            "case.export",
            "cases.xlsx".into(),
            &site,
            serde_json::json!({"rows": rows.len(), "query": ledger_query(&q)}),
        )
        .await?;
        Ok::<_, ApiError>((rows, site))
    }
    .await;
    let (rows, site) = match built {
        Ok(r) => r,
        Err(e) => return fail(locale, &e),
    };
    let now = local_time(state.clock.now());
    let period = format!(
        "{}：{}　{}：{} — {}　{}：{now}",
        locale.t("field.site"),
        site,
        locale.t("ledger.period"),
        q.from.as_deref().unwrap_or("…"),
        q.until.as_deref().unwrap_or("…"),
        locale.t("ledger.made"),
    );
    let bytes = (|| -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        use rust_xlsxwriter::{Format, FormatAlign, FormatBorder, Workbook};
        let mut book = Workbook::new();
        let title = Format::new()
            .set_bold()
            .set_font_size(16)
            .set_align(FormatAlign::Center);
        let head = Format::new()
            .set_bold()
            .set_border(FormatBorder::Thin)
            .set_text_wrap()
            .set_align(FormatAlign::Center);
        let cell = Format::new().set_border(FormatBorder::Thin).set_text_wrap();
        let sheet = book.add_worksheet();
        sheet.set_name(locale.t("ledger.sheet"))?;
        let last = u16::try_from(LEDGER_HEADERS.len()).unwrap_or(u16::MAX);
        sheet.merge_range(0, 0, 0, last, locale.t("ledger.title"), &title)?;
        sheet.merge_range(1, 0, 1, last, &period, &Format::new())?;
        sheet.write_string_with_format(2, 0, locale.t("ledger.col.number"), &head)?;
        for (c, h) in (1u16..).zip(LEDGER_HEADERS) {
            sheet.write_string_with_format(2, c, locale.t(h), &head)?;
        }
        let mut r = 3u32;
        for (n, row) in (1u32..).zip(&rows) {
            sheet.write_number_with_format(r, 0, n, &cell)?;
            for (c, v) in (1u16..).zip(row) {
                // Text cells only: nothing typed into a case becomes a formula.
                sheet.write_string_with_format(r, c, v, &cell)?;
            }
            r += 1;
        }
        r += 1;
        sheet.write_string(r, 1, locale.t("ledger.sign.filled"))?;
        sheet.write_string(r, 6, locale.t("ledger.sign.checked"))?;
        sheet.write_string(r, 11, locale.t("ledger.sign.date"))?;
        sheet.set_freeze_panes(3, 0)?;
        sheet.set_landscape();
        sheet.set_paper_size(9);
        sheet.autofit();
        book.save_to_buffer()
    })();
    xlsx_response(bytes, locale, "cases.xlsx")
}

// ---- opening a case by hand -------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CaseForm {
    site: String,
    subject_kind: String,
    name: String,
    phone: String,
    symptom: Vec<String>,
    onset: String,
    temperature_c: String,
    travel_place: String,
    travel_from: String,
    travel_to: String,
    epidemic_area_contact: Option<String>,
    animal_contact: Option<String>,
    case_contact: Option<String>,
    details: String,
    /// When the person was in the hall, Beijing time (`YYYY-MM-DDTHH:MM`); now when empty.
    seen_at: String,
    form_key: String,
}

#[derive(Template)]
#[template(path = "case_new.html")]
struct NewCasePage {
    shell: Shell,
    sites: Vec<(String, String)>,
    kinds: Vec<(&'static str, &'static str)>,
    symptoms: Vec<(&'static str, &'static str, bool)>,
    form: CaseForm,
    errors: FormErrors,
    form_key: String,
    /// The report was saved and the leadership group alerted.
    reported: bool,
}

async fn new_view(
    state: &AppState,
    locale: Locale,
    who: &Principal,
    form: CaseForm,
    errors: FormErrors,
) -> Result<NewCasePage, ApiError> {
    let sites = site_choices(state, who).await?;
    Ok(NewCasePage {
        shell: Shell::of(locale, "/cases/new", who),
        sites,
        kinds: SubjectKind::ALL
            .iter()
            .map(|k| (k.as_str(), label(locale, "kind", k.as_str())))
            .collect(),
        symptoms: symptom_choices(locale, &form.symptom),
        form,
        errors,
        form_key: state.ids.new_id().to_string(),
        reported: false,
    })
}

async fn new_page(State(state): State<AppState>, locale: Locale, who: Principal) -> Response {
    let form = CaseForm {
        site: who
            .account
            .as_ref()
            .map(|a| a.site_code.clone())
            .unwrap_or_default(),
        ..CaseForm::default()
    };
    match new_view(&state, locale, &who, form, FormErrors::none()).await {
        Ok(p) => render(&p),
        Err(e) => fail(locale, &e),
    }
}

fn case_body(f: &CaseForm) -> Result<CaseBody, fangkong_domain::FieldError> {
    let date = |s: &str| {
        time::Date::parse(
            s.trim(),
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map_err(|_| fangkong_domain::FieldError::new("travel", "screening.travel.date"))
    };
    let travel = if f.travel_place.trim().is_empty() {
        Vec::new()
    } else {
        vec![Trip {
            place: f.travel_place.clone(),
            from: date(&f.travel_from)?,
            to: date(&f.travel_to)?,
        }]
    };
    let temperatures = if f.temperature_c.trim().is_empty() {
        Vec::new()
    } else {
        vec![ReadingBody {
            temperature_c: serde_json::Value::String(f.temperature_c.trim().to_owned()),
            at: None,
        }]
    };
    let seen_at = match f.seen_at.trim() {
        "" => None,
        raw => Some(
            time::PrimitiveDateTime::parse(
                raw,
                time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]"),
            )
            .map(|t| {
                t.assume_offset(time::macros::offset!(+8))
                    .to_offset(time::UtcOffset::UTC)
            })
            .map_err(|_| fangkong_domain::FieldError::new("seen_at", "cases.seen_at.invalid"))?,
        ),
    };
    Ok(CaseBody {
        site: f.site.clone(),
        seen_at,
        subject_kind: f.subject_kind.clone(),
        name: Some(f.name.clone()),
        phone: Some(f.phone.clone()),
        symptoms: f.symptom.clone(),
        onset: Some(f.onset.clone()),
        temperatures,
        answers: Answers {
            travel,
            epidemic_area_contact: f.epidemic_area_contact.is_some(),
            animal_contact: f.animal_contact.is_some(),
            case_contact: f.case_contact.is_some(),
            details: f.details.clone(),
        },
        ..CaseBody::default()
    })
}

async fn new_form(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    body: Bytes,
) -> Response {
    let Ok(form) = serde_html_form::<CaseForm>(&body) else {
        return fail(
            locale,
            &ApiError::new(StatusCode::BAD_REQUEST, "body.invalid"),
        );
    };
    let fingerprint = crate::idempotency::hex(&Sha256::digest(&body));
    let outcome = match case_body(&form) {
        Ok(b) => {
            let idem = form_idem("POST /cases/new", &who, &form.form_key, &fingerprint);
            api::open_case(&state, &who, &b, &idem).await
        }
        Err(e) => Err(ApiError::invalid(vec![e])),
    };
    match outcome {
        Ok(res) => match created_id(res).await {
            Some(id) if who.can(Permission::CasesRead) => {
                Redirect::to(&format!("/cases/{id}")).into_response()
            }
            // A unit administrator reports without reading the ledger: a fresh form says so.
            Some(_) => match new_view(
                &state,
                locale,
                &who,
                CaseForm::default(),
                FormErrors::none(),
            )
            .await
            {
                Ok(mut p) => {
                    p.reported = true;
                    render(&p)
                }
                Err(e) => fail(locale, &e),
            },
            None => fail(locale, &ApiError::internal()),
        },
        Err(e) if !e.fields.is_empty() => {
            let errors = FormErrors::of(locale, &e.fields);
            match new_view(&state, locale, &who, form, errors).await {
                Ok(p) => (StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response(),
                Err(e) => fail(locale, &e),
            }
        }
        Err(e) => fail(locale, &e),
    }
}

/// The id in a created answer's JSON body.
async fn created_id(res: Response) -> Option<Uuid> {
    let bytes = axum::body::to_bytes(res.into_body(), 64 * 1024)
        .await
        .ok()?;
    let v: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    v.get("id")?.as_str()?.parse().ok()
}

// ---- one case -------------------------------------------------------------------------

struct EventView {
    at: String,
    actor: String,
    kind: &'static str,
    detail: String,
}

#[derive(Template)]
#[template(path = "case.html")]
struct CasePage {
    shell: Shell,
    c: CaseDto,
    opened_at: String,
    source: &'static str,
    kind: &'static str,
    status: &'static str,
    outcome: &'static str,
    symptoms: String,
    temperatures: Vec<(String, String)>,
    travel: Vec<String>,
    answers: Vec<(&'static str, &'static str)>,
    actions: Vec<(String, &'static str, String)>,
    timeline: Vec<EventView>,
    upward: Vec<(String, &'static str, String, String)>,
    alert_level: &'static str,
    alert_open: bool,
    can_write: bool,
    can_ack: bool,
    can_report: bool,
    can_export: bool,
    can_reveal: bool,
    action_choices: Vec<(&'static str, &'static str)>,
    outcome_choices: Vec<(&'static str, &'static str)>,
    channel_choices: Vec<(&'static str, &'static str)>,
    errors: FormErrors,
    form_key: String,
}

fn event_detail(locale: Locale, kind: &str, detail: &str) -> String {
    match kind {
        "opened" => label(locale, "cases.source", detail).to_owned(),
        "escalated" => label(locale, "alerts.level", detail).to_owned(),
        "upward_report" => label(locale, "cases.channel", detail).to_owned(),
        "action" => match detail.split_once(": ") {
            Some((a, note)) => format!("{}：{note}", label(locale, "cases.action", a)),
            None => label(locale, "cases.action", detail).to_owned(),
        },
        "outcome" => match detail.split_once(' ') {
            Some((o, on)) => format!("{} {on}", label(locale, "cases.outcome", o)),
            None => detail.to_owned(),
        },
        _ => detail.to_owned(),
    }
}

async fn case_view(
    state: &AppState,
    locale: Locale,
    who: &Principal,
    id: Uuid,
    errors: FormErrors,
) -> Result<CasePage, ApiError> {
    let (case, site) = api::case_in_scope(state, who, id).await?;
    let c = api::case_dto(state, &case, &site).await?;
    let yes = |b: bool| locale.t(if b { "answer.yes" } else { "answer.no" });
    let alert_open = c
        .alert
        .as_ref()
        .is_some_and(|a| a.acknowledged_at.is_none());
    let choices = |prefix: &str, values: Vec<&'static str>| -> Vec<(&'static str, &'static str)> {
        values
            .into_iter()
            .map(|v| (v, label(locale, prefix, v)))
            .collect()
    };
    Ok(CasePage {
        shell: Shell::of(locale, "/cases", who),
        opened_at: local_time(c.opened_at),
        source: label(locale, "cases.source", &c.source),
        kind: label(locale, "kind", &c.subject_kind),
        status: label(locale, "cases.status", &c.status),
        outcome: c
            .outcome
            .as_deref()
            .map_or("", |o| label(locale, "cases.outcome", o)),
        symptoms: symptoms_text(locale, &c.symptoms),
        temperatures: c
            .temperatures
            .iter()
            .map(|t| (local_time(t.at), format!("{:.1}", t.temperature_c)))
            .collect(),
        travel: c
            .answers
            .travel
            .iter()
            .map(|t| format!("{} {} — {}", t.place, t.from, t.to))
            .collect(),
        answers: vec![
            (
                "recheck.epidemic_area_contact",
                yes(c.answers.epidemic_area_contact),
            ),
            ("recheck.animal_contact", yes(c.answers.animal_contact)),
            ("recheck.case_contact", yes(c.answers.case_contact)),
        ],
        actions: c
            .actions
            .iter()
            .map(|a| {
                (
                    local_time(a.at),
                    label(locale, "cases.action", &a.action),
                    a.note.clone(),
                )
            })
            .collect(),
        timeline: c
            .timeline
            .iter()
            .map(|e| EventView {
                at: local_time(e.at),
                actor: e.actor.clone(),
                kind: label(locale, "cases.event", &e.kind),
                detail: event_detail(locale, &e.kind, &e.detail),
            })
            .collect(),
        upward: c
            .upward_reports
            .iter()
            .map(|u| {
                (
                    local_time(u.at),
                    label(locale, "cases.channel", &u.channel),
                    u.reported_by.clone(),
                    u.content.clone(),
                )
            })
            .collect(),
        alert_level: c
            .alert
            .as_ref()
            .map_or("", |a| label(locale, "alerts.level", &a.level)),
        alert_open,
        can_write: who.can(Permission::CasesWrite),
        can_ack: who.can(Permission::AlertsAcknowledge),
        can_report: who.can(Permission::UpwardReport),
        can_export: who.can(Permission::CasesExport),
        can_reveal: who.can(Permission::PersonalReveal),
        action_choices: choices(
            "cases.action",
            Action::ALL.iter().map(|a| a.as_str()).collect(),
        ),
        outcome_choices: choices(
            "cases.outcome",
            CaseOutcome::ALL.iter().map(|o| o.as_str()).collect(),
        ),
        channel_choices: choices(
            "cases.channel",
            Channel::ALL.iter().map(|c| c.as_str()).collect(),
        ),
        errors,
        form_key: state.ids.new_id().to_string(),
        c,
    })
}

async fn case_page(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path(id): Path<Uuid>,
) -> Response {
    match case_view(&state, locale, &who, id, FormErrors::none()).await {
        Ok(p) => render(&p),
        Err(e) => fail(locale, &e),
    }
}

/// A posted form and the fingerprint of its exact bytes (for its `form_key`), or the
/// page a malformed body gets.
pub(crate) fn parse_form<T: serde::de::DeserializeOwned>(
    locale: Locale,
    body: &[u8],
) -> Result<(T, String), Box<Response>> {
    serde_urlencoded::from_bytes::<T>(body)
        .map(|f| (f, crate::idempotency::hex(&Sha256::digest(body))))
        .map_err(|_| {
            Box::new(fail(
                locale,
                &ApiError::new(StatusCode::BAD_REQUEST, "body.invalid"),
            ))
        })
}

/// After a form on the case page: back to the case, or the page again with the errors.
async fn after_form(
    state: &AppState,
    locale: Locale,
    who: &Principal,
    id: Uuid,
    outcome: Result<Response, ApiError>,
) -> Response {
    match outcome {
        Ok(_) => Redirect::to(&format!("/cases/{id}")).into_response(),
        Err(e) if !e.fields.is_empty() || e.status == StatusCode::CONFLICT => {
            let errors = if e.fields.is_empty() {
                FormErrors(vec![("form", locale.t(&format!("problem.{}", e.code)))])
            } else {
                FormErrors::of(locale, &e.fields)
            };
            let status = e.status;
            match case_view(state, locale, who, id, errors).await {
                Ok(p) => (status, render(&p)).into_response(),
                Err(e) => fail(locale, &e),
            }
        }
        Err(e) => fail(locale, &e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ActionForm {
    action: String,
    note: String,
    form_key: String,
}

async fn action_form(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path(id): Path<Uuid>,
    body: Bytes,
) -> Response {
    let (f, fingerprint) = match parse_form::<ActionForm>(locale, &body) {
        Ok(parsed) => parsed,
        Err(res) => return *res,
    };
    let idem = form_idem("POST /cases/{id}/actions", &who, &f.form_key, &fingerprint);
    let b = ActionBody {
        action: f.action,
        note: f.note,
    };
    let outcome = api::record_action(&state, &who, id, &b, &idem).await;
    after_form(&state, locale, &who, id, outcome).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct OutcomeForm {
    outcome: String,
    date: String,
    form_key: String,
}

async fn outcome_form(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path(id): Path<Uuid>,
    body: Bytes,
) -> Response {
    let (f, fingerprint) = match parse_form::<OutcomeForm>(locale, &body) {
        Ok(parsed) => parsed,
        Err(res) => return *res,
    };
    let idem = form_idem("POST /cases/{id}/outcome", &who, &f.form_key, &fingerprint);
    let b = OutcomeBody {
        outcome: f.outcome,
        date: Some(f.date),
    };
    let outcome = api::record_outcome(&state, &who, id, &b, &idem).await;
    after_form(&state, locale, &who, id, outcome).await
}

async fn case_ack_form(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path(id): Path<Uuid>,
) -> Response {
    let outcome = async {
        let (case, _) = api::case_in_scope(&state, &who, id).await?;
        let alert = fangkong_store::cases::case_alert(&state.store, case.id)
            .await?
            .ok_or_else(ApiError::not_found)?;
        let idem = form_idem("POST /cases/{id}/acknowledge", &who, "", "");
        api::acknowledge(&state, &who, alert, &idem).await
    }
    .await;
    after_form(&state, locale, &who, id, outcome).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UpwardForm {
    channel: String,
    content: String,
    reported_by: String,
    form_key: String,
}

async fn upward_form(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path(id): Path<Uuid>,
    body: Bytes,
) -> Response {
    let (f, fingerprint) = match parse_form::<UpwardForm>(locale, &body) {
        Ok(parsed) => parsed,
        Err(res) => return *res,
    };
    let idem = form_idem(
        "POST /cases/{id}/upward-report",
        &who,
        &f.form_key,
        &fingerprint,
    );
    let b = UpwardBody {
        channel: f.channel,
        content: f.content,
        reported_by: Some(f.reported_by).filter(|r| !r.trim().is_empty()),
        at: None,
    };
    let outcome = api::report_upward(&state, &who, id, &b, &idem).await;
    after_form(&state, locale, &who, id, outcome).await
}

/// The htmx reveal of the person's name or phone, in place of the masked one; never cached.
async fn reveal_field(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path((id, field)): Path<(Uuid, String)>,
) -> Response {
    match api::reveal(&state, &who, id, &field).await {
        Ok(value) => {
            let mut res = render(&crate::org_pages::RevealedField {
                title: locale.t("person.revealed"),
                value,
            });
            res.headers_mut().insert(
                axum::http::header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            res
        }
        Err(e) => (e.status, locale.t("person.reveal_failed")).into_response(),
    }
}

#[derive(Template)]
#[template(path = "case_print.html")]
struct PrintPage {
    page: CasePage,
    site_name: String,
    printed_at: String,
}

async fn print_page(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path(id): Path<Uuid>,
) -> Response {
    match case_view(&state, locale, &who, id, FormErrors::none()).await {
        Ok(page) => render(&PrintPage {
            site_name: page.c.site_name.clone(),
            printed_at: local_time(state.clock.now()),
            page,
        }),
        Err(e) => fail(locale, &e),
    }
}

// ---- exposure list --------------------------------------------------------------------

#[derive(Template)]
#[template(path = "exposures.html")]
struct ExposuresPage {
    shell: Shell,
    list: ExposureList,
    from: String,
    until: String,
    rows: Vec<ExposureRow>,
    can_export: bool,
}

struct ExposureRow {
    kind: &'static str,
    on_duty: bool,
    name: String,
    phone: String,
    from: String,
    until: String,
    overlap: i64,
}

fn exposure_rows(locale: Locale, list: &ExposureList) -> Vec<ExposureRow> {
    list.people
        .iter()
        .map(|p| ExposureRow {
            kind: label(locale, "kind", &p.subject_kind),
            on_duty: p.on_duty,
            name: p.name.clone(),
            phone: p.phone.clone(),
            from: local_time(p.from),
            until: local_time(p.until),
            overlap: p.overlap_minutes,
        })
        .collect()
}

#[derive(Debug, Default, Deserialize)]
struct WindowQuery {
    minutes: Option<i64>,
}

async fn exposure_list(
    state: &AppState,
    who: &Principal,
    id: Uuid,
    minutes: Option<i64>,
    full: bool,
) -> Result<ExposureList, ApiError> {
    let window = api::window_of(state, minutes)?;
    let (case, site) = api::case_in_scope(state, who, id).await?;
    let list = api::exposures(state, &case, &site, window, full).await?;
    if full {
        audit_export(
            state,
            who,
            "case.exposures.export",
            format!("case:{id}"),
            &site.code,
            serde_json::json!({"rows": list.people.len(), "window_minutes": list.window_minutes}),
        )
        .await?;
    }
    Ok(list)
}

async fn exposures_page(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path(id): Path<Uuid>,
    Query(q): Query<WindowQuery>,
) -> Response {
    match exposure_list(&state, &who, id, q.minutes, false).await {
        Ok(list) => render(&ExposuresPage {
            shell: Shell::of(locale, "/cases", &who),
            from: local_time(list.from),
            until: local_time(list.until),
            rows: exposure_rows(locale, &list),
            list,
            can_export: who.can(Permission::CasesExport),
        }),
        Err(e) => fail(locale, &e),
    }
}

fn exposure_table(locale: Locale, list: &ExposureList) -> (Vec<&'static str>, Vec<Vec<String>>) {
    let headers = vec![
        locale.t("field.subject_kind"),
        locale.t("exposures.on_duty"),
        locale.t("field.person_name"),
        locale.t("field.phone"),
        locale.t("exposures.from"),
        locale.t("exposures.until"),
        locale.t("exposures.overlap"),
    ];
    let rows = exposure_rows(locale, list)
        .into_iter()
        .map(|r| {
            vec![
                r.kind.to_owned(),
                locale
                    .t(if r.on_duty { "answer.yes" } else { "answer.no" })
                    .to_owned(),
                r.name,
                r.phone,
                r.from,
                r.until,
                r.overlap.to_string(),
            ]
        })
        .collect();
    (headers, rows)
}

/// The exposure list for the health authority, names and phones in full (audited).
async fn exposures_csv(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path(id): Path<Uuid>,
    Query(q): Query<WindowQuery>,
) -> Response {
    let list = match exposure_list(&state, &who, id, q.minutes, true).await {
        Ok(l) => l,
        Err(e) => return fail(locale, &e),
    };
    let (headers, rows) = exposure_table(locale, &list);
    let mut out = Vec::from(&b"\xEF\xBB\xBF"[..]);
    {
        let mut w = csv::Writer::from_writer(&mut out);
        let ok = w.write_record(&headers).is_ok()
            && rows.iter().all(|r| {
                w.write_record(r.iter().map(|c| csv_safe(c).into_owned()))
                    .is_ok()
            })
            && w.flush().is_ok();
        if !ok {
            return fail(locale, &ApiError::internal());
        }
    }
    attachment(out, "text/csv; charset=utf-8", "exposures.csv")
}

async fn exposures_xlsx(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path(id): Path<Uuid>,
    Query(q): Query<WindowQuery>,
) -> Response {
    let list = match exposure_list(&state, &who, id, q.minutes, true).await {
        Ok(l) => l,
        Err(e) => return fail(locale, &e),
    };
    let (headers, rows) = exposure_table(locale, &list);
    let title = format!(
        "{} · {} · {} — {}",
        locale.t("exposures.title"),
        list.site,
        local_time(list.from),
        local_time(list.until)
    );
    let bytes = (|| -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let bold = rust_xlsxwriter::Format::new().set_bold();
        let sheet = book.add_worksheet();
        sheet.set_name(locale.t("exposures.sheet"))?;
        sheet.write_string_with_format(0, 0, &title, &bold)?;
        for (c, h) in (0u16..).zip(&headers) {
            sheet.write_string_with_format(1, c, *h, &bold)?;
        }
        for (r, row) in (2u32..).zip(&rows) {
            for (c, v) in (0u16..).zip(row) {
                sheet.write_string(r, c, v)?;
            }
        }
        sheet.autofit();
        book.save_to_buffer()
    })();
    xlsx_response(bytes, locale, "exposures.xlsx")
}

// ---- alerts ---------------------------------------------------------------------------

/// An alert as shown in the banner and on the dashboard.
pub struct AlertView {
    id: Uuid,
    case_id: Option<Uuid>,
    /// The i18n key of the alert kind's title.
    title: &'static str,
    site_name: String,
    at: String,
    level: &'static str,
    level_code: String,
    what: String,
    acknowledged: String,
}

fn alert_view(locale: Locale, a: &AlertDto) -> AlertView {
    let what = if a.kind == "report" {
        let what = match a.returned {
            Some(_) => "robot.report_returned",
            None => "robot.report_missing",
        };
        format!("{} {}", a.day.as_deref().unwrap_or(""), locale.t(what))
    } else if a.kind == "ears" {
        format!(
            "{} {} · {} {} · {}",
            a.day.as_deref().unwrap_or(""),
            locale.t("robot.abnormal"),
            a.count.unwrap_or(0),
            locale.t("alerts.people"),
            a.methods.join(" ").to_uppercase()
        )
    } else {
        let mut parts = Vec::new();
        if let Some(k) = &a.subject_kind {
            parts.push(label(locale, "kind", k).to_owned());
        }
        if !a.symptoms.is_empty() {
            parts.push(symptoms_text(locale, &a.symptoms));
        }
        if let Some(t) = a.highest_c {
            parts.push(format!("{t:.1} °C"));
        }
        parts.join(" · ")
    };
    AlertView {
        id: a.id,
        case_id: a.case_id,
        title: crate::cases_alerts::title_key(&a.kind, a.returned.is_some()),
        site_name: a.site_name.clone(),
        at: local_time(a.raised_at),
        level: label(locale, "alerts.level", &a.level),
        level_code: a.level.clone(),
        what,
        acknowledged: match (&a.acknowledged_at, &a.acknowledged_by) {
            (Some(at), Some(by)) => format!("{} · {by}", local_time(*at)),
            _ => String::new(),
        },
    }
}

#[derive(Template)]
#[template(path = "alerts_panel.html")]
struct AlertsPanel {
    locale: Locale,
    alerts: Vec<AlertView>,
    banner: bool,
    can_ack: bool,
    csrf: String,
}

#[derive(Debug, Default, Deserialize)]
struct PanelQuery {
    banner: Option<u8>,
}

async fn panel(
    state: &AppState,
    locale: Locale,
    who: &Principal,
    banner: bool,
) -> Result<AlertsPanel, ApiError> {
    let open = api::alerts_for(state, who, false).await?;
    Ok(AlertsPanel {
        locale,
        alerts: open.iter().map(|a| alert_view(locale, a)).collect(),
        banner,
        can_ack: who.can(Permission::AlertsAcknowledge),
        csrf: who.csrf.clone(),
    })
}

async fn alerts_panel(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Query(q): Query<PanelQuery>,
) -> Response {
    match panel(&state, locale, &who, q.banner == Some(1)).await {
        Ok(p) => render(&p),
        Err(e) => (e.status, "").into_response(),
    }
}

async fn alert_ack_form(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    headers: HeaderMap,
    Path(id): Path<Uuid>,
    Query(q): Query<PanelQuery>,
) -> Response {
    let done = async {
        let alert = fangkong_store::cases::find_alert(&state.store, id)
            .await?
            .ok_or_else(ApiError::not_found)?;
        let idem = form_idem("POST /alerts/{id}/acknowledge", &who, "", "");
        api::acknowledge(&state, &who, alert, &idem).await
    }
    .await;
    // Acknowledged by someone else a moment earlier is fine: the panel shows the truth.
    match done {
        Ok(_) => {}
        Err(e) if e.status == StatusCode::CONFLICT => {}
        Err(e) => return fail(locale, &e),
    }
    if headers.contains_key("hx-request") {
        match panel(&state, locale, &who, q.banner == Some(1)).await {
            Ok(p) => render(&p),
            Err(e) => (e.status, "").into_response(),
        }
    } else {
        Redirect::to("/alerts").into_response()
    }
}

fn chart(days: &[FeverDay]) -> Chart {
    let points: Vec<(String, u32, bool)> = days
        .iter()
        .map(|d| (d.date.clone(), d.abnormal, !d.alarms.is_empty()))
        .collect();
    charts::bars(&points)
}

struct FeverRow {
    date: String,
    screened: u32,
    abnormal: u32,
    c1: String,
    c2: String,
    c3: String,
    alarms: String,
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    shell: Shell,
    panel: AlertsPanel,
    recent: Vec<AlertView>,
    sites: Vec<(String, String)>,
    site: String,
    site_name: String,
    chart: Chart,
    rows: Vec<FeverRow>,
    chart_height: u32,
    bar_width: u32,
    /// Reports sent to the district through this system: `(time, site, by, content, case)`.
    urgent: Vec<(String, String, String, String, Uuid)>,
}

#[derive(Debug, Default, Deserialize)]
struct SiteQuery {
    site: Option<String>,
}

async fn alerts_page(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Query(q): Query<SiteQuery>,
) -> Response {
    let built = async {
        let panel = panel(&state, locale, &who, false).await?;
        let all = api::alerts_for(&state, &who, true).await?;
        let site = crate::screening::site_of(&state, &who, q.site.as_deref()).await?;
        let today = fangkong_domain::screening::day_of(state.clock.now());
        let days = api::fever_series(&state, site.id, today, 30).await?;
        let sites = site_choices(&state, &who).await?;
        let fmt = |v: Option<f64>| v.map(|v| format!("{v:.2}")).unwrap_or_else(|| "—".into());
        Ok::<_, ApiError>(AlertsPage {
            shell: Shell::of(locale, "/alerts", &who),
            panel,
            recent: all
                .iter()
                .filter(|a| a.acknowledged_at.is_some())
                .take(20)
                .map(|a| alert_view(locale, a))
                .collect(),
            sites,
            site: site.code.clone(),
            site_name: site.name.clone(),
            chart: chart(&days),
            rows: days
                .iter()
                .rev()
                .map(|d| FeverRow {
                    date: d.date.clone(),
                    screened: d.screened,
                    abnormal: d.abnormal,
                    c1: fmt(d.c1),
                    c2: fmt(d.c2),
                    c3: fmt(d.c3),
                    alarms: d.alarms.join(" ").to_uppercase(),
                })
                .collect(),
            chart_height: charts::HEIGHT,
            bar_width: charts::BAR,
            urgent: if who.can(Permission::CasesRead) {
                api::urgent(&state, &who, 50)
                    .await?
                    .into_iter()
                    .map(|u| {
                        (
                            local_time(u.at),
                            u.site,
                            u.reported_by,
                            u.content,
                            u.case_id,
                        )
                    })
                    .collect()
            } else {
                Vec::new()
            },
        })
    }
    .await;
    match built {
        Ok(p) => render(&p),
        Err(e) => fail(locale, &e),
    }
}

// ---- group robots ---------------------------------------------------------------------

#[derive(Template)]
#[template(path = "webhooks.html")]
struct WebhooksPage {
    shell: Shell,
    sites: Vec<(String, String)>,
    site: String,
    hooks: Vec<WebhookDto>,
    log: Vec<(DeliveryDto, String, String)>,
    form: WebhookForm,
    errors: FormErrors,
    form_key: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct WebhookForm {
    site: String,
    format: String,
    label: String,
    url: String,
    secret: String,
    form_key: String,
}

async fn webhooks_view(
    state: &AppState,
    locale: Locale,
    who: &Principal,
    site: Option<&str>,
    form: WebhookForm,
    errors: FormErrors,
) -> Result<WebhooksPage, ApiError> {
    let site = crate::screening::site_of(state, who, site).await?;
    let hooks = fangkong_store::cases::webhooks(&state.store, &state.vault, site.id).await?;
    let labels: std::collections::HashMap<Uuid, String> =
        hooks.iter().map(|h| (h.id, h.label.clone())).collect();
    let log = fangkong_store::cases::deliveries(&state.store, &[site.id], 100).await?;
    Ok(WebhooksPage {
        shell: Shell::of(locale, "/cases/webhooks", who),
        sites: site_choices(state, who).await?,
        hooks: hooks
            .iter()
            .map(|h| api::webhook_dto(h, &site.code))
            .collect(),
        log: log
            .iter()
            .map(|d| {
                (
                    api::delivery_dto(d),
                    labels.get(&d.webhook_id).cloned().unwrap_or_default(),
                    local_time(d.created_at),
                )
            })
            .collect(),
        site: site.code,
        form,
        errors,
        form_key: state.ids.new_id().to_string(),
    })
}

async fn webhooks_page(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Query(q): Query<SiteQuery>,
) -> Response {
    let form = WebhookForm {
        format: "wecom".into(),
        ..WebhookForm::default()
    };
    match webhooks_view(
        &state,
        locale,
        &who,
        q.site.as_deref(),
        form,
        FormErrors::none(),
    )
    .await
    {
        Ok(p) => render(&p),
        Err(e) => fail(locale, &e),
    }
}

async fn webhook_form(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    body: Bytes,
) -> Response {
    let (f, fingerprint) = match parse_form::<WebhookForm>(locale, &body) {
        Ok(parsed) => parsed,
        Err(res) => return *res,
    };
    let added = async {
        let site = crate::screening::site_of(&state, &who, Some(&f.site)).await?;
        let b = WebhookBody {
            format: f.format.clone(),
            label: f.label.clone(),
            url: f.url.clone(),
            secret: Some(f.secret.clone()),
        };
        let idem = form_idem("POST /cases/webhooks", &who, &f.form_key, &fingerprint);
        api::add_webhook(&state, &who, &site, &b, &idem).await?;
        Ok::<_, ApiError>(site.code)
    }
    .await;
    match added {
        Ok(site) => Redirect::to(&format!("/cases/webhooks?site={site}")).into_response(),
        Err(e) if !e.fields.is_empty() => {
            let errors = FormErrors::of(locale, &e.fields);
            let site = f.site.clone();
            match webhooks_view(&state, locale, &who, Some(&site), f, errors).await {
                Ok(p) => (StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response(),
                Err(e) => fail(locale, &e),
            }
        }
        Err(e) => fail(locale, &e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ActiveForm {
    site: String,
    active: String,
}

async fn webhook_active(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path(id): Path<Uuid>,
    body: Bytes,
) -> Response {
    let (f, _) = match parse_form::<ActiveForm>(locale, &body) {
        Ok(parsed) => parsed,
        Err(res) => return *res,
    };
    let done = async {
        let site = crate::screening::site_of(&state, &who, Some(&f.site)).await?;
        api::set_webhook(&state, &who, &site, id, f.active == "1").await?;
        Ok::<_, ApiError>(site.code)
    }
    .await;
    match done {
        Ok(code) => Redirect::to(&format!("/cases/webhooks?site={code}")).into_response(),
        Err(e) => fail(locale, &e),
    }
}

/// The key naming a robot format.
pub fn format_key(format: &str) -> &'static str {
    if format == "dingtalk" {
        "webhooks.format.dingtalk"
    } else {
        "webhooks.format.wecom"
    }
}

/// Keys of every stored name shown through [`label`], for the catalog test.
pub fn label_keys() -> Vec<String> {
    let mut keys = Vec::new();
    let mut add = |prefix: &str, values: &[&str]| {
        keys.extend(values.iter().map(|v| format!("{prefix}.{v}")));
    };
    add(
        "cases.source",
        &fangkong_domain::cases::Source::ALL
            .iter()
            .map(|v| v.as_str())
            .collect::<Vec<_>>(),
    );
    add(
        "cases.status",
        &Status::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>(),
    );
    add(
        "cases.outcome",
        &CaseOutcome::ALL
            .iter()
            .map(|v| v.as_str())
            .collect::<Vec<_>>(),
    );
    add(
        "cases.action",
        &Action::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>(),
    );
    add(
        "cases.channel",
        &Channel::ALL.iter().map(|v| v.as_str()).collect::<Vec<_>>(),
    );
    add(
        "alerts.level",
        &fangkong_domain::cases::Level::ALL.map(|v| v.as_str()),
    );
    add(
        "kind",
        &SubjectKind::ALL
            .iter()
            .map(|v| v.as_str())
            .collect::<Vec<_>>(),
    );
    add(
        "symptom",
        &fangkong_domain::screening::Symptom::ALL
            .iter()
            .map(|v| v.as_str())
            .collect::<Vec<_>>(),
    );
    add(
        "cases.event",
        &[
            "opened",
            "action",
            "outcome",
            "acknowledged",
            "escalated",
            "upward_report",
        ],
    );
    add("webhooks.status", &["pending", "sent", "failed"]);
    keys
}
