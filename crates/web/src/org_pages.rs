//! Pages to manage the organisation: the site tree, a site's details and checkpoints, its
//! resident units and windows, its people (masked, with an audited reveal), and the
//! leadership group with the five working groups. The API is in [`crate::org`].

use crate::AppState;
use crate::access::Principal;
use crate::auth::FormErrors;
use crate::error::ApiError;
use crate::home::{Shell, error_page, render};
use crate::i18n::Locale;
use crate::org::{NewPersonBody, add_person, check_parent, insert_site, reveal, validate_person};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use fangkong_domain::FieldError;
use fangkong_domain::access::Permission;
use fangkong_domain::audit::Outcome;
use fangkong_domain::org::{
    GroupKind, Name, NewCheckpoint, NewSite, NewUnit, PersonKind, Position, SiteCode, SiteKind,
    format_tenths, parse_address, parse_capacity, parse_duties, parse_opening_hours,
    parse_threshold, parse_windows,
};
use fangkong_store::audit::{self, Record};
use fangkong_store::org::{self, Site};
use serde::Deserialize;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/org", get(tree_page))
        .route("/org/sites", post(create_site))
        .route("/org/sites/{code}", get(site_page).post(update_site))
        .route("/org/sites/{code}/checkpoints", post(add_checkpoint))
        .route("/org/sites/{code}/units", post(add_unit))
        .route(
            "/org/sites/{code}/people",
            get(people_page).post(create_person),
        )
        .route("/org/people/{id}/reveal/{field}", post(reveal_field))
        .route("/org/people/{id}/remove", post(remove_person_form))
        .route("/org/sites/{code}/groups", get(groups_page))
        .route("/org/sites/{code}/groups/{kind}", post(set_duties))
        .route("/org/sites/{code}/groups/{kind}/members", post(add_member))
        .route(
            "/org/sites/{code}/groups/{kind}/members/{person}/remove",
            post(remove_member),
        )
}

/// Runs a page's work; a failure becomes the error page in the user's language.
fn page<T: Template>(result: Result<T, ApiError>, status: StatusCode, locale: Locale) -> Response {
    match result {
        Ok(p) => (status, render(&p)).into_response(),
        Err(e) => error_page(locale, e.status),
    }
}

/// Splits errors the user must correct from failures.
fn fields_or(e: ApiError) -> Result<Vec<FieldError>, ApiError> {
    if e.fields.is_empty() {
        Err(e)
    } else {
        Ok(e.fields)
    }
}

async fn record(
    state: &AppState,
    tx: &mut fangkong_store::Tx,
    who: &Principal,
    action: &str,
    target: String,
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
            target,
            site,
            outcome: Outcome::Ok,
            detail,
        },
    )
    .await?;
    Ok(())
}

// ---- the tree -------------------------------------------------------------------------

struct TreeLine {
    code: String,
    name: String,
    kind: &'static str,
    capacity: u32,
    threshold: String,
    depth: u32,
}

#[derive(Template)]
#[template(path = "org.html")]
struct TreePage {
    shell: Shell,
    sites: Vec<TreeLine>,
    parents: Vec<(String, String)>,
    kinds: Vec<(&'static str, &'static str)>,
    can_manage: bool,
    errors: FormErrors,
    form: SiteForm,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SiteForm {
    code: String,
    name: String,
    kind: String,
    parent: String,
    address: String,
    capacity: String,
}

async fn tree_view(
    state: &AppState,
    locale: Locale,
    who: &Principal,
    errors: FormErrors,
    form: SiteForm,
) -> Result<TreePage, ApiError> {
    let scope = who.scope(&state.store).await?;
    let sites: Vec<_> = org::list_sites(&state.store)
        .await?
        .into_iter()
        .filter(|t| scope.covers(t.site.id))
        .collect();
    Ok(TreePage {
        shell: Shell::of(locale, "/org", who),
        parents: sites
            .iter()
            .filter(|t| t.site.kind != SiteKind::Village && t.site.kind != SiteKind::TrafficBranch)
            .map(|t| (t.site.code.clone(), t.site.name.clone()))
            .collect(),
        sites: sites
            .into_iter()
            .map(|t| TreeLine {
                kind: locale.t(&format!("kind.{}", t.site.kind.as_str())),
                threshold: format_tenths(u16::try_from(t.site.threshold).unwrap_or(373)),
                code: t.site.code,
                name: t.site.name,
                capacity: t.site.capacity,
                depth: t.depth.min(3),
            })
            .collect(),
        kinds: SiteKind::ALL
            .into_iter()
            .filter(|k| *k != SiteKind::District)
            .map(|k| (k.as_str(), locale.t(&format!("kind.{}", k.as_str()))))
            .collect(),
        can_manage: who.can(Permission::OrgManage),
        errors,
        form,
    })
}

async fn tree_page(State(state): State<AppState>, locale: Locale, who: Principal) -> Response {
    page(
        tree_view(
            &state,
            locale,
            &who,
            FormErrors::none(),
            SiteForm::default(),
        )
        .await,
        StatusCode::OK,
        locale,
    )
}

async fn create_site(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Form(f): Form<SiteForm>,
) -> Response {
    let result = async {
        let code = SiteCode::parse(&f.code);
        let name = Name::parse(&f.name, "name");
        let kind = SiteKind::parse(f.kind.trim());
        let parent = SiteCode::parse(&f.parent)
            .map_err(|_| FieldError::new("parent", "site.parent.unknown"));
        let capacity = f
            .capacity
            .trim()
            .parse::<i64>()
            .map_err(|_| FieldError::new("capacity", "site.capacity.invalid"))
            .and_then(parse_capacity);
        let address = parse_address(&f.address);
        let new = match (code, name, kind, parent, capacity, address) {
            (Ok(code), Ok(name), Ok(kind), Ok(parent), Ok(capacity), Ok(address)) => NewSite {
                code,
                name,
                kind,
                parent: Some(parent),
                address,
                capacity,
            },
            (a, b, c, d, e, g) => {
                return Err(Ok([a.err(), b.err(), c.err(), d.err(), e.err(), g.err()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<FieldError>>()));
            }
        };
        check_parent(&state, &who, &new).await.map_err(fields_or)?;
        let mut tx = state.store.begin().await.map_err(|e| Err(e.into()))?;
        let site = insert_site(&state, &who, &new, &mut tx)
            .await
            .map_err(fields_or)?;
        tx.commit().await.map_err(|e| Err(e.into()))?;
        Ok(site.code)
    }
    .await;
    match result {
        Ok(code) => Redirect::to(&format!("/org/sites/{code}")).into_response(),
        Err(Ok(fields)) => page(
            tree_view(&state, locale, &who, FormErrors::of(locale, &fields), f).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            locale,
        ),
        Err(Err(e)) => error_page(locale, e.status),
    }
}

// ---- one site -------------------------------------------------------------------------

struct UnitLine {
    code: String,
    name: String,
    is_bureau: bool,
    windows: String,
}

#[derive(Template)]
#[template(path = "site.html")]
struct SitePage {
    shell: Shell,
    site: Site,
    kind: &'static str,
    threshold: String,
    checkpoints: Vec<org::Checkpoint>,
    units: Vec<UnitLine>,
    can_manage: bool,
    can_people: bool,
    errors: FormErrors,
    form: DetailsForm,
    saved: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DetailsForm {
    name: String,
    address: String,
    capacity: String,
    opening_hours: String,
    threshold: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Saved {
    saved: Option<String>,
}

async fn site_view(
    state: &AppState,
    locale: Locale,
    who: &Principal,
    code: &str,
    errors: FormErrors,
    form: Option<DetailsForm>,
    saved: bool,
) -> Result<SitePage, ApiError> {
    let site = who.site_in_scope(&state.store, code).await?;
    let threshold = format_tenths(u16::try_from(site.threshold).unwrap_or(373));
    let form = form.unwrap_or_else(|| DetailsForm {
        name: site.name.clone(),
        address: site.address.clone(),
        capacity: site.capacity.to_string(),
        opening_hours: site.opening_hours.clone(),
        threshold: threshold.clone(),
    });
    Ok(SitePage {
        shell: Shell::of(locale, "/org", who),
        kind: locale.t(&format!("kind.{}", site.kind.as_str())),
        threshold,
        checkpoints: org::checkpoints(&state.store, site.id).await?,
        units: org::units(&state.store, site.id)
            .await?
            .into_iter()
            .map(|u| UnitLine {
                windows: u
                    .windows
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join("、"),
                code: u.code,
                name: u.name,
                is_bureau: u.is_bureau,
            })
            .collect(),
        can_manage: who.can(Permission::OrgManage),
        can_people: who.can(Permission::PeopleRead),
        site,
        errors,
        form,
        saved,
    })
}

async fn site_page(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path(code): Path<String>,
    Query(q): Query<Saved>,
) -> Response {
    page(
        site_view(
            &state,
            locale,
            &who,
            &code,
            FormErrors::none(),
            None,
            q.saved.is_some(),
        )
        .await,
        StatusCode::OK,
        locale,
    )
}

async fn update_site(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path(code): Path<String>,
    Form(f): Form<DetailsForm>,
) -> Response {
    let result = async {
        let site = who.site_in_scope(&state.store, &code).await.map_err(Err)?;
        let name = Name::parse(&f.name, "name");
        let capacity = f.capacity.trim().parse::<i64>().map_err(|_| FieldError::new("capacity", "site.capacity.invalid")).and_then(parse_capacity);
        let hours = parse_opening_hours(&f.opening_hours);
        let threshold = parse_threshold(&f.threshold);
        let address = parse_address(&f.address);
        let details = match (name, capacity, hours, threshold, address) {
            (Ok(name), Ok(capacity), Ok(opening_hours), Ok(threshold), Ok(address)) => org::SiteDetails {
                name: name.as_str().to_owned(),
                address,
                capacity,
                opening_hours,
                threshold: u32::from(threshold),
            },
            (a, b, c, d, e) => return Err(Ok([a.err(), b.err(), c.err(), d.err(), e.err()].into_iter().flatten().collect::<Vec<FieldError>>())),
        };
        let mut tx = state.store.begin().await.map_err(|e| Err(e.into()))?;
        org::update_site(&mut tx, site.id, &details).await.map_err(|e| Err(e.into()))?;
        record(&state, &mut tx, &who, "site.update", format!("site:{}", site.code), &site.code, serde_json::json!({
            "capacity": details.capacity, "threshold": details.threshold, "opening_hours": details.opening_hours
        }))
        .await
        .map_err(Err)?;
        tx.commit().await.map_err(|e| Err(e.into()))
    }
    .await;
    after_site_change(&state, locale, &who, &code, result, Some(f)).await
}

/// After a change on a site's page: back to the page saved, or the page again with the
/// fields to correct, or the error page.
async fn after_site_change(
    state: &AppState,
    locale: Locale,
    who: &Principal,
    code: &str,
    result: Result<(), Result<Vec<FieldError>, ApiError>>,
    form: Option<DetailsForm>,
) -> Response {
    match result {
        Ok(()) => Redirect::to(&format!("/org/sites/{code}?saved=1")).into_response(),
        Err(Ok(fields)) => page(
            site_view(
                state,
                locale,
                who,
                code,
                FormErrors::of(locale, &fields),
                form,
                false,
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            locale,
        ),
        Err(Err(e)) => error_page(locale, e.status),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CheckpointForm {
    code: String,
    name: String,
    is_main: Option<String>,
}

async fn add_checkpoint(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path(code): Path<String>,
    Form(f): Form<CheckpointForm>,
) -> Response {
    let result = async {
        let site = who.site_in_scope(&state.store, &code).await.map_err(Err)?;
        let cp = match (SiteCode::parse(&f.code), Name::parse(&f.name, "name")) {
            (Ok(c), Ok(n)) => NewCheckpoint {
                code: c,
                name: n,
                is_main: f.is_main.is_some(),
            },
            (a, b) => {
                return Err(Ok([a.err(), b.err()]
                    .into_iter()
                    .flatten()
                    .map(|e| {
                        e.at(if e.field == "code" {
                            "cp_code"
                        } else {
                            "cp_name"
                        })
                    })
                    .collect::<Vec<FieldError>>()));
            }
        };
        let mut tx = state.store.begin().await.map_err(|e| Err(e.into()))?;
        org::insert_checkpoint(&mut tx, state.ids.new_id(), site.id, &cp, state.clock.now())
            .await
            .map_err(|e| match e {
                fangkong_store::StoreError::Invalid(f) => Ok(vec![f.at("cp_code")]),
                other => Err(other.into()),
            })?;
        record(
            &state,
            &mut tx,
            &who,
            "checkpoint.create",
            format!("checkpoint:{}/{}", site.code, cp.code),
            &site.code,
            serde_json::json!({"main": cp.is_main}),
        )
        .await
        .map_err(Err)?;
        tx.commit().await.map_err(|e| Err(e.into()))
    }
    .await;
    after_site_change(&state, locale, &who, &code, result, None).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct UnitForm {
    code: String,
    name: String,
    windows: String,
    is_bureau: Option<String>,
}

async fn add_unit(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path(code): Path<String>,
    Form(f): Form<UnitForm>,
) -> Response {
    let result = async {
        let site = who.site_in_scope(&state.store, &code).await.map_err(Err)?;
        let unit = match (
            SiteCode::parse(&f.code).map_err(|e| e.at("unit_code")),
            Name::parse(&f.name, "unit_name"),
            parse_windows(&f.windows),
        ) {
            (Ok(c), Ok(name), Ok(windows)) => NewUnit {
                code: c.as_str().to_owned(),
                name,
                is_bureau: f.is_bureau.is_some(),
                windows,
            },
            (a, b, c) => {
                return Err(Ok([a.err(), b.err(), c.err()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<FieldError>>()));
            }
        };
        let mut tx = state.store.begin().await.map_err(|e| Err(e.into()))?;
        org::insert_unit(
            &mut tx,
            state.ids.as_ref(),
            site.id,
            &unit,
            state.clock.now(),
        )
        .await
        .map_err(|e| match e {
            fangkong_store::StoreError::Invalid(f) => Ok(vec![f]),
            other => Err(other.into()),
        })?;
        record(
            &state,
            &mut tx,
            &who,
            "unit.create",
            format!("unit:{}/{}", site.code, unit.code),
            &site.code,
            serde_json::json!({"windows": unit.windows, "bureau": unit.is_bureau}),
        )
        .await
        .map_err(Err)?;
        tx.commit().await.map_err(|e| Err(e.into()))
    }
    .await;
    after_site_change(&state, locale, &who, &code, result, None).await
}

// ---- people ---------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "people.html")]
struct PeoplePage {
    shell: Shell,
    site: Site,
    people: Vec<PersonLine>,
    units: Vec<(String, String)>,
    can_manage: bool,
    can_reveal: bool,
    errors: FormErrors,
    form: NewPersonBody,
}

struct PersonLine {
    id: Uuid,
    name: String,
    kind: &'static str,
    unit: String,
    job: String,
    phone: String,
    id_number: String,
}

async fn people_view(
    state: &AppState,
    locale: Locale,
    who: &Principal,
    code: &str,
    errors: FormErrors,
    form: NewPersonBody,
) -> Result<PeoplePage, ApiError> {
    let site = who.site_in_scope(&state.store, code).await?;
    let people = org::people(&state.store, &state.vault, site.id)
        .await?
        .into_iter()
        .map(|p| PersonLine {
            id: p.id,
            name: p.name,
            kind: locale.t(&format!("person.kind.{}", p.kind.as_str())),
            unit: p.unit.unwrap_or_default(),
            job: p.job,
            phone: p.phone.unwrap_or_default(),
            id_number: p.id_number.unwrap_or_default(),
        })
        .collect();
    Ok(PeoplePage {
        shell: Shell::of(locale, "/org", who),
        units: org::units(&state.store, site.id)
            .await?
            .into_iter()
            .map(|u| (u.code, u.name))
            .collect(),
        site,
        people,
        can_manage: who.can(Permission::PeopleManage),
        can_reveal: who.can(Permission::PersonalReveal),
        errors,
        form,
    })
}

async fn people_page(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path(code): Path<String>,
) -> Response {
    let form = NewPersonBody {
        kind: PersonKind::Staff.as_str().to_owned(),
        ..NewPersonBody::default()
    };
    page(
        people_view(&state, locale, &who, &code, FormErrors::none(), form).await,
        StatusCode::OK,
        locale,
    )
}

async fn create_person(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path(code): Path<String>,
    Form(mut f): Form<NewPersonBody>,
) -> Response {
    f.site = code.clone();
    let result = async {
        let (site, person) = validate_person(&state, &who, &f).await.map_err(fields_or)?;
        let mut tx = state.store.begin().await.map_err(|e| Err(e.into()))?;
        add_person(&state, &who, &site, &person, &mut tx)
            .await
            .map_err(fields_or)?;
        tx.commit().await.map_err(|e| Err(e.into()))?;
        Ok(site.code)
    }
    .await;
    match result {
        Ok(site) => Redirect::to(&format!("/org/sites/{site}/people")).into_response(),
        // Never echo the personal values back into the page on a mistake, except to the
        // person typing them (same session): the form keeps them so they can correct one.
        Err(Ok(fields)) => page(
            people_view(
                &state,
                locale,
                &who,
                &code,
                FormErrors::of(locale, &fields),
                f,
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            locale,
        ),
        Err(Err(e)) => error_page(locale, e.status),
    }
}

async fn remove_person_form(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path(id): Path<Uuid>,
) -> Response {
    match crate::org::remove_person(&state, &who, id).await {
        Ok(site) => Redirect::to(&format!("/org/sites/{site}/people")).into_response(),
        Err(e) => error_page(locale, e.status),
    }
}

/// The revealed value, in place of the masked one (auto-escaped like every template).
#[derive(Template)]
#[template(
    source = r#"<span class="revealed" title="{{ title }}">{{ value }}</span>"#,
    ext = "html"
)]
pub(crate) struct RevealedField {
    pub(crate) title: &'static str,
    pub(crate) value: String,
}

/// The htmx reveal: the plain value in place of the masked one, never cached.
async fn reveal_field(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path((id, field)): Path<(Uuid, String)>,
) -> Response {
    match reveal(&state, &who, id, &field).await {
        Ok(value) => {
            let mut res = render(&RevealedField {
                title: locale.t("person.revealed"),
                value: value.unwrap_or_default(),
            });
            res.headers_mut().insert(
                header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            res
        }
        Err(e) => (e.status, locale.t("person.reveal_failed")).into_response(),
    }
}

// ---- groups ---------------------------------------------------------------------------

struct GroupView {
    kind: &'static str,
    title: &'static str,
    duties: String,
    members: Vec<(Uuid, String, &'static str)>,
    positions: Vec<(&'static str, &'static str)>,
}

#[derive(Template)]
#[template(path = "groups.html")]
struct GroupsPage {
    shell: Shell,
    site: Site,
    groups: Vec<GroupView>,
    people: Vec<(Uuid, String, String)>,
    can_manage: bool,
    errors: FormErrors,
}

async fn groups_view(
    state: &AppState,
    locale: Locale,
    who: &Principal,
    code: &str,
    errors: FormErrors,
) -> Result<GroupsPage, ApiError> {
    let site = who.site_in_scope(&state.store, code).await?;
    let groups = org::groups(&state.store, &state.vault, site.id)
        .await?
        .into_iter()
        .map(|g| GroupView {
            kind: g.kind.as_str(),
            title: locale.t(&format!("group.{}", g.kind.as_str())),
            duties: g.duties,
            members: g
                .members
                .into_iter()
                .map(|m| {
                    (
                        m.person,
                        m.name,
                        locale.t(&format!("position.{}", m.position.as_str())),
                    )
                })
                .collect(),
            positions: g
                .kind
                .positions()
                .iter()
                .map(|p| (p.as_str(), locale.t(&format!("position.{}", p.as_str()))))
                .collect(),
        })
        .collect();
    let people = if who.can(Permission::OrgManage) {
        org::people(&state.store, &state.vault, site.id)
            .await?
            .into_iter()
            .map(|p| (p.id, p.name, p.job))
            .collect()
    } else {
        Vec::new()
    };
    Ok(GroupsPage {
        shell: Shell::of(locale, "/org", who),
        site,
        groups,
        people,
        can_manage: who.can(Permission::OrgManage),
        errors,
    })
}

async fn groups_page(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path(code): Path<String>,
) -> Response {
    page(
        groups_view(&state, locale, &who, &code, FormErrors::none()).await,
        StatusCode::OK,
        locale,
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct DutiesForm {
    duties: String,
}

/// Runs a group change in one transaction with its audit entry, then shows the groups.
async fn group_change(
    state: &AppState,
    locale: Locale,
    who: &Principal,
    code: &str,
    kind: &str,
    change: impl AsyncFnOnce(
        &mut fangkong_store::Tx,
        &Site,
        GroupKind,
    ) -> Result<serde_json::Value, Result<Vec<FieldError>, ApiError>>,
    action: &str,
) -> Response {
    let result = async {
        let site = who.site_in_scope(&state.store, code).await.map_err(Err)?;
        let kind = GroupKind::parse(kind).map_err(|_| Err(ApiError::not_found()))?;
        let mut tx = state.store.begin().await.map_err(|e| Err(e.into()))?;
        let detail = change(&mut tx, &site, kind).await?;
        record(
            state,
            &mut tx,
            who,
            action,
            format!("group:{}/{}", site.code, kind.as_str()),
            &site.code,
            detail,
        )
        .await
        .map_err(Err)?;
        tx.commit().await.map_err(|e| Err(e.into()))
    }
    .await;
    match result {
        Ok(()) => Redirect::to(&format!("/org/sites/{code}/groups")).into_response(),
        Err(Ok(fields)) => page(
            groups_view(state, locale, who, code, FormErrors::of(locale, &fields)).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            locale,
        ),
        Err(Err(e)) => error_page(locale, e.status),
    }
}

async fn set_duties(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path((code, kind)): Path<(String, String)>,
    Form(f): Form<DutiesForm>,
) -> Response {
    let now = state.clock.now();
    group_change(
        &state,
        locale,
        &who,
        &code,
        &kind,
        async |tx, site, kind| {
            let duties = parse_duties(&f.duties).map_err(|e| Ok(vec![e]))?;
            org::set_duties(tx, site.id, kind, &duties, now)
                .await
                .map_err(|e| Err(e.into()))?;
            Ok(serde_json::json!({"duties_chars": duties.chars().count()}))
        },
        "group.duties",
    )
    .await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct MemberForm {
    person: String,
    position: String,
}

async fn add_member(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path((code, kind)): Path<(String, String)>,
    Form(f): Form<MemberForm>,
) -> Response {
    group_change(
        &state,
        locale,
        &who,
        &code,
        &kind,
        async |tx, site, kind| {
            let person = Uuid::parse_str(f.person.trim())
                .map_err(|_| Ok(vec![FieldError::new("person", "group.person.unknown")]))?;
            let position = Position::parse_for(f.position.trim(), kind).map_err(|e| Ok(vec![e]))?;
            org::set_member(tx, site.id, kind, person, position)
                .await
                .map_err(|e| match e {
                    fangkong_store::StoreError::Invalid(f) => Ok(vec![f]),
                    other => Err(other.into()),
                })?;
            Ok(serde_json::json!({"person": person, "position": position.as_str()}))
        },
        "group.member_set",
    )
    .await
}

async fn remove_member(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path((code, kind, person)): Path<(String, String, Uuid)>,
) -> Response {
    group_change(
        &state,
        locale,
        &who,
        &code,
        &kind,
        async |tx, site, kind| {
            org::remove_member(tx, site.id, kind, person)
                .await
                .map_err(|e| Err(e.into()))?;
            Ok(serde_json::json!({"person": person}))
        },
        "group.member_remove",
    )
    .await
}
