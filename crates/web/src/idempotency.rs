//! The shared mechanism for `Idempotency-Key` and JSON request bodies.
//!
//! A mutation handler reads [`IdempotencyKey`] and a [`JsonBody`] (which keeps a
//! fingerprint of the exact bytes), asks [`Idem::check_in`] inside its transaction, and
//! stores its answer with [`Idem::remember`] in the same transaction as its effect.
//! A replay gets the first answer with `Idempotent-Replayed: true`; the same key with a
//! different body gets 422 `idempotency.key_reused`.

use crate::error::ApiError;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fangkong_store::idempotency::{self, Prior};
use fangkong_store::{Op, Store, StoreError, Then, Tx};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

pub const HEADER: &str = "idempotency-key";
pub const REPLAYED: &str = "idempotent-replayed";

/// The optional `Idempotency-Key` header: 1 to 255 visible ASCII characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey(pub Option<String>);

impl<S: Send + Sync> FromRequestParts<S> for IdempotencyKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let Some(raw) = parts.headers.get(HEADER) else {
            return Ok(IdempotencyKey(None));
        };
        let bad = || ApiError::new(StatusCode::BAD_REQUEST, "idempotency.key_invalid");
        let key = raw.to_str().map_err(|_| bad())?;
        if key.is_empty() || key.len() > 255 || !key.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(bad());
        }
        Ok(IdempotencyKey(Some(key.to_owned())))
    }
}

/// A JSON body, parsed, with a fingerprint of its bytes.
#[derive(Debug, Clone)]
pub struct JsonBody<T> {
    pub value: T,
    pub fingerprint: String,
}

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|m| {
                let m = m.trim();
                m.eq_ignore_ascii_case("application/json") || m.ends_with("+json")
            });
        if !is_json {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "body.content_type",
            ));
        }
        let bytes = Bytes::from_request(req, state).await.map_err(|e| {
            if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "body.too_large")
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, "body.invalid")
            }
        })?;
        let value = serde_json::from_slice(&bytes).map_err(|e| {
            let status = if e.is_data() {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::BAD_REQUEST
            };
            ApiError::new(status, "body.invalid").with_cause(e.to_string())
        })?;
        let fingerprint = hex(&Sha256::digest(&bytes));
        Ok(JsonBody { value, fingerprint })
    }
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

/// One mutation's idempotency context.
pub struct Idem<'a> {
    scope: &'static str,
    /// The caller's key, prefixed with the account that sent it.
    key: Option<String>,
    fingerprint: &'a str,
}

impl<'a> Idem<'a> {
    /// `scope` names the operation (`POST /api/v1/sites`): the same key may be used once
    /// per operation.
    /// Keys belong to the account that sends them: the same key from another account is
    /// another key, so one account never sees another's answer or learns its keys.
    pub fn new<T>(
        scope: &'static str,
        who: &crate::access::Principal,
        key: &IdempotencyKey,
        body: &'a JsonBody<T>,
    ) -> Self {
        let owner = who
            .account
            .as_ref()
            .map_or_else(|| "-".to_owned(), |a| a.id.to_string());
        Idem {
            scope,
            key: key.0.as_deref().map(|k| format!("{owner}/{k}")),
            fingerprint: &body.fingerprint,
        }
    }

    /// For requests that do not arrive as an HTTP body (an MQTT message): the key and a
    /// fingerprint of the message given directly.
    pub fn raw(
        scope: &'static str,
        who: &crate::access::Principal,
        key: Option<&str>,
        fingerprint: &'a str,
    ) -> Self {
        let owner = who
            .account
            .as_ref()
            .map_or_else(|| "-".to_owned(), |a| a.id.to_string());
        Idem {
            scope,
            key: key.map(|k| format!("{owner}/{k}")),
            fingerprint,
        }
    }

    /// Inside the effect's transaction: `Some` answer to send instead of doing the work.
    pub async fn check_in(&self, tx: &mut Tx) -> Result<Option<Response>, ApiError> {
        match self.key.as_deref() {
            None => Ok(None),
            Some(key) => {
                Self::decide(idempotency::lookup_in(tx, self.scope, key, self.fingerprint).await?)
            }
        }
    }

    /// Before queuing work for the group-commit writer.
    pub async fn check(&self, store: &Store) -> Result<Option<Response>, ApiError> {
        match self.key.as_deref() {
            None => Ok(None),
            Some(key) => {
                Self::decide(idempotency::lookup(store, self.scope, key, self.fingerprint).await?)
            }
        }
    }

    fn decide(prior: Prior) -> Result<Option<Response>, ApiError> {
        match prior {
            Prior::None => Ok(None),
            Prior::Replay { status, body } => Ok(Some(replay(status, body))),
            Prior::Conflict => Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency.key_reused",
            )),
        }
    }

    /// The statement that stores the answer, to run with the effect.
    pub fn remember(&self, status: StatusCode, body: &str, now: OffsetDateTime) -> Option<Op> {
        self.key.as_deref().map(|key| {
            idempotency::remember(
                self.scope,
                key,
                self.fingerprint,
                status.as_u16(),
                body,
                now,
            )
        })
    }

    /// For the group-commit writer: the statement that stores the answer, rendered from
    /// the request's row counts inside the commit.
    pub fn remember_after(
        &self,
        status: StatusCode,
        now: OffsetDateTime,
        render: impl Fn(&[u64]) -> String + Send + Sync + 'static,
    ) -> Option<Then> {
        let key = self.key.clone()?;
        let (scope, fingerprint) = (self.scope, self.fingerprint.to_owned());
        Some(Box::new(move |counts: &[u64]| {
            idempotency::remember(
                scope,
                &key,
                &fingerprint,
                status.as_u16(),
                &render(counts),
                now,
            )
        }))
    }

    /// Turns a failure into the answer: when a concurrent request with the same key won
    /// the race, its answer (or the key conflict); otherwise the error itself.
    pub async fn resolve(&self, store: &Store, err: StoreError) -> Result<Response, ApiError> {
        match (&err, self.key.as_deref()) {
            (StoreError::Unique { table }, Some(_)) if table == "idempotency_keys" => {
                self.check(store).await?.ok_or_else(|| ApiError::from(err))
            }
            _ => Err(err.into()),
        }
    }
}

/// A JSON answer with its status.
pub fn json_response(status: StatusCode, body: String) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

fn replay(status: u16, body: String) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut res = json_response(status, body);
    res.headers_mut()
        .insert(REPLAYED, HeaderValue::from_static("true"));
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_are_lower_case_hex_of_the_exact_bytes() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
        assert_eq!(
            hex(&Sha256::digest(b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
