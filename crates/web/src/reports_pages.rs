//! Daily report pages (三(三)): a site's report with its review, submit, acknowledge and
//! return forms and its children's reports; the paper-like XLSX, the CSV and the printable
//! A4 page with charts; the archive; and the leadership dashboard with today's live
//! counts, the 7- and 30-day trends, open alerts and late reports.

use crate::AppState;
use crate::access::Principal;
use crate::auth::FormErrors;
use crate::cases_pages::parse_form;
use crate::charts::{self, Chart};
use crate::error::ApiError;
use crate::home::{Shell, local_time, render};
use crate::i18n::Locale;
use crate::reports::{self as api, Assembled, Standing, Tree, TrendDay};
use crate::screening_pages::{attachment, fail, form_idem};
use askama::Template;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use fangkong_domain::access::Permission;
use fangkong_domain::reports::{Completeness, Figures, Status, Timeliness};
use fangkong_domain::screening::{csv_safe, day_of};
use fangkong_store::org::Site;
use serde::Deserialize;
use time::Date;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/reports", get(reports_home))
        .route("/reports/archive", get(archive_page))
        .route("/reports/{site}/{date}", get(report_page))
        .route("/reports/{site}/{date}/print", get(print_page))
        .route("/reports/{site}/{date}/xlsx", get(report_xlsx))
        .route("/reports/{site}/{date}/csv", get(report_csv))
        .route("/reports/{site}/{date}/submit", post(submit_form))
        .route("/reports/{site}/{date}/acknowledge", post(acknowledge_form))
        .route("/reports/{site}/{date}/return", post(return_form))
        .route("/dashboard", get(dashboard_page))
        .route("/panels/dashboard", get(dashboard_panel))
}

// ---- figures as rows ------------------------------------------------------------------------

type Getter = fn(&Figures) -> String;

fn n(v: i64) -> String {
    v.to_string()
}

/// The report form's rows, grouped as on paper: `(group title, [(label, value)])`.
const GROUPS: &[(&str, &[(&str, Getter)])] = &[
    (
        "reports.group.door",
        &[
            ("reports.f.screened", |f| n(f.screened)),
            ("reports.f.screened_citizens", |f| n(f.screened_citizens)),
            ("reports.f.screened_window_staff", |f| {
                n(f.screened_window_staff)
            }),
            ("reports.f.screened_bureau_staff", |f| {
                n(f.screened_bureau_staff)
            }),
            ("reports.f.screened_other", |f| n(f.screened_other)),
            ("reports.f.admitted", |f| n(f.admitted)),
            ("reports.f.refused_no_mask", |f| n(f.refused_no_mask)),
            ("reports.f.sent_to_buffer", |f| n(f.sent_to_buffer)),
            ("reports.f.waited", |f| n(f.waited)),
            ("reports.f.no_mask", |f| n(f.no_mask)),
            ("reports.f.door_in", |f| n(f.door_in)),
            ("reports.f.door_out", |f| n(f.door_out)),
        ],
    ),
    (
        "reports.group.buffer",
        &[
            ("reports.f.rechecked", |f| n(f.rechecked)),
            ("reports.f.cleared", |f| n(f.cleared)),
        ],
    ),
    (
        "reports.group.cases",
        &[
            ("reports.f.suspected", |f| n(f.suspected)),
            ("reports.f.cases_open", |f| n(f.cases_open)),
            ("reports.f.cases_closed", |f| n(f.cases_closed)),
            ("reports.f.alerts_raised", |f| n(f.alerts_raised)),
            (
                "reports.f.alerts_acknowledged",
                |f| n(f.alerts_acknowledged),
            ),
            ("reports.f.ack_minutes_mean", |f| {
                f.ack_minutes_mean()
                    .map_or_else(|| "—".into(), |m| format!("{m:.1}"))
            }),
            ("reports.f.ack_minutes_max", |f| n(f.ack_minutes_max)),
        ],
    ),
    (
        "reports.group.staff",
        &[
            ("reports.f.staff_expected", |f| n(f.staff_expected)),
            ("reports.f.staff_pre_shift", |f| n(f.staff_pre_shift)),
            ("reports.f.staff_post_shift", |f| n(f.staff_post_shift)),
            ("reports.f.staff_checks_done", |f| n(f.staff_checks_done)),
            ("reports.f.staff_checks_missing", |f| {
                n(f.staff_checks_missing)
            }),
        ],
    ),
    (
        "reports.group.occupancy",
        &[
            ("reports.f.occupancy_peak", |f| n(f.occupancy_peak)),
            ("reports.f.occupancy_peak_at", |f| {
                f.occupancy_peak_at
                    .map(local_time)
                    .unwrap_or_else(|| "—".into())
            }),
        ],
    ),
];

/// One row of the report table: a group title (no values) or a figure with a value per
/// column (the site's own, then the roll-up).
pub struct FigureRow {
    pub label: String,
    pub heading: bool,
    pub values: Vec<String>,
}

fn figure_rows(locale: Locale, columns: &[&Figures]) -> Vec<FigureRow> {
    let mut out = Vec::new();
    for (group, rows) in GROUPS {
        out.push(FigureRow {
            label: locale.t(group).to_owned(),
            heading: true,
            values: Vec::new(),
        });
        for (label, get) in *rows {
            out.push(FigureRow {
                label: locale.t(label).to_owned(),
                heading: false,
                values: columns.iter().map(|f| get(f)).collect(),
            });
        }
    }
    // Sections of later areas, in the order of the first column that has them.
    let mut keys: Vec<&str> = Vec::new();
    for f in columns {
        for s in &f.sections {
            if !keys.contains(&s.key.as_str()) {
                keys.push(&s.key);
            }
        }
    }
    for key in keys {
        out.push(FigureRow {
            label: locale.t(&format!("reports.{key}.title")).to_owned(),
            heading: true,
            values: Vec::new(),
        });
        let mut rows: Vec<&str> = Vec::new();
        for f in columns {
            for s in f.sections.iter().filter(|s| s.key == key) {
                for r in &s.rows {
                    if !rows.contains(&r.key.as_str()) {
                        rows.push(&r.key);
                    }
                }
            }
        }
        for row in rows {
            out.push(FigureRow {
                label: locale.t(&format!("reports.{key}.{row}")).to_owned(),
                heading: false,
                values: columns
                    .iter()
                    .map(|f| {
                        f.sections
                            .iter()
                            .filter(|s| s.key == key)
                            .flat_map(|s| &s.rows)
                            .find(|r| r.key == row)
                            .map_or_else(|| "0".into(), |r| r.n.to_string())
                    })
                    .collect(),
            });
        }
    }
    out
}

/// Every message key the report pages build at run time (statuses, timeliness, figure
/// labels, the sections' rows), for the catalogue test.
pub fn label_keys() -> Vec<String> {
    let mut keys: Vec<String> = vec!["reports.status.draft".into()];
    keys.extend(
        Status::ALL
            .iter()
            .map(|s| format!("reports.status.{}", s.as_str())),
    );
    keys.extend(
        Timeliness::ALL
            .iter()
            .map(|t| format!("reports.timeliness.{}", t.as_str())),
    );
    for (group, rows) in GROUPS {
        keys.push((*group).to_owned());
        keys.extend(rows.iter().map(|(k, _)| (*k).to_owned()));
    }
    keys.push("reports.cases.title".into());
    for row in ["open", "upward_reports"].into_iter().chain(
        fangkong_domain::cases::CaseOutcome::ALL
            .iter()
            .map(|o| o.as_str()),
    ) {
        keys.push(format!("reports.cases.{row}"));
    }
    keys.push("reports.hotline.title".into());
    for row in crate::hotline::SECTION_ROWS.iter().copied().chain(
        fangkong_domain::hotline::Category::ALL
            .iter()
            .map(|c| c.as_str()),
    ) {
        keys.push(format!("reports.hotline.{row}"));
    }
    keys
}

fn status_code(s: Option<Status>) -> &'static str {
    s.map_or("draft", Status::as_str)
}

// ---- the report page ------------------------------------------------------------------------

/// A child site's line.
struct ChildView {
    code: String,
    name: String,
    indent: u32,
    status: &'static str,
    status_code: &'static str,
    timeliness: &'static str,
    timeliness_code: &'static str,
    version: String,
    screened: i64,
    sent_to_buffer: i64,
    suspected: i64,
    staff_missing: i64,
}

struct VersionView {
    version: u32,
    status: &'static str,
    submitted: String,
    by: String,
    remarks: String,
    decided: String,
    comment: String,
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    shell: Shell,
    code: String,
    name: String,
    date: String,
    prev: String,
    next: Option<String>,
    status: &'static str,
    status_code: &'static str,
    timeliness: &'static str,
    timeliness_code: &'static str,
    deadline: String,
    changed: bool,
    rows: Vec<FigureRow>,
    has_children: bool,
    completeness: Completeness,
    children: Vec<ChildView>,
    versions: Vec<VersionView>,
    remarks: String,
    comment: String,
    can_submit: bool,
    can_decide: bool,
    /// The latest version's number, sent back with a decision.
    version: String,
    resubmit: bool,
    errors: FormErrors,
    form_key: String,
}

fn child_views(locale: Locale, a: &Assembled) -> Vec<ChildView> {
    let base = a.tree.depth(a.site.id);
    a.subtree()
        .iter()
        .skip(1)
        .map(|s| {
            let st = &a.standing[&s.id];
            let f = st.figures();
            ChildView {
                code: s.code.clone(),
                name: s.name.clone(),
                indent: a.tree.depth(s.id).saturating_sub(base + 1),
                status: locale.t(&format!("reports.status.{}", status_code(st.status()))),
                status_code: status_code(st.status()),
                timeliness: locale.t(&format!("reports.timeliness.{}", st.timeliness.as_str())),
                timeliness_code: st.timeliness.as_str(),
                version: st
                    .latest()
                    .map(|v| v.version.to_string())
                    .unwrap_or_default(),
                screened: f.screened,
                sent_to_buffer: f.sent_to_buffer,
                suspected: f.suspected,
                staff_missing: f.staff_checks_missing,
            }
        })
        .collect()
}

fn report_view(
    state: &AppState,
    locale: Locale,
    who: &Principal,
    a: &Assembled,
    errors: FormErrors,
    comment: String,
) -> ReportPage {
    let own = a.own();
    let rollup = a.rollup();
    let columns: Vec<&Figures> = if a.has_children() {
        vec![own.figures(), &rollup.figures]
    } else {
        vec![own.figures()]
    };
    let latest = own.latest();
    let today = day_of(state.clock.now());
    let own_site = who
        .account
        .as_ref()
        .is_some_and(|acc| acc.site_id == a.site.id);
    ReportPage {
        shell: Shell::of(locale, "/reports", who),
        code: a.site.code.clone(),
        name: a.site.name.clone(),
        date: a.day.to_string(),
        prev: a.day.previous_day().unwrap_or(a.day).to_string(),
        next: a
            .day
            .next_day()
            .filter(|d| *d <= today)
            .map(|d| d.to_string()),
        status: locale.t(&format!("reports.status.{}", status_code(own.status()))),
        status_code: status_code(own.status()),
        timeliness: locale.t(&format!("reports.timeliness.{}", own.timeliness.as_str())),
        timeliness_code: own.timeliness.as_str(),
        deadline: local_time(fangkong_domain::reports::deadline(
            a.day,
            state.reports.deadline,
        )),
        changed: latest.is_some_and(|v| v.status != Status::Returned && v.figures != own.live),
        rows: figure_rows(locale, &columns),
        has_children: a.has_children(),
        completeness: rollup.completeness,
        children: child_views(locale, a),
        versions: own
            .versions
            .iter()
            .rev()
            .map(|v| VersionView {
                version: v.version,
                status: locale.t(&format!("reports.status.{}", v.status.as_str())),
                submitted: local_time(v.submitted_at),
                by: v.submitted_by.clone(),
                remarks: v.remarks.clone(),
                decided: match (&v.decided_by, v.decided_at) {
                    (Some(by), Some(at)) => format!("{} · {by}", local_time(at)),
                    _ => String::new(),
                },
                comment: v.comment.clone().unwrap_or_default(),
            })
            .collect(),
        remarks: latest.map(|v| v.remarks.clone()).unwrap_or_default(),
        comment,
        // A site submits its own report; the sites above acknowledge or return it.
        can_submit: who.can(Permission::ReportsSubmit) && own_site,
        can_decide: who.can(Permission::ReportsDecide)
            && !own_site
            && own.status() == Some(Status::Submitted),
        resubmit: latest.is_some(),
        version: latest.map(|v| v.version.to_string()).unwrap_or_default(),
        errors,
        form_key: state.ids.new_id().to_string(),
    }
}

/// `/reports`: your own site's report for today (or `?date=`).
async fn reports_home(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Query(q): Query<DateQuery>,
) -> Response {
    let Ok(acc) = who.account() else {
        return fail(locale, &ApiError::not_found());
    };
    let date = q
        .date
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| day_of(state.clock.now()).to_string());
    let site = q
        .site
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| acc.site_code.clone());
    Redirect::to(&format!(
        "/reports/{}/{}",
        crate::home::encode(&site),
        crate::home::encode(&date)
    ))
    .into_response()
}

#[derive(Debug, Default, Deserialize)]
struct DateQuery {
    site: Option<String>,
    date: Option<String>,
}

async fn report_page(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path((site, date)): Path<(String, String)>,
) -> Response {
    match api::assemble(&state, &who, Some(&site), Some(&date)).await {
        Ok(a) => render(&report_view(
            &state,
            locale,
            &who,
            &a,
            FormErrors::none(),
            String::new(),
        )),
        Err(e) => fail(locale, &e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ReportForm {
    remarks: String,
    comment: String,
    /// The version the reviewer saw (acknowledge and return).
    version: String,
    form_key: String,
}

/// Back to the report after a form, or the page again with the error.
async fn after_form(
    state: &AppState,
    locale: Locale,
    who: &Principal,
    site: &str,
    date: &str,
    comment: String,
    outcome: Result<Response, ApiError>,
) -> Response {
    let back = format!(
        "/reports/{}/{}",
        crate::home::encode(site),
        crate::home::encode(date)
    );
    match outcome {
        Ok(_) => Redirect::to(&back).into_response(),
        Err(e)
            if !e.fields.is_empty()
                || e.status == StatusCode::CONFLICT
                || e.status == StatusCode::FORBIDDEN =>
        {
            let errors = if e.fields.is_empty() {
                FormErrors(vec![("form", locale.t(&format!("problem.{}", e.code)))])
            } else {
                FormErrors::of(locale, &e.fields)
            };
            match api::assemble(state, who, Some(site), Some(date)).await {
                Ok(a) => (
                    e.status,
                    render(&report_view(state, locale, who, &a, errors, comment)),
                )
                    .into_response(),
                Err(e) => fail(locale, &e),
            }
        }
        Err(e) => fail(locale, &e),
    }
}

async fn submit_form(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path((site, date)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let (f, fingerprint) = match parse_form::<ReportForm>(locale, &body) {
        Ok(p) => p,
        Err(res) => return *res,
    };
    let fingerprint = format!("{site}/{date}/{fingerprint}");
    let scope = "POST /reports/{site}/{date}/submit";
    let idem = form_idem(scope, &who, &f.form_key, &fingerprint);
    let outcome = api::submit(&state, &who, &site, &date, &f.remarks, &idem).await;
    after_form(&state, locale, &who, &site, &date, String::new(), outcome).await
}

async fn acknowledge_form(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path((site, date)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let scope = "POST /reports/{site}/{date}/acknowledge";
    decision_form(
        &state,
        locale,
        &who,
        (&site, &date),
        &body,
        Status::Acknowledged,
        scope,
    )
    .await
}

async fn return_form(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path((site, date)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    let scope = "POST /reports/{site}/{date}/return";
    decision_form(
        &state,
        locale,
        &who,
        (&site, &date),
        &body,
        Status::Returned,
        scope,
    )
    .await
}

/// The parent's acknowledge and return forms.
async fn decision_form(
    state: &AppState,
    locale: Locale,
    who: &Principal,
    (site, date): (&str, &str),
    body: &[u8],
    status: Status,
    scope: &'static str,
) -> Response {
    let (f, fingerprint) = match parse_form::<ReportForm>(locale, body) {
        Ok(p) => p,
        Err(res) => return *res,
    };
    let fingerprint = format!("{site}/{date}/{fingerprint}");
    let idem = form_idem(scope, who, &f.form_key, &fingerprint);
    let d = api::Decision {
        status,
        comment: &f.comment,
        seen: f.version.trim().parse().ok(),
    };
    let outcome = api::decide(state, who, site, date, &d, &idem).await;
    // A failed return keeps the comment typed.
    let comment = if status == Status::Returned {
        f.comment
    } else {
        String::new()
    };
    after_form(state, locale, who, site, date, comment, outcome).await
}

// ---- exports --------------------------------------------------------------------------------

/// Records who took a report away (its remarks may name a person) before handing it out.
async fn audit_export(
    state: &AppState,
    who: &Principal,
    a: &Assembled,
    format: &str,
) -> Result<(), ApiError> {
    fangkong_store::audit::append_now(
        &state.store,
        state.clock.now(),
        &fangkong_store::audit::Record {
            actor: who.actor(),
            addr: &who.addr,
            action: "report.export",
            target: format!("report:{}:{}", a.site.code, a.day),
            site: &a.site.code,
            outcome: fangkong_domain::audit::Outcome::Ok,
            detail: serde_json::json!({"format": format}),
        },
    )
    .await?;
    Ok(())
}

/// The title line of an export: site, date, status and when it was made.
fn export_heading(state: &AppState, locale: Locale, a: &Assembled) -> String {
    let own = a.own();
    format!(
        "{}：{} · {}：{} · {}：{} · {}：{}",
        locale.t("field.site"),
        a.site.name,
        locale.t("reports.date"),
        a.day,
        locale.t("reports.status"),
        locale.t(&format!("reports.status.{}", status_code(own.status()))),
        locale.t("ledger.made"),
        local_time(state.clock.now())
    )
}

fn column_titles(locale: Locale, a: &Assembled) -> Vec<String> {
    let mut c = vec![
        locale.t("reports.item").to_owned(),
        locale.t("reports.own").to_owned(),
    ];
    if a.has_children() {
        c.push(locale.t("reports.rollup").to_owned());
    }
    c
}

/// The report as a spreadsheet laid out like the paper form: title, site and date, the
/// numbered figures (own and roll-up), remarks, the sites below, and signature lines.
async fn report_xlsx(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path((site, date)): Path<(String, String)>,
) -> Response {
    let a = match api::assemble(&state, &who, Some(&site), Some(&date)).await {
        Ok(a) => a,
        Err(e) => return fail(locale, &e),
    };
    if let Err(e) = audit_export(&state, &who, &a, "xlsx").await {
        return fail(locale, &e);
    }
    let own = a.own();
    let rollup = a.rollup();
    let columns: Vec<&Figures> = if a.has_children() {
        vec![own.figures(), &rollup.figures]
    } else {
        vec![own.figures()]
    };
    let rows = figure_rows(locale, &columns);
    let titles = column_titles(locale, &a);
    let heading = export_heading(&state, locale, &a);
    let children = child_views(locale, &a);
    let remarks = own.latest().map(|v| v.remarks.clone()).unwrap_or_default();
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
            .set_align(FormatAlign::Center);
        let group = Format::new().set_bold().set_border(FormatBorder::Thin);
        let cell = Format::new().set_border(FormatBorder::Thin).set_text_wrap();
        let sheet = book.add_worksheet();
        sheet.set_name(locale.t("reports.sheet"))?;
        let last = u16::try_from(titles.len()).unwrap_or(3);
        sheet.merge_range(0, 0, 0, last, locale.t("reports.form_title"), &title)?;
        sheet.merge_range(1, 0, 1, last, &heading, &Format::new())?;
        sheet.write_string_with_format(2, 0, locale.t("ledger.col.number"), &head)?;
        for (c, t) in (1u16..).zip(&titles) {
            sheet.write_string_with_format(2, c, t, &head)?;
        }
        let mut r = 3u32;
        let mut number = 0u32;
        for row in &rows {
            if row.heading {
                sheet.merge_range(r, 0, r, last, &row.label, &group)?;
            } else {
                number += 1;
                sheet.write_number_with_format(r, 0, number, &cell)?;
                sheet.write_string_with_format(r, 1, &row.label, &cell)?;
                for (c, v) in (2u16..).zip(&row.values) {
                    match v.parse::<f64>() {
                        Ok(x) => sheet.write_number_with_format(r, c, x, &cell)?,
                        // Text cells only for text: nothing typed becomes a formula.
                        Err(_) => sheet.write_string_with_format(r, c, v, &cell)?,
                    };
                }
            }
            r += 1;
        }
        sheet.write_string_with_format(r, 0, locale.t("reports.remarks"), &group)?;
        sheet.merge_range(r, 1, r, last, &remarks, &cell)?;
        r += 2;
        if !children.is_empty() {
            sheet.merge_range(r, 0, r, last.max(6), locale.t("reports.children"), &group)?;
            r += 1;
            let heads = [
                "field.site",
                "reports.status",
                "reports.timeliness",
                "reports.f.screened",
                "reports.f.sent_to_buffer",
                "reports.f.suspected",
                "reports.f.staff_checks_missing",
            ];
            for (c, h) in (0u16..).zip(heads) {
                sheet.write_string_with_format(r, c, locale.t(h), &head)?;
            }
            r += 1;
            for ch in &children {
                sheet.write_string_with_format(r, 0, &ch.name, &cell)?;
                sheet.write_string_with_format(r, 1, ch.status, &cell)?;
                sheet.write_string_with_format(r, 2, ch.timeliness, &cell)?;
                for (c, v) in (3u16..).zip([
                    ch.screened,
                    ch.sent_to_buffer,
                    ch.suspected,
                    ch.staff_missing,
                ]) {
                    sheet.write_number_with_format(r, c, v as f64, &cell)?;
                }
                r += 1;
            }
            r += 1;
        }
        sheet.write_string(r, 0, locale.t("ledger.sign.filled"))?;
        sheet.write_string(r, 2, locale.t("ledger.sign.checked"))?;
        sheet.write_string(r + 1, 0, locale.t("ledger.sign.date"))?;
        sheet.set_column_width(1, 28)?;
        sheet.set_column_width(2, 14)?;
        sheet.set_column_width(3, 14)?;
        sheet.set_paper_size(9);
        book.save_to_buffer()
    })();
    match bytes {
        Ok(b) => attachment(
            b,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            &format!("report-{}-{}.xlsx", a.site.code, a.day),
        ),
        Err(e) => {
            tracing::error!(error = %e, "cannot build a spreadsheet");
            fail(locale, &ApiError::internal())
        }
    }
}

/// The report as CSV: one line per site of the subtree (the site first) with every
/// figure, and for a site with sites below it a total line.
async fn report_csv(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path((site, date)): Path<(String, String)>,
) -> Response {
    let a = match api::assemble(&state, &who, Some(&site), Some(&date)).await {
        Ok(a) => a,
        Err(e) => return fail(locale, &e),
    };
    if let Err(e) = audit_export(&state, &who, &a, "csv").await {
        return fail(locale, &e);
    }
    let mut w = csv::Writer::from_writer(vec![0xEF, 0xBB, 0xBF]);
    let mut head = vec![
        locale.t("reports.date").to_owned(),
        locale.t("reports.site_code").to_owned(),
        locale.t("field.site").to_owned(),
        locale.t("reports.status").to_owned(),
        locale.t("reports.version").to_owned(),
        locale.t("reports.timeliness").to_owned(),
    ];
    head.extend(
        GROUPS
            .iter()
            .flat_map(|(_, rows)| rows.iter())
            .map(|(label, _)| locale.t(label).to_owned()),
    );
    let line = |code: &str, name: &str, st: Option<&Standing>, f: &Figures| -> Vec<String> {
        let mut l = vec![
            a.day.to_string(),
            csv_safe(code).into_owned(),
            csv_safe(name).into_owned(),
            st.map(|s| {
                locale
                    .t(&format!("reports.status.{}", status_code(s.status())))
                    .to_owned()
            })
            .unwrap_or_default(),
            st.and_then(|s| s.latest())
                .map(|v| v.version.to_string())
                .unwrap_or_default(),
            st.map(|s| {
                locale
                    .t(&format!("reports.timeliness.{}", s.timeliness.as_str()))
                    .to_owned()
            })
            .unwrap_or_default(),
        ];
        l.extend(
            GROUPS
                .iter()
                .flat_map(|(_, rows)| rows.iter())
                .map(|(_, get)| get(f)),
        );
        l
    };
    let mut lines = vec![head];
    for s in a.subtree() {
        let st = &a.standing[&s.id];
        lines.push(line(&s.code, &s.name, Some(st), st.figures()));
    }
    if a.has_children() {
        lines.push(line(
            "",
            locale.t("reports.total"),
            None,
            &a.rollup().figures,
        ));
    }
    for l in &lines {
        if w.write_record(l).is_err() {
            return fail(locale, &ApiError::internal());
        }
    }
    match w.into_inner() {
        Ok(b) => attachment(
            b,
            "text/csv; charset=utf-8",
            &format!("report-{}-{}.csv", a.site.code, a.day),
        ),
        Err(_) => fail(locale, &ApiError::internal()),
    }
}

/// Chart plus table of a trend.
struct TrendView {
    chart: Chart,
    rows: Vec<TrendDay>,
}

fn trend_view(days: Vec<TrendDay>) -> TrendView {
    let points: Vec<(String, u32, bool)> = days
        .iter()
        .map(|d| {
            (
                d.date.clone(),
                u32::try_from(d.screened).unwrap_or(0),
                d.suspected > 0,
            )
        })
        .collect();
    TrendView {
        chart: charts::bars(&points),
        rows: days,
    }
}

#[derive(Template)]
#[template(path = "report_print.html")]
struct PrintPage {
    shell: Shell,
    name: String,
    heading: String,
    titles: Vec<String>,
    rows: Vec<FigureRow>,
    remarks: String,
    children: Vec<ChildView>,
    sites_chart: Chart,
    week: TrendView,
    chart_height: u32,
    bar_width: u32,
}

/// The printable A4 report: the form, the sites below, a chart of each site's screenings
/// and the subtree's last seven days.
async fn print_page(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path((site, date)): Path<(String, String)>,
) -> Response {
    let a = match api::assemble(&state, &who, Some(&site), Some(&date)).await {
        Ok(a) => a,
        Err(e) => return fail(locale, &e),
    };
    if let Err(e) = audit_export(&state, &who, &a, "print").await {
        return fail(locale, &e);
    }
    let own = a.own();
    let rollup = a.rollup();
    let columns: Vec<&Figures> = if a.has_children() {
        vec![own.figures(), &rollup.figures]
    } else {
        vec![own.figures()]
    };
    let week = match api::trend(&state, &a.tree, &a.site, a.day, 7).await {
        Ok(w) => trend_view(w),
        Err(e) => return fail(locale, &e),
    };
    let points: Vec<(String, u32, bool)> = a
        .subtree()
        .iter()
        .map(|s| {
            let f = a.standing[&s.id].figures();
            (
                s.name.clone(),
                u32::try_from(f.screened).unwrap_or(0),
                f.suspected > 0,
            )
        })
        .collect();
    render(&PrintPage {
        shell: Shell::of(locale, "/reports", &who),
        name: a.site.name.clone(),
        heading: export_heading(&state, locale, &a),
        titles: column_titles(locale, &a),
        rows: figure_rows(locale, &columns),
        remarks: own.latest().map(|v| v.remarks.clone()).unwrap_or_default(),
        children: child_views(locale, &a),
        sites_chart: charts::bars(&points),
        week,
        chart_height: charts::HEIGHT,
        bar_width: charts::BAR,
    })
}

// ---- the archive ------------------------------------------------------------------------------

#[derive(Debug, Default, Deserialize)]
struct ArchiveQuery {
    site: Option<String>,
    from: Option<String>,
    until: Option<String>,
}

struct ArchiveLine {
    code: String,
    name: String,
    date: String,
    version: u32,
    status: &'static str,
    status_code: &'static str,
    submitted: String,
    by: String,
    late: bool,
    screened: i64,
    suspected: i64,
}

/// The most reports one archive page lists.
const ARCHIVE_LIMIT: u32 = 1000;

#[derive(Template)]
#[template(path = "reports_archive.html")]
struct ArchivePage {
    shell: Shell,
    sites: Vec<(String, String)>,
    site: String,
    from: String,
    until: String,
    lines: Vec<ArchiveLine>,
    /// More reports matched than are shown: narrow the dates.
    truncated: bool,
    errors: FormErrors,
}

/// Past reports, searched by site (its subtree) and dates; the latest version of each
/// site's day, with whether it came in late.
async fn archive_page(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Query(q): Query<ArchiveQuery>,
) -> Response {
    let outcome = async {
        let today = day_of(state.clock.now());
        let site = crate::screening::site_of(&state, &who, q.site.as_deref()).await?;
        let parse = |raw: &Option<String>, default: Date, field: &'static str| match raw
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            None => Ok(default),
            Some(s) => Date::parse(s, &time::format_description::well_known::Iso8601::DATE)
                .map_err(|_| fangkong_domain::FieldError::new(field, "reports.date.invalid")),
        };
        let from = parse(&q.from, today - time::Duration::days(30), "from");
        let until = parse(&q.until, today, "until");
        let tree = Tree::load(&state).await?;
        let scope = who.scope(&state.store).await?;
        let sites: Vec<(String, String)> = tree
            .0
            .iter()
            .filter(|s| scope.covers(s.site.id))
            .map(|s| (s.site.code.clone(), s.site.name.clone()))
            .collect();
        let (from, until, errors) = match (from, until) {
            (Ok(f), Ok(u)) => (f, u, FormErrors::none()),
            (f, u) => {
                let errs: Vec<_> = [f.err(), u.err()].into_iter().flatten().collect();
                (today, today, FormErrors::of(locale, &errs))
            }
        };
        let subtree = tree.subtree(site.id);
        let ids: Vec<uuid::Uuid> = subtree.iter().map(|s| s.id).collect();
        let found = fangkong_store::reports::latest_between(
            &state.store,
            &state.vault,
            &ids,
            from,
            until,
            ARCHIVE_LIMIT,
        )
        .await?;
        let truncated = found.len() == ARCHIVE_LIMIT as usize;
        let mut lines: Vec<ArchiveLine> = Vec::new();
        for (v, first) in &found {
            let Some(s) = subtree.iter().find(|s| s.id == v.site_id) else {
                continue;
            };
            let deadline = fangkong_domain::reports::deadline(v.day, state.reports.deadline);
            lines.push(ArchiveLine {
                code: s.code.clone(),
                name: s.name.clone(),
                date: v.day.to_string(),
                version: v.version,
                status: locale.t(&format!("reports.status.{}", v.status.as_str())),
                status_code: v.status.as_str(),
                submitted: local_time(v.submitted_at),
                by: v.submitted_by.clone(),
                late: *first > deadline,
                screened: v.figures.screened,
                suspected: v.figures.suspected,
            });
        }
        Ok::<_, ApiError>(ArchivePage {
            shell: Shell::of(locale, "/reports/archive", &who),
            sites,
            site: site.code,
            from: from.to_string(),
            until: until.to_string(),
            lines,
            truncated,
            errors,
        })
    }
    .await;
    match outcome {
        Ok(p) => render(&p),
        Err(e) => fail(locale, &e),
    }
}

// ---- the leadership dashboard ---------------------------------------------------------------

struct TodayLine {
    code: String,
    name: String,
    indent: u32,
    screened: i64,
    admitted: i64,
    sent_to_buffer: i64,
    suspected: i64,
    inside: u32,
    staff_missing: i64,
    status: &'static str,
    timeliness_code: &'static str,
    timeliness: &'static str,
}

#[derive(Template)]
#[template(path = "dashboard_panel.html")]
struct DashboardPanel {
    locale: Locale,
    date: String,
    total: Figures,
    inside: u32,
    lines: Vec<TodayLine>,
    late: Vec<(String, String, &'static str)>,
}

/// One site's last 7 days on the dashboard.
struct SiteWeek {
    code: String,
    name: String,
    indent: u32,
    screened: Vec<i64>,
    chart: Chart,
}

/// Each site of the subtree, its screenings per day over the week ending `until`.
async fn site_weeks(
    state: &AppState,
    tree: &Tree,
    site: &Site,
    until: Date,
) -> Result<(Vec<String>, Vec<SiteWeek>), ApiError> {
    let from = until - time::Duration::days(6);
    let days: Vec<Date> = (0..7).map(|i| from + time::Duration::days(i)).collect();
    let subtree = tree.subtree(site.id);
    let ids: Vec<uuid::Uuid> = subtree.iter().map(|s| s.id).collect();
    let series = fangkong_store::reports::site_series(&state.store, &ids, from, until).await?;
    let base = tree.depth(site.id);
    let weeks = subtree
        .iter()
        .map(|s| {
            let screened: Vec<i64> = days
                .iter()
                .map(|d| {
                    series
                        .iter()
                        .find(|(id, day, _)| *id == s.id && day == d)
                        .map_or(0, |(_, _, f)| f.screened)
                })
                .collect();
            let points: Vec<(String, u32, bool)> = days
                .iter()
                .zip(&screened)
                .map(|(d, n)| (d.to_string(), u32::try_from(*n).unwrap_or(0), false))
                .collect();
            SiteWeek {
                code: s.code.clone(),
                name: s.name.clone(),
                indent: tree.depth(s.id).saturating_sub(base),
                screened,
                chart: charts::bars(&points),
            }
        })
        .collect();
    Ok((
        days.iter().map(|d| d.to_string()[5..].to_owned()).collect(),
        weeks,
    ))
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    shell: Shell,
    sites: Vec<(String, String)>,
    site: String,
    name: String,
    panel: String,
    /// `(id, title key, trend)`: the last 7 and 30 days.
    trends: Vec<(&'static str, &'static str, TrendView)>,
    /// The last 7 days' dates, and each site's screenings on them with a small chart.
    week_days: Vec<String>,
    per_site: Vec<SiteWeek>,
    chart_height: u32,
    bar_width: u32,
}

async fn panel_data(
    state: &AppState,
    locale: Locale,
    who: &Principal,
    code: Option<&str>,
) -> Result<(Site, Tree, DashboardPanel), ApiError> {
    let today = day_of(state.clock.now()).to_string();
    let a = api::assemble(state, who, code, Some(&today)).await?;
    let occupancy = fangkong_store::screening::occupancies(&state.store, state.clock.now()).await?;
    let base = a.tree.depth(a.site.id);
    let mut lines = Vec::new();
    let mut late = Vec::new();
    let mut inside = 0;
    for s in a.subtree() {
        let st = &a.standing[&s.id];
        let f = &st.live;
        let here = occupancy.get(&s.id).map_or(0, |o| o.inside);
        inside += here;
        if matches!(st.timeliness, Timeliness::Missing | Timeliness::Late) {
            late.push((
                s.code.clone(),
                s.name.clone(),
                locale.t(&format!("reports.timeliness.{}", st.timeliness.as_str())),
            ));
        }
        lines.push(TodayLine {
            code: s.code.clone(),
            name: s.name.clone(),
            indent: a.tree.depth(s.id).saturating_sub(base),
            screened: f.screened,
            admitted: f.admitted,
            sent_to_buffer: f.sent_to_buffer,
            suspected: f.suspected,
            inside: here,
            staff_missing: f.staff_checks_missing,
            status: locale.t(&format!("reports.status.{}", status_code(st.status()))),
            timeliness_code: st.timeliness.as_str(),
            timeliness: locale.t(&format!("reports.timeliness.{}", st.timeliness.as_str())),
        });
    }
    let total = Figures::sum(a.subtree().iter().map(|s| &a.standing[&s.id].live));
    let panel = DashboardPanel {
        locale,
        date: today,
        total,
        inside,
        lines,
        late,
    };
    Ok((a.site.clone(), a.tree, panel))
}

#[derive(Debug, Default, Deserialize)]
struct SiteQuery {
    site: Option<String>,
}

/// The leaders' dashboard: today's live counts of the subtree and each site, the 7- and
/// 30-day trends (chart and table), open alerts and late reports. Narrow screens stack.
async fn dashboard_page(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Query(q): Query<SiteQuery>,
) -> Response {
    let outcome = async {
        let (site, tree, panel) = panel_data(&state, locale, &who, q.site.as_deref()).await?;
        let today = day_of(state.clock.now());
        let month = api::trend(&state, &tree, &site, today, 30).await?;
        let week = month[month.len().saturating_sub(7)..].to_vec();
        let (week_days, per_site) = site_weeks(&state, &tree, &site, today).await?;
        let scope = who.scope(&state.store).await?;
        let sites = tree
            .0
            .iter()
            .filter(|s| scope.covers(s.site.id))
            .map(|s| (s.site.code.clone(), s.site.name.clone()))
            .collect();
        Ok::<_, ApiError>(DashboardPage {
            shell: Shell::of(locale, "/dashboard", &who),
            sites,
            site: site.code.clone(),
            name: site.name.clone(),
            panel: panel.render().map_err(|_| ApiError::internal())?,
            trends: vec![
                ("week", "reports.trend7", trend_view(week)),
                ("month", "reports.trend30", trend_view(month)),
            ],
            week_days,
            per_site,
            chart_height: charts::HEIGHT,
            bar_width: charts::BAR,
        })
    }
    .await;
    match outcome {
        Ok(p) => render(&p),
        Err(e) => fail(locale, &e),
    }
}

async fn dashboard_panel(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Query(q): Query<SiteQuery>,
) -> Response {
    match panel_data(&state, locale, &who, q.site.as_deref()).await {
        Ok((_, _, p)) => render(&p),
        Err(e) => fail(locale, &e),
    }
}
