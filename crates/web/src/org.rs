//! Sites: the API for the district's tree of service centres.

use crate::AppState;
use crate::error::ApiError;
use crate::idempotency::{Idem, IdempotencyKey, JsonBody, json_response};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::Response;
use fangkong_domain::FieldError;
use fangkong_domain::org::{Name, NewSite, SiteCode, SiteKind, parse_capacity};
use fangkong_store::org::{self, Site};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_sites, create_site))
        .routes(routes!(get_site))
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
        let address = self.address.as_deref().unwrap_or("").trim().to_owned();
        let address = if address.chars().count() > 200 || address.chars().any(char::is_control) {
            Err(FieldError::new("address", "name.invalid"))
        } else {
            Ok(address)
        };
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

/// Lists the sites in tree order: each parent followed by its subtree.
#[utoipa::path(get, path = "/api/v1/sites", tag = "org",
    responses((status = 200, description = "The sites", body = [SiteDto])))]
async fn list_sites(State(state): State<AppState>) -> Result<Json<Vec<SiteDto>>, ApiError> {
    let sites = org::list_sites(&state.store).await?;
    Ok(Json(
        sites.into_iter().map(|s| SiteDto::from(s.site)).collect(),
    ))
}

/// One site by its code.
#[utoipa::path(get, path = "/api/v1/sites/{code}", tag = "org",
    params(("code" = String, Path, description = "Site code")),
    responses((status = 200, body = SiteDto), (status = 404, description = "No such site")))]
async fn get_site(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> Result<Json<SiteDto>, ApiError> {
    org::find_site(&state.store, &code)
        .await?
        .map(|s| Json(s.into()))
        .ok_or_else(ApiError::not_found)
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
    key: IdempotencyKey,
    body: JsonBody<CreateSite>,
) -> Result<Response, ApiError> {
    let idem = Idem::new("POST /api/v1/sites", &key, &body);
    let new = body.value.validate().map_err(ApiError::invalid)?;
    let mut tx = state.store.begin().await?;
    if let Some(replay) = idem.check_in(&mut tx).await? {
        return Ok(with_location(replay, &new.code));
    }
    let now = state.clock.now();
    let site = org::insert_site(&mut tx, state.ids.new_id(), &new, now).await?;
    let answer =
        serde_json::to_string(&SiteDto::from(site.clone())).map_err(|_| ApiError::internal())?;
    if let Some(op) = idem.remember(StatusCode::CREATED, &answer, now)
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
