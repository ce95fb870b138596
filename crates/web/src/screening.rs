//! Entrance screening over the API: door records and their decision, buffer-zone
//! re-checks, passages out of the hall, occupancy, staff checks, self-registrations and
//! devices. The checkpoint page, devices over HTTP and devices over MQTT all record
//! through [`record`], so a reading means the same wherever it comes from.

use crate::AppState;
use crate::access::Principal;
use crate::error::ApiError;
use crate::idempotency::{Idem, IdempotencyKey, JsonBody, json_response};
use crate::live::Topic;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use fangkong_domain::FieldError;
use fangkong_domain::access::Role;
use fangkong_domain::audit::Outcome as AuditOutcome;
use fangkong_domain::org::SiteKind;
use fangkong_domain::screening::{
    self as rules, Answers, BufferRules, Decision, Direction, Outcome, Phase, SubjectKind,
    Temperature, day_of,
};
use fangkong_store::audit::{self, Record};
use fangkong_store::org::{self, Site};
use fangkong_store::screening::{self as store, Health, NewDoorEvent, NewRecheck, NewScreening};
use serde::{Deserialize, Serialize};
use time::{Date, Duration, OffsetDateTime};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// Screening settings of a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Settings {
    pub buffer: BufferRules,
    /// Door records of people never suspected are kept this many days.
    pub retention_days: u16,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            buffer: BufferRules::default(),
            retention_days: rules::DEFAULT_RETENTION_DAYS,
        }
    }
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(post_screening, list_screenings))
        .routes(routes!(get_screening))
        .routes(routes!(post_recheck))
        .routes(routes!(post_purge))
        .routes(routes!(post_door_event))
        .routes(routes!(get_occupancy))
        .routes(routes!(get_buffer))
        .routes(routes!(get_staff_checks))
        .routes(routes!(post_registration))
        .routes(routes!(list_devices, post_device))
        .routes(routes!(delete_device))
}

/// A door: a site in the asker's scope and one of its checkpoints.
#[derive(Debug, Clone)]
pub struct Door {
    pub site: Site,
    pub checkpoint: org::Checkpoint,
}

/// Finds a site in scope and its checkpoint (the main entrance when none is named).
pub async fn door(
    state: &AppState,
    who: &Principal,
    site: &str,
    checkpoint: Option<&str>,
) -> Result<Door, ApiError> {
    let found = who.door_site(&state.store, site).await.map_err(|e| {
        if e.status == StatusCode::NOT_FOUND {
            ApiError::invalid(vec![FieldError::new("site", "site.unknown")])
        } else {
            e
        }
    })?;
    let (site, checkpoints) = (&found.0, &found.1);
    let found = match checkpoint.map(str::trim).filter(|c| !c.is_empty()) {
        Some(code) => checkpoints.iter().find(|c| c.code == code),
        None => checkpoints.iter().find(|c| c.is_main),
    };
    let checkpoint = found.ok_or_else(|| {
        ApiError::invalid(vec![FieldError::new(
            "checkpoint",
            "screening.checkpoint.unknown",
        )])
    })?;
    Ok(Door {
        site: site.clone(),
        checkpoint: checkpoint.clone(),
    })
}

/// A reading from the checkpoint page, the API or a device.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScreeningBody {
    /// Site code.
    pub site: String,
    /// Checkpoint code; the site's main entrance when left out.
    #[serde(default)]
    pub checkpoint: Option<String>,
    /// `citizen`, `window_staff`, `bureau_staff` or `other`.
    pub subject_kind: String,
    /// Degrees Celsius, 34.0 to 43.0, one decimal kept.
    #[schema(value_type = f64, example = 36.6)]
    #[serde(default)]
    pub temperature_c: Option<serde_json::Value>,
    /// Whether the person wears a mask.
    #[serde(default)]
    pub mask: Option<bool>,
    /// `pre_shift` or `post_shift`: a staff check (staff only).
    #[serde(default)]
    pub phase: Option<String>,
    /// The staff member measured (a person id of the site).
    #[serde(default)]
    pub person: Option<Uuid>,
    /// The four-digit number of a citizen's self-registration today.
    #[serde(default)]
    pub registration: Option<String>,
    /// When the reading was taken, for entries sent late after a network drop (at most
    /// 24 hours ago); now when left out.
    #[serde(default, with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub at: Option<OffsetDateTime>,
}

/// The door's answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ScreeningAnswer {
    pub id: Uuid,
    /// `admit`, `refuse_no_mask`, `buffer` or `wait`.
    pub decision: String,
    pub site: String,
    pub checkpoint: String,
    pub temperature_c: f64,
    /// People inside after this reading, and the hall's capacity.
    pub inside: u32,
    pub capacity: u32,
}

pub(crate) fn temperature_of(v: Option<&serde_json::Value>) -> Result<Temperature, FieldError> {
    match v {
        None | Some(serde_json::Value::Null) => Err(FieldError::new(
            "temperature_c",
            "screening.temperature.missing",
        )),
        Some(serde_json::Value::Number(n)) => {
            Temperature::from_celsius(n.as_f64().unwrap_or(f64::NAN))
        }
        Some(serde_json::Value::String(s)) => Temperature::parse(s),
        Some(_) => Err(FieldError::new(
            "temperature_c",
            "screening.temperature.invalid",
        )),
    }
}

/// What a valid reading is, before it is stored.
struct Reading {
    door: Door,
    record: NewScreening,
    /// People inside before this reading.
    inside: u32,
}

/// A site's threshold in tenths (stored within 36.0 to 40.0).
pub fn threshold(site: &Site) -> u16 {
    u16::try_from(site.threshold).unwrap_or(fangkong_domain::org::DEFAULT_THRESHOLD)
}

/// Checks a reading and decides; every field error at once.
async fn validate(
    state: &AppState,
    who: &Principal,
    body: &ScreeningBody,
    id: Uuid,
    now: OffsetDateTime,
) -> Result<Reading, ApiError> {
    let mut errors = Vec::new();
    let kind = SubjectKind::parse(body.subject_kind.trim());
    if kind.is_none() {
        errors.push(FieldError::new("subject_kind", "screening.kind.invalid"));
    }
    let temperature = temperature_of(body.temperature_c.as_ref()).map_err(|e| errors.push(e));
    if body.mask.is_none() {
        errors.push(FieldError::new("mask", "screening.mask.missing"));
    }
    let phase = match body
        .phase
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        None => None,
        Some(p) => match Phase::parse(p) {
            Some(p) => Some(p),
            None => {
                errors.push(FieldError::new("phase", "screening.phase.invalid"));
                None
            }
        },
    };
    if let Some(k) = kind
        && let Err(e) = rules::check_phase(k, phase)
    {
        errors.push(e);
    }
    let registration = rules::parse_registration_number(body.registration.as_deref().unwrap_or(""))
        .map_err(|e| errors.push(e));
    // A reading sent late keeps the time it was taken; a device whose clock runs ahead
    // is not refused (that would lose the reading): its time is taken as now.
    let at = match body.at {
        None => now,
        Some(t) if t > now => now,
        Some(t) if t < now - Duration::hours(24) => {
            errors.push(FieldError::new("at", "screening.at.invalid"));
            now
        }
        Some(t) => t,
    };
    let door = door(state, who, &body.site, body.checkpoint.as_deref()).await;
    let (door, temperature, kind, registration) = match (door, temperature, kind, registration) {
        (Ok(d), Ok(t), Some(k), Ok(r)) if errors.is_empty() => (d, t, k, r),
        (door, ..) => {
            if let Err(e) = door {
                errors.extend(e.fields);
            }
            return Err(ApiError::invalid(errors));
        }
    };
    // A staff check names the person: given, or the account's own staff member.
    let person = match body.person {
        Some(p) => Some(p),
        None if kind.is_staff() && phase.is_some() => {
            who.account.as_ref().and_then(|a| a.person_id)
        }
        None => None,
    };
    if let Some(p) = person {
        let found = org::find_person(&state.store, &state.vault, p).await?;
        if !kind.is_staff() || found.is_none_or(|f| f.site_id != door.site.id) {
            return Err(ApiError::invalid(vec![FieldError::new(
                "person",
                "screening.person.unknown",
            )]));
        }
    }
    let registration_id = match registration {
        Some(n) => Some(
            store::find_registration(&state.store, door.site.id, day_of(at), &n)
                .await?
                .ok_or_else(|| {
                    ApiError::invalid(vec![FieldError::new(
                        "registration",
                        "screening.registration.unknown",
                    )])
                })?,
        ),
        None => None,
    };
    let occupancy = store::occupancy(&state.store, door.site.id, now).await?;
    let mask = body.mask.unwrap_or(false);
    let decision = rules::decide(
        temperature,
        mask,
        threshold(&door.site),
        occupancy.inside,
        door.site.capacity,
    );
    let record = NewScreening {
        id,
        site_id: door.site.id,
        checkpoint_id: door.checkpoint.id,
        at,
        kind,
        temperature,
        mask,
        decision,
        phase,
        person_id: person,
        registration_id,
        recorded_by: who.actor().to_owned(),
    };
    Ok(Reading {
        door,
        record,
        inside: occupancy.inside,
    })
}

/// Commits door statements through the group-commit writer with the `201` answer `text`
/// remembered under the request's Idempotency-Key in the same commit. `Some` answer when
/// the key was already used (a resend): send that instead.
async fn write_created(
    state: &AppState,
    idem: &Idem<'_>,
    ops: Vec<fangkong_store::Op>,
    now: OffsetDateTime,
    text: &str,
) -> Result<Option<Response>, ApiError> {
    let rendered = text.to_owned();
    let written = match idem.remember_after(StatusCode::CREATED, now, move |_| rendered.clone()) {
        Some(then) => state.store.write_then(ops, then).await,
        None => state.store.write(ops).await,
    };
    match written {
        Ok(_) => Ok(None),
        Err(e) => idem.resolve(&state.store, e).await.map(Some),
    }
}

/// Checks, decides and stores one reading through the group-commit writer; answered
/// after the commit. `idem` makes a resend return the first answer.
pub async fn record(
    state: &AppState,
    who: &Principal,
    body: &ScreeningBody,
    idem: &Idem<'_>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let id = state.ids.new_id();
    // No lookup of the key first: the key is stored with the record, and a resend fails
    // on it in the writer and is answered with the first answer (see `Idem::resolve`).
    let Reading {
        door,
        record,
        inside: inside_before,
    } = match validate(state, who, body, id, now).await {
        Ok(r) => r,
        // A resend whose first answer is stored wins over a check that now fails (the
        // hall may have filled, a registration number may have lapsed).
        Err(e) => return idem.check(&state.store).await?.ok_or(e),
    };
    let answer = ScreeningAnswer {
        id,
        decision: record.decision.as_str().to_owned(),
        site: door.site.code.clone(),
        checkpoint: door.checkpoint.code.clone(),
        temperature_c: record.temperature.celsius(),
        inside: if record.decision == Decision::Admit {
            inside_before + 1
        } else {
            inside_before
        },
        capacity: door.site.capacity,
    };
    let text = serde_json::to_string(&answer).map_err(|_| ApiError::internal())?;
    let ops = store::screening_ops(&record);
    if let Some(replay) = write_created(state, idem, ops, now, &text).await? {
        return Ok(replay);
    }
    state.live.touch(Topic::Screening);
    match record.decision {
        Decision::Admit => state.live.touch(Topic::Occupancy),
        Decision::Buffer => state.live.touch(Topic::Buffer),
        _ => {}
    }
    Ok(json_response(StatusCode::CREATED, text))
}

/// Records one reading at a door and answers the decision at once.
///
/// Temperature at or above the site's threshold → `buffer`; otherwise no mask →
/// `refuse_no_mask`; otherwise a full hall → `wait`; otherwise `admit` (one more inside).
#[utoipa::path(post, path = "/api/v1/screenings", tag = "screening",
    request_body = ScreeningBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays return the first answer")),
    responses(
        (status = 201, description = "Stored and committed", body = ScreeningAnswer),
        (status = 422, description = "Missing or out-of-range temperature, unknown site or checkpoint; nothing stored")))]
async fn post_screening(
    State(state): State<AppState>,
    who: Principal,
    key: IdempotencyKey,
    body: JsonBody<ScreeningBody>,
) -> Result<Response, ApiError> {
    let idem = Idem::new("POST /api/v1/screenings", &who, &key, &body);
    record(&state, &who, &body.value, &idem).await
}

/// A door record as listed (personal fields masked).
#[derive(Debug, Serialize, ToSchema)]
pub struct ScreeningDto {
    pub id: Uuid,
    pub site: String,
    pub checkpoint: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    pub subject_kind: String,
    pub temperature_c: f64,
    pub mask: bool,
    pub decision: String,
    pub phase: Option<String>,
    pub person: Option<Uuid>,
    /// Masked name and phone of the citizen's self-registration.
    pub registered_name: Option<String>,
    pub registered_phone: Option<String>,
    /// `waiting`, `cleared` or `suspected` for people sent to the buffer zone.
    pub buffer_state: Option<String>,
    pub rechecks: u32,
    pub case_id: Option<Uuid>,
    pub recorded_by: String,
}

pub fn dto(
    s: &store::Screening,
    masks: &std::collections::HashMap<Uuid, (String, String)>,
) -> ScreeningDto {
    let reg = s.registration_id.and_then(|r| masks.get(&r));
    ScreeningDto {
        id: s.id,
        site: s.site_code.clone(),
        checkpoint: s.checkpoint_name.clone(),
        at: s.at,
        subject_kind: s.kind.as_str().to_owned(),
        temperature_c: s.temperature.celsius(),
        mask: s.mask,
        decision: s.decision.as_str().to_owned(),
        phase: s.phase.map(|p| p.as_str().to_owned()),
        person: s.person_id,
        registered_name: reg.map(|r| r.0.clone()).filter(|n| !n.is_empty()),
        registered_phone: reg.map(|r| r.1.clone()).filter(|p| !p.is_empty()),
        buffer_state: s.buffer_state.clone(),
        rechecks: s.rechecks,
        case_id: s.case_id,
        recorded_by: s.recorded_by.clone(),
    }
}

/// Filters of the records list (all optional).
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
pub struct RecordQuery {
    /// Site code (with its subtree); your whole scope when left out.
    pub site: Option<String>,
    /// First Beijing date, `YYYY-MM-DD`.
    pub from: Option<String>,
    /// Last Beijing date, `YYYY-MM-DD`.
    pub until: Option<String>,
    pub subject_kind: Option<String>,
    pub decision: Option<String>,
    /// Records older than this id (the last id of the previous page).
    pub before: Option<Uuid>,
    /// At most this many (1 to 1000, default 100).
    pub limit: Option<u32>,
}

fn parse_date(raw: Option<&str>, field: &'static str) -> Result<Option<Date>, FieldError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => Date::parse(s, time::macros::format_description!("[year]-[month]-[day]"))
            .map(Some)
            .map_err(|_| FieldError::new(field, "date.invalid")),
    }
}

/// Beijing midnight starting a date.
pub fn day_start(d: Date) -> OffsetDateTime {
    d.midnight().assume_offset(fangkong_domain::clock::BEIJING)
}

/// Turns the query into a store filter limited to the asker's scope.
pub async fn filter_of(
    state: &AppState,
    who: &Principal,
    q: &RecordQuery,
) -> Result<store::Filter, ApiError> {
    let mut errors = Vec::new();
    let from = parse_date(q.from.as_deref(), "from").map_err(|e| errors.push(e));
    let until = parse_date(q.until.as_deref(), "until").map_err(|e| errors.push(e));
    let kind = match q.subject_kind.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(k) => SubjectKind::parse(k).or_else(|| {
            errors.push(FieldError::new("subject_kind", "screening.kind.invalid"));
            None
        }),
    };
    let decision = match q.decision.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some(d) => Decision::parse(d).or_else(|| {
            errors.push(FieldError::new("decision", "screening.decision.invalid"));
            None
        }),
    };
    let (Ok(from), Ok(until)) = (from, until) else {
        return Err(ApiError::invalid(errors));
    };
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let sites = match q.site.as_deref().filter(|s| !s.is_empty()) {
        Some(code) => {
            let site = who.site_in_scope(&state.store, code).await?;
            org::subtree(&state.store, site.id).await?
        }
        None => match &who.account {
            Some(a) => org::subtree(&state.store, a.site_id).await?,
            None => Vec::new(),
        },
    };
    Ok(store::Filter {
        sites,
        from: from.map(day_start),
        until: until.map(|d| day_start(d) + Duration::days(1)),
        kind,
        decision,
        waiting: false,
        before: q.before,
    })
}

/// Door records in your subtree, newest first (personal fields masked).
#[utoipa::path(get, path = "/api/v1/screenings", tag = "screening",
    params(RecordQuery),
    responses((status = 200, body = [ScreeningDto]), (status = 422, description = "Bad filter")))]
async fn list_screenings(
    State(state): State<AppState>,
    who: Principal,
    Query(q): Query<RecordQuery>,
) -> Result<Json<Vec<ScreeningDto>>, ApiError> {
    let f = filter_of(&state, &who, &q).await?;
    let rows = store::list(&state.store, &f, q.limit.unwrap_or(100).clamp(1, 1000)).await?;
    let regs: Vec<Uuid> = rows.iter().filter_map(|r| r.registration_id).collect();
    let masks = store::registration_masks(&state.store, &state.vault, &regs).await?;
    Ok(Json(rows.iter().map(|r| dto(r, &masks)).collect()))
}

/// A door record in your subtree, or "not found".
pub async fn screening_in_scope(
    state: &AppState,
    who: &Principal,
    id: Uuid,
) -> Result<store::Screening, ApiError> {
    let s = store::find(&state.store, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if who.scope(&state.store).await?.covers(s.site_id) {
        Ok(s)
    } else {
        Err(ApiError::not_found())
    }
}

/// One door record (personal fields masked).
#[utoipa::path(get, path = "/api/v1/screenings/{id}", tag = "screening",
    params(("id" = Uuid, Path, description = "Screening id")),
    responses((status = 200, body = ScreeningDto), (status = 404, description = "Not in your subtree")))]
async fn get_screening(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<Uuid>,
) -> Result<Json<ScreeningDto>, ApiError> {
    let s = screening_in_scope(&state, &who, id).await?;
    let regs: Vec<Uuid> = s.registration_id.into_iter().collect();
    let masks = store::registration_masks(&state.store, &state.vault, &regs).await?;
    Ok(Json(dto(&s, &masks)))
}

/// A re-check in the buffer zone.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecheckBody {
    #[schema(value_type = f64, example = 37.1)]
    #[serde(default)]
    pub temperature_c: Option<serde_json::Value>,
    /// Any of `fever`, `cough`, `fatigue`, `sore_throat`, `breathing_difficulty`,
    /// `diarrhoea`.
    #[serde(default)]
    pub symptoms: Vec<String>,
    /// The four epidemiological questions.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub answers: Answers,
    /// `cleared`, `recheck` or `suspected`; the rule decides when left out.
    #[serde(default)]
    pub outcome: Option<String>,
}

/// What a re-check decided.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RecheckAnswer {
    pub screening: Uuid,
    pub attempt: u32,
    /// `cleared`, `recheck` or `suspected`.
    pub outcome: String,
    /// The suspected-case record opened, for `suspected`.
    pub case_id: Option<Uuid>,
    /// When the next re-check is due, for `recheck`.
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_due_at: Option<OffsetDateTime>,
}

/// Records a re-check: the page's form and the API share this.
pub async fn recheck(
    state: &AppState,
    who: &Principal,
    id: Uuid,
    body: &RecheckBody,
    idem: &Idem<'_>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let s = screening_in_scope(state, who, id).await?;
    let site = org::find_site_by_id(&state.store, s.site_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let rules = state.screening.buffer;
    let mut errors = Vec::new();
    let temperature = temperature_of(body.temperature_c.as_ref()).map_err(|e| errors.push(e));
    let symptoms =
        rules::parse_symptoms(body.symptoms.iter().map(String::as_str)).map_err(|e| errors.push(e));
    let answers = body
        .answers
        .clone()
        .validate(day_of(now))
        .map_err(|e| errors.push(e));
    let chosen = match body
        .outcome
        .as_deref()
        .map(str::trim)
        .filter(|o| !o.is_empty())
    {
        None => None,
        Some(o) => Outcome::parse(o).or_else(|| {
            errors.push(FieldError::new("outcome", "screening.outcome.invalid"));
            None
        }),
    };
    let (Ok(temperature), Ok(symptoms), Ok(answers)) = (temperature, symptoms, answers) else {
        return Err(ApiError::invalid(errors));
    };
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    if let Some(replay) = idem.check(&state.store).await? {
        return Ok(replay);
    }
    if s.buffer_state.as_deref() != Some("waiting") {
        return Err(ApiError::new(StatusCode::CONFLICT, "screening.not_waiting"));
    }
    if now < rules.due_at(s.last_measured_at) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "screening.recheck.early",
        ));
    }
    let attempt = u8::try_from(s.rechecks + 1).unwrap_or(u8::MAX);
    let outcome = match chosen {
        Some(Outcome::Recheck) if !rules.may_recheck(attempt) => {
            return Err(ApiError::invalid(vec![FieldError::new(
                "outcome",
                "screening.recheck.exhausted",
            )]));
        }
        Some(o) => o,
        None => rules.outcome(attempt, temperature, threshold(&site), &symptoms, &answers),
    };
    let new = NewRecheck {
        id: state.ids.new_id(),
        screening: id,
        at: now,
        temperature,
        health: Health { symptoms, answers },
        outcome,
        recorded_by: who.actor().to_owned(),
        case_id: state.ids.new_id(),
    };
    let mut tx = state.store.begin().await?;
    if let Some(replay) = idem.check_in(&mut tx).await? {
        return Ok(replay);
    }
    let done = match store::record_recheck(&mut tx, &state.vault, &new, state.ids.as_ref()).await {
        Ok(d) => d,
        Err(fangkong_store::StoreError::NotFound) => {
            return Err(ApiError::new(StatusCode::CONFLICT, "screening.not_waiting"));
        }
        Err(fangkong_store::StoreError::Unique { .. }) => {
            return Err(ApiError::new(StatusCode::CONFLICT, "screening.not_waiting"));
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(case) = done.case_id {
        audit::append(
            &mut tx,
            now,
            &Record {
                actor: who.actor(),
                addr: &who.addr,
                action: "case.open",
                target: format!("case:{case}"),
                site: &site.code,
                outcome: AuditOutcome::Ok,
                detail: serde_json::json!({"source": "buffer", "screening": id}),
            },
        )
        .await?;
    }
    let answer = RecheckAnswer {
        screening: id,
        attempt: done.attempt,
        outcome: outcome.as_str().to_owned(),
        case_id: done.case_id,
        next_due_at: (outcome == Outcome::Recheck).then(|| rules.due_at(now)),
    };
    let text = serde_json::to_string(&answer).map_err(|_| ApiError::internal())?;
    if let Some(op) = idem.remember(StatusCode::OK, &text, now)
        && let Err(e) = tx.execute(op.sql, &op.params).await
    {
        drop(tx);
        return idem.resolve(&state.store, e).await;
    }
    if let Err(e) = tx.commit().await {
        return idem.resolve(&state.store, e).await;
    }
    state.live.touch(Topic::Buffer);
    state.live.touch(Topic::Screening);
    if outcome == Outcome::Cleared {
        state.live.touch(Topic::Occupancy);
    }
    if done.case_id.is_some() {
        crate::cases::raised(state);
    }
    Ok(json_response(StatusCode::OK, text))
}

/// Re-checks a person waiting in the buffer zone after their rest.
///
/// When `outcome` is left out the rule decides: still at or above the threshold on the
/// last allowed re-check, or any symptom with a "yes" to one of the four questions →
/// `suspected` (a suspected-case record is opened); below the threshold with no symptom
/// → `cleared` (admitted); otherwise `recheck`.
#[utoipa::path(post, path = "/api/v1/screenings/{id}/rechecks", tag = "screening",
    request_body = RecheckBody,
    params(("id" = Uuid, Path, description = "Screening id"),
        ("Idempotency-Key" = Option<String>, Header, description = "Replays return the first answer")),
    responses(
        (status = 200, body = RecheckAnswer),
        (status = 409, description = "Not waiting in the buffer zone, or the rest is not over"),
        (status = 422, description = "Invalid reading, symptoms or answers")))]
async fn post_recheck(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<Uuid>,
    key: IdempotencyKey,
    body: JsonBody<RecheckBody>,
) -> Result<Response, ApiError> {
    let idem = Idem::new("POST /api/v1/screenings/{id}/rechecks", &who, &key, &body);
    recheck(&state, &who, id, &body.value, &idem).await
}

/// A passage out of the hall, tapped at the door or sent by a counter.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DoorEventBody {
    pub site: String,
    #[serde(default)]
    pub checkpoint: Option<String>,
    /// `out` (entries are counted by `admit` decisions).
    pub direction: String,
}

/// People inside a hall now.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OccupancyDto {
    pub site: String,
    pub inside: u32,
    pub capacity: u32,
    /// Today's highest count and when it was reached.
    pub peak: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub peak_at: Option<OffsetDateTime>,
}

/// Records a passage: the page's exit button, devices over HTTP and MQTT share this.
pub async fn passage(
    state: &AppState,
    who: &Principal,
    body: &DoorEventBody,
    idem: &Idem<'_>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let direction = match Direction::parse(body.direction.trim()) {
        Some(Direction::Out) => Direction::Out,
        Some(Direction::In) => {
            return Err(ApiError::invalid(vec![FieldError::new(
                "direction",
                "door.direction.in",
            )]));
        }
        None => {
            return Err(ApiError::invalid(vec![FieldError::new(
                "direction",
                "door.direction.invalid",
            )]));
        }
    };
    let door = door(state, who, &body.site, body.checkpoint.as_deref()).await?;
    if let Some(replay) = idem.check(&state.store).await? {
        return Ok(replay);
    }
    let event = NewDoorEvent {
        id: state.ids.new_id(),
        site_id: door.site.id,
        checkpoint_id: door.checkpoint.id,
        at: now,
        direction,
        recorded_by: who.actor().to_owned(),
    };
    let before = store::occupancy(&state.store, door.site.id, now).await?;
    let answer = OccupancyDto {
        site: door.site.code.clone(),
        inside: rules::occupancy_after(before.inside, direction),
        capacity: door.site.capacity,
        peak: before.peak,
        peak_at: before.peak_at,
    };
    let text = serde_json::to_string(&answer).map_err(|_| ApiError::internal())?;
    let ops = store::door_event_ops(&event);
    if let Some(replay) = write_created(state, idem, ops, now, &text).await? {
        return Ok(replay);
    }
    state.live.touch(Topic::Occupancy);
    Ok(json_response(StatusCode::CREATED, text))
}

/// Records a person leaving the hall; the count inside never goes below zero.
#[utoipa::path(post, path = "/api/v1/door-events", tag = "screening",
    request_body = DoorEventBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays return the first answer")),
    responses((status = 201, description = "Recorded; the occupancy after it", body = OccupancyDto),
        (status = 422, description = "Unknown site, checkpoint or direction")))]
async fn post_door_event(
    State(state): State<AppState>,
    who: Principal,
    key: IdempotencyKey,
    body: JsonBody<DoorEventBody>,
) -> Result<Response, ApiError> {
    let idem = Idem::new("POST /api/v1/door-events", &who, &key, &body);
    passage(&state, &who, &body.value, &idem).await
}

/// People inside a hall now, against its capacity.
#[utoipa::path(get, path = "/api/v1/sites/{code}/occupancy", tag = "screening",
    params(("code" = String, Path, description = "Site code")),
    responses((status = 200, body = OccupancyDto), (status = 404, description = "Not in your subtree")))]
async fn get_occupancy(
    State(state): State<AppState>,
    who: Principal,
    Path(code): Path<String>,
) -> Result<Json<OccupancyDto>, ApiError> {
    let site = who.site_in_scope(&state.store, &code).await?;
    let o = store::occupancy(&state.store, site.id, state.clock.now()).await?;
    Ok(Json(OccupancyDto {
        site: site.code,
        inside: o.inside,
        capacity: site.capacity,
        peak: o.peak,
        peak_at: o.peak_at,
    }))
}

/// Someone waiting in the buffer zone.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WaitingDto {
    pub id: Uuid,
    pub site: String,
    pub checkpoint: String,
    pub subject_kind: String,
    pub temperature_c: f64,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub since: OffsetDateTime,
    pub waiting_minutes: i64,
    pub rechecks: u32,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub due_at: OffsetDateTime,
    pub due: bool,
}

/// Who waits in the buffer zones of these sites now.
pub async fn waiting(state: &AppState, sites: &[Uuid]) -> Result<Vec<WaitingDto>, ApiError> {
    let now = state.clock.now();
    let rules = state.screening.buffer;
    Ok(store::waiting(&state.store, sites)
        .await?
        .into_iter()
        .map(|s| {
            let due_at = rules.due_at(s.last_measured_at);
            WaitingDto {
                id: s.id,
                site: s.site_code,
                checkpoint: s.checkpoint_name,
                subject_kind: s.kind.as_str().to_owned(),
                temperature_c: s.temperature.celsius(),
                since: s.at,
                waiting_minutes: (now - s.at).whole_minutes().max(0),
                rechecks: s.rechecks,
                due_at,
                due: now >= due_at,
            }
        })
        .collect())
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct SiteQuery {
    /// Site code; your own site when left out.
    pub site: Option<String>,
    /// A Beijing date, `YYYY-MM-DD`; today when left out.
    pub date: Option<String>,
}

/// The site a query names, or the asker's own.
pub async fn site_of(
    state: &AppState,
    who: &Principal,
    code: Option<&str>,
) -> Result<Site, ApiError> {
    let code = match code.filter(|c| !c.is_empty()) {
        Some(c) => c.to_owned(),
        None => who.account()?.site_code.clone(),
    };
    who.site_in_scope(&state.store, &code).await
}

/// People waiting in the buffer zone of a site and its subtree, longest first.
#[utoipa::path(get, path = "/api/v1/buffer", tag = "screening",
    params(SiteQuery),
    responses((status = 200, body = [WaitingDto])))]
async fn get_buffer(
    State(state): State<AppState>,
    who: Principal,
    Query(q): Query<SiteQuery>,
) -> Result<Json<Vec<WaitingDto>>, ApiError> {
    let site = site_of(&state, &who, q.site.as_deref()).await?;
    let sites = org::subtree(&state.store, site.id).await?;
    Ok(Json(waiting(&state, &sites).await?))
}

/// One staff member's checks on a day.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StaffCheckDto {
    pub person: Uuid,
    /// Masked.
    pub name: String,
    pub unit: Option<String>,
    pub job: String,
    pub pre_shift: bool,
    pub post_shift: bool,
    /// `pre_shift` and/or `post_shift` (post-shift only once the hall has closed).
    pub missing: Vec<String>,
}

/// The staff of a site with the day's checks, grouped by unit (in unit order).
pub async fn staff_day(
    state: &AppState,
    site: &Site,
    day: Date,
) -> Result<Vec<StaffCheckDto>, ApiError> {
    let now = state.clock.now();
    let checks = store::staff_checks(&state.store, site.id, day).await?;
    let today = day_of(now);
    let closed = day < today || (day == today && rules::after_hours(&site.opening_hours, now));
    let mut out: Vec<StaffCheckDto> = org::people(&state.store, &state.vault, site.id)
        .await?
        .into_iter()
        .filter(|p| p.kind == fangkong_domain::org::PersonKind::Staff)
        .map(|p| {
            let mut d = rules::StaffDay::default();
            for (who, phase) in &checks {
                if *who == p.id {
                    match phase {
                        Phase::PreShift => d.pre_shift = true,
                        Phase::PostShift => d.post_shift = true,
                    }
                }
            }
            StaffCheckDto {
                person: p.id,
                name: p.name.clone(),
                unit: p.unit.clone(),
                job: p.job.clone(),
                pre_shift: d.pre_shift,
                post_shift: d.post_shift,
                missing: d
                    .missing(closed)
                    .into_iter()
                    .map(|m| m.as_str().to_owned())
                    .collect(),
            }
        })
        .collect();
    out.sort_by(|a, b| a.unit.cmp(&b.unit).then_with(|| a.name.cmp(&b.name)));
    Ok(out)
}

/// The staff of a site with today's (or a date's) pre- and post-shift checks, and what
/// each is missing.
#[utoipa::path(get, path = "/api/v1/staff-checks", tag = "screening",
    params(SiteQuery),
    responses((status = 200, body = [StaffCheckDto]), (status = 422, description = "Bad date")))]
async fn get_staff_checks(
    State(state): State<AppState>,
    who: Principal,
    Query(q): Query<SiteQuery>,
) -> Result<Json<Vec<StaffCheckDto>>, ApiError> {
    let site = site_of(&state, &who, q.site.as_deref()).await?;
    let day = parse_date(q.date.as_deref(), "date")
        .map_err(|e| ApiError::invalid(vec![e]))?
        .unwrap_or_else(|| day_of(state.clock.now()));
    Ok(Json(staff_day(&state, &site, day).await?))
}

/// A citizen's self-registration (personal fields optional).
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistrationBody {
    pub site: String,
    #[serde(default)]
    pub checkpoint: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
}

/// The number to show the volunteer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RegistrationAnswer {
    pub number: String,
    /// Days the registration is kept.
    pub retention_days: u16,
}

/// A site and checkpoint for the public (any site: the poster names them).
pub async fn public_door(
    state: &AppState,
    site: &str,
    checkpoint: Option<&str>,
) -> Result<Door, ApiError> {
    let site = org::find_site(&state.store, site)
        .await?
        .ok_or_else(|| ApiError::invalid(vec![FieldError::new("site", "site.unknown")]))?;
    let checkpoint = org::checkpoints(&state.store, site.id)
        .await?
        .into_iter()
        .find(|c| checkpoint.map_or(c.is_main, |code| c.code == code))
        .ok_or_else(|| {
            ApiError::invalid(vec![FieldError::new(
                "checkpoint",
                "screening.checkpoint.unknown",
            )])
        })?;
    Ok(Door { site, checkpoint })
}

/// Self-registrations one client address may make per minute (a hall's Wi-Fi puts many
/// phones behind one address, so the limit is generous; it stops scripts from using up a
/// day's numbers).
pub const REGISTRATIONS_PER_MINUTE: u32 = 30;

/// The per-address limit on self-registrations (kept per process).
pub type RegistrationLimiter = governor::DefaultKeyedRateLimiter<String>;

pub fn registration_limiter() -> RegistrationLimiter {
    let per_minute =
        std::num::NonZeroU32::new(REGISTRATIONS_PER_MINUTE).unwrap_or(std::num::NonZeroU32::MIN);
    governor::RateLimiter::keyed(governor::Quota::per_minute(per_minute))
}

/// Stores a self-registration; the page and the API share this. `addr` is the client's
/// address, for the rate limit.
pub async fn register(
    state: &AppState,
    addr: &str,
    body: &RegistrationBody,
) -> Result<RegistrationAnswer, ApiError> {
    use fangkong_domain::privacy::{PersonName, Phone};
    if state.registrations.check_key(&addr.to_owned()).is_err() {
        return Err(ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "registration.rate_limited",
        ));
    }
    let door = public_door(state, &body.site, body.checkpoint.as_deref()).await?;
    let mut errors = Vec::new();
    let name = match body
        .name
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(n) => PersonName::parse(n, "name")
            .map_err(|e| errors.push(e))
            .ok(),
    };
    let phone = match body
        .phone
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(p) => Phone::parse(p, "phone").map_err(|e| errors.push(e)).ok(),
    };
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let r = store::NewRegistration {
        id: state.ids.new_id(),
        site_id: door.site.id,
        checkpoint_id: door.checkpoint.id,
        at: state.clock.now(),
        name,
        phone,
    };
    // Candidate numbers from the random part of fresh ids.
    let ids = state.ids.clone();
    let numbers = (0..20).map(move |_| {
        let b = ids.new_id().into_bytes();
        rules::registration_number(u16::from_be_bytes([b[14], b[15]]))
    });
    let number = store::insert_registration(&state.store, &state.vault, &r, numbers).await?;
    Ok(RegistrationAnswer {
        number,
        retention_days: state.screening.retention_days,
    })
}

/// A citizen leaves name and phone before reaching the door; the volunteer then only
/// measures, typing the number shown.
#[utoipa::path(post, path = "/api/v1/registrations", tag = "screening",
    request_body = RegistrationBody,
    responses((status = 201, body = RegistrationAnswer), (status = 422, description = "Invalid name or phone")))]
async fn post_registration(
    State(state): State<AppState>,
    who: Principal,
    body: JsonBody<RegistrationBody>,
) -> Result<(StatusCode, Json<RegistrationAnswer>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(register(&state, &who.addr, &body.value).await?),
    ))
}

/// A registered device.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeviceDto {
    pub id: Uuid,
    pub name: String,
    pub site: String,
    /// Whether it holds a live token.
    pub active: bool,
}

/// A new device and its token (shown once).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NewDeviceAnswer {
    pub id: Uuid,
    pub name: String,
    pub site: String,
    pub token: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: OffsetDateTime,
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceBody {
    /// Site code.
    pub site: String,
    /// A name such as `thermal-1` (letters, digits, `-`; 2 to 32).
    pub name: String,
}

/// How long a device token lives.
pub const DEVICE_TOKEN_DAYS: i64 = 366;

/// The account name a device signs with.
fn device_username(name: &str) -> String {
    format!("device-{name}")
}

/// Registers a device: an account of role `device` at the site, and a token.
pub async fn add_device(
    state: &AppState,
    who: &Principal,
    body: &DeviceBody,
) -> Result<NewDeviceAnswer, ApiError> {
    use fangkong_store::accounts;
    let name = body.name.trim().to_ascii_lowercase();
    let ok = (2..=32).contains(&name.len())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    let site = who
        .site_in_scope(&state.store, &body.site)
        .await
        .map_err(|_| ApiError::invalid(vec![FieldError::new("site", "site.unknown")]));
    if !ok {
        return Err(ApiError::invalid(vec![FieldError::new(
            "name",
            "device.name.invalid",
        )]));
    }
    let site = site?;
    let now = state.clock.now();
    let id = state.ids.new_id();
    let token = accounts::new_secret::<32>();
    // The account never signs in with a password: a random one nobody knows.
    let hash = accounts::hash_password(&accounts::new_secret::<32>())?;
    let username = device_username(&name);
    let expires_at = now + Duration::days(DEVICE_TOKEN_DAYS);
    let mut tx = state.store.begin().await?;
    accounts::insert_user(
        &mut tx,
        &accounts::NewUser {
            id,
            username: &username,
            role: Role::Device,
            site_id: site.id,
            password_hash: &hash,
            must_change: false,
        },
        now,
    )
    .await
    .map_err(|e| match e {
        fangkong_store::StoreError::Invalid(_) => {
            ApiError::invalid(vec![FieldError::new("name", "device.name.taken")])
        }
        other => other.into(),
    })?;
    accounts::insert_token(
        &mut tx,
        state.ids.new_id(),
        id,
        &token,
        "device",
        now,
        expires_at,
    )
    .await?;
    audit::append(
        &mut tx,
        now,
        &Record {
            actor: who.actor(),
            addr: &who.addr,
            action: "device.create",
            target: format!("user:{id}"),
            site: &site.code,
            outcome: AuditOutcome::Ok,
            detail: serde_json::json!({"name": name}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(NewDeviceAnswer {
        id,
        name,
        site: site.code,
        token,
        expires_at,
    })
}

/// The devices of the asker's subtree.
pub async fn devices(state: &AppState, who: &Principal) -> Result<Vec<DeviceDto>, ApiError> {
    use fangkong_store::accounts;
    let scope = who.scope(&state.store).await?;
    let now = state.clock.now();
    let mut out = Vec::new();
    for a in accounts::list_users(&state.store).await? {
        if a.role != Role::Device || !scope.covers(a.site_id) {
            continue;
        }
        let active = accounts::list_tokens(&state.store, a.id)
            .await?
            .iter()
            .any(|t| t.revoked_at.is_none() && t.expires_at > now);
        out.push(DeviceDto {
            id: a.id,
            name: a.username.trim_start_matches("device-").to_owned(),
            site: a.site_code,
            active,
        });
    }
    Ok(out)
}

/// Revokes every token of a device; its readings are refused from then on.
pub async fn revoke_device(state: &AppState, who: &Principal, id: Uuid) -> Result<(), ApiError> {
    use fangkong_store::accounts;
    let device = accounts::find_user(&state.store, id)
        .await?
        .filter(|a| a.role == Role::Device)
        .ok_or_else(ApiError::not_found)?;
    if !who.scope(&state.store).await?.covers(device.site_id) {
        return Err(ApiError::not_found());
    }
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    for t in accounts::list_tokens(&state.store, id).await? {
        if t.revoked_at.is_none() {
            accounts::revoke_token(&mut tx, id, t.id, now).await?;
        }
    }
    audit::append(
        &mut tx,
        now,
        &Record {
            actor: who.actor(),
            addr: &who.addr,
            action: "device.revoke",
            target: format!("user:{id}"),
            site: &device.site_code,
            outcome: AuditOutcome::Ok,
            detail: serde_json::json!({"name": device.username}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Devices of your subtree.
#[utoipa::path(get, path = "/api/v1/devices", tag = "screening",
    responses((status = 200, body = [DeviceDto])))]
async fn list_devices(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<Vec<DeviceDto>>, ApiError> {
    Ok(Json(devices(&state, &who).await?))
}

/// Registers a thermal scanner or door counter; answers its token once.
#[utoipa::path(post, path = "/api/v1/devices", tag = "screening",
    request_body = DeviceBody,
    responses((status = 201, body = NewDeviceAnswer), (status = 422, description = "Bad or taken name, unknown site")))]
async fn post_device(
    State(state): State<AppState>,
    who: Principal,
    body: JsonBody<DeviceBody>,
) -> Result<(StatusCode, Json<NewDeviceAnswer>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(add_device(&state, &who, &body.value).await?),
    ))
}

/// Revokes a device's tokens.
#[utoipa::path(delete, path = "/api/v1/devices/{id}", tag = "screening",
    params(("id" = Uuid, Path, description = "Device id")),
    responses((status = 204, description = "Revoked"), (status = 404, description = "No such device")))]
async fn delete_device(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    revoke_device(&state, &who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// How many door records a purge removed.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PurgeAnswer {
    pub purged: u64,
    pub retention_days: u16,
}

/// Runs the retention purge now (it also runs hourly): door records of people never
/// suspected, older than the retention period, are deleted; daily counts stay. Audited.
#[utoipa::path(post, path = "/api/v1/screenings/purge", tag = "screening",
    responses((status = 200, body = PurgeAnswer)))]
async fn post_purge(State(state): State<AppState>) -> Result<Json<PurgeAnswer>, ApiError> {
    Ok(Json(PurgeAnswer {
        purged: purge(&state).await?,
        retention_days: state.screening.retention_days,
    }))
}

/// Purges door records past retention, keeping counts; audited. Returns how many.
pub async fn purge(state: &AppState) -> Result<u64, ApiError> {
    let now = state.clock.now();
    let before = rules::purge_before(now, state.screening.retention_days);
    let mut tx = state.store.begin().await?;
    let n = store::purge(&mut tx, before).await?;
    if n > 0 {
        let root = org::list_sites(&state.store)
            .await?
            .into_iter()
            .find(|s| s.site.kind == SiteKind::District)
            .map(|s| s.site.code)
            .unwrap_or_default();
        audit::append(
            &mut tx,
            now,
            &Record {
                actor: "system",
                addr: "-",
                action: "screening.purge",
                target: "screenings".into(),
                site: &root,
                outcome: AuditOutcome::Ok,
                detail: serde_json::json!({
                    "records": n,
                    "before": before.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
                    "retention_days": state.screening.retention_days,
                }),
            },
        )
        .await?;
    }
    tx.commit().await?;
    Ok(n)
}
