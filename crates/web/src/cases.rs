//! Suspected cases over the API (二(四)): the ledger, acknowledging alerts, upward reports,
//! exposure lists, the fever-rate series and the group robots. The pages share the
//! functions here, so a form and an API call do the same thing.

use crate::AppState;
use crate::access::Principal;
use crate::error::ApiError;
use crate::idempotency::{Idem, IdempotencyKey, JsonBody, json_response};
use crate::live::Topic;
use crate::reports::{SectionFuture, SectionQuery};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use fangkong_domain::FieldError;
use fangkong_domain::audit::Outcome as AuditOutcome;
use fangkong_domain::cases::{
    self as rules, Action, CaseOutcome, Channel, Source, Status, Stay, ears,
};
use fangkong_domain::clock::{beijing_day_start, from_unix_millis, unix_millis};
use fangkong_domain::privacy::{PersonName, Phone, mask_name, mask_phone};
use fangkong_domain::screening::{self as screening_rules, Answers, SubjectKind, day_of};
use fangkong_store::Tx;
use fangkong_store::audit::{self, Record};
use fangkong_store::cases::{self as store, Alert, Case, CaseDetails, NewCase};
use fangkong_store::org::{self, Site};
use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// Case settings of a deployment.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// How long the leadership group has to acknowledge an alert before it escalates.
    pub ack_deadline: Duration,
    /// How long a visit is taken to last, for the exposure list.
    pub exposure_window: Duration,
    pub ears: ears::EarsParams,
    /// The hosts group robots may be at (the server posts to them); https only, except a
    /// loopback relay on this machine.
    pub robot_hosts: Vec<String>,
}

/// Where WeCom's and DingTalk's robots live.
pub const ROBOT_HOSTS: [&str; 2] = ["qyapi.weixin.qq.com", "oapi.dingtalk.com"];

impl Default for Settings {
    fn default() -> Self {
        Settings {
            ack_deadline: Duration::minutes(15),
            exposure_window: Duration::minutes(60),
            ears: ears::EarsParams::default(),
            robot_hosts: ROBOT_HOSTS.iter().map(|h| (*h).to_owned()).collect(),
        }
    }
}

/// Whether the server may post to a robot at `url`: a listed host, over https (plain http
/// only to a loopback relay, whose traffic never leaves the machine).
pub fn robot_url_allowed(url: &str, hosts: &[String]) -> bool {
    let Ok(u) = reqwest::Url::parse(url) else {
        return false;
    };
    let Some(host) = u.host_str() else {
        return false;
    };
    let listed = hosts.iter().any(|h| h.eq_ignore_ascii_case(host));
    let loopback = host == "localhost" || host == "127.0.0.1" || host == "[::1]";
    listed
        && u.username().is_empty()
        && (u.scheme() == "https" || (u.scheme() == "http" && loopback))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(post_case, list_cases))
        .routes(routes!(get_case))
        .routes(routes!(post_reveal))
        .routes(routes!(post_action))
        .routes(routes!(post_outcome))
        .routes(routes!(post_acknowledge))
        .routes(routes!(post_upward))
        .routes(routes!(get_exposures))
        .routes(routes!(get_alerts))
        .routes(routes!(post_alert_acknowledge))
        .routes(routes!(get_urgent))
        .routes(routes!(get_fever_rates))
        .routes(routes!(get_response_times))
        .routes(routes!(list_webhooks, post_webhook))
        .routes(routes!(get_deliveries))
}

/// Stores the answer with the effect and commits; a racing replay gets the first answer.
pub(crate) async fn finish(
    state: &AppState,
    idem: &Idem<'_>,
    mut tx: Tx,
    status: StatusCode,
    text: String,
) -> Result<Response, ApiError> {
    if let Some(op) = idem.remember(status, &text, state.clock.now())
        && let Err(e) = tx.execute(op.sql, &op.params).await
    {
        drop(tx);
        return idem.resolve(&state.store, e).await;
    }
    if let Err(e) = tx.commit().await {
        return idem.resolve(&state.store, e).await;
    }
    Ok(json_response(status, text))
}

pub(crate) fn to_text<T: Serialize>(v: &T) -> Result<String, ApiError> {
    serde_json::to_string(v).map_err(|_| ApiError::internal())
}

fn with_location(mut res: Response, path: String) -> Response {
    if res.status() == StatusCode::CREATED
        && let Ok(loc) = path.parse()
    {
        res.headers_mut().insert(header::LOCATION, loc);
    }
    res
}

/// A replayed creation, with the `Location` of the case its first answer created.
async fn replayed_case(res: Response) -> Response {
    let (parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    let id = serde_json::from_slice::<OpenedCase>(&bytes)
        .ok()
        .map(|c| c.id);
    let res = Response::from_parts(parts, axum::body::Body::from(bytes));
    match id {
        Some(id) => with_location(res, format!("/api/v1/cases/{id}")),
        None => res,
    }
}

/// A case in the asker's scope, with its site; otherwise "not found".
pub async fn case_in_scope(
    state: &AppState,
    who: &Principal,
    id: Uuid,
) -> Result<(Case, Site), ApiError> {
    let case = store::find_case(&state.store, &state.vault, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if !who.scope(&state.store).await?.covers(case.site_id) {
        return Err(ApiError::not_found());
    }
    let site = org::find_site_by_id(&state.store, case.site_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok((case, site))
}

async fn audit_case(
    tx: &mut Tx,
    state: &AppState,
    who: &Principal,
    action: &str,
    case: Uuid,
    site: &str,
    detail: serde_json::Value,
) -> Result<(), ApiError> {
    audit::append(
        tx,
        state.clock.now(),
        &Record {
            actor: who.actor(),
            addr: &who.addr,
            action,
            target: format!("case:{case}"),
            site,
            outcome: AuditOutcome::Ok,
            detail,
        },
    )
    .await?;
    Ok(())
}

/// One temperature taken, for a case opened by hand.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadingBody {
    #[schema(value_type = f64, example = 38.2)]
    pub temperature_c: serde_json::Value,
    /// When it was taken; now when left out.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<OffsetDateTime>,
}

/// A case record opened by hand (a staff member reporting symptoms, a staff check, a call).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CaseBody {
    /// Site code.
    pub site: String,
    /// `citizen`, `window_staff`, `bureau_staff` or `other`.
    pub subject_kind: String,
    /// A staff member on record, instead of a name and phone.
    #[serde(default)]
    pub person_id: Option<Uuid>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// The staff check (door record) that found it; its temperature is added.
    #[serde(default)]
    pub screening_id: Option<Uuid>,
    #[serde(default)]
    pub symptoms: Vec<String>,
    /// Onset of symptoms, `YYYY-MM-DD`.
    #[serde(default)]
    pub onset: Option<String>,
    #[serde(default)]
    pub temperatures: Vec<ReadingBody>,
    #[serde(default)]
    #[schema(value_type = Object)]
    pub answers: Answers,
    /// When the person was in the hall (for the exposure list); now when left out.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub seen_at: Option<OffsetDateTime>,
}

/// What opening a case answers.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OpenedCase {
    pub id: Uuid,
    pub alert_id: Uuid,
    pub site: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub opened_at: OffsetDateTime,
    pub status: String,
}

fn parse_date(raw: &str, field: &'static str) -> Result<Date, FieldError> {
    Date::parse(
        raw.trim(),
        &time::format_description::well_known::Iso8601::DATE,
    )
    .map_err(|_| FieldError::new(field, "date.invalid"))
}

/// Checks and opens a case record by hand; its alert goes out at once.
pub async fn open_case(
    state: &AppState,
    who: &Principal,
    body: &CaseBody,
    idem: &Idem<'_>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let today = day_of(now);
    let mut errors = Vec::new();
    let site = who
        .site_in_scope(&state.store, body.site.trim())
        .await
        .map_err(|_| errors.push(FieldError::new("site", "site.unknown")));
    let kind = SubjectKind::parse(body.subject_kind.trim())
        .ok_or(FieldError::new("subject_kind", "screening.kind.invalid"))
        .map_err(|e| errors.push(e));
    let symptoms = screening_rules::parse_symptoms(body.symptoms.iter().map(String::as_str))
        .map_err(|e| errors.push(e));
    let onset = body
        .onset
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| parse_date(s, "onset"))
        .transpose()
        .map_err(|e| errors.push(e));
    let mut readings = Vec::new();
    for r in &body.temperatures {
        match crate::screening::temperature_of(Some(&r.temperature_c)) {
            Ok(t) => {
                let at = r.at.unwrap_or(now);
                if at > now {
                    errors.push(FieldError::new("temperatures", "cases.reading.future"));
                }
                readings.push((at, t));
            }
            Err(e) => errors.push(e.at("temperatures")),
        }
    }
    let name = body
        .name
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| PersonName::parse(s, "name"))
        .transpose()
        .map_err(|e| errors.push(e));
    let phone = body
        .phone
        .as_deref()
        .filter(|s| !s.trim().is_empty())
        .map(|s| Phone::parse(s, "phone"))
        .transpose()
        .map_err(|e| errors.push(e));
    if body.seen_at.is_some_and(|t| t > now) {
        errors.push(FieldError::new("seen_at", "cases.seen_at.future"));
    }
    let (Ok(site), Ok(kind), Ok(symptoms), Ok(onset), Ok(name), Ok(phone)) =
        (site, kind, symptoms, onset, name, phone)
    else {
        return Err(ApiError::invalid(errors));
    };
    // A staff check that found it: its temperature, time and person join the record.
    let mut screening = None;
    if let Some(sid) = body.screening_id {
        match fangkong_store::screening::find(&state.store, sid).await? {
            Some(s) if s.site_id == site.id => {
                readings.insert(0, (s.at, s.temperature));
                screening = Some(s);
            }
            _ => errors.push(FieldError::new("screening_id", "cases.screening.unknown")),
        }
    }
    let mut person_id = body.person_id;
    if let Some(pid) = body.person_id {
        match org::find_person(&state.store, &state.vault, pid).await? {
            Some(p) if p.site_id == site.id => {}
            _ => errors.push(FieldError::new("person_id", "cases.person.unknown")),
        }
    } else if let Some(s) = &screening {
        person_id = s.person_id;
    }
    let temps: Vec<_> = readings.iter().map(|r| r.1).collect();
    let answers = rules::check_new_case(&symptoms, &temps, onset, body.answers.clone(), today)
        .map_err(|e| errors.push(e));
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let Ok(answers) = answers else {
        return Err(ApiError::invalid(errors));
    };
    readings.sort_by_key(|r| r.0);
    let source = if screening.as_ref().is_some_and(|s| s.phase.is_some()) {
        Source::StaffCheck
    } else {
        Source::Manual
    };
    let id = state.ids.new_id();
    let seen = body
        .seen_at
        .or_else(|| screening.as_ref().map(|s| s.at))
        .unwrap_or(now);
    let new = NewCase {
        id,
        site_id: site.id,
        at: now,
        source,
        kind,
        details: CaseDetails {
            screening_id: body.screening_id,
            registration_id: screening.as_ref().and_then(|s| s.registration_id),
            person_id,
            name: name.map(|n| n.as_str().to_owned()),
            phone: phone.map(|p| p.as_str().to_owned()),
            temperatures: readings
                .iter()
                .map(|(at, t)| (unix_millis(*at), t.tenths()))
                .collect(),
            symptoms,
            onset,
            answers,
            seen_at: Some(unix_millis(seen)),
            actions: Vec::new(),
        },
        opened_by: who.actor().to_owned(),
        alert_id: state.ids.new_id(),
        event_id: state.ids.new_id(),
    };
    let mut tx = state.store.begin().await?;
    if let Some(replay) = idem.check_in(&mut tx).await? {
        return Ok(replayed_case(replay).await);
    }
    store::insert_case(&mut tx, &state.vault, &new, state.ids.as_ref()).await?;
    if let Some(sid) = body.screening_id {
        tx.execute(
            "UPDATE screenings SET case_id = $2 WHERE id = $1 AND case_id IS NULL",
            &fangkong_store::params![sid, id],
        )
        .await?;
    }
    audit_case(
        &mut tx,
        state,
        who,
        "case.open",
        id,
        &site.code,
        serde_json::json!({"source": source.as_str()}),
    )
    .await?;
    let answer = OpenedCase {
        id,
        alert_id: new.alert_id,
        site: site.code.clone(),
        opened_at: now,
        status: Status::Open.as_str().to_owned(),
    };
    let res = finish(state, idem, tx, StatusCode::CREATED, to_text(&answer)?).await?;
    raised(state);
    Ok(with_location(res, format!("/api/v1/cases/{id}")))
}

/// After an alert is committed: leaders' banners refresh and the robots send at once.
pub fn raised(state: &AppState) {
    state.live.touch(Topic::Alerts);
    state.robots.notify_one();
}

/// Opens a suspected-case record by hand: a staff member reporting symptoms, a staff
/// check, a call. It needs at least one symptom or temperature; travel dates must fall
/// in the 14 days before onset and none in the future. The leadership group is alerted
/// at once (banner, robots), and the alert escalates until someone acknowledges it.
#[utoipa::path(post, path = "/api/v1/cases", tag = "cases",
    request_body = CaseBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays return the first answer")),
    responses((status = 201, body = OpenedCase), (status = 422, description = "Invalid input")))]
async fn post_case(
    State(state): State<AppState>,
    who: Principal,
    key: IdempotencyKey,
    body: JsonBody<CaseBody>,
) -> Result<Response, ApiError> {
    let idem = Idem::new("POST /api/v1/cases", &who, &key, &body);
    open_case(&state, &who, &body.value, &idem).await
}

/// One temperature of a case.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReadingDto {
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    pub temperature_c: f64,
}

/// One entry of a case's timeline.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventDto {
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    pub actor: String,
    /// `opened`, `action`, `outcome`, `acknowledged`, `escalated`, `upward_report`.
    pub kind: String,
    pub detail: String,
}

/// An action taken.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ActionDto {
    pub action: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    pub note: String,
}

/// A report to the district command office.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UpwardDto {
    pub id: Uuid,
    pub case_id: Uuid,
    pub site: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    pub channel: String,
    pub reported_by: String,
    pub content: String,
    pub recorded_by: String,
}

/// The alert of a case or a fever-rate breakout.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AlertDto {
    pub id: Uuid,
    pub site: String,
    pub site_name: String,
    /// `case`, `ears` or `report` (a daily report missing at its deadline, or returned).
    pub kind: String,
    pub case_id: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub raised_at: OffsetDateTime,
    /// `raised`, `group_head`, `whole_group` or `upward`.
    pub level: String,
    pub symptoms: Vec<String>,
    pub highest_c: Option<f64>,
    pub subject_kind: Option<String>,
    /// For a fever-rate alert: the day, its abnormal count, the methods that alarmed.
    pub day: Option<String>,
    pub count: Option<u32>,
    pub methods: Vec<String>,
    /// For a daily report returned by the parent site: the version returned.
    pub returned: Option<u32>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub acknowledged_at: Option<OffsetDateTime>,
    pub acknowledged_by: Option<String>,
}

/// A case record; personal fields masked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseDto {
    pub id: Uuid,
    pub site: String,
    pub site_name: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub opened_at: OffsetDateTime,
    /// `buffer`, `staff_check` or `manual`.
    pub source: String,
    pub subject_kind: String,
    pub status: String,
    pub outcome: Option<String>,
    pub outcome_on: Option<String>,
    pub name: String,
    pub phone: String,
    pub person_id: Option<Uuid>,
    pub screening_id: Option<Uuid>,
    pub symptoms: Vec<String>,
    pub onset: Option<String>,
    pub temperatures: Vec<ReadingDto>,
    #[schema(value_type = Object)]
    pub answers: Answers,
    pub actions: Vec<ActionDto>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub acknowledged_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub reported_at: Option<OffsetDateTime>,
    /// Minutes from detection to the first acknowledgement.
    pub minutes_to_acknowledge: Option<i64>,
    /// Minutes from detection to the first upward report.
    pub minutes_to_report: Option<i64>,
    pub alert: Option<AlertDto>,
    pub timeline: Vec<EventDto>,
    pub upward_reports: Vec<UpwardDto>,
}

fn celsius(tenths: u16) -> f64 {
    f64::from(tenths) / 10.0
}

/// The person's name and phone, masked; a staff member's from the people register.
async fn masked_person(state: &AppState, d: &CaseDetails) -> Result<(String, String), ApiError> {
    if d.name.is_some() || d.phone.is_some() {
        return Ok((
            d.name.as_deref().map(mask_name).unwrap_or_default(),
            d.phone.as_deref().map(mask_phone).unwrap_or_default(),
        ));
    }
    if let Some(p) = d.person_id
        && let Some(p) = org::find_person(&state.store, &state.vault, p).await?
    {
        return Ok((
            mask_name(&p.name),
            p.phone.as_deref().map(mask_phone).unwrap_or_default(),
        ));
    }
    Ok((String::new(), String::new()))
}

/// The person's name and phone in full (exports for the health authority).
pub async fn full_person(state: &AppState, d: &CaseDetails) -> Result<(String, String), ApiError> {
    if d.name.is_some() || d.phone.is_some() {
        return Ok((
            d.name.clone().unwrap_or_default(),
            d.phone.clone().unwrap_or_default(),
        ));
    }
    if let Some(p) = d.person_id
        && let Some(p) = org::find_person(&state.store, &state.vault, p).await?
    {
        return Ok((p.name, p.phone.unwrap_or_default()));
    }
    Ok((String::new(), String::new()))
}

pub fn alert_dto(a: &Alert, site: &Site) -> AlertDto {
    AlertDto {
        id: a.id,
        site: site.code.clone(),
        site_name: site.name.clone(),
        kind: a.kind.clone(),
        case_id: a.case_id,
        raised_at: a.raised_at,
        level: a.level.as_str().to_owned(),
        symptoms: a
            .summary
            .symptoms
            .iter()
            .map(|s| s.as_str().to_owned())
            .collect(),
        highest_c: a.summary.highest.map(celsius),
        subject_kind: a.summary.kind.map(|k| k.as_str().to_owned()),
        day: a.summary.day.clone(),
        count: a.summary.count,
        methods: a.summary.methods.clone(),
        returned: a.summary.returned,
        acknowledged_at: a.acknowledged_at,
        acknowledged_by: a.acknowledged_by.clone(),
    }
}

/// The whole record of one case, masked.
pub async fn case_dto(state: &AppState, case: &Case, site: &Site) -> Result<CaseDto, ApiError> {
    let (name, phone) = masked_person(state, &case.details).await?;
    let alert = store::case_alert(&state.store, case.id).await?;
    let timeline = store::events(&state.store, &state.vault, case.id)
        .await?
        .into_iter()
        .map(|e| EventDto {
            at: e.at,
            actor: e.actor,
            kind: e.kind,
            detail: e.detail,
        })
        .collect();
    let upward = store::upward_reports(&state.store, &state.vault, case.id).await?;
    let d = &case.details;
    Ok(CaseDto {
        id: case.id,
        site: site.code.clone(),
        site_name: site.name.clone(),
        opened_at: case.opened_at,
        source: case.source.as_str().to_owned(),
        subject_kind: case.kind.as_str().to_owned(),
        status: case.status.as_str().to_owned(),
        outcome: case.outcome.map(|o| o.as_str().to_owned()),
        outcome_on: case.outcome_on.map(|d| d.to_string()),
        name,
        phone,
        person_id: d.person_id,
        screening_id: d.screening_id,
        symptoms: d.symptoms.iter().map(|s| s.as_str().to_owned()).collect(),
        onset: d.onset.map(|o| o.to_string()),
        temperatures: d
            .temperatures
            .iter()
            .map(|(at, t)| ReadingDto {
                at: from_unix_millis(*at),
                temperature_c: celsius(*t),
            })
            .collect(),
        answers: d.answers.clone(),
        actions: d
            .actions
            .iter()
            .map(|a| ActionDto {
                action: a.action.as_str().to_owned(),
                at: from_unix_millis(a.at),
                note: a.note.clone(),
            })
            .collect(),
        acknowledged_at: case.acknowledged_at,
        reported_at: case.reported_at,
        minutes_to_acknowledge: rules::minutes_between(case.opened_at, case.acknowledged_at),
        minutes_to_report: rules::minutes_between(case.opened_at, case.reported_at),
        alert: alert.as_ref().map(|a| alert_dto(a, site)),
        timeline,
        upward_reports: upward
            .into_iter()
            .map(|u| UpwardDto {
                id: u.id,
                case_id: u.case_id,
                site: site.code.clone(),
                at: u.at,
                channel: u.channel.as_str().to_owned(),
                reported_by: u.reported_by,
                content: u.content,
                recorded_by: u.recorded_by,
            })
            .collect(),
    })
}

/// One case record with its timeline, alert and upward reports; personal fields masked.
#[utoipa::path(get, path = "/api/v1/cases/{id}", tag = "cases",
    params(("id" = Uuid, Path, description = "Case id")),
    responses((status = 200, body = CaseDto), (status = 404, description = "No such case in your scope")))]
async fn get_case(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<Uuid>,
) -> Result<Json<CaseDto>, ApiError> {
    let (case, site) = case_in_scope(&state, &who, id).await?;
    Ok(Json(case_dto(&state, &case, &site).await?))
}

/// Which cases to list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CaseQuery {
    /// Site code: that site and its subtree; the whole scope when left out.
    pub site: Option<String>,
    /// `open` or `closed`.
    pub status: Option<String>,
    /// `excluded`, `confirmed` or `unknown`.
    pub outcome: Option<String>,
    pub subject_kind: Option<String>,
    /// First day, `YYYY-MM-DD` (Beijing).
    pub from: Option<String>,
    /// Last day, `YYYY-MM-DD` (Beijing).
    pub until: Option<String>,
    pub limit: Option<u32>,
}

/// Turns the query into a store filter within the asker's scope.
pub async fn case_filter(
    state: &AppState,
    who: &Principal,
    q: &CaseQuery,
) -> Result<store::CaseFilter, ApiError> {
    let mut errors = Vec::new();
    let sites = match q.site.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(code) => match who.site_in_scope(&state.store, code).await {
            Ok(site) => org::subtree(&state.store, site.id).await?,
            Err(_) => {
                errors.push(FieldError::new("site", "site.unknown"));
                Vec::new()
            }
        },
        None => scope_sites(state, who).await?,
    };
    let mut enum_of = |raw: &Option<String>, field: &'static str, parse: &dyn Fn(&str) -> bool| {
        if let Some(v) = raw.as_deref().map(str::trim).filter(|v| !v.is_empty())
            && !parse(v)
        {
            errors.push(FieldError::new(field, "filter.invalid"));
        }
    };
    enum_of(&q.status, "status", &|v| Status::parse(v).is_some());
    enum_of(&q.outcome, "outcome", &|v| CaseOutcome::parse(v).is_some());
    enum_of(&q.subject_kind, "subject_kind", &|v| {
        SubjectKind::parse(v).is_some()
    });
    let day = |raw: &Option<String>, field: &'static str, errors: &mut Vec<FieldError>| {
        raw.as_deref()
            .filter(|s| !s.trim().is_empty())
            .and_then(|s| parse_date(s, field).map_err(|e| errors.push(e)).ok())
    };
    let from = day(&q.from, "from", &mut errors);
    let until = day(&q.until, "until", &mut errors);
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    fn pick(raw: &Option<String>) -> Option<&str> {
        raw.as_deref().map(str::trim).filter(|v| !v.is_empty())
    }
    Ok(store::CaseFilter {
        sites,
        status: pick(&q.status).and_then(Status::parse),
        outcome: pick(&q.outcome).and_then(CaseOutcome::parse),
        kind: pick(&q.subject_kind).and_then(SubjectKind::parse),
        from: from.map(day_start),
        until: until.map(|d| day_start(d.next_day().unwrap_or(d))),
    })
}

/// The first instant of a Beijing day.
pub fn day_start(d: Date) -> OffsetDateTime {
    beijing_day_start(d.midnight().assume_offset(time::macros::offset!(+8)))
}

/// Every site in the asker's scope.
pub async fn scope_sites(state: &AppState, who: &Principal) -> Result<Vec<Uuid>, ApiError> {
    let a = who.account()?;
    Ok(org::subtree(&state.store, a.site_id).await?)
}

/// Reveals the name or phone of a case's person and records who saw it (page and API).
pub async fn reveal(
    state: &AppState,
    who: &Principal,
    id: Uuid,
    field: &str,
) -> Result<String, ApiError> {
    let field = match field.trim() {
        f @ ("name" | "phone") => f,
        _ => {
            return Err(ApiError::invalid(vec![FieldError::new(
                "field",
                "person.field.invalid",
            )]));
        }
    };
    let (case, site) = case_in_scope(state, who, id).await?;
    let (name, phone) = full_person(state, &case.details).await?;
    audit::append_now(
        &state.store,
        state.clock.now(),
        &Record {
            actor: who.actor(),
            addr: &who.addr,
            action: "case.reveal",
            target: format!("case:{id}"),
            site: &site.code,
            outcome: AuditOutcome::Ok,
            detail: serde_json::json!({"field": field}),
        },
    )
    .await?;
    Ok(if field == "name" { name } else { phone })
}

/// Reveals the name or phone of a case's person, for a leader who must call them.
/// Audited; answers are not cached.
#[utoipa::path(post, path = "/api/v1/cases/{id}/reveal", tag = "cases",
    request_body = crate::org::RevealBody,
    params(("id" = Uuid, Path, description = "Case id")),
    responses((status = 200, body = crate::org::Revealed), (status = 404, description = "No such case in your scope"),
        (status = 422, description = "Unknown field")))]
async fn post_reveal(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<Uuid>,
    body: JsonBody<crate::org::RevealBody>,
) -> Result<Response, ApiError> {
    let field = body.value.field.trim().to_owned();
    let value = reveal(&state, &who, id, &field).await?;
    let mut res = json_response(
        StatusCode::OK,
        to_text(&crate::org::Revealed {
            field,
            value: Some(value),
        })?,
    );
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

/// A line of the ledger.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseLine {
    pub id: Uuid,
    pub site: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub opened_at: OffsetDateTime,
    pub source: String,
    pub subject_kind: String,
    pub status: String,
    pub outcome: Option<String>,
    pub name: String,
    pub symptoms: Vec<String>,
    pub highest_c: Option<f64>,
    pub minutes_to_acknowledge: Option<i64>,
    pub minutes_to_report: Option<i64>,
}

/// The ledger's lines for a filter.
pub async fn case_lines(
    state: &AppState,
    f: &store::CaseFilter,
    limit: u32,
) -> Result<Vec<CaseLine>, ApiError> {
    let cases = store::list_cases(&state.store, &state.vault, f, limit).await?;
    let codes = site_codes(state).await?;
    let mut out = Vec::with_capacity(cases.len());
    for c in cases {
        let (name, _) = masked_person(state, &c.details).await?;
        out.push(CaseLine {
            id: c.id,
            site: codes.get(&c.site_id).cloned().unwrap_or_default(),
            opened_at: c.opened_at,
            source: c.source.as_str().to_owned(),
            subject_kind: c.kind.as_str().to_owned(),
            status: c.status.as_str().to_owned(),
            outcome: c.outcome.map(|o| o.as_str().to_owned()),
            name,
            symptoms: c
                .details
                .symptoms
                .iter()
                .map(|s| s.as_str().to_owned())
                .collect(),
            highest_c: c
                .details
                .temperatures
                .iter()
                .map(|t| t.1)
                .max()
                .map(celsius),
            minutes_to_acknowledge: rules::minutes_between(c.opened_at, c.acknowledged_at),
            minutes_to_report: rules::minutes_between(c.opened_at, c.reported_at),
        });
    }
    Ok(out)
}

/// Site ids to codes.
pub async fn site_codes(
    state: &AppState,
) -> Result<std::collections::HashMap<Uuid, String>, ApiError> {
    Ok(org::list_sites(&state.store)
        .await?
        .into_iter()
        .map(|s| (s.site.id, s.site.code))
        .collect())
}

/// The ledger (台账): case records, newest first, filtered; personal fields masked.
#[utoipa::path(get, path = "/api/v1/cases", tag = "cases",
    params(CaseQuery),
    responses((status = 200, body = [CaseLine]), (status = 422, description = "Invalid filter")))]
async fn list_cases(
    State(state): State<AppState>,
    who: Principal,
    Query(q): Query<CaseQuery>,
) -> Result<Json<Vec<CaseLine>>, ApiError> {
    let f = case_filter(&state, &who, &q).await?;
    let limit = q.limit.unwrap_or(200).clamp(1, 1000);
    Ok(Json(case_lines(&state, &f, limit).await?))
}

/// An action taken with the person.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActionBody {
    /// `fever_clinic`, `sent_home`, `isolated` or `handed_to_health`.
    pub action: String,
    #[serde(default)]
    pub note: String,
}

/// Records an action (page and API).
pub async fn record_action(
    state: &AppState,
    who: &Principal,
    id: Uuid,
    body: &ActionBody,
    idem: &Idem<'_>,
) -> Result<Response, ApiError> {
    let (_, site) = case_in_scope(state, who, id).await?;
    let mut errors = Vec::new();
    let action = Action::parse(body.action.trim())
        .ok_or(FieldError::new("action", "cases.action.invalid"))
        .map_err(|e| errors.push(e));
    let note = rules::text(&body.note, "note", false).map_err(|e| errors.push(e));
    let (Ok(action), Ok(note)) = (action, note) else {
        return Err(ApiError::invalid(errors));
    };
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    if let Some(replay) = idem.check_in(&mut tx).await? {
        return Ok(replay);
    }
    store::add_action(
        &mut tx,
        &state.vault,
        state.ids.new_id(),
        id,
        now,
        who.actor(),
        action,
        &note,
    )
    .await?;
    audit_case(
        &mut tx,
        state,
        who,
        "case.action",
        id,
        &site.code,
        serde_json::json!({"action": action.as_str()}),
    )
    .await?;
    let text = to_text(&serde_json::json!({"case_id": id, "action": action.as_str()}))?;
    finish(state, idem, tx, StatusCode::OK, text).await
}

/// Records an action taken: escorted to a fever clinic, sent home, isolated, handed to the
/// health authority. It joins the timeline.
#[utoipa::path(post, path = "/api/v1/cases/{id}/actions", tag = "cases",
    request_body = ActionBody,
    params(("id" = Uuid, Path, description = "Case id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays return the first answer")),
    responses((status = 200, description = "Recorded"), (status = 404, description = "No such case in your scope"),
        (status = 422, description = "Invalid action")))]
async fn post_action(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<Uuid>,
    key: IdempotencyKey,
    body: JsonBody<ActionBody>,
) -> Result<Response, ApiError> {
    let idem = Idem::new("POST /api/v1/cases/{id}/actions", &who, &key, &body);
    record_action(&state, &who, id, &body.value, &idem).await
}

/// How a case ended.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeBody {
    /// `excluded`, `confirmed` or `unknown`.
    pub outcome: String,
    /// `YYYY-MM-DD`; today when left out.
    #[serde(default)]
    pub date: Option<String>,
}

/// Records the outcome (page and API).
pub async fn record_outcome(
    state: &AppState,
    who: &Principal,
    id: Uuid,
    body: &OutcomeBody,
    idem: &Idem<'_>,
) -> Result<Response, ApiError> {
    let (case, site) = case_in_scope(state, who, id).await?;
    let now = state.clock.now();
    let mut errors = Vec::new();
    let outcome = CaseOutcome::parse(body.outcome.trim())
        .ok_or(FieldError::new("outcome", "cases.outcome.invalid"))
        .map_err(|e| errors.push(e));
    let on = match body.date.as_deref().filter(|d| !d.trim().is_empty()) {
        Some(d) => parse_date(d, "date")
            .and_then(|d| rules::check_outcome_date(d, day_of(case.opened_at), day_of(now))),
        None => Ok(day_of(now)),
    }
    .map_err(|e| errors.push(e));
    let (Ok(outcome), Ok(on)) = (outcome, on) else {
        return Err(ApiError::invalid(errors));
    };
    let mut tx = state.store.begin().await?;
    if let Some(replay) = idem.check_in(&mut tx).await? {
        return Ok(replay);
    }
    store::set_outcome(
        &mut tx,
        &state.vault,
        state.ids.new_id(),
        id,
        now,
        who.actor(),
        outcome,
        on,
    )
    .await?;
    audit_case(
        &mut tx,
        state,
        who,
        "case.outcome",
        id,
        &site.code,
        serde_json::json!({"outcome": outcome.as_str(), "date": on.to_string()}),
    )
    .await?;
    let text = to_text(&serde_json::json!({
        "case_id": id, "outcome": outcome.as_str(), "date": on.to_string(), "status": "closed"
    }))?;
    finish(state, idem, tx, StatusCode::OK, text).await
}

/// Records how the case ended (excluded, confirmed, unknown) with its date, and closes it.
#[utoipa::path(post, path = "/api/v1/cases/{id}/outcome", tag = "cases",
    request_body = OutcomeBody,
    params(("id" = Uuid, Path, description = "Case id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays return the first answer")),
    responses((status = 200, description = "Recorded"), (status = 404, description = "No such case in your scope"),
        (status = 422, description = "Invalid outcome or date")))]
async fn post_outcome(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<Uuid>,
    key: IdempotencyKey,
    body: JsonBody<OutcomeBody>,
) -> Result<Response, ApiError> {
    let idem = Idem::new("POST /api/v1/cases/{id}/outcome", &who, &key, &body);
    record_outcome(&state, &who, id, &body.value, &idem).await
}

/// Acknowledges an alert in the asker's scope (page and API). A second acknowledgement is
/// a conflict naming who acknowledged first.
pub async fn acknowledge(
    state: &AppState,
    who: &Principal,
    alert: Alert,
    idem: &Idem<'_>,
) -> Result<Response, ApiError> {
    if !who.scope(&state.store).await?.covers(alert.site_id) {
        return Err(ApiError::not_found());
    }
    let site = org::find_site_by_id(&state.store, alert.site_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    if let Some(replay) = idem.check_in(&mut tx).await? {
        return Ok(replay);
    }
    if !store::acknowledge(
        &mut tx,
        &state.vault,
        &alert,
        state.ids.new_id(),
        now,
        who.actor(),
    )
    .await?
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "cases.alert.already_acknowledged",
        ));
    }
    audit::append(
        &mut tx,
        now,
        &Record {
            actor: who.actor(),
            addr: &who.addr,
            action: "alert.acknowledge",
            target: format!("alert:{}", alert.id),
            site: &site.code,
            outcome: AuditOutcome::Ok,
            detail: serde_json::json!({"kind": alert.kind, "level": alert.level.as_str()}),
        },
    )
    .await?;
    let mut dto = alert_dto(&alert, &site);
    dto.acknowledged_at = Some(now);
    dto.acknowledged_by = Some(who.actor().to_owned());
    let res = finish(state, idem, tx, StatusCode::OK, to_text(&dto)?).await?;
    state.live.touch(Topic::Alerts);
    Ok(res)
}

/// Acknowledges the alert of a case for the leadership group; the banner clears on every
/// leader's screen and the escalation stops. 404 for a case outside your subtree; 409
/// when it was acknowledged already.
#[utoipa::path(post, path = "/api/v1/cases/{id}/acknowledge", tag = "cases",
    params(("id" = Uuid, Path, description = "Case id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays return the first answer")),
    responses((status = 200, body = AlertDto), (status = 404, description = "No such case in your scope"),
        (status = 409, description = "Acknowledged already")))]
async fn post_acknowledge(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<Uuid>,
    key: IdempotencyKey,
) -> Result<Response, ApiError> {
    let (case, _) = case_in_scope(&state, &who, id).await?;
    let alert = store::case_alert(&state.store, case.id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    // The alert is the request: a key reused for another alert is a conflict.
    let fingerprint = alert.id.to_string();
    let idem = Idem::raw(
        "POST /api/v1/cases/{id}/acknowledge",
        &who,
        key.0.as_deref(),
        &fingerprint,
    );
    acknowledge(&state, &who, alert, &idem).await
}

/// Acknowledges any alert (a case's or a fever-rate breakout).
#[utoipa::path(post, path = "/api/v1/alerts/{id}/acknowledge", tag = "cases",
    params(("id" = Uuid, Path, description = "Alert id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays return the first answer")),
    responses((status = 200, body = AlertDto), (status = 404, description = "No such alert in your scope"),
        (status = 409, description = "Acknowledged already")))]
async fn post_alert_acknowledge(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<Uuid>,
    key: IdempotencyKey,
) -> Result<Response, ApiError> {
    let alert = store::find_alert(&state.store, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let fingerprint = alert.id.to_string();
    let idem = Idem::raw(
        "POST /api/v1/alerts/{id}/acknowledge",
        &who,
        key.0.as_deref(),
        &fingerprint,
    );
    acknowledge(&state, &who, alert, &idem).await
}

/// A report to the district command office.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpwardBody {
    /// `phone`, `document`, `wechat`, `other`, or `system` (sent through this system to
    /// the district's `upper` account).
    pub channel: String,
    /// What was reported.
    pub content: String,
    /// Who reported; the signed-in user when left out.
    #[serde(default)]
    pub reported_by: Option<String>,
    /// When it was reported; now when left out.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<OffsetDateTime>,
}

/// Records an upward report (page and API).
pub async fn report_upward(
    state: &AppState,
    who: &Principal,
    id: Uuid,
    body: &UpwardBody,
    idem: &Idem<'_>,
) -> Result<Response, ApiError> {
    let (case, site) = case_in_scope(state, who, id).await?;
    let now = state.clock.now();
    let mut errors = Vec::new();
    let channel = Channel::parse(body.channel.trim())
        .ok_or(FieldError::new("channel", "cases.channel.invalid"))
        .map_err(|e| errors.push(e));
    let content = rules::text(&body.content, "content", true).map_err(|e| errors.push(e));
    let by = rules::text(
        body.reported_by.as_deref().unwrap_or(who.actor()),
        "reported_by",
        true,
    )
    .map_err(|e| errors.push(e));
    let at = body.at.unwrap_or(now);
    if at > now {
        errors.push(FieldError::new("at", "cases.upward.future"));
    } else if at < case.opened_at {
        errors.push(FieldError::new("at", "cases.upward.before_opened"));
    }
    let (Ok(channel), Ok(content), Ok(by)) = (channel, content, by) else {
        return Err(ApiError::invalid(errors));
    };
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let up = store::Upward {
        id: state.ids.new_id(),
        case_id: id,
        site_id: site.id,
        at,
        channel,
        reported_by: by,
        content,
        recorded_by: who.actor().to_owned(),
        recorded_at: now,
    };
    let mut tx = state.store.begin().await?;
    if let Some(replay) = idem.check_in(&mut tx).await? {
        return Ok(with_location(replay, format!("/api/v1/cases/{id}")));
    }
    store::insert_upward(&mut tx, &state.vault, &up, state.ids.new_id()).await?;
    audit_case(
        &mut tx,
        state,
        who,
        "case.upward_report",
        id,
        &site.code,
        serde_json::json!({"channel": channel.as_str()}),
    )
    .await?;
    let dto = UpwardDto {
        id: up.id,
        case_id: id,
        site: site.code.clone(),
        at,
        channel: channel.as_str().to_owned(),
        reported_by: up.reported_by.clone(),
        content: up.content.clone(),
        recorded_by: up.recorded_by.clone(),
    };
    let res = finish(state, idem, tx, StatusCode::CREATED, to_text(&dto)?).await?;
    state.live.touch(Topic::Alerts);
    Ok(with_location(res, format!("/api/v1/cases/{id}")))
}

/// Records the report to the district command office (time, channel, by whom, content).
/// With channel `system` the report goes to the district's `upper` account, which sees
/// the urgent reports of every site under it.
#[utoipa::path(post, path = "/api/v1/cases/{id}/upward-report", tag = "cases",
    request_body = UpwardBody,
    params(("id" = Uuid, Path, description = "Case id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays return the first answer")),
    responses((status = 201, body = UpwardDto), (status = 404, description = "No such case in your scope"),
        (status = 422, description = "Invalid input")))]
async fn post_upward(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<Uuid>,
    key: IdempotencyKey,
    body: JsonBody<UpwardBody>,
) -> Result<Response, ApiError> {
    let idem = Idem::new("POST /api/v1/cases/{id}/upward-report", &who, &key, &body);
    report_upward(&state, &who, id, &body.value, &idem).await
}

/// Urgent reports sent to the district through this system, newest first.
#[utoipa::path(get, path = "/api/v1/upward-reports", tag = "cases",
    responses((status = 200, body = [UpwardDto])))]
async fn get_urgent(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<Vec<UpwardDto>>, ApiError> {
    Ok(Json(urgent(&state, &who, 200).await?))
}

/// Urgent reports sent to the district through this system from the asker's scope.
pub async fn urgent(
    state: &AppState,
    who: &Principal,
    limit: u32,
) -> Result<Vec<UpwardDto>, ApiError> {
    let sites = scope_sites(state, who).await?;
    let codes = site_codes(state).await?;
    let reports = store::urgent_reports(&state.store, &state.vault, &sites, limit).await?;
    Ok(reports
        .into_iter()
        .map(|u| UpwardDto {
            id: u.id,
            case_id: u.case_id,
            site: codes.get(&u.site_id).cloned().unwrap_or_default(),
            at: u.at,
            channel: u.channel.as_str().to_owned(),
            reported_by: u.reported_by,
            content: u.content,
            recorded_by: u.recorded_by,
        })
        .collect())
}

/// Someone in the hall at the same time as the suspected person.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExposureDto {
    /// Where the record comes from: `door` (more sources join as areas are added).
    pub source: String,
    pub record_id: Uuid,
    pub subject_kind: String,
    /// Whether they were on duty (staff from their shift checks).
    pub on_duty: bool,
    pub name: String,
    pub phone: String,
    pub person_id: Option<Uuid>,
    pub registration_id: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub until: OffsetDateTime,
    /// The shared time with the suspected person, in minutes.
    pub overlap_minutes: i64,
}

/// The exposure list of a case: its window and the people in it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ExposureList {
    pub case_id: Uuid,
    pub site: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub from: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub until: OffsetDateTime,
    pub window_minutes: i64,
    pub people: Vec<ExposureDto>,
}

/// Which window to use.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExposureQuery {
    /// How long a visit is taken to last, in minutes (5 to 480); the deployment's setting
    /// when left out.
    pub minutes: Option<i64>,
}

/// Someone a source of records places in the hall for a span of time.
pub struct Presence {
    /// The source's name (`door`; later `queue`, `window`).
    pub source: &'static str,
    pub record_id: Uuid,
    pub kind: SubjectKind,
    pub on_duty: bool,
    pub person_id: Option<Uuid>,
    pub registration_id: Option<Uuid>,
    /// Masked name and phone as the source holds them (self-registrations).
    pub masked: Option<(String, String)>,
    pub stay: Stay,
}

/// What a source is asked: the case, its site and the suspected person's stay.
pub struct ExposureQueryCtx<'a> {
    pub state: &'a AppState,
    pub case: &'a Case,
    pub site: &'a Site,
    pub suspect: Stay,
    pub window: Duration,
}

type SourceFuture<'a> = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<Vec<Presence>, ApiError>> + Send + 'a>,
>;

/// A source of exposure records.
pub type ExposureSource = for<'a> fn(&'a ExposureQueryCtx<'a>) -> SourceFuture<'a>;

/// The one extension point of the exposure list: every source of "who was in the hall
/// when". Door records now; the queue and window areas add their function here.
pub const EXPOSURE_SOURCES: &[ExposureSource] = &[door_presence];

/// Door records: visitors, each taken to stay the window's length from their reading, and
/// staff on duty from their pre-shift to their post-shift check (or the day's end).
fn door_presence<'a>(q: &'a ExposureQueryCtx<'a>) -> SourceFuture<'a> {
    Box::pin(async move {
        let (state, case, site, suspect, window) = (q.state, q.case, q.site, q.suspect, q.window);
        // Anyone whose visit could overlap: entered up to one window before, until it ends.
        let visits = store::door_visits(
            &state.store,
            &state.vault,
            site.id,
            suspect.from - window,
            suspect.until,
        )
        .await?;
        let day_from = day_start(day_of(suspect.from));
        let day_visits = store::door_visits(
            &state.store,
            &state.vault,
            site.id,
            day_from,
            day_from + Duration::DAY,
        )
        .await?;
        let end_of_day = (day_from + Duration::DAY).min(state.clock.now().max(suspect.until));
        let mut out = Vec::new();
        let mut on_duty = std::collections::HashSet::new();
        for v in &day_visits {
            let (Some(person), Some(screening_rules::Phase::PreShift)) = (v.person_id, v.phase)
            else {
                continue;
            };
            if case.details.person_id == Some(person) || !on_duty.insert(person) {
                continue;
            }
            let post = day_visits
                .iter()
                .find(|p| {
                    p.person_id == Some(person)
                        && p.phase == Some(screening_rules::Phase::PostShift)
                })
                .map(|p| p.at);
            out.push(presence(v, true, rules::duty(v.at, post, end_of_day)));
        }
        for v in &visits {
            let same_person = v.person_id.is_some() && v.person_id == case.details.person_id;
            if Some(v.screening_id) == case.details.screening_id
                || v.phase.is_some()
                || v.person_id.is_some_and(|p| on_duty.contains(&p))
                || same_person
            {
                continue;
            }
            out.push(presence(v, false, Stay::visit(v.at, window)));
        }
        Ok(out)
    })
}

fn presence(v: &store::Visit, on_duty: bool, stay: Stay) -> Presence {
    Presence {
        source: "door",
        record_id: v.screening_id,
        kind: v.kind,
        on_duty,
        person_id: v.person_id,
        registration_id: v.registration_id,
        masked: v.masked.clone(),
        stay,
    }
}

/// Builds the exposure list from every source; with `full`, names and phones are opened
/// (the health authority's export), otherwise masked.
pub async fn exposures(
    state: &AppState,
    case: &Case,
    site: &Site,
    window: Duration,
    full: bool,
) -> Result<ExposureList, ApiError> {
    let seen = case
        .details
        .seen_at
        .map_or(case.opened_at, from_unix_millis);
    let mut suspect = Stay::visit(seen, window);
    // A staff member was there for the whole shift: from the pre-shift check that day to
    // the post-shift check (or the day's end).
    if let Some(person) = case.details.person_id {
        let day_from = day_start(day_of(seen));
        let day = store::door_visits(
            &state.store,
            &state.vault,
            site.id,
            day_from,
            day_from + Duration::DAY,
        )
        .await?;
        let check = |phase| {
            day.iter()
                .find(|v| v.person_id == Some(person) && v.phase == Some(phase))
                .map(|v| v.at)
        };
        if let Some(pre) = check(screening_rules::Phase::PreShift) {
            let end = (day_from + Duration::DAY).min(state.clock.now().max(seen));
            suspect = rules::duty(pre, check(screening_rules::Phase::PostShift), end);
        }
    }
    let ctx = ExposureQueryCtx {
        state,
        case,
        site,
        suspect,
        window,
    };
    let mut people = Vec::new();
    for source in EXPOSURE_SOURCES {
        for p in source(&ctx).await? {
            if let Some(shared) = p.stay.overlap(suspect) {
                people.push((p, shared));
            }
        }
    }
    let mut contacts = std::collections::HashMap::new();
    if full {
        let regs: Vec<Uuid> = people.iter().filter_map(|p| p.0.registration_id).collect();
        contacts = store::registration_contacts(&state.store, &state.vault, &regs).await?;
    }
    let mut out = Vec::with_capacity(people.len());
    for (p, shared) in people {
        let (name, phone) = match (p.person_id, p.registration_id) {
            (Some(id), _) => match org::find_person(&state.store, &state.vault, id).await? {
                Some(found) if full => (found.name, found.phone.unwrap_or_default()),
                Some(found) => (
                    mask_name(&found.name),
                    found.phone.as_deref().map(mask_phone).unwrap_or_default(),
                ),
                None => (String::new(), String::new()),
            },
            (None, Some(r)) if full => contacts
                .get(&r)
                .map(|(n, ph)| {
                    (
                        n.clone().unwrap_or_default(),
                        ph.clone().unwrap_or_default(),
                    )
                })
                .unwrap_or_default(),
            (None, Some(_)) => p.masked.clone().unwrap_or_default(),
            (None, None) => (String::new(), String::new()),
        };
        out.push(ExposureDto {
            source: p.source.to_owned(),
            record_id: p.record_id,
            subject_kind: p.kind.as_str().to_owned(),
            on_duty: p.on_duty,
            name,
            phone,
            person_id: p.person_id,
            registration_id: p.registration_id,
            from: p.stay.from,
            until: p.stay.until,
            overlap_minutes: shared.minutes(),
        });
    }
    out.sort_by(|a, b| {
        b.overlap_minutes
            .cmp(&a.overlap_minutes)
            .then(a.from.cmp(&b.from))
    });
    Ok(ExposureList {
        case_id: case.id,
        site: site.code.clone(),
        from: suspect.from,
        until: suspect.until,
        window_minutes: window.whole_minutes(),
        people: out,
    })
}

/// The window asked for, within 5 minutes and 8 hours.
pub fn window_of(state: &AppState, minutes: Option<i64>) -> Result<Duration, ApiError> {
    match minutes {
        None => Ok(state.cases.exposure_window),
        Some(m) if (5..=480).contains(&m) => Ok(Duration::minutes(m)),
        Some(_) => Err(ApiError::invalid(vec![FieldError::new(
            "minutes",
            "cases.window.invalid",
        )])),
    }
}

/// Everyone recorded in the same hall while the suspected person was there (door records
/// of visitors, each taken to stay the window's length), and the staff on duty then
/// (from their shift checks), with overlap times; personal fields masked. The export for
/// the health authority (with names and phones) is at `/cases/{id}/exposures.xlsx`.
#[utoipa::path(get, path = "/api/v1/cases/{id}/exposures", tag = "cases",
    params(("id" = Uuid, Path, description = "Case id"), ExposureQuery),
    responses((status = 200, body = ExposureList), (status = 404, description = "No such case in your scope")))]
async fn get_exposures(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<Uuid>,
    Query(q): Query<ExposureQuery>,
) -> Result<Json<ExposureList>, ApiError> {
    let window = window_of(&state, q.minutes)?;
    let (case, site) = case_in_scope(&state, &who, id).await?;
    Ok(Json(exposures(&state, &case, &site, window, false).await?))
}

/// Which alerts to list.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertQuery {
    /// `true`: acknowledged ones of the last 30 days too.
    pub all: Option<bool>,
}

/// Alerts of the asker's scope: open ones by default.
pub async fn alerts_for(
    state: &AppState,
    who: &Principal,
    all: bool,
) -> Result<Vec<AlertDto>, ApiError> {
    let sites = scope_sites(state, who).await?;
    let since = state.clock.now() - Duration::days(30);
    let found = store::alerts(&state.store, &sites, since, !all).await?;
    let by_id: std::collections::HashMap<Uuid, org::Site> = org::list_sites(&state.store)
        .await?
        .into_iter()
        .map(|s| (s.site.id, s.site))
        .collect();
    Ok(found
        .iter()
        .filter_map(|a| by_id.get(&a.site_id).map(|s| alert_dto(a, s)))
        .collect())
}

/// Open alerts you may see (cases and fever-rate breakouts of your subtree), newest first.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "cases",
    params(AlertQuery),
    responses((status = 200, body = [AlertDto])))]
async fn get_alerts(
    State(state): State<AppState>,
    who: Principal,
    Query(q): Query<AlertQuery>,
) -> Result<Json<Vec<AlertDto>>, ApiError> {
    Ok(Json(
        alerts_for(&state, &who, q.all.unwrap_or(false)).await?,
    ))
}

/// One day of a site's fever-rate series.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FeverDay {
    pub date: String,
    pub screened: u32,
    /// Abnormal temperatures (sent to the buffer zone).
    pub abnormal: u32,
    pub c1: Option<f64>,
    pub c2: Option<f64>,
    pub c3: Option<f64>,
    /// `c1`, `c2`, `c3` whose threshold was exceeded.
    pub alarms: Vec<String>,
}

/// The daily series of a site, oldest first, ending `last`.
pub async fn fever_series(
    state: &AppState,
    site: Uuid,
    last: Date,
    days: u16,
) -> Result<Vec<FeverDay>, fangkong_store::StoreError> {
    let first = last - Duration::days(i64::from(days) - 1);
    let counts = store::counts_between(&state.store, site, first, last).await?;
    let dates: Vec<Date> = (0..i64::from(days))
        .map(|i| first + Duration::days(i))
        .collect();
    let count = |day: &str, pred: &dyn Fn(&str) -> bool| -> u32 {
        counts
            .iter()
            .filter(|(d, m, _)| d == day && pred(m))
            .map(|(_, _, n)| u32::try_from(*n).unwrap_or(u32::MAX))
            .sum()
    };
    let mut screened = Vec::with_capacity(dates.len());
    let mut abnormal = Vec::with_capacity(dates.len());
    for d in &dates {
        let day = d.to_string();
        screened.push(count(&day, &|m| m.starts_with("screened.")));
        abnormal.push(count(&day, &|m| m == "decision.buffer"));
    }
    let params = state.cases.ears;
    let stats = rules::ears_open_days(&screened, &abnormal, &params);
    Ok(dates
        .iter()
        .zip(stats)
        .zip(screened.iter().zip(&abnormal))
        .map(|((d, s), (n, a))| FeverDay {
            date: d.to_string(),
            screened: *n,
            abnormal: *a,
            c1: s.and_then(|s| s.c1),
            c2: s.and_then(|s| s.c2),
            c3: s.and_then(|s| s.c3),
            alarms: s
                .map(|s| s.alarms(&params))
                .unwrap_or_default()
                .iter()
                .map(|m| m.as_str().to_owned())
                .collect(),
        })
        .collect())
}

/// Which site and how many days.
#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct FeverQuery {
    /// Site code; your own site when left out.
    pub site: Option<String>,
    /// 14 to 90 days ending today; 30 when left out.
    pub days: Option<u16>,
}

/// A site's daily screenings and abnormal temperatures with the EARS statistics C1
/// (7-day baseline ending yesterday), C2 (the same with a 2-day guard band) and C3 (the
/// sum of the last three C2 excesses over 1), and the alarms they raise.
#[utoipa::path(get, path = "/api/v1/fever-rates", tag = "cases",
    params(FeverQuery),
    responses((status = 200, body = [FeverDay]), (status = 422, description = "Invalid site or days")))]
async fn get_fever_rates(
    State(state): State<AppState>,
    who: Principal,
    Query(q): Query<FeverQuery>,
) -> Result<Json<Vec<FeverDay>>, ApiError> {
    let days = q.days.unwrap_or(30);
    if !(14..=90).contains(&days) {
        return Err(ApiError::invalid(vec![FieldError::new(
            "days",
            "cases.days.invalid",
        )]));
    }
    let site = crate::screening::site_of(&state, &who, q.site.as_deref()).await?;
    let today = day_of(state.clock.now());
    Ok(Json(fever_series(&state, site.id, today, days).await?))
}

/// How fast a site's cases were acknowledged and reported upward.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ResponseTimes {
    pub site: String,
    pub site_name: String,
    pub cases: u32,
    pub acknowledged: u32,
    pub reported: u32,
    /// Mean and longest minutes from detection to acknowledgement.
    pub mean_minutes_to_acknowledge: Option<f64>,
    pub max_minutes_to_acknowledge: Option<i64>,
    pub mean_minutes_to_report: Option<f64>,
    pub max_minutes_to_report: Option<i64>,
}

fn mean(v: &[i64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    // Minutes fit i32; their sum over the cases of a ledger fits f64 exactly.
    let sum: f64 = v
        .iter()
        .map(|m| f64::from(i32::try_from(*m).unwrap_or(i32::MAX)))
        .sum();
    let n = f64::from(u32::try_from(v.len()).unwrap_or(u32::MAX));
    Some((sum / n * 10.0).round() / 10.0)
}

/// Response times per site over the cases a filter selects.
pub async fn response_times(
    state: &AppState,
    f: &store::CaseFilter,
) -> Result<Vec<ResponseTimes>, ApiError> {
    let cases = store::list_cases(&state.store, &state.vault, f, 5000).await?;
    let sites: std::collections::HashMap<Uuid, org::Site> = org::list_sites(&state.store)
        .await?
        .into_iter()
        .map(|s| (s.site.id, s.site))
        .collect();
    let mut per: std::collections::BTreeMap<String, (Site, Vec<i64>, Vec<i64>, u32)> =
        std::collections::BTreeMap::new();
    for c in &cases {
        let Some(site) = sites.get(&c.site_id) else {
            continue;
        };
        let e = per
            .entry(site.code.clone())
            .or_insert_with(|| (site.clone(), Vec::new(), Vec::new(), 0));
        e.3 += 1;
        if let Some(m) = rules::minutes_between(c.opened_at, c.acknowledged_at) {
            e.1.push(m);
        }
        if let Some(m) = rules::minutes_between(c.opened_at, c.reported_at) {
            e.2.push(m);
        }
    }
    Ok(per
        .into_values()
        .map(|(site, ack, rep, n)| ResponseTimes {
            site: site.code,
            site_name: site.name,
            cases: n,
            acknowledged: u32::try_from(ack.len()).unwrap_or(u32::MAX),
            reported: u32::try_from(rep.len()).unwrap_or(u32::MAX),
            mean_minutes_to_acknowledge: mean(&ack),
            max_minutes_to_acknowledge: ack.iter().copied().max(),
            mean_minutes_to_report: mean(&rep),
            max_minutes_to_report: rep.iter().copied().max(),
        })
        .collect())
}

/// Time from detection to acknowledgement and to upward report, summarised per site, over
/// the cases the filter selects.
#[utoipa::path(get, path = "/api/v1/cases/response-times", tag = "cases",
    params(CaseQuery),
    responses((status = 200, body = [ResponseTimes])))]
async fn get_response_times(
    State(state): State<AppState>,
    who: Principal,
    Query(q): Query<CaseQuery>,
) -> Result<Json<Vec<ResponseTimes>>, ApiError> {
    let f = case_filter(&state, &who, &q).await?;
    Ok(Json(response_times(&state, &f).await?))
}

/// A group robot to add.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebhookBody {
    /// `wecom` (企业微信 group robot) or `dingtalk` (钉钉 robot).
    pub format: String,
    pub label: String,
    /// The robot's webhook address (http or https).
    pub url: String,
    /// DingTalk's signing secret (`SEC…`), when the robot asks for signed calls.
    #[serde(default)]
    pub secret: Option<String>,
}

/// A group robot, its address shown up to the host only (the rest is its key).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebhookDto {
    pub id: Uuid,
    pub site: String,
    pub format: String,
    pub label: String,
    pub url: String,
    pub signed: bool,
    pub active: bool,
}

/// A robot address cut to scheme and host: the path and query carry its key.
pub fn url_shown(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(|h| format!("{}://{h}/…", u.scheme())))
        .unwrap_or_default()
}

pub fn webhook_dto(w: &store::Webhook, site: &str) -> WebhookDto {
    WebhookDto {
        id: w.id,
        site: site.to_owned(),
        format: w.format.clone(),
        label: w.label.clone(),
        url: url_shown(&w.url),
        signed: w.secret.is_some(),
        active: w.active,
    }
}

/// Checks and adds a robot to a site (page and API).
pub async fn add_webhook(
    state: &AppState,
    who: &Principal,
    site: &Site,
    body: &WebhookBody,
    idem: &Idem<'_>,
) -> Result<Response, ApiError> {
    let mut errors = Vec::new();
    let format = match body.format.trim() {
        f @ ("wecom" | "dingtalk") => f.to_owned(),
        _ => {
            errors.push(FieldError::new("format", "cases.webhook.format"));
            String::new()
        }
    };
    let label = rules::text(&body.label, "label", true)
        .and_then(|l| {
            if l.chars().count() > 60 {
                Err(FieldError::new("label", "cases.text.too_long"))
            } else {
                Ok(l)
            }
        })
        .map_err(|e| errors.push(e));
    let url = body.url.trim();
    if url.len() > 1000 || !robot_url_allowed(url, &state.cases.robot_hosts) {
        errors.push(FieldError::new("url", "cases.webhook.url"));
    }
    let secret = body
        .secret
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    if secret
        .as_ref()
        .is_some_and(|s| s.len() > 200 || s.chars().any(char::is_control))
    {
        errors.push(FieldError::new("secret", "cases.webhook.secret"));
    }
    let Ok(label) = label else {
        return Err(ApiError::invalid(errors));
    };
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let now = state.clock.now();
    let hook = store::Webhook {
        id: state.ids.new_id(),
        site_id: site.id,
        format,
        label,
        url: url.to_owned(),
        secret,
        active: true,
        created_at: now,
    };
    let mut tx = state.store.begin().await?;
    if let Some(replay) = idem.check_in(&mut tx).await? {
        return Ok(replay);
    }
    store::insert_webhook(&mut tx, &state.vault, &hook).await?;
    audit::append(
        &mut tx,
        now,
        &Record {
            actor: who.actor(),
            addr: &who.addr,
            action: "webhook.create",
            target: format!("webhook:{}", hook.id),
            site: &site.code,
            outcome: AuditOutcome::Ok,
            detail: serde_json::json!({"format": hook.format, "host": url_shown(&hook.url)}),
        },
    )
    .await?;
    let text = to_text(&webhook_dto(&hook, &site.code))?;
    finish(state, idem, tx, StatusCode::CREATED, text).await
}

/// Turns a robot off or on again (page), audited.
pub async fn set_webhook(
    state: &AppState,
    who: &Principal,
    site: &Site,
    id: Uuid,
    active: bool,
) -> Result<(), ApiError> {
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    store::set_webhook_active(&mut tx, site.id, id, active).await?;
    audit::append(
        &mut tx,
        now,
        &Record {
            actor: who.actor(),
            addr: &who.addr,
            action: if active {
                "webhook.enable"
            } else {
                "webhook.disable"
            },
            target: format!("webhook:{id}"),
            site: &site.code,
            outcome: AuditOutcome::Ok,
            detail: serde_json::Value::Null,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The group robots of a site.
#[utoipa::path(get, path = "/api/v1/sites/{code}/webhooks", tag = "cases",
    params(("code" = String, Path, description = "Site code")),
    responses((status = 200, body = [WebhookDto]), (status = 404, description = "No such site in your scope")))]
async fn list_webhooks(
    State(state): State<AppState>,
    who: Principal,
    Path(code): Path<String>,
) -> Result<Json<Vec<WebhookDto>>, ApiError> {
    let site = who.site_in_scope(&state.store, &code).await?;
    let hooks = store::webhooks(&state.store, &state.vault, site.id).await?;
    Ok(Json(
        hooks.iter().map(|w| webhook_dto(w, &site.code)).collect(),
    ))
}

/// Adds a group robot to a site: alerts of the site are posted to it in the WeCom or
/// DingTalk robot format, naming site, time and symptoms but never a person.
#[utoipa::path(post, path = "/api/v1/sites/{code}/webhooks", tag = "cases",
    request_body = WebhookBody,
    params(("code" = String, Path, description = "Site code"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays return the first answer")),
    responses((status = 201, body = WebhookDto), (status = 404, description = "No such site in your scope"),
        (status = 422, description = "Invalid format, label or address")))]
async fn post_webhook(
    State(state): State<AppState>,
    who: Principal,
    Path(code): Path<String>,
    key: IdempotencyKey,
    body: JsonBody<WebhookBody>,
) -> Result<Response, ApiError> {
    let site = who.site_in_scope(&state.store, &code).await?;
    let idem = Idem::new("POST /api/v1/sites/{code}/webhooks", &who, &key, &body);
    add_webhook(&state, &who, &site, &body.value, &idem).await
}

/// One robot message and how it went.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeliveryDto {
    pub id: Uuid,
    pub webhook_id: Uuid,
    pub alert_id: Uuid,
    pub level: String,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub attempts: u32,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub sent_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub next_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

pub fn delivery_dto(d: &store::Delivery) -> DeliveryDto {
    DeliveryDto {
        id: d.id,
        webhook_id: d.webhook_id,
        alert_id: d.alert_id,
        level: d.level.as_str().to_owned(),
        status: d.status.clone(),
        attempts: d.attempts,
        last_status: d.last_status,
        last_error: d.last_error.clone(),
        sent_at: d.sent_at,
        next_at: d.next_at,
        created_at: d.created_at,
    }
}

/// The delivery log of the robots of your subtree, newest first.
#[utoipa::path(get, path = "/api/v1/webhooks/deliveries", tag = "cases",
    responses((status = 200, body = [DeliveryDto])))]
async fn get_deliveries(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<Vec<DeliveryDto>>, ApiError> {
    let sites = scope_sites(&state, &who).await?;
    let log = store::deliveries(&state.store, &sites, 200).await?;
    Ok(Json(log.iter().map(delivery_dto).collect()))
}

// ---- the daily report's section ---------------------------------------------------------

/// The daily report's suspected-case section (listed in `reports::SECTIONS`): how the
/// day's cases stand now, by outcome, and the urgent reports made to the district about
/// them.
pub fn report_section<'a>(q: &'a SectionQuery<'a>) -> SectionFuture<'a> {
    Box::pin(async move {
        let from = day_start(q.day);
        let until = day_start(q.day.next_day().unwrap_or(q.day));
        let rows = store::outcome_counts(&q.state.store, q.site.id, from, until).await?;
        if rows.is_empty() {
            return Ok(None);
        }
        Ok(Some(fangkong_domain::reports::Section {
            key: "cases".into(),
            rows: rows
                .into_iter()
                .map(|(key, n)| fangkong_domain::reports::SectionRow { key, n, max: false })
                .collect(),
        }))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::{date, datetime};

    #[test]
    fn a_robots_address_is_shown_up_to_its_host() {
        assert_eq!(
            url_shown("https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc"),
            "https://qyapi.weixin.qq.com/…"
        );
        assert_eq!(url_shown("not a url"), "");
    }

    #[test]
    fn robots_are_called_only_at_listed_hosts_over_https() {
        let hosts = Settings::default().robot_hosts;
        assert!(robot_url_allowed(
            "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc",
            &hosts
        ));
        assert!(robot_url_allowed(
            "https://oapi.dingtalk.com/robot/send?access_token=x",
            &hosts
        ));
        assert!(!robot_url_allowed(
            "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=abc",
            &hosts
        ));
        assert!(!robot_url_allowed("https://169.254.169.254/latest", &hosts));
        assert!(!robot_url_allowed(
            "https://evil.example/qyapi.weixin.qq.com",
            &hosts
        ));
        assert!(!robot_url_allowed(
            "https://u:p@qyapi.weixin.qq.com/x",
            &hosts
        ));
        let relay = vec!["127.0.0.1".to_owned()];
        assert!(robot_url_allowed("http://127.0.0.1:9000/hook", &relay));
        assert!(!robot_url_allowed("http://127.0.0.1:9000/hook", &hosts));
        assert!(!robot_url_allowed("ftp://127.0.0.1/hook", &relay));
    }

    #[test]
    fn mean_minutes_are_rounded_to_a_tenth() {
        assert_eq!(mean(&[]), None);
        assert_eq!(mean(&[3, 4]), Some(3.5));
        assert_eq!(mean(&[1, 1, 2]), Some(1.3));
    }

    #[test]
    fn a_beijing_day_starts_at_16_utc_the_day_before() {
        assert_eq!(
            day_start(date!(2020 - 01 - 29)),
            datetime!(2020-01-28 16:00 UTC)
        );
    }
}
