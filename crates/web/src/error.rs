//! Errors of the web layer: RFC 9457 problem documents for the API, friendly pages for
//! people.
//!
//! A handler returns [`ApiError`] holding message keys only. The [`localize`] middleware,
//! which knows the request's language, writes the body, so even errors raised before a
//! handler runs (a body too large, an unknown route) come out the same way in the user's
//! language. A 5xx never shows its cause: it is logged with the request id instead.

use crate::i18n::Locale;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use fangkong_domain::FieldError;
use fangkong_store::StoreError;
use serde::Serialize;

/// An API failure, to be written as `application/problem+json`.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    /// Stable, machine-readable code (also the message key, prefixed by `problem.`).
    pub code: &'static str,
    pub fields: Vec<FieldError>,
    /// Extra, untranslated detail safe to show (a JSON parser's complaint).
    pub cause: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str) -> ApiError {
        ApiError {
            status,
            code,
            fields: Vec::new(),
            cause: None,
        }
    }

    pub fn not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "not_found")
    }

    pub fn internal() -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal")
    }

    /// 422 with the fields to correct.
    pub fn invalid(fields: Vec<FieldError>) -> ApiError {
        ApiError {
            fields,
            ..ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "validation")
        }
    }

    /// The problem for an answer that was made without one.
    pub fn for_status(status: StatusCode) -> ApiError {
        let code = match status {
            StatusCode::NOT_FOUND => "not_found",
            StatusCode::METHOD_NOT_ALLOWED => "method_not_allowed",
            StatusCode::PAYLOAD_TOO_LARGE => "body.too_large",
            StatusCode::UNSUPPORTED_MEDIA_TYPE => "body.content_type",
            StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT => "unavailable",
            s if s.is_client_error() => "request.invalid",
            _ => "internal",
        };
        ApiError::new(status, code)
    }

    pub fn with_cause(mut self, cause: impl Into<String>) -> ApiError {
        self.cause = Some(cause.into());
        self
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> ApiError {
        ApiError::invalid(vec![e])
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Invalid(field) => ApiError::invalid(vec![field]),
            StoreError::NotFound => ApiError::not_found(),
            StoreError::Closed => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            other => {
                tracing::error!(error = %other, "store failure");
                ApiError::internal()
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut res = self.status.into_response();
        res.extensions_mut().insert(self);
        res
    }
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: String,
    title: &'a str,
    status: u16,
    detail: &'a str,
    code: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldProblem<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cause: Option<&'a str>,
}

#[derive(Serialize)]
struct FieldProblem<'a> {
    field: &'a str,
    code: &'a str,
    message: &'a str,
}

fn problem_body(err: &ApiError, locale: Locale) -> String {
    let key = format!("problem.{}", err.code);
    let problem = Problem {
        kind: format!("urn:fangkong:problem:{}", err.code),
        title: err.status.canonical_reason().unwrap_or("Error"),
        status: err.status.as_u16(),
        detail: locale.t(&key),
        code: err.code,
        errors: err
            .fields
            .iter()
            .map(|f| FieldProblem {
                field: f.field,
                code: f.code,
                message: locale.t(f.code),
            })
            .collect(),
        cause: err.cause.as_deref(),
    };
    serde_json::to_string(&problem).unwrap_or_default()
}

fn is_json(res: &Response) -> bool {
    res.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("json"))
}

/// Writes API errors as problem documents in the request's language, and gives every
/// other failed answer under `/api` (unknown route, wrong method, a rejected path
/// parameter, a timeout, a panic) a problem document too.
pub async fn localize(req: Request, next: Next) -> Response {
    let locale = Locale::negotiate(req.headers());
    let is_api = req.uri().path().starts_with("/api/");
    let mut res = next.run(req).await;
    let err = match res.extensions_mut().remove::<ApiError>() {
        Some(e) => e,
        // Answers made below the handlers (routing, extractors, timeouts, panics) carry
        // no problem document yet: give them one under /api, dropping their body.
        None if is_api && res.status().as_u16() >= 400 && !is_json(&res) => {
            ApiError::for_status(res.status())
        }
        None => return res,
    };
    let body = problem_body(&err, locale);
    let mut out = (
        err.status,
        [
            (header::CONTENT_TYPE, "application/problem+json"),
            (header::CONTENT_LANGUAGE, locale.tag()),
        ],
        body,
    )
        .into_response();
    // Keep headers set by layers below (the allowed methods of a 405, say).
    for (name, value) in res.headers() {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().entry(name).or_insert(value.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_carry_code_detail_and_field_messages() {
        let err = ApiError::invalid(vec![FieldError::new("code", "site.code.taken")]);
        let zh: serde_json::Value =
            serde_json::from_str(&problem_body(&err, Locale::ZhCn)).unwrap();
        assert_eq!(zh["status"], 422);
        assert_eq!(zh["code"], "validation");
        assert_eq!(zh["type"], "urn:fangkong:problem:validation");
        assert_eq!(zh["errors"][0]["field"], "code");
        assert_eq!(zh["errors"][0]["message"], "该站点编号已被使用。");
        let en: serde_json::Value = serde_json::from_str(&problem_body(&err, Locale::En)).unwrap();
        assert_eq!(
            en["errors"][0]["message"],
            "This site code is already taken."
        );
    }

    #[test]
    fn store_failures_hide_their_cause() {
        let err = ApiError::from(StoreError::Database("relation secret_table missing".into()));
        assert_eq!(err.status, StatusCode::INTERNAL_SERVER_ERROR);
        let body = problem_body(&err, Locale::En);
        assert!(!body.contains("secret_table"), "{body}");
    }
}
