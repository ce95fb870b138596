//! Accounts for administrators: create, reset a password, lift a lockout; the page and
//! the API. An administrator manages only accounts of sites inside their own subtree.

use crate::AppState;
use crate::access::Principal;
use crate::auth::{FormErrors, new_password_hash, parse_username};
use crate::error::ApiError;
use crate::home::{Shell, error_page, render};
use crate::i18n::Locale;
use crate::idempotency::{Idem, IdempotencyKey, JsonBody, json_response};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use fangkong_domain::FieldError;
use fangkong_domain::access::{Role, Scope};
use fangkong_domain::audit::Outcome;
use fangkong_store::accounts::{self, Account};
use fangkong_store::audit::{self, Record};
use fangkong_store::{Tx, org};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(users_page).post(create_form))
        .route("/admin/users/{id}/password", post(reset_form))
        .route("/admin/users/{id}/unlock", post(unlock_form))
        .route("/admin/users/{id}/person", post(link_form))
}

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_users, create_user))
}

/// An account as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct UserDto {
    pub id: Uuid,
    pub username: String,
    pub role: String,
    pub site: String,
    pub must_change: bool,
}

impl From<&Account> for UserDto {
    fn from(a: &Account) -> UserDto {
        UserDto {
            id: a.id,
            username: a.username.clone(),
            role: a.role.as_str().to_owned(),
            site: a.site_code.clone(),
            must_change: a.must_change,
        }
    }
}

/// An account to create.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct NewUserBody {
    pub username: String,
    /// One of the roles (not `public`).
    pub role: String,
    /// The site code the account's grants are scoped to (with its subtree).
    pub site: String,
    pub password: String,
}

/// A validated account request.
struct Valid {
    username: String,
    role: Role,
    site: org::Site,
    hash: String,
}

async fn validate(
    state: &AppState,
    scope: &Scope,
    body: &NewUserBody,
    confirm: &str,
) -> Result<Valid, Vec<FieldError>> {
    let username = parse_username(&body.username);
    let role = Role::parse(body.role.trim())
        .filter(|r| *r != Role::Public)
        .ok_or(FieldError::new("role", "user.role.invalid"));
    let site = match org::find_site(&state.store, body.site.trim()).await {
        Ok(Some(s)) if scope.covers(s.id) => Ok(s),
        Ok(_) => Err(FieldError::new("site", "site.unknown")),
        Err(_) => Err(FieldError::new("site", "site.unknown")),
    };
    let hash = new_password_hash(&body.password, confirm, username.as_deref().unwrap_or("")).await;
    match (username, role, site, hash) {
        (Ok(username), Ok(role), Ok(site), Ok(hash)) => Ok(Valid {
            username,
            role,
            site,
            hash,
        }),
        (u, r, s, h) => {
            let mut errs: Vec<FieldError> =
                [u.err(), r.err(), s.err()].into_iter().flatten().collect();
            errs.extend(h.err().unwrap_or_default());
            Err(errs)
        }
    }
}

async fn insert(
    tx: &mut Tx,
    state: &AppState,
    who: &Principal,
    v: &Valid,
    must_change: bool,
) -> Result<Account, ApiError> {
    let now = state.clock.now();
    let account = Account {
        id: state.ids.new_id(),
        username: v.username.clone(),
        role: v.role,
        site_id: v.site.id,
        site_code: v.site.code.clone(),
        must_change,
        person_id: None,
    };
    accounts::insert_user(
        tx,
        &accounts::NewUser {
            id: account.id,
            username: &account.username,
            role: account.role,
            site_id: account.site_id,
            password_hash: &v.hash,
            must_change,
        },
        now,
    )
    .await?;
    audit::append(
        tx,
        now,
        &Record {
            actor: who.actor(),
            addr: &who.addr,
            action: "user.create",
            target: format!("user:{}", account.username),
            site: &account.site_code,
            outcome: Outcome::Ok,
            detail: serde_json::json!({"role": account.role.as_str()}),
        },
    )
    .await?;
    Ok(account)
}

/// Accounts of your subtree.
#[utoipa::path(get, path = "/api/v1/users", tag = "auth",
    responses((status = 200, body = [UserDto])))]
async fn list_users(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<Vec<UserDto>>, ApiError> {
    let scope = who.scope(&state.store).await?;
    Ok(Json(
        accounts::list_users(&state.store)
            .await?
            .iter()
            .filter(|a| scope.covers(a.site_id))
            .map(UserDto::from)
            .collect(),
    ))
}

/// Creates an account; the password follows the password policy.
#[utoipa::path(post, path = "/api/v1/users", tag = "auth",
    request_body = NewUserBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays return the first answer")),
    responses((status = 201, body = UserDto), (status = 422, description = "Invalid fields")))]
async fn create_user(
    State(state): State<AppState>,
    who: Principal,
    key: IdempotencyKey,
    body: JsonBody<NewUserBody>,
) -> Result<Response, ApiError> {
    let idem = Idem::new("POST /api/v1/users", &who, &key, &body);
    if let Some(replay) = idem.check(&state.store).await? {
        return Ok(replay);
    }
    let scope = who.scope(&state.store).await?;
    let v = validate(&state, &scope, &body.value, &body.value.password)
        .await
        .map_err(ApiError::invalid)?;
    let mut tx = state.store.begin().await?;
    if let Some(replay) = idem.check_in(&mut tx).await? {
        return Ok(replay);
    }
    // Whoever sets the first password must not keep knowing it: the user replaces it.
    let account = insert(&mut tx, &state, &who, &v, true).await?;
    let answer =
        serde_json::to_string(&UserDto::from(&account)).map_err(|_| ApiError::internal())?;
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

// ---- pages ----------------------------------------------------------------------------

struct UserLine {
    id: Uuid,
    username: String,
    role: &'static str,
    site: String,
    must_change: bool,
    /// The staff member the account belongs to (for its own staff checks).
    person: Option<Uuid>,
    /// The staff of the account's site, `(id, masked name · unit · job)`.
    staff: Vec<(Uuid, String)>,
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersPage {
    shell: Shell,
    users: Vec<UserLine>,
    sites: Vec<(String, String)>,
    roles: Vec<(&'static str, &'static str)>,
    errors: FormErrors,
    form: NewUserBody,
    notice: &'static str,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Notice {
    done: String,
}

async fn users_view(
    state: &AppState,
    locale: Locale,
    who: &Principal,
    errors: FormErrors,
    form: NewUserBody,
    notice: &'static str,
) -> Result<UsersPage, ApiError> {
    let scope = who.scope(&state.store).await?;
    let mut staff_of: std::collections::HashMap<Uuid, Vec<(Uuid, String)>> =
        std::collections::HashMap::new();
    let mut users = Vec::new();
    for a in accounts::list_users(&state.store).await? {
        if !scope.covers(a.site_id) || a.role == Role::Device {
            continue;
        }
        if let std::collections::hash_map::Entry::Vacant(slot) = staff_of.entry(a.site_id) {
            let staff = org::people(&state.store, &state.vault, a.site_id)
                .await?
                .into_iter()
                .filter(|p| p.kind == fangkong_domain::org::PersonKind::Staff)
                .map(|p| {
                    let unit = p.unit.unwrap_or_default();
                    (p.id, format!("{} · {unit} · {}", p.name, p.job))
                })
                .collect();
            slot.insert(staff);
        }
        users.push(UserLine {
            id: a.id,
            role: locale.t(&format!("role.{}", a.role.as_str())),
            username: a.username,
            site: a.site_code,
            must_change: a.must_change,
            person: a.person_id,
            staff: staff_of.get(&a.site_id).cloned().unwrap_or_default(),
        });
    }
    let sites = org::list_sites(&state.store)
        .await?
        .into_iter()
        .filter(|t| scope.covers(t.site.id))
        .map(|t| (t.site.code, t.site.name))
        .collect();
    Ok(UsersPage {
        shell: Shell::of(locale, "/admin/users", who),
        users,
        sites,
        roles: Role::assignable()
            .map(|r| (r.as_str(), locale.t(&format!("role.{}", r.as_str()))))
            .collect(),
        errors,
        form,
        notice,
    })
}

fn show(result: Result<UsersPage, ApiError>, status: StatusCode, locale: Locale) -> Response {
    match result {
        Ok(page) => (status, render(&page)).into_response(),
        Err(e) => error_page(locale, e.status),
    }
}

async fn users_page(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Query(q): Query<Notice>,
) -> Response {
    let notice = match q.done.as_str() {
        "created" => "user.created",
        "reset" => "user.reset_done",
        "unlocked" => "user.unlocked",
        "linked" => "user.linked",
        _ => "",
    };
    show(
        users_view(
            &state,
            locale,
            &who,
            FormErrors::none(),
            NewUserBody::default(),
            notice,
        )
        .await,
        StatusCode::OK,
        locale,
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct CreateForm {
    username: String,
    role: String,
    site: String,
    password: String,
    confirm: String,
}

async fn create_form(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Form(f): Form<CreateForm>,
) -> Response {
    let body = NewUserBody {
        username: f.username,
        role: f.role,
        site: f.site,
        password: f.password,
    };
    let result = async {
        let scope = who.scope(&state.store).await.map_err(Err)?;
        let v = validate(&state, &scope, &body, &f.confirm)
            .await
            .map_err(Ok)?;
        let mut tx = state.store.begin().await.map_err(|e| Err(e.into()))?;
        // A new account chooses its own password at first sign-in.
        insert(&mut tx, &state, &who, &v, true).await.map_err(|e| {
            if e.fields.is_empty() {
                Err(e)
            } else {
                Ok(e.fields)
            }
        })?;
        tx.commit().await.map_err(|e| Err(e.into()))
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/admin/users?done=created").into_response(),
        Err(Ok(fields)) => show(
            users_view(
                &state,
                locale,
                &who,
                FormErrors::of(locale, &fields),
                NewUserBody {
                    password: String::new(),
                    ..body
                },
                "",
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            locale,
        ),
        Err(Err(e)) => error_page(locale, e.status),
    }
}

/// The account if it is inside the administrator's subtree.
async fn target(state: &AppState, who: &Principal, id: Uuid) -> Result<Account, ApiError> {
    let scope = who.scope(&state.store).await?;
    accounts::find_user(&state.store, id)
        .await?
        .filter(|a| scope.covers(a.site_id))
        .ok_or_else(ApiError::not_found)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ResetForm {
    password: String,
    confirm: String,
}

async fn reset_form(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path(id): Path<Uuid>,
    Form(f): Form<ResetForm>,
) -> Response {
    let result = async {
        let account = target(&state, &who, id).await.map_err(Err)?;
        let hash = new_password_hash(&f.password, &f.confirm, &account.username)
            .await
            .map_err(Ok)?;
        let now = state.clock.now();
        let mut tx = state.store.begin().await.map_err(|e| Err(e.into()))?;
        // The user chooses a new one at next sign-in; every session and token ends.
        accounts::set_password(&mut tx, account.id, &hash, true, now)
            .await
            .map_err(|e| Err(e.into()))?;
        accounts::clear_failures(&mut tx, &account.username)
            .await
            .map_err(|e| Err(e.into()))?;
        audit::append(
            &mut tx,
            now,
            &Record {
                actor: who.actor(),
                addr: &who.addr,
                action: "user.password_reset",
                target: format!("user:{}", account.username),
                site: &account.site_code,
                outcome: Outcome::Ok,
                detail: serde_json::json!({}),
            },
        )
        .await
        .map_err(|e| Err(e.into()))?;
        tx.commit().await.map_err(|e| Err(e.into()))
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/admin/users?done=reset").into_response(),
        Err(Ok(fields)) => show(
            users_view(
                &state,
                locale,
                &who,
                FormErrors::of(locale, &fields),
                NewUserBody::default(),
                "",
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            locale,
        ),
        Err(Err(e)) => error_page(locale, e.status),
    }
}

async fn unlock_form(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path(id): Path<Uuid>,
) -> Response {
    let result = async {
        let account = target(&state, &who, id).await?;
        let now = state.clock.now();
        let mut tx = state.store.begin().await?;
        accounts::clear_failures(&mut tx, &account.username).await?;
        audit::append(
            &mut tx,
            now,
            &Record {
                actor: who.actor(),
                addr: &who.addr,
                action: "user.unlock",
                target: format!("user:{}", account.username),
                site: &account.site_code,
                outcome: Outcome::Ok,
                detail: serde_json::json!({}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/admin/users?done=unlocked").into_response(),
        Err(e) => error_page(locale, e.status),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LinkForm {
    /// A staff member of the account's site; empty unlinks.
    person: String,
}

/// Links an account to the staff member it belongs to, so its own staff checks count for
/// them (audited).
async fn link_form(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path(id): Path<Uuid>,
    axum::Form(f): axum::Form<LinkForm>,
) -> Response {
    let result = async {
        let account = target(&state, &who, id).await?;
        let person = match f.person.trim() {
            "" => None,
            p => {
                let p = Uuid::parse_str(p).map_err(|_| ApiError::not_found())?;
                let found = org::find_person(&state.store, &state.vault, p)
                    .await?
                    .filter(|x| x.site_id == account.site_id)
                    .ok_or_else(ApiError::not_found)?;
                Some(found.id)
            }
        };
        let now = state.clock.now();
        let mut tx = state.store.begin().await?;
        accounts::link_person(&mut tx, account.id, person).await?;
        audit::append(
            &mut tx,
            now,
            &Record {
                actor: who.actor(),
                addr: &who.addr,
                action: "user.link_person",
                target: format!("user:{}", account.username),
                site: &account.site_code,
                outcome: Outcome::Ok,
                detail: serde_json::json!({"person": person}),
            },
        )
        .await?;
        tx.commit().await?;
        Ok::<_, ApiError>(())
    }
    .await;
    match result {
        Ok(()) => Redirect::to("/admin/users?done=linked").into_response(),
        Err(e) => error_page(locale, e.status),
    }
}
