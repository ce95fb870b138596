//! Screening pages: the checkpoint page for door volunteers (keypad, offline queue), the
//! buffer zone and its re-check form, the leaders' occupancy panel, staff checks (one's
//! own, and who is missing), door records with CSV/XLSX export, the A4 poster with its QR
//! code, the citizen's self-registration page and device registration. The API they
//! call is in [`crate::screening`].

use crate::AppState;
use crate::access::Principal;
use crate::auth::FormErrors;
use crate::error::ApiError;
use crate::home::{Shell, error_page, local_time, render};
use crate::i18n::Locale;
use crate::idempotency::Idem;
use crate::screening::{
    self as api, DeviceBody, RecheckBody, RecordQuery, RegistrationBody, ScreeningBody,
    StaffCheckDto, WaitingDto,
};
use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use fangkong_domain::FieldError;
use fangkong_domain::access::Permission;
use fangkong_domain::audit::Outcome as AuditOutcome;
use fangkong_domain::org::format_tenths;
use fangkong_domain::screening::{Answers, Symptom, Trip, csv_safe, day_of};
use fangkong_store::audit::{self, Record};
use fangkong_store::org;
use fangkong_store::screening as store;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/door", get(door_select))
        .route("/door/{site}/{checkpoint}", get(door_page))
        .route("/door/{site}/{checkpoint}/poster", get(poster_page))
        .route("/buffer", get(buffer_page))
        .route("/panels/buffer", get(buffer_panel))
        .route("/buffer/{id}", get(recheck_page).post(recheck_form))
        .route("/occupancy", get(occupancy_page))
        .route("/panels/occupancy", get(occupancy_panel))
        .route("/occupancy/{site}", post(set_occupancy_form))
        .route("/staff-checks", get(staff_self_page).post(staff_self_form))
        .route("/staff-checks/missing", get(staff_missing_page))
        .route("/panels/staff-missing", get(staff_missing_panel))
        .route("/screening/records", get(records_page))
        .route("/screening/records.csv", get(records_csv))
        .route("/screening/records.xlsx", get(records_xlsx))
        .route("/screening/devices", get(devices_page).post(device_form))
        .route("/screening/devices/{id}/revoke", post(revoke_form))
        .route(
            "/r/{site}/{checkpoint}",
            get(register_page).post(register_form),
        )
}

pub(crate) fn fail(locale: Locale, e: &ApiError) -> Response {
    error_page(locale, e.status)
}

/// Sites in the asker's scope with their checkpoints.
struct DoorChoice {
    code: String,
    name: String,
    checkpoints: Vec<org::Checkpoint>,
}

#[derive(Template)]
#[template(path = "door_select.html")]
struct DoorSelectPage {
    shell: Shell,
    sites: Vec<DoorChoice>,
}

async fn scope_sites(state: &AppState, who: &Principal) -> Result<Vec<org::Site>, ApiError> {
    let scope = who.scope(&state.store).await?;
    Ok(org::list_sites(&state.store)
        .await?
        .into_iter()
        .map(|s| s.site)
        .filter(|s| scope.covers(s.id))
        .collect())
}

async fn door_select(State(state): State<AppState>, locale: Locale, who: Principal) -> Response {
    let result = async {
        let mut sites = Vec::new();
        for s in scope_sites(&state, &who).await? {
            let checkpoints = org::checkpoints(&state.store, s.id).await?;
            sites.push(DoorChoice {
                code: s.code,
                name: s.name,
                checkpoints,
            });
        }
        Ok::<_, ApiError>(sites)
    }
    .await;
    match result {
        Ok(sites) => render(&DoorSelectPage {
            shell: Shell::of(locale, "/door", &who),
            sites,
        }),
        Err(e) => fail(locale, &e),
    }
}

#[derive(Template)]
#[template(path = "door.html")]
struct DoorPage {
    shell: Shell,
    door: api::Door,
    threshold: String,
    threshold_tenths: u16,
    inside: u32,
    /// The site's staff for staff checks at the door, `(id, masked name · unit · job)`.
    staff: Vec<(Uuid, String)>,
}

async fn door_page(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path((site, checkpoint)): Path<(String, String)>,
) -> Response {
    let result = async {
        let door = api::door(&state, &who, &site, Some(&checkpoint))
            .await
            .map_err(|_| ApiError::not_found())?;
        let inside = store::occupancy(&state.store, door.site.id, state.clock.now())
            .await?
            .inside;
        let staff = org::people(&state.store, &state.vault, door.site.id)
            .await?
            .into_iter()
            .filter(|p| p.kind == fangkong_domain::org::PersonKind::Staff)
            .map(|p| {
                let unit = p.unit.unwrap_or_default();
                (p.id, format!("{} · {unit} · {}", p.name, p.job))
            })
            .collect();
        Ok::<_, ApiError>((door, inside, staff))
    }
    .await;
    match result {
        Ok((door, inside, staff)) => {
            let threshold_tenths = api::threshold(&door.site);
            render(&DoorPage {
                shell: Shell::of(locale, "/door", &who),
                threshold: format_tenths(threshold_tenths),
                threshold_tenths,
                inside,
                door,
                staff,
            })
        }
        Err(e) => fail(locale, &e),
    }
}

/// The address the QR code leads to: the request's own host.
fn base_url(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| {
            h.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        })
        .unwrap_or("localhost");
    let https = headers
        .get("x-forwarded-proto")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("https"));
    format!("{}://{host}", if https { "https" } else { "http" })
}

#[derive(Template)]
#[template(path = "poster.html")]
struct PosterPage {
    shell: Shell,
    door: api::Door,
    url: String,
    qr: String,
}

async fn poster_page(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    headers: HeaderMap,
    Path((site, checkpoint)): Path<(String, String)>,
) -> Response {
    let door = match api::door(&state, &who, &site, Some(&checkpoint)).await {
        Ok(d) => d,
        Err(_) => return fail(locale, &ApiError::not_found()),
    };
    let url = format!(
        "{}/r/{}/{}",
        base_url(&headers),
        door.site.code,
        door.checkpoint.code
    );
    let qr = match qrcode::QrCode::with_error_correction_level(url.as_bytes(), qrcode::EcLevel::M) {
        Ok(code) => code
            .render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(280, 280)
            .quiet_zone(true)
            .build(),
        Err(_) => return fail(locale, &ApiError::internal()),
    };
    render(&PosterPage {
        shell: Shell::of(locale, "/door", &who),
        door,
        url,
        qr,
    })
}

#[derive(Debug, Deserialize, Default)]
struct SiteParam {
    site: Option<String>,
    date: Option<String>,
}

#[derive(Template)]
#[template(path = "buffer.html")]
struct BufferPage {
    shell: Shell,
    site: org::Site,
    panel: BufferPanel,
}

#[derive(Template)]
#[template(path = "buffer_panel.html")]
struct BufferPanel {
    locale: Locale,
    waiting: Vec<WaitingDto>,
    can_check: bool,
}

async fn buffer_data(
    state: &AppState,
    who: &Principal,
    locale: Locale,
    site: Option<&str>,
) -> Result<(org::Site, BufferPanel), ApiError> {
    let site = api::site_of(state, who, site).await?;
    let sites = org::subtree(&state.store, site.id).await?;
    let waiting = api::waiting(state, &sites).await?;
    Ok((
        site,
        BufferPanel {
            locale,
            waiting,
            can_check: who.can(Permission::BufferCheck),
        },
    ))
}

async fn buffer_page(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Query(q): Query<SiteParam>,
) -> Response {
    match buffer_data(&state, &who, locale, q.site.as_deref()).await {
        Ok((site, panel)) => render(&BufferPage {
            shell: Shell::of(locale, "/buffer", &who),
            site,
            panel,
        }),
        Err(e) => fail(locale, &e),
    }
}

async fn buffer_panel(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Query(q): Query<SiteParam>,
) -> Response {
    match buffer_data(&state, &who, locale, q.site.as_deref()).await {
        Ok((_, panel)) => render(&panel),
        Err(e) => (e.status, "").into_response(),
    }
}

/// The re-check form as posted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RecheckForm {
    temperature_c: String,
    symptom: Vec<String>,
    epidemic_area_contact: Option<String>,
    animal_contact: Option<String>,
    case_contact: Option<String>,
    travel_place: String,
    travel_from: String,
    travel_to: String,
    details: String,
    outcome: String,
    /// Made when the form was shown, so a double submit is stored once.
    form_key: String,
}

#[derive(Template)]
#[template(path = "recheck.html")]
struct RecheckPage {
    shell: Shell,
    screening: store::Screening,
    earlier: Vec<(u32, String, String, &'static str)>,
    due_at: String,
    due: bool,
    may_recheck: bool,
    symptoms: Vec<(&'static str, &'static str, bool)>,
    form: RecheckForm,
    errors: FormErrors,
    form_key: String,
    result: Option<api::RecheckAnswer>,
}

pub(crate) fn symptom_choices(
    locale: Locale,
    chosen: &[String],
) -> Vec<(&'static str, &'static str, bool)> {
    Symptom::ALL
        .iter()
        .map(|s| {
            let key = s.as_str();
            (
                key,
                locale.t(symptom_key(*s)),
                chosen.iter().any(|c| c == key),
            )
        })
        .collect()
}

fn symptom_key(s: Symptom) -> &'static str {
    match s {
        Symptom::Fever => "symptom.fever",
        Symptom::Cough => "symptom.cough",
        Symptom::Fatigue => "symptom.fatigue",
        Symptom::SoreThroat => "symptom.sore_throat",
        Symptom::BreathingDifficulty => "symptom.breathing_difficulty",
        Symptom::Diarrhoea => "symptom.diarrhoea",
    }
}

pub fn outcome_key(o: &str) -> &'static str {
    match o {
        "cleared" => "outcome.cleared",
        "recheck" => "outcome.recheck",
        _ => "outcome.suspected",
    }
}

async fn recheck_view(
    state: &AppState,
    locale: Locale,
    who: &Principal,
    id: Uuid,
    form: RecheckForm,
    errors: FormErrors,
    result: Option<api::RecheckAnswer>,
) -> Result<RecheckPage, ApiError> {
    let screening = api::screening_in_scope(state, who, id).await?;
    let rules = state.screening.buffer;
    let due_at = rules.due_at(screening.last_measured_at);
    let earlier = store::rechecks(&state.store, &state.vault, id)
        .await?
        .into_iter()
        .map(|(attempt, at, t, _, outcome)| {
            (
                attempt,
                local_time(at),
                format_tenths(t),
                locale.t(outcome_key(outcome.as_str())),
            )
        })
        .collect();
    let attempt = u8::try_from(screening.rechecks + 1).unwrap_or(u8::MAX);
    Ok(RecheckPage {
        shell: Shell::of(locale, "/buffer", who),
        due: state.clock.now() >= due_at,
        due_at: local_time(due_at),
        may_recheck: rules.may_recheck(attempt),
        symptoms: symptom_choices(locale, &form.symptom),
        form_key: state.ids.new_id().to_string(),
        screening,
        earlier,
        form,
        errors,
        result,
    })
}

async fn recheck_page(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path(id): Path<Uuid>,
) -> Response {
    match recheck_view(
        &state,
        locale,
        &who,
        id,
        RecheckForm::default(),
        FormErrors::none(),
        None,
    )
    .await
    {
        Ok(p) => render(&p),
        Err(e) => fail(locale, &e),
    }
}

fn recheck_body(f: &RecheckForm) -> Result<RecheckBody, FieldError> {
    let date = |s: &str| {
        time::Date::parse(
            s.trim(),
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .map_err(|_| FieldError::new("travel", "screening.travel.date"))
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
    Ok(RecheckBody {
        temperature_c: Some(serde_json::Value::String(f.temperature_c.clone())),
        symptoms: f.symptom.clone(),
        answers: Answers {
            travel,
            epidemic_area_contact: f.epidemic_area_contact.is_some(),
            animal_contact: f.animal_contact.is_some(),
            case_contact: f.case_contact.is_some(),
            details: f.details.clone(),
        },
        outcome: Some(f.outcome.clone()).filter(|o| !o.is_empty()),
    })
}

/// Answers a form posted twice (a double tap) with the first result, like the API.
pub(crate) fn form_idem<'a>(
    scope: &'static str,
    who: &Principal,
    key: &str,
    fingerprint: &'a str,
) -> Idem<'a> {
    let key = Some(key.trim()).filter(|k| !k.is_empty() && k.len() <= 64);
    Idem::raw(scope, who, key, fingerprint)
}

async fn recheck_form(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path(id): Path<Uuid>,
    body: Bytes,
) -> Response {
    let Ok(form) = serde_html_form(&body) else {
        return fail(
            locale,
            &ApiError::new(StatusCode::BAD_REQUEST, "body.invalid"),
        );
    };
    let form: RecheckForm = form;
    let fingerprint = crate::idempotency::hex(&Sha256::digest(&body));
    let outcome = match recheck_body(&form) {
        Ok(b) => {
            let idem = form_idem("POST /buffer/{id}", &who, &form.form_key, &fingerprint);
            api::recheck(&state, &who, id, &b, &idem).await
        }
        Err(e) => Err(ApiError::invalid(vec![e])),
    };
    let (errors, result, status) = match outcome {
        Ok(res) => {
            let status = res.status();
            let bytes = axum::body::to_bytes(res.into_body(), 64 * 1024)
                .await
                .unwrap_or_default();
            match serde_json::from_slice::<api::RecheckAnswer>(&bytes) {
                Ok(a) => (FormErrors::none(), Some(a), status),
                Err(_) => return fail(locale, &ApiError::internal()),
            }
        }
        Err(e) if !e.fields.is_empty() => (
            FormErrors::of(locale, &e.fields),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) if e.status == StatusCode::CONFLICT => (
            FormErrors(vec![("form", locale.t(&format!("problem.{}", e.code)))]),
            None,
            StatusCode::CONFLICT,
        ),
        Err(e) => return fail(locale, &e),
    };
    match recheck_view(&state, locale, &who, id, form, errors, result).await {
        Ok(p) => (status, render(&p)).into_response(),
        Err(e) => fail(locale, &e),
    }
}

/// Parses a urlencoded form where a field may repeat (the symptom checkboxes).
pub(crate) fn serde_html_form<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ()> {
    let mut map = serde_json::Map::new();
    for (k, v) in form_urlencoded_pairs(body) {
        if k == "symptom" {
            map.entry(k)
                .or_insert_with(|| serde_json::Value::Array(Vec::new()))
                .as_array_mut()
                .ok_or(())?
                .push(serde_json::Value::String(v));
        } else {
            map.insert(k, serde_json::Value::String(v));
        }
    }
    serde_json::from_value(serde_json::Value::Object(map)).map_err(|_| ())
}

fn form_urlencoded_pairs(body: &[u8]) -> Vec<(String, String)> {
    serde_urlencoded::from_bytes::<Vec<(String, String)>>(body).unwrap_or_default()
}

/// One hall's occupancy as shown.
pub struct HallLine {
    code: String,
    name: String,
    inside: u32,
    capacity: u32,
    percent: u32,
    peak: u32,
    peak_at: String,
    full: bool,
}

#[derive(Template)]
#[template(path = "occupancy.html")]
struct OccupancyPage {
    shell: Shell,
    panel: OccupancyPanel,
}

#[derive(Template)]
#[template(path = "occupancy_panel.html")]
struct OccupancyPanel {
    locale: Locale,
    halls: Vec<HallLine>,
    total_inside: u32,
    /// Whether the count may be corrected (after missed exits), and the form's token.
    can_correct: bool,
    csrf: String,
}

async fn occupancy_data(
    state: &AppState,
    who: &Principal,
    locale: Locale,
) -> Result<OccupancyPanel, ApiError> {
    let all = store::occupancies(&state.store, state.clock.now()).await?;
    let halls: Vec<HallLine> = scope_sites(state, who)
        .await?
        .into_iter()
        .map(|s| {
            let o = all.get(&s.id).copied().unwrap_or_default();
            HallLine {
                percent: (o.inside * 100).checked_div(s.capacity).unwrap_or(0),
                full: o.inside >= s.capacity,
                code: s.code,
                name: s.name,
                inside: o.inside,
                capacity: s.capacity,
                peak: o.peak,
                peak_at: o.peak_at.map(local_time).unwrap_or_default(),
            }
        })
        .collect();
    Ok(OccupancyPanel {
        locale,
        total_inside: halls.iter().map(|h| h.inside).sum(),
        halls,
        can_correct: who.can(Permission::ScreeningRecords),
        csrf: who.csrf.clone(),
    })
}

async fn occupancy_page(State(state): State<AppState>, locale: Locale, who: Principal) -> Response {
    match occupancy_data(&state, &who, locale).await {
        Ok(panel) => render(&OccupancyPage {
            shell: Shell::of(locale, "/occupancy", &who),
            panel,
        }),
        Err(e) => fail(locale, &e),
    }
}

async fn occupancy_panel(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
) -> Response {
    match occupancy_data(&state, &who, locale).await {
        Ok(panel) => render(&panel),
        Err(e) => (e.status, "").into_response(),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CorrectionForm {
    inside: String,
}

/// Corrects the count inside a hall (exits were missed), audited.
async fn set_occupancy_form(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path(site): Path<String>,
    Form(f): Form<CorrectionForm>,
) -> Response {
    let result = async {
        let site = who.site_in_scope(&state.store, &site).await?;
        let inside = f
            .inside
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| *n <= site.capacity.saturating_mul(2))
            .ok_or_else(|| {
                ApiError::invalid(vec![FieldError::new("inside", "occupancy.inside.invalid")])
            })?;
        let now = state.clock.now();
        let before = store::occupancy(&state.store, site.id, now).await?.inside;
        let mut tx = state.store.begin().await?;
        store::set_occupancy(&mut tx, site.id, inside, now).await?;
        audit::append(
            &mut tx,
            now,
            &Record {
                actor: who.actor(),
                addr: &who.addr,
                action: "occupancy.set",
                target: format!("site:{}", site.code),
                site: &site.code,
                outcome: AuditOutcome::Ok,
                detail: serde_json::json!({"from": before, "to": inside}),
            },
        )
        .await?;
        tx.commit().await?;
        state.live.touch(crate::live::Topic::Occupancy);
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/occupancy").into_response(),
        Err(e) => fail(locale, &e),
    }
}

#[derive(Template)]
#[template(path = "staff_self.html")]
struct StaffSelfPage {
    shell: Shell,
    /// The staff member's masked name and site, when the account is linked to one.
    me: Option<(String, String)>,
    pre_done: bool,
    post_done: bool,
    errors: FormErrors,
    decision: Option<String>,
}

async fn staff_self_view(
    state: &AppState,
    locale: Locale,
    who: &Principal,
    errors: FormErrors,
    decision: Option<String>,
) -> Result<StaffSelfPage, ApiError> {
    let account = who.account()?;
    let mut page = StaffSelfPage {
        shell: Shell::of(locale, "/staff-checks", who),
        me: None,
        pre_done: false,
        post_done: false,
        errors,
        decision,
    };
    if let Some(pid) = account.person_id
        && let Some(p) = org::find_person(&state.store, &state.vault, pid).await?
    {
        let today = day_of(state.clock.now());
        for (person, phase) in store::staff_checks(&state.store, p.site_id, today).await? {
            if person == pid {
                match phase {
                    fangkong_domain::screening::Phase::PreShift => page.pre_done = true,
                    fangkong_domain::screening::Phase::PostShift => page.post_done = true,
                }
            }
        }
        page.me = Some((p.name, p.site_code));
    }
    Ok(page)
}

async fn staff_self_page(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
) -> Response {
    match staff_self_view(&state, locale, &who, FormErrors::none(), None).await {
        Ok(p) => render(&p),
        Err(e) => fail(locale, &e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct StaffForm {
    phase: String,
    temperature_c: String,
    subject_kind: String,
    mask: Option<String>,
    form_key: String,
}

async fn staff_self_form(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    body: Bytes,
) -> Response {
    let Ok(f) = serde_urlencoded::from_bytes::<StaffForm>(&body) else {
        return fail(
            locale,
            &ApiError::new(StatusCode::BAD_REQUEST, "body.invalid"),
        );
    };
    let result = async {
        let account = who.account()?;
        let person_id = account
            .person_id
            .ok_or_else(|| ApiError::new(StatusCode::FORBIDDEN, "staff.not_linked"))?;
        let person = org::find_person(&state.store, &state.vault, person_id)
            .await?
            .ok_or_else(|| ApiError::new(StatusCode::FORBIDDEN, "staff.not_linked"))?;
        let kind = if f.subject_kind == "bureau_staff" {
            "bureau_staff"
        } else {
            "window_staff"
        };
        let body = ScreeningBody {
            site: person.site_code.clone(),
            checkpoint: None,
            subject_kind: kind.into(),
            temperature_c: Some(serde_json::Value::String(f.temperature_c.clone())),
            mask: Some(f.mask.is_some()),
            phase: Some(f.phase.clone()),
            person: Some(person_id),
            registration: None,
            at: None,
        };
        let fingerprint = crate::idempotency::hex(&Sha256::digest(body_bytes(&f)));
        let idem = form_idem("POST /staff-checks", &who, &f.form_key, &fingerprint);
        let res = api::record(&state, &who, &body, &idem).await?;
        let bytes = axum::body::to_bytes(res.into_body(), 64 * 1024)
            .await
            .unwrap_or_default();
        let answer: api::ScreeningAnswer =
            serde_json::from_slice(&bytes).map_err(|_| ApiError::internal())?;
        Ok::<_, ApiError>(answer.decision)
    }
    .await;
    let (errors, decision, status) = match result {
        Ok(d) => (FormErrors::none(), Some(d), StatusCode::OK),
        Err(e) if !e.fields.is_empty() => (
            FormErrors::of(locale, &e.fields),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        // The page itself says the account is not linked to a staff member.
        Err(e) if e.code == "staff.not_linked" => {
            (FormErrors::none(), None, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(e) => return fail(locale, &e),
    };
    match staff_self_view(&state, locale, &who, errors, decision).await {
        Ok(p) => (status, render(&p)).into_response(),
        Err(e) => fail(locale, &e),
    }
}

fn body_bytes(f: &StaffForm) -> Vec<u8> {
    format!(
        "{}|{}|{}|{}",
        f.phase,
        f.temperature_c,
        f.subject_kind,
        f.mask.is_some()
    )
    .into_bytes()
}

#[derive(Template)]
#[template(path = "staff_missing.html")]
struct StaffMissingPage {
    shell: Shell,
    site: org::Site,
    date: String,
    panel: StaffMissingPanel,
}

#[derive(Template)]
#[template(path = "staff_missing_panel.html")]
struct StaffMissingPanel {
    locale: Locale,
    /// Per unit: its name and its staff.
    units: Vec<(String, Vec<StaffCheckDto>)>,
    missing: usize,
}

async fn staff_missing_data(
    state: &AppState,
    who: &Principal,
    locale: Locale,
    q: &SiteParam,
) -> Result<(org::Site, String, StaffMissingPanel), ApiError> {
    let site = api::site_of(state, who, q.site.as_deref()).await?;
    let date = match q.date.as_deref().filter(|d| !d.is_empty()) {
        Some(d) => time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]"))
            .map_err(|_| ApiError::invalid(vec![FieldError::new("date", "date.invalid")]))?,
        None => day_of(state.clock.now()),
    };
    let staff = api::staff_day(state, &site, date).await?;
    let missing = staff.iter().filter(|s| !s.missing.is_empty()).count();
    let mut units: Vec<(String, Vec<StaffCheckDto>)> = Vec::new();
    for s in staff {
        let unit = s
            .unit
            .clone()
            .unwrap_or_else(|| locale.t("staff.no_unit").to_owned());
        match units.iter_mut().find(|(u, _)| *u == unit) {
            Some((_, list)) => list.push(s),
            None => units.push((unit, vec![s])),
        }
    }
    Ok((
        site,
        date.to_string(),
        StaffMissingPanel {
            locale,
            units,
            missing,
        },
    ))
}

async fn staff_missing_page(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Query(q): Query<SiteParam>,
) -> Response {
    match staff_missing_data(&state, &who, locale, &q).await {
        Ok((site, date, panel)) => render(&StaffMissingPage {
            shell: Shell::of(locale, "/staff-checks/missing", &who),
            site,
            date,
            panel,
        }),
        Err(e) => fail(locale, &e),
    }
}

async fn staff_missing_panel(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Query(q): Query<SiteParam>,
) -> Response {
    match staff_missing_data(&state, &who, locale, &q).await {
        Ok((_, _, panel)) => render(&panel),
        Err(e) => (e.status, "").into_response(),
    }
}

/// One door record as shown and exported.
struct RecordLine {
    at: String,
    site: String,
    checkpoint: String,
    kind: &'static str,
    temperature: String,
    mask: &'static str,
    decision: &'static str,
    decision_code: String,
    buffer: &'static str,
    name: String,
    phone: String,
    recorded_by: String,
}

pub fn kind_label(k: &str) -> &'static str {
    match k {
        "citizen" => "kind.citizen",
        "window_staff" => "kind.window_staff",
        "bureau_staff" => "kind.bureau_staff",
        _ => "kind.other",
    }
}

pub fn decision_key(d: &str) -> &'static str {
    match d {
        "admit" => "decision.admit",
        "refuse_no_mask" => "decision.refuse_no_mask",
        "buffer" => "decision.buffer",
        _ => "decision.wait",
    }
}

async fn record_lines(
    state: &AppState,
    who: &Principal,
    locale: Locale,
    q: &RecordQuery,
    limit: u32,
) -> Result<(Vec<RecordLine>, Option<Uuid>), ApiError> {
    let f = api::filter_of(state, who, q).await?;
    let rows = store::list(&state.store, &f, limit).await?;
    let regs: Vec<Uuid> = rows.iter().filter_map(|r| r.registration_id).collect();
    let masks = store::registration_masks(&state.store, &state.vault, &regs).await?;
    let next = (rows.len() == limit as usize)
        .then(|| rows.last().map(|r| r.id))
        .flatten();
    let lines = rows
        .iter()
        .map(|r| {
            let d = api::dto(r, &masks);
            RecordLine {
                at: local_time(d.at),
                site: d.site,
                checkpoint: d.checkpoint,
                kind: locale.t(kind_label(&d.subject_kind)),
                temperature: format_tenths(r.temperature.tenths()),
                mask: locale.t(if d.mask { "mask.yes" } else { "mask.no" }),
                decision: locale.t(decision_key(&d.decision)),
                decision_code: d.decision,
                buffer: match d.buffer_state.as_deref() {
                    Some("waiting") => locale.t("buffer.waiting"),
                    Some(o) => locale.t(outcome_key(o)),
                    None => "",
                },
                name: d.registered_name.unwrap_or_default(),
                phone: d.registered_phone.unwrap_or_default(),
                recorded_by: d.recorded_by,
            }
        })
        .collect();
    Ok((lines, next))
}

#[derive(Template)]
#[template(path = "records.html")]
struct RecordsPage {
    shell: Shell,
    q: RecordQuery,
    sites: Vec<(String, String)>,
    lines: Vec<RecordLine>,
    next: Option<Uuid>,
    query: String,
    errors: FormErrors,
}

fn query_string(q: &RecordQuery) -> String {
    let pairs = [
        ("site", q.site.clone()),
        ("from", q.from.clone()),
        ("until", q.until.clone()),
        ("subject_kind", q.subject_kind.clone()),
        ("decision", q.decision.clone()),
    ];
    serde_urlencoded::to_string(
        pairs
            .iter()
            .filter_map(|(k, v)| v.as_ref().filter(|v| !v.is_empty()).map(|v| (*k, v)))
            .collect::<Vec<_>>(),
    )
    .unwrap_or_default()
}

async fn records_page(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Query(q): Query<RecordQuery>,
) -> Response {
    let sites = match scope_sites(&state, &who).await {
        Ok(s) => s.into_iter().map(|s| (s.code, s.name)).collect(),
        Err(e) => return fail(locale, &e),
    };
    let (lines, next, errors, status) = match record_lines(&state, &who, locale, &q, 100).await {
        Ok((l, n)) => (l, n, FormErrors::none(), StatusCode::OK),
        Err(e) if !e.fields.is_empty() => (
            Vec::new(),
            None,
            FormErrors::of(locale, &e.fields),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => return fail(locale, &e),
    };
    let page = RecordsPage {
        shell: Shell::of(locale, "/screening/records", &who),
        query: query_string(&q),
        q,
        sites,
        lines,
        next,
        errors,
    };
    (status, render(&page)).into_response()
}

/// The most rows one export holds.
const EXPORT_LIMIT: u32 = 100_000;

fn export_headers(locale: Locale) -> [&'static str; 11] {
    [
        locale.t("field.time"),
        locale.t("field.site"),
        locale.t("field.checkpoint"),
        locale.t("field.subject_kind"),
        locale.t("field.temperature"),
        locale.t("field.mask"),
        locale.t("field.decision"),
        locale.t("field.buffer"),
        locale.t("field.person_name"),
        locale.t("field.phone"),
        locale.t("field.recorded_by"),
    ]
}

fn export_row(l: &RecordLine) -> [&str; 11] {
    [
        &l.at,
        &l.site,
        &l.checkpoint,
        l.kind,
        &l.temperature,
        l.mask,
        l.decision,
        l.buffer,
        &l.name,
        &l.phone,
        &l.recorded_by,
    ]
}

async fn audit_export(
    state: &AppState,
    who: &Principal,
    format: &str,
    q: &RecordQuery,
    rows: usize,
) {
    let site = q
        .site
        .clone()
        .or_else(|| who.account.as_ref().map(|a| a.site_code.clone()))
        .unwrap_or_default();
    if let Err(e) = audit::append_now(
        &state.store,
        state.clock.now(),
        &Record {
            actor: who.actor(),
            addr: &who.addr,
            action: "screening.export",
            target: format!("screenings.{format}"),
            site: &site,
            outcome: AuditOutcome::Ok,
            detail: serde_json::json!({"rows": rows, "query": query_string(q)}),
        },
    )
    .await
    {
        tracing::warn!(error = %e, "cannot audit an export");
    }
}

pub(crate) fn attachment(body: Vec<u8>, content_type: &'static str, name: &str) -> Response {
    let mut res = (StatusCode::OK, body).into_response();
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

async fn records_csv(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Query(q): Query<RecordQuery>,
) -> Response {
    let lines = match record_lines(&state, &who, locale, &q, EXPORT_LIMIT).await {
        Ok((l, _)) => l,
        Err(e) => return fail(locale, &e),
    };
    // A byte-order mark so spreadsheet programs read the Chinese as UTF-8.
    let mut out = Vec::from(&b"\xEF\xBB\xBF"[..]);
    {
        let mut w = csv::Writer::from_writer(&mut out);
        let ok = w.write_record(export_headers(locale)).is_ok()
            && lines.iter().all(|l| {
                w.write_record(export_row(l).iter().map(|c| csv_safe(c).into_owned()))
                    .is_ok()
            })
            && w.flush().is_ok();
        if !ok {
            return fail(locale, &ApiError::internal());
        }
    }
    audit_export(&state, &who, "csv", &q, lines.len()).await;
    attachment(out, "text/csv; charset=utf-8", "screenings.csv")
}

async fn records_xlsx(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Query(q): Query<RecordQuery>,
) -> Response {
    let lines = match record_lines(&state, &who, locale, &q, EXPORT_LIMIT).await {
        Ok((l, _)) => l,
        Err(e) => return fail(locale, &e),
    };
    let built = (|| -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
        let mut book = rust_xlsxwriter::Workbook::new();
        let bold = rust_xlsxwriter::Format::new().set_bold();
        let sheet = book.add_worksheet();
        sheet.set_name(locale.t("records.sheet"))?;
        for (c, h) in export_headers(locale).iter().enumerate() {
            sheet.write_string_with_format(0, c as u16, *h, &bold)?;
        }
        for (r, l) in lines.iter().enumerate() {
            for (c, v) in export_row(l).iter().enumerate() {
                // Text cells only: nothing a reader types can become a formula.
                sheet.write_string(r as u32 + 1, c as u16, *v)?;
            }
        }
        sheet.set_freeze_panes(1, 0)?;
        sheet.autofit();
        book.save_to_buffer()
    })();
    match built {
        Ok(bytes) => {
            audit_export(&state, &who, "xlsx", &q, lines.len()).await;
            attachment(
                bytes,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "screenings.xlsx",
            )
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot build a spreadsheet");
            fail(locale, &ApiError::internal())
        }
    }
}

#[derive(Template)]
#[template(path = "devices.html")]
struct DevicesPage {
    shell: Shell,
    devices: Vec<api::DeviceDto>,
    sites: Vec<(String, String)>,
    created: Option<api::NewDeviceAnswer>,
    errors: FormErrors,
}

async fn devices_view(
    state: &AppState,
    locale: Locale,
    who: &Principal,
    created: Option<api::NewDeviceAnswer>,
    errors: FormErrors,
) -> Result<DevicesPage, ApiError> {
    Ok(DevicesPage {
        shell: Shell::of(locale, "/screening/devices", who),
        devices: api::devices(state, who).await?,
        sites: scope_sites(state, who)
            .await?
            .into_iter()
            .map(|s| (s.code, s.name))
            .collect(),
        created,
        errors,
    })
}

async fn devices_page(State(state): State<AppState>, locale: Locale, who: Principal) -> Response {
    match devices_view(&state, locale, &who, None, FormErrors::none()).await {
        Ok(p) => render(&p),
        Err(e) => fail(locale, &e),
    }
}

/// The device form as posted (with its CSRF field).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DeviceForm {
    site: String,
    name: String,
}

async fn device_form(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Form(f): Form<DeviceForm>,
) -> Response {
    let body = DeviceBody {
        site: f.site,
        name: f.name,
    };
    let (created, errors, status) = match api::add_device(&state, &who, &body).await {
        Ok(d) => (Some(d), FormErrors::none(), StatusCode::CREATED),
        Err(e) if !e.fields.is_empty() => (
            None,
            FormErrors::of(locale, &e.fields),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => return fail(locale, &e),
    };
    match devices_view(&state, locale, &who, created, errors).await {
        Ok(p) => {
            let mut res = (status, render(&p)).into_response();
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            res
        }
        Err(e) => fail(locale, &e),
    }
}

async fn revoke_form(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path(id): Path<Uuid>,
) -> Response {
    match api::revoke_device(&state, &who, id).await {
        Ok(()) => Redirect::to("/screening/devices").into_response(),
        Err(e) => fail(locale, &e),
    }
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    shell: Shell,
    door: api::Door,
    csrf: String,
    retention_days: u16,
    form: RegistrationBody,
    errors: FormErrors,
    number: Option<String>,
}

async fn register_view(
    state: &AppState,
    locale: Locale,
    headers: &HeaderMap,
    (site, checkpoint): (&str, &str),
    form: RegistrationBody,
    errors: FormErrors,
    number: Option<String>,
) -> Result<(RegisterPage, Option<HeaderValue>), ApiError> {
    let door = api::public_door(state, site, Some(checkpoint))
        .await
        .map_err(|_| ApiError::not_found())?;
    let (csrf, cookie) = crate::auth::anonymous_csrf(headers, &state.auth);
    Ok((
        RegisterPage {
            shell: Shell::new(locale, "/r"),
            door,
            csrf,
            retention_days: state.screening.retention_days,
            form,
            errors,
            number,
        },
        cookie,
    ))
}

async fn register_page(
    State(state): State<AppState>,
    locale: Locale,
    headers: HeaderMap,
    Path((site, checkpoint)): Path<(String, String)>,
) -> Response {
    match register_view(
        &state,
        locale,
        &headers,
        (&site, &checkpoint),
        RegistrationBody::default(),
        FormErrors::none(),
        None,
    )
    .await
    {
        Ok((p, c)) => crate::auth::with_cookie(render(&p), c),
        Err(e) => fail(locale, &e),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RegisterForm {
    name: String,
    phone: String,
}

async fn register_form(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    headers: HeaderMap,
    Path((site, checkpoint)): Path<(String, String)>,
    Form(f): Form<RegisterForm>,
) -> Response {
    let body = RegistrationBody {
        site: site.clone(),
        checkpoint: Some(checkpoint.clone()),
        name: Some(f.name),
        phone: Some(f.phone),
    };
    let (number, errors, status) = match api::register(&state, &who.addr, &body).await {
        Ok(a) => (Some(a.number), FormErrors::none(), StatusCode::CREATED),
        Err(e) if !e.fields.is_empty() => (
            None,
            FormErrors::of(locale, &e.fields),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Err(e) => return fail(locale, &e),
    };
    match register_view(
        &state,
        locale,
        &headers,
        (&site, &checkpoint),
        body,
        errors,
        number,
    )
    .await
    {
        Ok((p, c)) => {
            let mut res = (status, render(&p)).into_response();
            res.headers_mut()
                .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            crate::auth::with_cookie(res, c)
        }
        Err(e) => fail(locale, &e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_symptoms_become_a_list() {
        let f: RecheckForm = serde_html_form(
            b"temperature_c=37.6&symptom=cough&symptom=fever&case_contact=on&form_key=k",
        )
        .unwrap();
        assert_eq!(f.symptom, vec!["cough", "fever"]);
        assert!(f.case_contact.is_some() && f.animal_contact.is_none());
        let b = recheck_body(&f).unwrap();
        assert!(b.answers.case_contact);
        assert_eq!(b.outcome, None);
    }

    #[test]
    fn travel_needs_dates_when_a_place_is_given() {
        let f = RecheckForm {
            travel_place: "武汉".into(),
            travel_from: "2020-01-20".into(),
            travel_to: "bad".into(),
            ..RecheckForm::default()
        };
        assert_eq!(recheck_body(&f).unwrap_err().code, "screening.travel.date");
    }

    #[test]
    fn the_poster_address_uses_a_clean_host_only() {
        let mut h = HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("hall.example:8080"));
        assert_eq!(base_url(&h), "http://hall.example:8080");
        h.insert("x-forwarded-proto", HeaderValue::from_static("https"));
        assert_eq!(base_url(&h), "https://hall.example:8080");
        h.insert(header::HOST, HeaderValue::from_static("evil\"><script>"));
        assert_eq!(base_url(&h), "https://localhost");
    }
}
