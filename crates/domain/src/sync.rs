//! Records forwarded between sites: append-only events with global ids.
//!
//! A site node that runs its own store sends its records upstream when the link is up.
//! Delivery is at least once; the receiver ignores an id it already holds, so a resend
//! never doubles anything.

use crate::FieldError;
use crate::org::SiteCode;
use time::OffsetDateTime;
use uuid::Uuid;

/// The largest payload one event may carry, in bytes of JSON.
pub const MAX_PAYLOAD_BYTES: usize = 16 * 1024;
/// The most events one request may carry.
pub const MAX_BATCH: usize = 500;

/// An event after validation.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: Uuid,
    pub site: SiteCode,
    pub kind: String,
    pub occurred_at: OffsetDateTime,
    /// A JSON object, serialised.
    pub payload: String,
}

/// Validates one event as received.
///
/// The id must be a UUIDv7 (made where the record was made, so resends keep it); the kind
/// is `area.verb` in lower-case ASCII; the payload is a JSON object of bounded size; the
/// time may not lie more than five minutes in the receiver's future.
pub fn validate(
    id: Uuid,
    site: &str,
    kind: &str,
    occurred_at: OffsetDateTime,
    payload: &serde_json::Value,
    now: OffsetDateTime,
) -> Result<Event, FieldError> {
    if id.get_version_num() != 7 {
        return Err(FieldError::new("id", "sync.id.not_v7"));
    }
    let site = SiteCode::parse(site).map_err(|_| FieldError::new("site", "site.code.invalid"))?;
    if !valid_kind(kind) {
        return Err(FieldError::new("kind", "sync.kind.invalid"));
    }
    if occurred_at > now + time::Duration::minutes(5) {
        return Err(FieldError::new("occurred_at", "sync.time.future"));
    }
    if !payload.is_object() {
        return Err(FieldError::new("payload", "sync.payload.not_object"));
    }
    let payload = payload.to_string();
    if payload.len() > MAX_PAYLOAD_BYTES {
        return Err(FieldError::new("payload", "sync.payload.too_large"));
    }
    Ok(Event {
        id,
        site,
        kind: kind.to_owned(),
        occurred_at,
        payload,
    })
}

fn valid_kind(kind: &str) -> bool {
    let mut parts = kind.split('.');
    let (Some(area), Some(verb), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    kind.len() <= 64
        && [area, verb]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::{IdSource, SequentialIds};
    use serde_json::json;
    use time::macros::datetime;

    const NOW: OffsetDateTime = datetime!(2020-01-29 08:00 UTC);

    fn id() -> Uuid {
        SequentialIds::new(1_580_284_800_000).new_id()
    }

    #[test]
    fn a_well_formed_event_passes() {
        let e = validate(
            id(),
            "JD-QX",
            "screening.recorded",
            NOW,
            &json!({"n": 1}),
            NOW,
        )
        .unwrap();
        assert_eq!(e.site.as_str(), "JD-QX");
        assert_eq!(e.payload, r#"{"n":1}"#);
    }

    #[test]
    fn each_bad_field_is_named() {
        let p = json!({});
        let code = |r: Result<Event, FieldError>| r.unwrap_err().code;
        assert_eq!(
            code(validate(Uuid::nil(), "JD", "a.b", NOW, &p, NOW)),
            "sync.id.not_v7"
        );
        assert_eq!(
            code(validate(id(), "jd", "a.b", NOW, &p, NOW)),
            "site.code.invalid"
        );
        for kind in ["", "a", "a.b.c", "A.b", "a.", ".b", "a-b.c"] {
            assert_eq!(
                code(validate(id(), "JD", kind, NOW, &p, NOW)),
                "sync.kind.invalid",
                "{kind}"
            );
        }
        let later = NOW + time::Duration::minutes(6);
        assert_eq!(
            code(validate(id(), "JD", "a.b", later, &p, NOW)),
            "sync.time.future"
        );
        assert_eq!(
            code(validate(id(), "JD", "a.b", NOW, &json!([1]), NOW)),
            "sync.payload.not_object"
        );
        let big = json!({"x": "y".repeat(MAX_PAYLOAD_BYTES)});
        assert_eq!(
            code(validate(id(), "JD", "a.b", NOW, &big, NOW)),
            "sync.payload.too_large"
        );
    }

    #[test]
    fn slight_clock_skew_is_tolerated() {
        let soon = NOW + time::Duration::minutes(4);
        assert!(validate(id(), "JD", "a.b", soon, &json!({}), NOW).is_ok());
    }
}
