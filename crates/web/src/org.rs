//! The organisation's API: sites (the district's tree of service centres), their
//! checkpoints and working groups, and the people who work there, with personal fields
//! masked unless one is revealed (audited). Everything is limited to the caller's subtree.

use crate::AppState;
use crate::access::Principal;
use crate::error::ApiError;
use crate::idempotency::{Idem, IdempotencyKey, JsonBody, json_response};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use fangkong_domain::FieldError;
use fangkong_domain::audit::Outcome;
use fangkong_domain::clock::beijing;
use fangkong_domain::org::{
    Name, NewSite, PersonKind, SiteCode, SiteKind, parse_address, parse_capacity,
};
use fangkong_domain::privacy::{IdNumber, PersonName, Phone};
use fangkong_store::audit::{self, Record};
use fangkong_store::org::{self, PersonalField, Site};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_sites, create_site))
        .routes(routes!(get_site))
        .routes(routes!(site_checkpoints))
        .routes(routes!(site_groups))
        .routes(routes!(site_people))
        .routes(routes!(create_person))
        .routes(routes!(get_person, delete_person))
        .routes(routes!(reveal_person))
}

/// A site as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct SiteDto {
    /// Unique short code, e.g. `JD-QX`.
    pub code: String,
    pub name: String,
    /// `district`, `traffic_branch`, `town` or `village`.
    pub kind: String,
    /// The parent site's code; `null` at the root.
    pub parent: Option<String>,
    pub address: String,
    /// People allowed inside at once.
    pub capacity: u32,
    /// `HH:MM-HH:MM` ranges, comma-separated.
    pub opening_hours: String,
    /// Temperature threshold in °C (37.3 unless changed).
    pub threshold: f64,
}

impl From<Site> for SiteDto {
    fn from(s: Site) -> SiteDto {
        SiteDto {
            code: s.code,
            name: s.name,
            kind: s.kind.as_str().to_owned(),
            parent: s.parent,
            address: s.address,
            capacity: s.capacity,
            opening_hours: s.opening_hours,
            threshold: f64::from(s.threshold) / 10.0,
        }
    }
}

/// A site to create.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSite {
    pub code: String,
    pub name: String,
    pub kind: String,
    #[serde(default)]
    pub parent: Option<String>,
    #[serde(default)]
    pub address: Option<String>,
    pub capacity: i64,
}

impl CreateSite {
    /// Validates every field, reporting all problems at once.
    fn validate(&self) -> Result<NewSite, Vec<FieldError>> {
        let code = SiteCode::parse(&self.code);
        let name = Name::parse(&self.name, "name");
        let kind = SiteKind::parse(&self.kind);
        let parent = self
            .parent
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .map(|p| {
                SiteCode::parse(p).map_err(|_| FieldError::new("parent", "site.parent.unknown"))
            })
            .transpose();
        let address = parse_address(self.address.as_deref().unwrap_or(""));
        let capacity = parse_capacity(self.capacity);
        match (code, name, kind, parent, address, capacity) {
            (Ok(code), Ok(name), Ok(kind), Ok(parent), Ok(address), Ok(capacity)) => Ok(NewSite {
                code,
                name,
                kind,
                parent,
                address,
                capacity,
            }),
            (code, name, kind, parent, address, capacity) => Err([
                code.err(),
                name.err(),
                kind.err(),
                parent.err(),
                address.err(),
                capacity.err(),
            ]
            .into_iter()
            .flatten()
            .collect()),
        }
    }
}

/// Lists the sites you may see (your site and its subtree) in tree order: each parent
/// followed by its subtree.
#[utoipa::path(get, path = "/api/v1/sites", tag = "org",
    responses((status = 200, description = "The sites", body = [SiteDto])))]
async fn list_sites(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<Vec<SiteDto>>, ApiError> {
    let scope = who.scope(&state.store).await?;
    let sites = org::list_sites(&state.store).await?;
    Ok(Json(
        sites
            .into_iter()
            .filter(|s| scope.covers(s.site.id))
            .map(|s| SiteDto::from(s.site))
            .collect(),
    ))
}

/// One site by its code (404 outside your subtree).
#[utoipa::path(get, path = "/api/v1/sites/{code}", tag = "org",
    params(("code" = String, Path, description = "Site code")),
    responses((status = 200, body = SiteDto), (status = 404, description = "No such site")))]
async fn get_site(
    State(state): State<AppState>,
    who: Principal,
    Path(code): Path<String>,
) -> Result<Json<SiteDto>, ApiError> {
    Ok(Json(who.site_in_scope(&state.store, &code).await?.into()))
}

/// A checkpoint (entrance) of a site.
#[derive(Debug, Serialize, ToSchema)]
pub struct CheckpointDto {
    pub code: String,
    pub name: String,
    /// The main entrance (one per site).
    pub is_main: bool,
}

/// A site's checkpoints, the main entrance first.
#[utoipa::path(get, path = "/api/v1/sites/{code}/checkpoints", tag = "org",
    params(("code" = String, Path, description = "Site code")),
    responses((status = 200, body = [CheckpointDto]), (status = 404, description = "No such site")))]
async fn site_checkpoints(
    State(state): State<AppState>,
    who: Principal,
    Path(code): Path<String>,
) -> Result<Json<Vec<CheckpointDto>>, ApiError> {
    let site = who.site_in_scope(&state.store, &code).await?;
    Ok(Json(
        org::checkpoints(&state.store, site.id)
            .await?
            .into_iter()
            .map(|c| CheckpointDto {
                code: c.code,
                name: c.name,
                is_main: c.is_main,
            })
            .collect(),
    ))
}

/// A member of a group (name masked).
#[derive(Debug, Serialize, ToSchema)]
pub struct MemberDto {
    pub person: Uuid,
    pub name: String,
    /// `head` (组长), `executive_deputy` (常务副组长), `deputy` (副组长) or `member`.
    pub position: String,
}

/// The leadership group or one of the five working groups.
#[derive(Debug, Serialize, ToSchema)]
pub struct GroupDto {
    /// `leadership`, `support`, `service`, `web`, `hotline` or `procurement`.
    pub kind: String,
    pub duties: String,
    pub members: Vec<MemberDto>,
}

/// A site's leadership group and working groups, with members and written duties.
#[utoipa::path(get, path = "/api/v1/sites/{code}/groups", tag = "org",
    params(("code" = String, Path, description = "Site code")),
    responses((status = 200, body = [GroupDto]), (status = 404, description = "No such site")))]
async fn site_groups(
    State(state): State<AppState>,
    who: Principal,
    Path(code): Path<String>,
) -> Result<Json<Vec<GroupDto>>, ApiError> {
    let site = who.site_in_scope(&state.store, &code).await?;
    Ok(Json(
        org::groups(&state.store, &state.vault, site.id)
            .await?
            .into_iter()
            .map(|g| GroupDto {
                kind: g.kind.as_str().to_owned(),
                duties: g.duties,
                members: g
                    .members
                    .into_iter()
                    .map(|m| MemberDto {
                        person: m.person,
                        name: m.name,
                        position: m.position.as_str().to_owned(),
                    })
                    .collect(),
            })
            .collect(),
    ))
}

/// A person (staff or volunteer); personal fields are always masked here.
#[derive(Debug, Serialize, ToSchema)]
pub struct PersonDto {
    pub id: Uuid,
    pub site: String,
    /// The resident unit's name, if any.
    pub unit: Option<String>,
    /// `staff` or `volunteer`.
    pub kind: String,
    pub job: String,
    /// Masked, e.g. `张*`.
    pub name: String,
    /// Masked, e.g. `138****1234`.
    pub phone: Option<String>,
    /// Masked, e.g. `445***********123X`.
    pub id_number: Option<String>,
}

impl From<org::Person> for PersonDto {
    fn from(p: org::Person) -> PersonDto {
        PersonDto {
            id: p.id,
            site: p.site_code,
            unit: p.unit,
            kind: p.kind.as_str().to_owned(),
            job: p.job,
            name: p.name,
            phone: p.phone,
            id_number: p.id_number,
        }
    }
}

/// The people of a site (masked).
#[utoipa::path(get, path = "/api/v1/sites/{code}/people", tag = "org",
    params(("code" = String, Path, description = "Site code")),
    responses((status = 200, body = [PersonDto]), (status = 404, description = "No such site")))]
async fn site_people(
    State(state): State<AppState>,
    who: Principal,
    Path(code): Path<String>,
) -> Result<Json<Vec<PersonDto>>, ApiError> {
    let site = who.site_in_scope(&state.store, &code).await?;
    Ok(Json(
        org::people(&state.store, &state.vault, site.id)
            .await?
            .into_iter()
            .map(PersonDto::from)
            .collect(),
    ))
}

/// A person to add. Only what the plan needs: name, and for contact and the health
/// ledger, phone and ID number.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct NewPersonBody {
    pub site: String,
    /// Code of the resident unit (staff), if any.
    pub unit: Option<String>,
    /// `staff` or `volunteer`.
    pub kind: String,
    pub job: String,
    pub name: String,
    pub phone: Option<String>,
    pub id_number: Option<String>,
}

/// Validates a new person against the site (which must be in scope) and its units.
pub async fn validate_person(
    state: &AppState,
    who: &Principal,
    body: &NewPersonBody,
) -> Result<(Site, org::NewPerson), ApiError> {
    let site = who
        .site_in_scope(&state.store, body.site.trim())
        .await
        .map_err(|_| ApiError::invalid(vec![FieldError::new("site", "site.unknown")]))?;
    let today = beijing(state.clock.now()).date();
    let text = |o: &Option<String>| {
        o.as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let kind = PersonKind::parse(body.kind.trim());
    let name = PersonName::parse(&body.name, "name");
    let phone = text(&body.phone)
        .map(|p| Phone::parse(&p, "phone"))
        .transpose();
    let id_number = text(&body.id_number)
        .map(|n| IdNumber::parse(&n, "id_number", today))
        .transpose();
    let job = body.job.trim().to_owned();
    let job = if job.chars().count() > 64 || job.chars().any(char::is_control) {
        Err(FieldError::new("job", "name.invalid"))
    } else {
        Ok(job)
    };
    let unit = match text(&body.unit) {
        None => Ok(None),
        Some(code) => org::units(&state.store, site.id)
            .await?
            .into_iter()
            .find(|u| u.code == code)
            .map(|u| Some(u.id))
            .ok_or(FieldError::new("unit", "person.unit.unknown")),
    };
    match (kind, name, phone, id_number, job, unit) {
        (Ok(kind), Ok(name), Ok(phone), Ok(id_number), Ok(job), Ok(unit)) => Ok((
            site.clone(),
            org::NewPerson {
                site: site.id,
                unit,
                kind,
                job,
                name,
                phone,
                id_number,
            },
        )),
        (a, b, c, d, e, f) => Err(ApiError::invalid(
            [a.err(), b.err(), c.err(), d.err(), e.err(), f.err()]
                .into_iter()
                .flatten()
                .collect(),
        )),
    }
}

/// Adds a person and audits it (never with the personal values).
pub async fn add_person(
    state: &AppState,
    who: &Principal,
    site: &Site,
    person: &org::NewPerson,
    tx: &mut fangkong_store::Tx,
) -> Result<Uuid, ApiError> {
    let id = state.ids.new_id();
    let now = state.clock.now();
    org::insert_person(tx, &state.vault, id, person, now).await?;
    audit::append(
        tx,
        now,
        &Record {
            actor: who.actor(),
            addr: &who.addr,
            action: "person.create",
            target: format!("person:{id}"),
            site: &site.code,
            outcome: Outcome::Ok,
            detail: serde_json::json!({"kind": person.kind.as_str()}),
        },
    )
    .await?;
    Ok(id)
}

/// Adds a staff member or volunteer to a site.
#[utoipa::path(post, path = "/api/v1/people", tag = "org",
    request_body = NewPersonBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays return the first answer")),
    responses((status = 201, body = PersonDto), (status = 422, description = "Invalid fields")))]
async fn create_person(
    State(state): State<AppState>,
    who: Principal,
    key: IdempotencyKey,
    body: JsonBody<NewPersonBody>,
) -> Result<Response, ApiError> {
    let idem = Idem::new("POST /api/v1/people", &who, &key, &body);
    let (site, person) = validate_person(&state, &who, &body.value).await?;
    let mut tx = state.store.begin().await?;
    if let Some(replay) = idem.check_in(&mut tx).await? {
        return Ok(replay);
    }
    let id = add_person(&state, &who, &site, &person, &mut tx).await?;
    let unit = match person.unit {
        Some(u) => org::units(&state.store, site.id)
            .await?
            .into_iter()
            .find(|x| x.id == u)
            .map(|x| x.name),
        None => None,
    };
    let dto = PersonDto {
        id,
        site: site.code.clone(),
        unit,
        kind: person.kind.as_str().to_owned(),
        job: person.job.clone(),
        name: person.name.masked(),
        phone: person.phone.as_ref().map(Phone::masked),
        id_number: person.id_number.as_ref().map(IdNumber::masked),
    };
    let answer = serde_json::to_string(&dto).map_err(|_| ApiError::internal())?;
    if let Some(op) = idem.remember(StatusCode::CREATED, &answer, state.clock.now())
        && let Err(e) = tx.execute(op.sql, &op.params).await
    {
        drop(tx);
        return idem.resolve(&state.store, e).await;
    }
    if let Err(e) = tx.commit().await {
        return idem.resolve(&state.store, e).await;
    }
    Ok(json_response(StatusCode::CREATED, answer))
}

/// A person in your subtree, or "not found".
pub async fn person_in_scope(
    state: &AppState,
    who: &Principal,
    id: Uuid,
) -> Result<org::Person, ApiError> {
    let person = org::find_person(&state.store, &state.vault, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if who.scope(&state.store).await?.covers(person.site_id) {
        Ok(person)
    } else {
        Err(ApiError::not_found())
    }
}

/// One person (masked; 404 outside your subtree).
#[utoipa::path(get, path = "/api/v1/people/{id}", tag = "org",
    params(("id" = Uuid, Path, description = "Person id")),
    responses((status = 200, body = PersonDto), (status = 404, description = "No such person")))]
async fn get_person(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<Uuid>,
) -> Result<Json<PersonDto>, ApiError> {
    Ok(Json(person_in_scope(&state, &who, id).await?.into()))
}

/// Removes a person in your subtree (and their group memberships), audited.
pub async fn remove_person(
    state: &AppState,
    who: &Principal,
    id: Uuid,
) -> Result<String, ApiError> {
    let person = person_in_scope(state, who, id).await?;
    let mut tx = state.store.begin().await?;
    org::remove_person(&mut tx, id).await?;
    audit::append(
        &mut tx,
        state.clock.now(),
        &Record {
            actor: who.actor(),
            addr: &who.addr,
            action: "person.remove",
            target: format!("person:{id}"),
            site: &person.site_code,
            outcome: Outcome::Ok,
            detail: serde_json::json!({"kind": person.kind.as_str()}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(person.site_code)
}

/// Removes a person who has left: their personal data is deleted, not kept.
#[utoipa::path(delete, path = "/api/v1/people/{id}", tag = "org",
    params(("id" = Uuid, Path, description = "Person id")),
    responses((status = 204, description = "Removed"), (status = 404, description = "No such person")))]
async fn delete_person(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    remove_person(&state, &who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Which field to reveal.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevealBody {
    /// `name`, `phone` or `id_number`.
    pub field: String,
}

/// A revealed value.
#[derive(Debug, Serialize, ToSchema)]
pub struct Revealed {
    pub field: String,
    pub value: Option<String>,
}

/// Reveals one personal field and records who saw it, from where and when.
pub async fn reveal(
    state: &AppState,
    who: &Principal,
    id: Uuid,
    field: &str,
) -> Result<Option<String>, ApiError> {
    let field = PersonalField::parse(field)
        .ok_or_else(|| ApiError::invalid(vec![FieldError::new("field", "person.field.invalid")]))?;
    let person = person_in_scope(state, who, id).await?;
    let value = org::reveal(&state.store, &state.vault, id, field).await?;
    audit::append_now(
        &state.store,
        state.clock.now(),
        &Record {
            actor: who.actor(),
            addr: &who.addr,
            action: "person.reveal",
            target: format!("person:{id}"),
            site: &person.site_code,
            outcome: Outcome::Ok,
            detail: serde_json::json!({"field": field.as_str()}),
        },
    )
    .await?;
    Ok(value)
}

/// Reveals one personal field of one person. Audited; answers are not cached.
#[utoipa::path(post, path = "/api/v1/people/{id}/reveal", tag = "org",
    request_body = RevealBody,
    params(("id" = Uuid, Path, description = "Person id")),
    responses((status = 200, body = Revealed), (status = 404, description = "No such person"), (status = 422, description = "Unknown field")))]
async fn reveal_person(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<Uuid>,
    body: JsonBody<RevealBody>,
) -> Result<Response, ApiError> {
    let value = reveal(&state, &who, id, body.value.field.trim()).await?;
    let mut res = Json(Revealed {
        field: body.value.field.trim().to_owned(),
        value,
    })
    .into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    Ok(res)
}

/// Creates a site under its parent.
#[utoipa::path(post, path = "/api/v1/sites", tag = "org",
    request_body = CreateSite,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays return the first answer")),
    responses(
        (status = 201, description = "Created", body = SiteDto),
        (status = 422, description = "Invalid fields, or the key was used for another request"),
        (status = 413, description = "Body too large")))]
async fn create_site(
    State(state): State<AppState>,
    who: Principal,
    key: IdempotencyKey,
    body: JsonBody<CreateSite>,
) -> Result<Response, ApiError> {
    let idem = Idem::new("POST /api/v1/sites", &who, &key, &body);
    let new = body.value.validate().map_err(ApiError::invalid)?;
    check_parent(&state, &who, &new).await?;
    let mut tx = state.store.begin().await?;
    if let Some(replay) = idem.check_in(&mut tx).await? {
        return Ok(with_location(replay, &new.code));
    }
    let site = insert_site(&state, &who, &new, &mut tx).await?;
    let answer =
        serde_json::to_string(&SiteDto::from(site.clone())).map_err(|_| ApiError::internal())?;
    if let Some(op) = idem.remember(StatusCode::CREATED, &answer, state.clock.now())
        && let Err(e) = tx.execute(op.sql, &op.params).await
    {
        drop(tx);
        return idem.resolve(&state.store, e).await;
    }
    if let Err(e) = tx.commit().await {
        return idem.resolve(&state.store, e).await;
    }
    Ok(with_location(
        json_response(StatusCode::CREATED, answer),
        &new.code,
    ))
}

/// A new site hangs under a site in the caller's subtree: a root is made only by setup.
pub async fn check_parent(
    state: &AppState,
    who: &Principal,
    new: &NewSite,
) -> Result<(), ApiError> {
    let unknown = || ApiError::invalid(vec![FieldError::new("parent", "site.parent.unknown")]);
    match &new.parent {
        Some(code) => who
            .site_in_scope(&state.store, code.as_str())
            .await
            .map(drop)
            .map_err(|_| unknown()),
        None => Err(ApiError::invalid(vec![FieldError::new(
            "parent",
            "site.parent.required",
        )])),
    }
}

/// Inserts a site with its six groups and audits it.
pub async fn insert_site(
    state: &AppState,
    who: &Principal,
    new: &NewSite,
    tx: &mut fangkong_store::Tx,
) -> Result<Site, ApiError> {
    let now = state.clock.now();
    let site = org::insert_site(tx, state.ids.new_id(), new, now).await?;
    org::ensure_groups(tx, state.ids.as_ref(), site.id, now).await?;
    audit::append(
        tx,
        now,
        &Record {
            actor: who.actor(),
            addr: &who.addr,
            action: "site.create",
            target: format!("site:{}", site.code),
            site: &site.code,
            outcome: Outcome::Ok,
            detail: serde_json::json!({"kind": site.kind.as_str(), "parent": site.parent}),
        },
    )
    .await?;
    Ok(site)
}

/// A created site's address, on the first answer and on replays alike.
fn with_location(mut res: Response, code: &SiteCode) -> Response {
    if res.status() == StatusCode::CREATED
        && let Ok(loc) = format!("/api/v1/sites/{code}").parse()
    {
        res.headers_mut().insert(header::LOCATION, loc);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(v: serde_json::Value) -> CreateSite {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn all_bad_fields_are_reported_together() {
        let errs = body(
            serde_json::json!({"code": "bad code", "name": " ", "kind": "city", "capacity": 0}),
        )
        .validate()
        .unwrap_err();
        let codes: Vec<_> = errs.iter().map(|e| (e.field, e.code)).collect();
        assert_eq!(
            codes,
            [
                ("code", "site.code.invalid"),
                ("name", "name.empty"),
                ("kind", "site.kind.invalid"),
                ("capacity", "site.capacity.invalid")
            ]
        );
    }

    #[test]
    fn a_good_body_becomes_a_new_site() {
        let site = body(serde_json::json!({"code": "JD-LW", "name": "龙尾镇公共服务中心", "kind": "town", "parent": "JD", "capacity": 30}))
            .validate()
            .unwrap();
        assert_eq!(site.code.as_str(), "JD-LW");
        assert_eq!(site.parent.unwrap().as_str(), "JD");
        assert_eq!(site.address, "");
    }
}
