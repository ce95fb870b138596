//! Signing in and out, the first-run setup, one's own account (password, API tokens), and
//! the token API for scripts.
//!
//! Sign-in failures look the same whether the user exists or not: the same status and
//! words, and a password hash is checked either way so the time taken is similar. Five
//! failures within 15 minutes for one user name, or from one address, lock further
//! attempts for that name or address until the window has passed.

use crate::AppState;
use crate::access::{
    self, AuthSettings, CSRF_COOKIE, Principal, SESSION_COOKIE, Via, cookie, set_cookie,
};
use crate::error::ApiError;
use crate::home::{Shell, render};
use crate::i18n::Locale;
use crate::idempotency::{IdempotencyKey, JsonBody};
use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Json, Router};
use fangkong_domain::FieldError;
use fangkong_domain::access::Role;
use fangkong_domain::audit::Outcome;
use fangkong_domain::org::{
    DEFAULT_THRESHOLD, Name, NewCheckpoint, NewSite, SiteCode, SiteKind, parse_capacity,
};
use fangkong_domain::passwords;
use fangkong_store::accounts::{self, Account};
use fangkong_store::audit::{self, Record};
use fangkong_store::{Backend, Tx, org, params};
use serde::{Deserialize, Serialize};
use std::sync::LazyLock;
use time::OffsetDateTime;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// Failed sign-ins allowed within [`LOCKOUT_WINDOW`] per user name and per address.
pub const LOCKOUT_LIMIT: u32 = 5;
/// The window failed sign-ins are counted in.
pub const LOCKOUT_WINDOW: time::Duration = time::Duration::minutes(15);

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/setup", get(setup_page).post(setup_submit))
        .route("/login", get(login_page).post(login_submit))
        .route("/logout", post(logout))
        .route("/account", get(account_page))
        .route("/account/password", post(change_password))
        .route("/account/tokens", post(create_token_form))
        .route("/account/tokens/{id}/revoke", post(revoke_token_form))
}

pub fn api() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(issue_token))
        .routes(routes!(list_tokens))
        .routes(routes!(revoke_token))
}

// ---- user names and passwords -----------------------------------------------------------

/// A user name: 3 to 32 lower-case letters, digits, dots, hyphens or underscores.
pub fn parse_username(raw: &str) -> Result<String, FieldError> {
    let s = raw.trim().to_ascii_lowercase();
    let ok = (3..=32).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(s)
    } else {
        Err(FieldError::new("username", "user.username.invalid"))
    }
}

/// Checks a new password and its confirmation; hashes it off the async threads.
pub async fn new_password_hash(
    password: &str,
    confirm: &str,
    username: &str,
) -> Result<String, Vec<FieldError>> {
    passwords::check(password, username).map_err(|e| vec![e])?;
    if password != confirm {
        return Err(vec![FieldError::new("confirm", "password.mismatch")]);
    }
    let pw = password.to_owned();
    let failed = || vec![FieldError::new("password", "password.hash_failed")];
    let _permit = HASHING.acquire().await.map_err(|_| failed())?;
    tokio::task::spawn_blocking(move || accounts::hash_password(&pw))
        .await
        .ok()
        .and_then(Result::ok)
        .ok_or_else(failed)
}

/// Password hashes being computed at once, at most: each takes 19 MiB and a core for
/// about 40 ms, so a flood of sign-ins queues here instead of exhausting memory.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);

/// Verifies off the async threads.
async fn verify(hash: String, password: String) -> bool {
    let Ok(_permit) = HASHING.acquire().await else {
        return false;
    };
    tokio::task::spawn_blocking(move || accounts::verify_password(&hash, &password))
        .await
        .unwrap_or(false)
}

/// A hash checked when the user does not exist, so failures take the same time.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| accounts::hash_password(&accounts::new_secret::<16>()).unwrap_or_default());

/// How a sign-in attempt ended.
pub enum SignIn {
    Ok(Account),
    Failed,
    Locked,
}

/// Checks a user name and password, with lockout and audit.
pub async fn sign_in(
    state: &AppState,
    raw_username: &str,
    password: &str,
    addr: &str,
) -> Result<SignIn, ApiError> {
    let username: String = raw_username
        .trim()
        .to_lowercase()
        .chars()
        .take(64)
        .collect();
    let now = state.clock.now();
    // Claim an attempt before checking the password: count the window's failures and
    // record this attempt as one, in one transaction serialised per user name and per
    // address, so parallel guesses cannot all slip under the limit. Success removes it.
    let locked = {
        let mut tx = state.store.begin().await?;
        accounts::lock_attempts(&mut tx, &username, addr).await?;
        let (by_user, by_addr) =
            accounts::failures_in(&mut tx, &username, addr, now - LOCKOUT_WINDOW).await?;
        let locked = by_user >= LOCKOUT_LIMIT || by_addr >= LOCKOUT_LIMIT;
        if !locked {
            accounts::record_failure(&mut tx, &username, addr, now).await?;
        }
        tx.commit().await?;
        locked
    };
    let creds = accounts::credentials(&state.store, &username).await?;
    let hash = match &creds {
        Some(c) if !locked => c.password_hash.clone(),
        _ => tokio::task::spawn_blocking(|| DUMMY_HASH.clone())
            .await
            .unwrap_or_default(),
    };
    let matched = verify(hash, password.to_owned()).await && creds.is_some() && !locked;
    let known = creds.is_some();
    let mut tx = state.store.begin().await?;
    let (outcome, result) = if locked {
        (Outcome::Denied, SignIn::Locked)
    } else if let (true, Some(c)) = (matched, creds) {
        accounts::clear_failures(&mut tx, &username).await?;
        (Outcome::Ok, SignIn::Ok(c.account))
    } else {
        (Outcome::Failed, SignIn::Failed)
    };
    let site = match &result {
        SignIn::Ok(a) => a.site_code.clone(),
        _ => String::new(),
    };
    // A name that is no account may be a mistyped password: it is not kept in the log.
    let actor = if known { username.as_str() } else { "?" };
    audit::append(
        &mut tx,
        now,
        &Record {
            actor,
            addr,
            action: "auth.login",
            target: format!("user:{actor}"),
            site: &site,
            outcome,
            detail: serde_json::json!({"known_user": known}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(result)
}

/// Starts a browser session (a new id every time) and returns the cookie to set.
async fn start_session(
    tx: &mut Tx,
    account: &Account,
    now: OffsetDateTime,
    settings: &AuthSettings,
    headers: &HeaderMap,
) -> Result<axum::http::HeaderValue, ApiError> {
    let secret = accounts::new_secret::<32>();
    let csrf = accounts::new_secret::<20>();
    accounts::insert_session(tx, &secret, account.id, &csrf, now).await?;
    Ok(set_cookie(
        SESSION_COOKIE,
        &secret,
        None,
        "Lax",
        access::secure(settings, headers),
    ))
}

/// The CSRF token for a form shown before sign-in, and the cookie to set if it is new.
pub(crate) fn anonymous_csrf(
    headers: &HeaderMap,
    settings: &AuthSettings,
) -> (String, Option<axum::http::HeaderValue>) {
    match cookie(headers, CSRF_COOKIE) {
        Some(v) => (v.to_owned(), None),
        None => {
            let token = accounts::new_secret::<20>();
            let c = set_cookie(
                CSRF_COOKIE,
                &token,
                None,
                "Strict",
                access::secure(settings, headers),
            );
            (token, Some(c))
        }
    }
}

pub(crate) fn with_cookie(mut res: Response, c: Option<axum::http::HeaderValue>) -> Response {
    if let Some(c) = c {
        res.headers_mut().append(header::SET_COOKIE, c);
    }
    res
}

/// Field errors in the page's language, for templates.
pub struct FormErrors(pub Vec<(&'static str, &'static str)>);

impl FormErrors {
    pub fn none() -> FormErrors {
        FormErrors(Vec::new())
    }

    pub fn of(locale: Locale, errors: &[FieldError]) -> FormErrors {
        FormErrors(errors.iter().map(|e| (e.field, locale.t(e.code))).collect())
    }

    /// The message for `field`, or "".
    pub fn get(&self, field: &str) -> &'static str {
        self.0
            .iter()
            .find(|(f, _)| *f == field)
            .map_or("", |(_, m)| *m)
    }

    pub fn any(&self) -> bool {
        !self.0.is_empty()
    }
}

// ---- setup ----------------------------------------------------------------------------

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    shell: Shell,
    csrf: String,
    errors: FormErrors,
    form: SetupForm,
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
struct SetupForm {
    setup_code: String,
    site_code: String,
    site_name: String,
    capacity: String,
    username: String,
    password: String,
    confirm: String,
}

async fn setup_page(State(state): State<AppState>, locale: Locale, headers: HeaderMap) -> Response {
    match state.setup.done(&state.store).await {
        Ok(true) => return Redirect::to("/login").into_response(),
        Ok(false) => {}
        Err(e) => return crate::home::error_page(locale, e.status),
    }
    let (csrf, c) = anonymous_csrf(&headers, &state.auth);
    let page = SetupPage {
        shell: Shell::new(locale, "/setup"),
        csrf,
        errors: FormErrors::none(),
        form: SetupForm {
            site_code: "JD".into(),
            capacity: "200".into(),
            ..SetupForm::default()
        },
    };
    with_cookie(render(&page), c)
}

async fn setup_submit(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    headers: HeaderMap,
    Form(form): Form<SetupForm>,
) -> Response {
    if matches!(state.setup.done(&state.store).await, Ok(true)) {
        return Redirect::to("/login").into_response();
    }
    let code = SiteCode::parse(&form.site_code);
    let name = Name::parse(&form.site_name, "site_name").map_err(|e| e.at("site_name"));
    let capacity = form
        .capacity
        .trim()
        .parse::<i64>()
        .map_err(|_| FieldError::new("capacity", "site.capacity.invalid"))
        .and_then(parse_capacity);
    let username = parse_username(&form.username);
    let setup_code = if state.setup.code_matches(&form.setup_code) {
        Ok(())
    } else {
        Err(FieldError::new("setup_code", "setup.code.wrong"))
    };
    let mut errors: Vec<FieldError> = [
        setup_code.err(),
        code.clone().err(),
        name.clone().err(),
        capacity.err(),
        username.clone().err(),
    ]
    .into_iter()
    .flatten()
    .map(|e| {
        if e.field == "code" {
            e.at("site_code")
        } else {
            e
        }
    })
    .collect();
    let hash = match new_password_hash(
        &form.password,
        &form.confirm,
        username.as_deref().unwrap_or(""),
    )
    .await
    {
        Ok(h) => Some(h),
        Err(e) => {
            errors.extend(e);
            None
        }
    };
    let (Ok(code), Ok(name), Ok(capacity), Ok(username), Some(hash), true) =
        (code, name, capacity, username, hash, errors.is_empty())
    else {
        let page = SetupPage {
            shell: Shell::new(locale, "/setup"),
            csrf: who.csrf.clone(),
            errors: FormErrors::of(locale, &errors),
            form: SetupForm {
                password: String::new(),
                confirm: String::new(),
                ..form
            },
        };
        return (StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response();
    };
    match complete_setup(
        &state, &who, &headers, code, name, capacity, &username, &hash,
    )
    .await
    {
        Ok(Some(cookie)) => {
            state.setup.mark_done();
            let mut res = Redirect::to("/").into_response();
            res.headers_mut().insert(header::SET_COOKIE, cookie);
            res
        }
        Ok(None) => Redirect::to("/login").into_response(),
        Err(e) => crate::home::error_page(locale, e.status),
    }
}

#[allow(clippy::too_many_arguments)]
async fn complete_setup(
    state: &AppState,
    who: &Principal,
    headers: &HeaderMap,
    code: SiteCode,
    name: Name,
    capacity: u32,
    username: &str,
    hash: &str,
) -> Result<Option<axum::http::HeaderValue>, ApiError> {
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    if tx.backend() == Backend::Postgres {
        tx.query(
            "SELECT pg_advisory_xact_lock($1)::TEXT",
            &params![0x0066_6b73_6574_7570_i64],
        )
        .await?;
    }
    if tx
        .query_opt("SELECT 1 FROM users LIMIT 1", &[])
        .await?
        .is_some()
    {
        return Ok(None);
    }
    let site = NewSite {
        code,
        name,
        kind: SiteKind::District,
        parent: None,
        address: String::new(),
        capacity,
    };
    let site = org::insert_site(&mut tx, state.ids.new_id(), &site, now).await?;
    let gate = NewCheckpoint {
        code: SiteCode::parse("MAIN")?,
        name: Name::parse("正门", "name")?,
        is_main: true,
    };
    org::insert_checkpoint(&mut tx, state.ids.new_id(), site.id, &gate, now).await?;
    org::ensure_groups(&mut tx, state.ids.as_ref(), site.id, now).await?;
    let account = Account {
        id: state.ids.new_id(),
        username: username.to_owned(),
        role: Role::Admin,
        site_id: site.id,
        site_code: site.code.clone(),
        must_change: false,
        person_id: None,
    };
    accounts::insert_user(
        &mut tx,
        &accounts::NewUser {
            id: account.id,
            username,
            role: Role::Admin,
            site_id: site.id,
            password_hash: hash,
            must_change: false,
        },
        now,
    )
    .await?;
    audit::append(
        &mut tx,
        now,
        &Record {
            actor: username,
            addr: &who.addr,
            action: "setup.complete",
            target: format!("site:{}", site.code),
            site: &site.code,
            outcome: Outcome::Ok,
            detail: serde_json::json!({"threshold": DEFAULT_THRESHOLD}),
        },
    )
    .await?;
    let cookie = start_session(&mut tx, &account, now, &state.auth, headers).await?;
    tx.commit().await?;
    Ok(Some(cookie))
}

// ---- sign in and out ------------------------------------------------------------------

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    shell: Shell,
    csrf: String,
    next: String,
    username: String,
    /// Message key of the failure, or "".
    error: &'static str,
    notice: &'static str,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LoginQuery {
    next: String,
    expired: Option<String>,
}

async fn login_page(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    headers: HeaderMap,
    Query(q): Query<LoginQuery>,
) -> Response {
    if who.account.is_some() {
        return Redirect::to("/").into_response();
    }
    let (csrf, c) = anonymous_csrf(&headers, &state.auth);
    let page = LoginPage {
        shell: Shell::new(locale, "/login"),
        csrf,
        next: q.next,
        username: String::new(),
        error: "",
        notice: if q.expired.is_some() {
            "login.expired"
        } else {
            ""
        },
    };
    with_cookie(render(&page), c)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct LoginForm {
    username: String,
    password: String,
    next: String,
}

async fn login_submit(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let outcome = match sign_in(&state, &form.username, &form.password, &who.addr).await {
        Ok(o) => o,
        Err(e) => return crate::home::error_page(locale, e.status),
    };
    let (status, error) = match outcome {
        SignIn::Ok(account) => {
            let now = state.clock.now();
            let result = async {
                let mut tx = state.store.begin().await?;
                if let Via::Session { secret, .. } = &who.via {
                    accounts::delete_session(&mut tx, secret).await?;
                }
                let c = start_session(&mut tx, &account, now, &state.auth, &headers).await?;
                tx.commit().await?;
                Ok::<_, ApiError>(c)
            }
            .await;
            return match result {
                Ok(c) => {
                    let next = if crate::home::is_local_path(&form.next) && form.next != "/login" {
                        form.next.as_str()
                    } else {
                        "/"
                    };
                    let mut res = Redirect::to(next).into_response();
                    res.headers_mut().insert(header::SET_COOKIE, c);
                    res
                }
                Err(e) => crate::home::error_page(locale, e.status),
            };
        }
        SignIn::Failed => (StatusCode::UNAUTHORIZED, "login.failed"),
        SignIn::Locked => (StatusCode::TOO_MANY_REQUESTS, "login.locked"),
    };
    let page = LoginPage {
        shell: Shell::new(locale, "/login"),
        csrf: who.csrf.clone(),
        next: form.next,
        username: form.username.trim().chars().take(64).collect(),
        error,
        notice: "",
    };
    (status, render(&page)).into_response()
}

async fn logout(State(state): State<AppState>, who: Principal, headers: HeaderMap) -> Response {
    if let Via::Session { secret, .. } = &who.via {
        let now = state.clock.now();
        let result = async {
            let mut tx = state.store.begin().await?;
            accounts::delete_session(&mut tx, secret).await?;
            audit::append(
                &mut tx,
                now,
                &Record {
                    actor: who.actor(),
                    addr: &who.addr,
                    action: "auth.logout",
                    target: format!("user:{}", who.actor()),
                    site: who.account.as_ref().map_or("", |a| a.site_code.as_str()),
                    outcome: Outcome::Ok,
                    detail: serde_json::json!({}),
                },
            )
            .await?;
            tx.commit().await
        }
        .await;
        if let Err(e) = result {
            tracing::warn!(error = %e, "sign-out not recorded");
        }
    }
    let mut res = Redirect::to("/login").into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        set_cookie(
            SESSION_COOKIE,
            "",
            Some(0),
            "Lax",
            access::secure(&state.auth, &headers),
        ),
    );
    res
}

// ---- own account ----------------------------------------------------------------------

struct TokenLine {
    id: Uuid,
    label: String,
    created: String,
    expires: String,
    live: bool,
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    shell: Shell,
    username: String,
    role: &'static str,
    site: String,
    must_change: bool,
    errors: FormErrors,
    notice: &'static str,
    tokens: Vec<TokenLine>,
    /// A token just made, shown once.
    new_token: Option<String>,
}

async fn account_view(
    state: &AppState,
    locale: Locale,
    who: &Principal,
    errors: FormErrors,
    notice: &'static str,
    new_token: Option<String>,
) -> Result<AccountPage, ApiError> {
    let account = who.account()?;
    let now = state.clock.now();
    let tokens = accounts::list_tokens(&state.store, account.id)
        .await?
        .into_iter()
        .map(|t| TokenLine {
            id: t.id,
            live: t.revoked_at.is_none() && t.expires_at > now,
            label: t.label,
            created: crate::home::local_time(t.created_at),
            expires: crate::home::local_time(t.expires_at),
        })
        .collect();
    Ok(AccountPage {
        shell: Shell::of(locale, "/account", who),
        username: account.username.clone(),
        role: locale.t(&format!("role.{}", account.role.as_str())),
        site: account.site_code.clone(),
        must_change: account.must_change,
        errors,
        notice,
        tokens,
        new_token,
    })
}

/// A page that must not be kept in any cache (it shows a secret once).
fn no_store(mut res: Response) -> Response {
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("no-store"),
    );
    res
}

fn show(result: Result<AccountPage, ApiError>, status: StatusCode, locale: Locale) -> Response {
    match result {
        Ok(page) => (status, render(&page)).into_response(),
        Err(e) => crate::home::error_page(locale, e.status),
    }
}

async fn account_page(State(state): State<AppState>, locale: Locale, who: Principal) -> Response {
    let notice = if who.account.as_ref().is_some_and(|a| a.must_change) {
        "account.must_change"
    } else {
        ""
    };
    show(
        account_view(&state, locale, &who, FormErrors::none(), notice, None).await,
        StatusCode::OK,
        locale,
    )
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct PasswordForm {
    current: String,
    password: String,
    confirm: String,
}

async fn change_password(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    headers: HeaderMap,
    Form(form): Form<PasswordForm>,
) -> Response {
    let result = change_password_inner(&state, &who, &headers, &form).await;
    match result {
        Ok(cookie) => {
            let mut res = Redirect::to("/account?changed=1").into_response();
            res.headers_mut().insert(header::SET_COOKIE, cookie);
            res
        }
        Err(Err(e)) => crate::home::error_page(locale, e.status),
        Err(Ok(errors)) => show(
            account_view(
                &state,
                locale,
                &who,
                FormErrors::of(locale, &errors),
                "",
                None,
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            locale,
        ),
    }
}

/// Sets an account's own new password (ending its sessions and tokens) and audits it.
async fn replace_own_password(
    tx: &mut Tx,
    account: &Account,
    hash: &str,
    addr: &str,
    now: OffsetDateTime,
    via: &str,
) -> Result<(), ApiError> {
    accounts::set_password(tx, account.id, hash, false, now).await?;
    audit::append(
        tx,
        now,
        &Record {
            actor: &account.username,
            addr,
            action: "account.password",
            target: format!("user:{}", account.username),
            site: &account.site_code,
            outcome: Outcome::Ok,
            detail: serde_json::json!({ "via": via }),
        },
    )
    .await?;
    Ok(())
}

/// `Err(Ok(fields))`: the user must correct something; `Err(Err(_))`: a failure.
async fn change_password_inner(
    state: &AppState,
    who: &Principal,
    headers: &HeaderMap,
    form: &PasswordForm,
) -> Result<axum::http::HeaderValue, Result<Vec<FieldError>, ApiError>> {
    let account = who.account().map_err(Err)?;
    // The current password is checked like a sign-in: counted, locked out, audited.
    match sign_in(state, &account.username, &form.current, &who.addr)
        .await
        .map_err(Err)?
    {
        SignIn::Ok(_) => {}
        SignIn::Failed => {
            return Err(Ok(vec![FieldError::new(
                "current",
                "password.current_wrong",
            )]));
        }
        SignIn::Locked => return Err(Ok(vec![FieldError::new("current", "login.locked")])),
    }

    if form.password == form.current {
        return Err(Ok(vec![FieldError::new("password", "password.same")]));
    }
    let hash = new_password_hash(&form.password, &form.confirm, &account.username)
        .await
        .map_err(Ok)?;
    let now = state.clock.now();
    let result = async {
        let mut tx = state.store.begin().await?;
        replace_own_password(&mut tx, account, &hash, &who.addr, now, "web").await?;
        let fresh = Account {
            must_change: false,
            ..account.clone()
        };
        let c = start_session(&mut tx, &fresh, now, &state.auth, headers).await?;
        tx.commit().await?;
        Ok::<_, ApiError>(c)
    }
    .await;
    result.map_err(Err)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct TokenForm {
    label: String,
}

/// A token label: up to 64 characters, no control characters; empty becomes "API".
fn parse_label(raw: &str) -> Result<String, FieldError> {
    let s = raw.trim();
    if s.chars().count() > 64 || s.chars().any(char::is_control) {
        return Err(FieldError::new("label", "token.label.invalid"));
    }
    Ok(if s.is_empty() {
        "API".to_owned()
    } else {
        s.to_owned()
    })
}

/// Makes a token for `account`; returns the secret (shown once) and its expiry.
async fn make_token(
    state: &AppState,
    account: &Account,
    addr: &str,
    label: &str,
) -> Result<(Uuid, String, OffsetDateTime), ApiError> {
    let now = state.clock.now();
    let lifetime =
        time::Duration::try_from(state.auth.token_lifetime).unwrap_or(time::Duration::days(30));
    let expires = now + lifetime;
    let secret = format!("fk_{}", accounts::new_secret::<32>());
    let id = state.ids.new_id();
    let mut tx = state.store.begin().await?;
    accounts::insert_token(&mut tx, id, account.id, &secret, label, now, expires).await?;
    audit::append(
        &mut tx,
        now,
        &Record {
            actor: &account.username,
            addr,
            action: "token.create",
            target: format!("token:{id}"),
            site: &account.site_code,
            outcome: Outcome::Ok,
            detail: serde_json::json!({"label": label}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((id, secret, expires))
}

async fn revoke(state: &AppState, who: &Principal, id: Uuid) -> Result<(), ApiError> {
    let account = who.account()?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    accounts::revoke_token(&mut tx, account.id, id, now).await?;
    audit::append(
        &mut tx,
        now,
        &Record {
            actor: &account.username,
            addr: &who.addr,
            action: "token.revoke",
            target: format!("token:{id}"),
            site: &account.site_code,
            outcome: Outcome::Ok,
            detail: serde_json::json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

async fn create_token_form(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Form(form): Form<TokenForm>,
) -> Response {
    let label = match parse_label(&form.label) {
        Ok(l) => l,
        Err(e) => {
            return show(
                account_view(&state, locale, &who, FormErrors::of(locale, &[e]), "", None).await,
                StatusCode::UNPROCESSABLE_ENTITY,
                locale,
            );
        }
    };
    let made = match who.account() {
        Ok(a) => make_token(&state, a, &who.addr, &label).await,
        Err(e) => Err(e),
    };
    match made {
        Ok((_, secret, _)) => no_store(show(
            account_view(
                &state,
                locale,
                &who,
                FormErrors::none(),
                "token.created",
                Some(secret),
            )
            .await,
            StatusCode::CREATED,
            locale,
        )),
        Err(e) => crate::home::error_page(locale, e.status),
    }
}

async fn revoke_token_form(
    State(state): State<AppState>,
    locale: Locale,
    who: Principal,
    Path(id): Path<Uuid>,
) -> Response {
    match revoke(&state, &who, id).await {
        Ok(()) => Redirect::to("/account").into_response(),
        Err(e) => crate::home::error_page(locale, e.status),
    }
}

// ---- token API ------------------------------------------------------------------------

/// Credentials for a new API token.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TokenRequest {
    pub username: String,
    pub password: String,
    /// What the token is for (shown in the token list).
    #[serde(default)]
    pub label: Option<String>,
    /// For an account that must choose a new password (new, or reset by an
    /// administrator): the new password, set before the token is made.
    #[serde(default)]
    pub new_password: Option<String>,
}

/// A new API token: send it as `Authorization: Bearer <token>`. Shown only once.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenIssued {
    pub id: Uuid,
    pub token: String,
    /// RFC 3339.
    pub expires_at: String,
}

/// Signs in with a user name and password and returns a new API token.
#[utoipa::path(post, path = "/api/v1/auth/token", tag = "auth",
    request_body = TokenRequest,
    responses(
        (status = 201, description = "Token issued", body = TokenIssued),
        (status = 401, description = "Wrong user name or password (same answer for both)"),
        (status = 403, description = "The account must choose a new password: send `new_password`"),
        (status = 429, description = "Too many failed attempts: locked for 15 minutes")))]
async fn issue_token(
    State(state): State<AppState>,
    who: Principal,
    _key: IdempotencyKey,
    body: JsonBody<TokenRequest>,
) -> Result<Response, ApiError> {
    let req = body.value;
    let label = parse_label(req.label.as_deref().unwrap_or(""))?;
    match sign_in(&state, &req.username, &req.password, &who.addr).await? {
        SignIn::Ok(account) if account.must_change && req.new_password.is_none() => {
            Err(ApiError::new(StatusCode::FORBIDDEN, "password.must_change"))
        }
        SignIn::Ok(mut account) => {
            if account.must_change
                && let Some(new) = &req.new_password
            {
                if *new == req.password {
                    return Err(ApiError::invalid(vec![FieldError::new(
                        "new_password",
                        "password.same",
                    )]));
                }
                let hash = new_password_hash(new, new, &account.username)
                    .await
                    .map_err(|e| {
                        ApiError::invalid(e.into_iter().map(|f| f.at("new_password")).collect())
                    })?;
                let now = state.clock.now();
                let mut tx = state.store.begin().await?;
                replace_own_password(&mut tx, &account, &hash, &who.addr, now, "api").await?;
                tx.commit().await?;
                account.must_change = false;
            }
            let (id, token, expires) = make_token(&state, &account, &who.addr, &label).await?;
            let body = TokenIssued {
                id,
                token,
                expires_at: expires
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap_or_default(),
            };
            let mut res = (StatusCode::CREATED, Json(body)).into_response();
            res.headers_mut().insert(
                header::CACHE_CONTROL,
                axum::http::HeaderValue::from_static("no-store"),
            );
            Ok(res)
        }
        SignIn::Failed => Err(ApiError::new(StatusCode::UNAUTHORIZED, "auth.failed")),
        SignIn::Locked => Err(ApiError::new(StatusCode::TOO_MANY_REQUESTS, "auth.locked")),
    }
}

/// One of your API tokens (never its secret).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenDto {
    pub id: Uuid,
    pub label: String,
    pub created_at: String,
    pub expires_at: String,
    pub revoked_at: Option<String>,
}

fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

/// Your API tokens, newest first.
#[utoipa::path(get, path = "/api/v1/auth/tokens", tag = "auth",
    responses((status = 200, body = [TokenDto])))]
async fn list_tokens(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<Vec<TokenDto>>, ApiError> {
    let account = who.account()?;
    Ok(Json(
        accounts::list_tokens(&state.store, account.id)
            .await?
            .into_iter()
            .map(|t| TokenDto {
                id: t.id,
                label: t.label,
                created_at: rfc3339(t.created_at),
                expires_at: rfc3339(t.expires_at),
                revoked_at: t.revoked_at.map(rfc3339),
            })
            .collect(),
    ))
}

/// Revokes one of your API tokens.
#[utoipa::path(delete, path = "/api/v1/auth/tokens/{id}", tag = "auth",
    params(("id" = Uuid, Path, description = "Token id")),
    responses((status = 204, description = "Revoked"), (status = 404, description = "No such live token of yours")))]
async fn revoke_token(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<Uuid>,
) -> Result<StatusCode, ApiError> {
    revoke(&state, &who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_names_are_short_lower_case_words() {
        assert_eq!(parse_username(" Admin.QX "), Ok("admin.qx".to_owned()));
        for bad in ["ab", "张三", "a b", &"a".repeat(33), "x/y"] {
            assert_eq!(
                parse_username(bad).unwrap_err().code,
                "user.username.invalid",
                "{bad}"
            );
        }
    }

    #[test]
    fn token_labels_default_and_are_bounded() {
        assert_eq!(parse_label("  ").unwrap(), "API");
        assert_eq!(parse_label("prometheus").unwrap(), "prometheus");
        assert!(parse_label(&"x".repeat(65)).is_err());
        assert!(parse_label("a\nb").is_err());
    }

    #[test]
    fn form_errors_find_their_field() {
        let e = FormErrors::of(Locale::En, &[FieldError::new("password", "password.short")]);
        assert!(e.any());
        assert!(!e.get("password").is_empty());
        assert_eq!(e.get("username"), "");
    }
}
