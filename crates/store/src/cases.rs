//! Suspected cases: the ledger (台账) with its timeline, the alerts that report a case or a
//! fever-rate breakout to the leadership group at once, their escalation, the robot
//! webhooks and their delivery log, upward reports, and the exposure list.
//!
//! Opening a case, raising its alert and queueing its robot messages happen in one
//! transaction: a case the door was told about always has its alert.

use crate::privacy::Vault;
use crate::screening::{day_text, open_registration, registration_masks};
use crate::{Result, Row, Store, StoreError, Tx, Value, params};
use fangkong_domain::cases::{Action, CaseOutcome, Channel, Level, Source, Status};
use fangkong_domain::clock::{IdSource, unix_millis};
use fangkong_domain::screening::{Answers, Phase, SubjectKind, Symptom, day_of};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

time::serde::format_description!(iso_date, Date, "[year]-[month]-[day]");

/// One action taken, as kept in a case's details.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Taken {
    pub action: Action,
    /// Unix milliseconds.
    pub at: i64,
    pub note: String,
}

/// Everything a case record holds about the person (sealed at rest as one value).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CaseDetails {
    /// The door record that led to the case, if any.
    #[serde(default)]
    pub screening_id: Option<Uuid>,
    #[serde(default)]
    pub registration_id: Option<Uuid>,
    #[serde(default)]
    pub person_id: Option<Uuid>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    /// Every temperature taken, in order: `(unix milliseconds, tenths of a degree)`.
    #[serde(default)]
    pub temperatures: Vec<(i64, u16)>,
    #[serde(default)]
    pub symptoms: Vec<Symptom>,
    #[serde(default, with = "iso_date::option")]
    pub onset: Option<Date>,
    #[serde(default)]
    pub answers: Answers,
    /// When the person was in the hall (unix milliseconds): the door record's time, or
    /// as reported for a case opened by hand. The exposure list starts from it.
    #[serde(default)]
    pub seen_at: Option<i64>,
    #[serde(default)]
    pub actions: Vec<Taken>,
}

/// A case record to open.
#[derive(Debug, Clone)]
pub struct NewCase {
    pub id: Uuid,
    pub site_id: Uuid,
    pub at: OffsetDateTime,
    pub source: Source,
    pub kind: SubjectKind,
    pub details: CaseDetails,
    pub opened_by: String,
    /// The alert raised with it (its id).
    pub alert_id: Uuid,
    /// Ids for the timeline entry and for each robot message.
    pub event_id: Uuid,
}

/// What an alert says, with nothing that identifies a person.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AlertSummary {
    /// For a case: where it was opened and who the person is (citizen, staff …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<SubjectKind>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub symptoms: Vec<Symptom>,
    /// The highest temperature taken, in tenths.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub highest: Option<u16>,
    /// For a fever-rate breakout: the day, its abnormal count and the methods that alarmed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub day: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u32>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub methods: Vec<String>,
    /// For a daily report sent back by the parent site: the version returned (the
    /// reminder of a missing report has none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub returned: Option<u32>,
}

fn json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Decode(e.to_string()))
}

fn from_json<T: for<'de> Deserialize<'de>>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(|e| StoreError::Decode(e.to_string()))
}

/// Opens a case record in the caller's transaction, with its first timeline entry, its
/// alert to the leadership group and one queued message per active robot of the site.
pub async fn insert_case(
    tx: &mut Tx,
    vault: &Vault,
    c: &NewCase,
    ids: &dyn IdSource,
) -> Result<()> {
    tx.execute(
        "INSERT INTO cases (id, site_id, opened_at, source, screening_id, subject_kind, status, details_enc, opened_by) \
         VALUES ($1, $2, $3, $4, $5, $6, 'open', $7, $8)",
        &params![
            c.id,
            c.site_id,
            c.at,
            c.source.as_str(),
            c.details.screening_id,
            c.kind.as_str(),
            vault.seal("case.details", c.id, &json(&c.details)?),
            c.opened_by.as_str()
        ],
    )
    .await?;
    add_event(
        tx,
        vault,
        c.event_id,
        c.id,
        c.at,
        &c.opened_by,
        "opened",
        c.source.as_str(),
    )
    .await?;
    let summary = AlertSummary {
        source: Some(c.source),
        kind: Some(c.kind),
        symptoms: c.details.symptoms.clone(),
        highest: c.details.temperatures.iter().map(|t| t.1).max(),
        ..AlertSummary::default()
    };
    raise(
        tx,
        c.alert_id,
        c.site_id,
        "case",
        Some(c.id),
        &format!("case:{}", c.id),
        c.at,
        &summary,
        ids,
    )
    .await?;
    let day = day_text(day_of(c.at));
    tx.execute(
        "INSERT INTO daily_counts (site_id, day, metric, n) VALUES ($1, $2, 'cases.opened', 1) \
         ON CONFLICT (site_id, day, metric) DO UPDATE SET n = daily_counts.n + 1",
        &params![c.site_id, day],
    )
    .await?;
    Ok(())
}

/// Adds one timeline entry (its detail sealed).
#[allow(clippy::too_many_arguments)]
pub async fn add_event(
    tx: &mut Tx,
    vault: &Vault,
    id: Uuid,
    case: Uuid,
    at: OffsetDateTime,
    actor: &str,
    kind: &str,
    detail: &str,
) -> Result<()> {
    tx.execute(
        "INSERT INTO case_events (id, case_id, at, actor, kind, detail_enc) VALUES ($1, $2, $3, $4, $5, $6)",
        &params![id, case, at, actor, kind, vault.seal("case.event", id, detail)],
    )
    .await?;
    Ok(())
}

/// Raises an alert unless one with the same `dedupe` key exists, and queues a message at
/// [`Level::Raised`] for each active robot of the site. Returns whether it was raised.
#[allow(clippy::too_many_arguments)]
pub async fn raise(
    tx: &mut Tx,
    id: Uuid,
    site: Uuid,
    kind: &str,
    case: Option<Uuid>,
    dedupe: &str,
    at: OffsetDateTime,
    summary: &AlertSummary,
    ids: &dyn IdSource,
) -> Result<bool> {
    let n = tx
        .execute(
            "INSERT INTO alerts (id, site_id, kind, case_id, dedupe, raised_at, level, level_at, summary) \
             VALUES ($1, $2, $3, $4, $5, $6, 0, $6, $7) ON CONFLICT (dedupe) DO NOTHING",
            &params![id, site, kind, case, dedupe, at, json(summary)?],
        )
        .await?;
    if n == 0 {
        return Ok(false);
    }
    queue_messages(tx, id, site, Level::Raised, at, ids).await?;
    Ok(true)
}

async fn queue_messages(
    tx: &mut Tx,
    alert: Uuid,
    site: Uuid,
    level: Level,
    at: OffsetDateTime,
    ids: &dyn IdSource,
) -> Result<()> {
    let hooks = tx
        .query(
            "SELECT id FROM webhooks WHERE site_id = $1 AND active = $2 ORDER BY id",
            &params![site, true],
        )
        .await?;
    for h in hooks {
        let hook: Uuid = h.get(0)?;
        tx.execute(
            "INSERT INTO deliveries (id, webhook_id, alert_id, level, status, attempts, next_at, created_at) \
             VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5) ON CONFLICT (webhook_id, alert_id, level) DO NOTHING",
            &params![ids.new_id(), hook, alert, level.number(), at],
        )
        .await?;
    }
    Ok(())
}

/// A case record as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub id: Uuid,
    pub site_id: Uuid,
    pub opened_at: OffsetDateTime,
    pub source: Source,
    pub kind: SubjectKind,
    pub status: Status,
    pub outcome: Option<CaseOutcome>,
    pub outcome_on: Option<Date>,
    pub acknowledged_at: Option<OffsetDateTime>,
    pub reported_at: Option<OffsetDateTime>,
    pub opened_by: String,
    pub details: CaseDetails,
}

const CASE_COLUMNS: &str = "id, site_id, opened_at, source, subject_kind, status, outcome, outcome_on, \
     acknowledged_at, reported_at, opened_by, details_enc FROM cases";

fn decode_case(vault: &Vault, r: &Row) -> Result<Case> {
    let id: Uuid = r.get(0)?;
    let bad = |what: &str| StoreError::Decode(format!("cases.{what}"));
    let outcome_on = r
        .get::<Option<String>>(7)?
        .map(|d| Date::parse(&d, &time::format_description::well_known::Iso8601::DATE))
        .transpose()
        .map_err(|_| bad("outcome_on"))?;
    Ok(Case {
        id,
        site_id: r.get(1)?,
        opened_at: r.get(2)?,
        source: Source::parse(&r.get::<String>(3)?).ok_or_else(|| bad("source"))?,
        kind: SubjectKind::parse(&r.get::<String>(4)?).ok_or_else(|| bad("subject_kind"))?,
        status: Status::parse(&r.get::<String>(5)?).ok_or_else(|| bad("status"))?,
        outcome: r
            .get::<Option<String>>(6)?
            .map(|o| CaseOutcome::parse(&o).ok_or_else(|| bad("outcome")))
            .transpose()?,
        outcome_on,
        acknowledged_at: r.get(8)?,
        reported_at: r.get(9)?,
        opened_by: r.get(10)?,
        details: from_json(&vault.open("case.details", id, &r.get::<Vec<u8>>(11)?)?)?,
    })
}

pub async fn find_case(store: &Store, vault: &Vault, id: Uuid) -> Result<Option<Case>> {
    store
        .query_opt(
            &format!("SELECT {CASE_COLUMNS} WHERE id = $1"),
            &params![id],
        )
        .await?
        .map(|r| decode_case(vault, &r))
        .transpose()
}

/// Which case records to list.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    pub sites: Vec<Uuid>,
    pub status: Option<Status>,
    pub outcome: Option<CaseOutcome>,
    pub kind: Option<SubjectKind>,
    pub from: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
}

/// Case records, newest first.
pub async fn list_cases(
    store: &Store,
    vault: &Vault,
    f: &CaseFilter,
    limit: u32,
) -> Result<Vec<Case>> {
    if f.sites.is_empty() {
        return Ok(Vec::new());
    }
    let mut values: Vec<Value> = f.sites.iter().map(|s| (*s).into()).collect();
    let list = crate::value::placeholders(1, values.len());
    let mut sql = format!("SELECT {CASE_COLUMNS} WHERE site_id IN ({list})");
    let mut clause = |cond: &str, v: Value| {
        values.push(v);
        sql.push_str(&format!(" AND {cond} ${}", values.len()));
    };
    if let Some(s) = f.status {
        clause("status =", s.as_str().into());
    }
    if let Some(o) = f.outcome {
        clause("outcome =", o.as_str().into());
    }
    if let Some(k) = f.kind {
        clause("subject_kind =", k.as_str().into());
    }
    if let Some(t) = f.from {
        clause("opened_at >=", t.into());
    }
    if let Some(t) = f.until {
        clause("opened_at <", t.into());
    }
    values.push(i64::from(limit).into());
    sql.push_str(&format!(
        " ORDER BY opened_at DESC, id DESC LIMIT ${}",
        values.len()
    ));
    store
        .query(&sql, &values)
        .await?
        .iter()
        .map(|r| decode_case(vault, r))
        .collect()
}

/// Reads a case inside a transaction, for a change. The row is locked first (a write that
/// changes nothing), so two changes of one case's sealed details on PostgreSQL follow
/// each other instead of one overwriting the other; SQLite has one writer anyway.
async fn case_in(tx: &mut Tx, vault: &Vault, id: Uuid) -> Result<Case> {
    tx.execute(
        "UPDATE cases SET status = status WHERE id = $1",
        &params![id],
    )
    .await?;
    let r = tx
        .query_opt(
            &format!("SELECT {CASE_COLUMNS} WHERE id = $1"),
            &params![id],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    decode_case(vault, &r)
}

async fn save_details(tx: &mut Tx, vault: &Vault, id: Uuid, d: &CaseDetails) -> Result<()> {
    tx.execute(
        "UPDATE cases SET details_enc = $2 WHERE id = $1",
        &params![id, vault.seal("case.details", id, &json(d)?)],
    )
    .await?;
    Ok(())
}

/// Records an action taken (escorted, sent home …) with a note.
#[allow(clippy::too_many_arguments)]
pub async fn add_action(
    tx: &mut Tx,
    vault: &Vault,
    event: Uuid,
    case: Uuid,
    at: OffsetDateTime,
    actor: &str,
    action: Action,
    note: &str,
) -> Result<()> {
    let mut c = case_in(tx, vault, case).await?;
    c.details.actions.push(Taken {
        action,
        at: unix_millis(at),
        note: note.to_owned(),
    });
    save_details(tx, vault, case, &c.details).await?;
    let detail = if note.is_empty() {
        action.as_str().to_owned()
    } else {
        format!("{}: {note}", action.as_str())
    };
    add_event(tx, vault, event, case, at, actor, "action", &detail).await
}

/// Records the outcome and closes the case; a later outcome replaces it (both stay in the
/// timeline).
#[allow(clippy::too_many_arguments)]
pub async fn set_outcome(
    tx: &mut Tx,
    vault: &Vault,
    event: Uuid,
    case: Uuid,
    at: OffsetDateTime,
    actor: &str,
    outcome: CaseOutcome,
    on: Date,
) -> Result<()> {
    let n = tx
        .execute(
            "UPDATE cases SET outcome = $2, outcome_on = $3, status = 'closed' WHERE id = $1",
            &params![case, outcome.as_str(), on.to_string()],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    add_event(
        tx,
        vault,
        event,
        case,
        at,
        actor,
        "outcome",
        &format!("{} {on}", outcome.as_str()),
    )
    .await
}

/// One entry of a case's timeline.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub at: OffsetDateTime,
    pub actor: String,
    pub kind: String,
    pub detail: String,
}

pub async fn events(store: &Store, vault: &Vault, case: Uuid) -> Result<Vec<Event>> {
    store
        .query(
            "SELECT id, at, actor, kind, detail_enc FROM case_events WHERE case_id = $1 ORDER BY at, id",
            &params![case],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(Event {
                at: r.get(1)?,
                actor: r.get(2)?,
                kind: r.get(3)?,
                detail: vault.open("case.event", r.get(0)?, &r.get::<Vec<u8>>(4)?)?,
            })
        })
        .collect()
}

/// An alert to the leadership group.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub id: Uuid,
    pub site_id: Uuid,
    /// `case` or `ears`.
    pub kind: String,
    pub case_id: Option<Uuid>,
    pub raised_at: OffsetDateTime,
    pub level: Level,
    pub level_at: OffsetDateTime,
    pub summary: AlertSummary,
    pub acknowledged_at: Option<OffsetDateTime>,
    pub acknowledged_by: Option<String>,
}

const ALERT_COLUMNS: &str = "id, site_id, kind, case_id, raised_at, level, level_at, summary, \
     acknowledged_at, acknowledged_by FROM alerts";

fn decode_alert(r: &Row) -> Result<Alert> {
    Ok(Alert {
        id: r.get(0)?,
        site_id: r.get(1)?,
        kind: r.get(2)?,
        case_id: r.get(3)?,
        raised_at: r.get(4)?,
        level: Level::from_number(r.get(5)?)
            .ok_or_else(|| StoreError::Decode("alerts.level".into()))?,
        level_at: r.get(6)?,
        summary: from_json(&r.get::<String>(7)?)?,
        acknowledged_at: r.get(8)?,
        acknowledged_by: r.get(9)?,
    })
}

pub async fn find_alert(store: &Store, id: Uuid) -> Result<Option<Alert>> {
    store
        .query_opt(
            &format!("SELECT {ALERT_COLUMNS} WHERE id = $1"),
            &params![id],
        )
        .await?
        .map(|r| decode_alert(&r))
        .transpose()
}

/// The alert raised with a case.
pub async fn case_alert(store: &Store, case: Uuid) -> Result<Option<Alert>> {
    store
        .query_opt(
            &format!("SELECT {ALERT_COLUMNS} WHERE case_id = $1"),
            &params![case],
        )
        .await?
        .map(|r| decode_alert(&r))
        .transpose()
}

/// Alerts of these sites raised since `since`, newest first; only unacknowledged ones
/// when `open_only`.
pub async fn alerts(
    store: &Store,
    sites: &[Uuid],
    since: OffsetDateTime,
    open_only: bool,
) -> Result<Vec<Alert>> {
    if sites.is_empty() {
        return Ok(Vec::new());
    }
    let mut values: Vec<Value> = sites.iter().map(|s| (*s).into()).collect();
    let list = crate::value::placeholders(1, values.len());
    values.push(since.into());
    let open = if open_only {
        " AND acknowledged_at IS NULL"
    } else {
        ""
    };
    let sql = format!(
        "SELECT {ALERT_COLUMNS} WHERE site_id IN ({list}) AND raised_at >= ${}{open} ORDER BY raised_at DESC, id DESC LIMIT 500",
        values.len()
    );
    store
        .query(&sql, &values)
        .await?
        .iter()
        .map(decode_alert)
        .collect()
}

/// Unacknowledged alerts below the top level: the escalation worker's work list. A
/// missing report's reminder does not escalate (the parent sees it as late).
pub async fn escalating(store: &Store) -> Result<Vec<Alert>> {
    store
        .query(
            &format!("SELECT {ALERT_COLUMNS} WHERE acknowledged_at IS NULL AND level < 3 AND kind <> 'report' ORDER BY raised_at LIMIT 1000"),
            &params![],
        )
        .await?
        .iter()
        .map(decode_alert)
        .collect()
}

/// Acknowledges an alert (the first acknowledgement counts; later ones change nothing)
/// and, for a case, notes the time on the case and in its timeline. Returns whether this
/// call acknowledged it.
pub async fn acknowledge(
    tx: &mut Tx,
    vault: &Vault,
    alert: &Alert,
    event: Uuid,
    at: OffsetDateTime,
    by: &str,
) -> Result<bool> {
    let n = tx
        .execute(
            "UPDATE alerts SET acknowledged_at = $2, acknowledged_by = $3 WHERE id = $1 AND acknowledged_at IS NULL",
            &params![alert.id, at, by],
        )
        .await?;
    if n == 0 {
        return Ok(false);
    }
    if let Some(case) = alert.case_id {
        tx.execute(
            "UPDATE cases SET acknowledged_at = $2 WHERE id = $1 AND acknowledged_at IS NULL",
            &params![case, at],
        )
        .await?;
        add_event(tx, vault, event, case, at, by, "acknowledged", "").await?;
    }
    Ok(true)
}

/// Moves an unacknowledged alert up to `level` and queues the robots' messages for it.
/// Returns false when someone acknowledged it (or another process escalated it) first.
pub async fn escalate(
    tx: &mut Tx,
    vault: &Vault,
    alert: &Alert,
    level: Level,
    at: OffsetDateTime,
    ids: &dyn IdSource,
) -> Result<bool> {
    let n = tx
        .execute(
            "UPDATE alerts SET level = $2, level_at = $3 WHERE id = $1 AND acknowledged_at IS NULL AND level < $2",
            &params![alert.id, level.number(), at],
        )
        .await?;
    if n == 0 {
        return Ok(false);
    }
    queue_messages(tx, alert.id, alert.site_id, level, at, ids).await?;
    if let Some(case) = alert.case_id {
        add_event(
            tx,
            vault,
            ids.new_id(),
            case,
            at,
            "system",
            "escalated",
            level.as_str(),
        )
        .await?;
    }
    Ok(true)
}

/// A report to the district command office.
#[derive(Debug, Clone, PartialEq)]
pub struct Upward {
    pub id: Uuid,
    pub case_id: Uuid,
    pub site_id: Uuid,
    /// When it was reported.
    pub at: OffsetDateTime,
    pub channel: Channel,
    /// Who reported (as written by the leader).
    pub reported_by: String,
    pub content: String,
    pub recorded_by: String,
    pub recorded_at: OffsetDateTime,
}

/// Records an upward report; the case's first one sets its report time.
pub async fn insert_upward(tx: &mut Tx, vault: &Vault, u: &Upward, event: Uuid) -> Result<()> {
    tx.execute(
        "INSERT INTO upward_reports (id, case_id, site_id, at, channel, reported_by, content_enc, recorded_by, recorded_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        &params![
            u.id,
            u.case_id,
            u.site_id,
            u.at,
            u.channel.as_str(),
            u.reported_by.as_str(),
            vault.seal("upward.content", u.id, &u.content),
            u.recorded_by.as_str(),
            u.recorded_at
        ],
    )
    .await?;
    tx.execute(
        "UPDATE cases SET reported_at = $2 WHERE id = $1 AND (reported_at IS NULL OR reported_at > $2)",
        &params![u.case_id, u.at],
    )
    .await?;
    add_event(
        tx,
        vault,
        event,
        u.case_id,
        u.recorded_at,
        &u.recorded_by,
        "upward_report",
        u.channel.as_str(),
    )
    .await
}

fn decode_upward(vault: &Vault, r: &Row) -> Result<Upward> {
    let id: Uuid = r.get(0)?;
    Ok(Upward {
        id,
        case_id: r.get(1)?,
        site_id: r.get(2)?,
        at: r.get(3)?,
        channel: Channel::parse(&r.get::<String>(4)?)
            .ok_or_else(|| StoreError::Decode("upward.channel".into()))?,
        reported_by: r.get(5)?,
        content: vault.open("upward.content", id, &r.get::<Vec<u8>>(6)?)?,
        recorded_by: r.get(7)?,
        recorded_at: r.get(8)?,
    })
}

const UPWARD_COLUMNS: &str = "id, case_id, site_id, at, channel, reported_by, content_enc, recorded_by, recorded_at FROM upward_reports";

pub async fn upward_reports(store: &Store, vault: &Vault, case: Uuid) -> Result<Vec<Upward>> {
    store
        .query(
            &format!("SELECT {UPWARD_COLUMNS} WHERE case_id = $1 ORDER BY at"),
            &params![case],
        )
        .await?
        .iter()
        .map(|r| decode_upward(vault, r))
        .collect()
}

/// Reports sent through this system to the district (channel `system`) from these sites,
/// newest first: what the `upper` account reads.
pub async fn urgent_reports(
    store: &Store,
    vault: &Vault,
    sites: &[Uuid],
    limit: u32,
) -> Result<Vec<Upward>> {
    if sites.is_empty() {
        return Ok(Vec::new());
    }
    let mut values: Vec<Value> = sites.iter().map(|s| (*s).into()).collect();
    let list = crate::value::placeholders(1, values.len());
    values.push(i64::from(limit).into());
    let sql = format!(
        "SELECT {UPWARD_COLUMNS} WHERE site_id IN ({list}) AND channel = 'system' ORDER BY at DESC LIMIT ${}",
        values.len()
    );
    store
        .query(&sql, &values)
        .await?
        .iter()
        .map(|r| decode_upward(vault, r))
        .collect()
}

/// A group robot of a site.
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub id: Uuid,
    pub site_id: Uuid,
    /// `wecom` or `dingtalk`.
    pub format: String,
    pub label: String,
    pub url: String,
    /// DingTalk's signing secret, when the robot asks for signed calls.
    pub secret: Option<String>,
    pub active: bool,
    pub created_at: OffsetDateTime,
}

pub async fn insert_webhook(tx: &mut Tx, vault: &Vault, w: &Webhook) -> Result<()> {
    tx.execute(
        "INSERT INTO webhooks (id, site_id, format, label, url_enc, secret_enc, created_at, active) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &params![
            w.id,
            w.site_id,
            w.format.as_str(),
            w.label.as_str(),
            vault.seal("webhook.url", w.id, &w.url),
            w.secret.as_ref().map(|s| vault.seal("webhook.secret", w.id, s)),
            w.created_at,
            w.active
        ],
    )
    .await?;
    Ok(())
}

/// Turns a robot on or off; `NotFound` when it is not the site's.
pub async fn set_webhook_active(tx: &mut Tx, site: Uuid, id: Uuid, active: bool) -> Result<()> {
    let n = tx
        .execute(
            "UPDATE webhooks SET active = $3 WHERE id = $1 AND site_id = $2",
            &params![id, site, active],
        )
        .await?;
    if n == 0 {
        return Err(StoreError::NotFound);
    }
    Ok(())
}

fn decode_webhook(vault: &Vault, r: &Row) -> Result<Webhook> {
    let id: Uuid = r.get(0)?;
    Ok(Webhook {
        id,
        site_id: r.get(1)?,
        format: r.get(2)?,
        label: r.get(3)?,
        url: vault.open("webhook.url", id, &r.get::<Vec<u8>>(4)?)?,
        secret: r
            .get::<Option<Vec<u8>>>(5)?
            .map(|s| vault.open("webhook.secret", id, &s))
            .transpose()?,
        created_at: r.get(6)?,
        active: r.get(7)?,
    })
}

const WEBHOOK_COLUMNS: &str =
    "id, site_id, format, label, url_enc, secret_enc, created_at, active FROM webhooks";

pub async fn webhooks(store: &Store, vault: &Vault, site: Uuid) -> Result<Vec<Webhook>> {
    store
        .query(
            &format!("SELECT {WEBHOOK_COLUMNS} WHERE site_id = $1 ORDER BY created_at, id"),
            &params![site],
        )
        .await?
        .iter()
        .map(|r| decode_webhook(vault, r))
        .collect()
}

pub async fn find_webhook(store: &Store, vault: &Vault, id: Uuid) -> Result<Option<Webhook>> {
    store
        .query_opt(
            &format!("SELECT {WEBHOOK_COLUMNS} WHERE id = $1"),
            &params![id],
        )
        .await?
        .map(|r| decode_webhook(vault, &r))
        .transpose()
}

/// One robot message and how its delivery went.
#[derive(Debug, Clone, PartialEq)]
pub struct Delivery {
    pub id: Uuid,
    pub webhook_id: Uuid,
    pub alert_id: Uuid,
    pub level: Level,
    /// What was sent (set at the first attempt).
    pub body: Option<String>,
    /// `pending`, `sent` or `failed`.
    pub status: String,
    pub attempts: u32,
    pub next_at: OffsetDateTime,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub sent_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

const DELIVERY_COLUMNS: &str = "d.id, d.webhook_id, d.alert_id, d.level, d.body, d.status, d.attempts, d.next_at, \
     d.last_status, d.last_error, d.sent_at, d.created_at FROM deliveries d";

fn decode_delivery(r: &Row) -> Result<Delivery> {
    Ok(Delivery {
        id: r.get(0)?,
        webhook_id: r.get(1)?,
        alert_id: r.get(2)?,
        level: Level::from_number(r.get(3)?)
            .ok_or_else(|| StoreError::Decode("deliveries.level".into()))?,
        body: r.get(4)?,
        status: r.get(5)?,
        attempts: r.get(6)?,
        next_at: r.get(7)?,
        last_status: r.get(8)?,
        last_error: r.get(9)?,
        sent_at: r.get(10)?,
        created_at: r.get(11)?,
    })
}

/// Claims the oldest pending delivery that is due for `lease` (so several processes never
/// send one message at once); `None` when nothing is due. Returns it with its lease, which
/// [`record_attempt`] must still hold.
pub async fn claim_next(
    store: &Store,
    now: OffsetDateTime,
    lease: time::Duration,
) -> Result<Option<(Delivery, OffsetDateTime)>> {
    let due = store
        .query(
            &format!(
                "SELECT {DELIVERY_COLUMNS} WHERE d.status = 'pending' AND d.next_at <= $1 \
                 AND (d.leased_until IS NULL OR d.leased_until <= $1) ORDER BY d.next_at, d.id LIMIT 10"
            ),
            &params![now],
        )
        .await?;
    let until = now + lease;
    for r in &due {
        let d = decode_delivery(r)?;
        let mut tx = store.begin().await?;
        let n = tx
            .execute(
                "UPDATE deliveries SET leased_until = $2 WHERE id = $1 AND status = 'pending' \
                 AND (leased_until IS NULL OR leased_until <= $3)",
                &params![d.id, until, now],
            )
            .await?;
        tx.commit().await?;
        if n == 1 {
            return Ok(Some((d, until)));
        }
    }
    Ok(None)
}

/// The result of one attempt.
#[derive(Debug, Clone, PartialEq)]
pub struct Attempt {
    pub body: String,
    pub attempts: u32,
    /// `sent`, `pending` (retry at `next_at`) or `failed`.
    pub status: &'static str,
    pub next_at: OffsetDateTime,
    pub http_status: Option<i64>,
    pub error: Option<String>,
    pub sent_at: Option<OffsetDateTime>,
}

/// Records an attempt of a delivery this process holds the `lease` of; false (nothing
/// written) when the lease was lost to another process.
pub async fn record_attempt(
    store: &Store,
    id: Uuid,
    lease: OffsetDateTime,
    a: &Attempt,
) -> Result<bool> {
    let mut tx = store.begin().await?;
    let n = tx
        .execute(
            "UPDATE deliveries SET body = $2, attempts = $3, status = $4, next_at = $5, last_status = $6, \
             last_error = $7, sent_at = $8, leased_until = NULL WHERE id = $1 AND leased_until = $9",
            &params![
                id,
                a.body.as_str(),
                a.attempts,
                a.status,
                a.next_at,
                a.http_status,
                a.error.clone(),
                a.sent_at,
                lease
            ],
        )
        .await?;
    tx.commit().await?;
    Ok(n == 1)
}

/// The delivery log of these sites' robots, newest first.
pub async fn deliveries(store: &Store, sites: &[Uuid], limit: u32) -> Result<Vec<Delivery>> {
    if sites.is_empty() {
        return Ok(Vec::new());
    }
    let mut values: Vec<Value> = sites.iter().map(|s| (*s).into()).collect();
    let list = crate::value::placeholders(1, values.len());
    values.push(i64::from(limit).into());
    let sql = format!(
        "SELECT {DELIVERY_COLUMNS} JOIN webhooks w ON w.id = d.webhook_id WHERE w.site_id IN ({list}) \
         ORDER BY d.created_at DESC, d.id DESC LIMIT ${}",
        values.len()
    );
    store
        .query(&sql, &values)
        .await?
        .iter()
        .map(decode_delivery)
        .collect()
}

/// Someone recorded at the door in a span of time.
#[derive(Debug, Clone, PartialEq)]
pub struct Visit {
    pub screening_id: Uuid,
    pub at: OffsetDateTime,
    pub kind: SubjectKind,
    pub phase: Option<Phase>,
    pub person_id: Option<Uuid>,
    pub registration_id: Option<Uuid>,
    /// Masked name and phone of a self-registration.
    pub masked: Option<(String, String)>,
}

/// Door records of a site from `from` until `until`: the door's part of an exposure list.
/// Later areas (queue tickets, window services) add their own source beside this one.
pub async fn door_visits(
    store: &Store,
    vault: &Vault,
    site: Uuid,
    from: OffsetDateTime,
    until: OffsetDateTime,
) -> Result<Vec<Visit>> {
    let rows = store
        .query(
            "SELECT id, at, subject_kind, phase, person_id, registration_id FROM screenings \
             WHERE site_id = $1 AND at >= $2 AND at < $3 ORDER BY at, id LIMIT 20000",
            &params![site, from, until],
        )
        .await?;
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(Visit {
            screening_id: r.get(0)?,
            at: r.get(1)?,
            kind: SubjectKind::parse(&r.get::<String>(2)?)
                .ok_or_else(|| StoreError::Decode("screenings.kind".into()))?,
            phase: r.get::<Option<String>>(3)?.and_then(|p| Phase::parse(&p)),
            person_id: r.get(4)?,
            registration_id: r.get(5)?,
            masked: None,
        });
    }
    let regs: Vec<Uuid> = out.iter().filter_map(|v| v.registration_id).collect();
    let masks = registration_masks(store, vault, &regs).await?;
    for v in &mut out {
        v.masked = v.registration_id.and_then(|r| masks.get(&r).cloned());
    }
    Ok(out)
}

/// The opened name and phone of self-registrations (for the health authority's export).
pub async fn registration_contacts(
    store: &Store,
    vault: &Vault,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, (Option<String>, Option<String>)>> {
    let mut out = std::collections::HashMap::new();
    for id in ids {
        if out.contains_key(id) {
            continue;
        }
        if let Some(r) = store
            .query_opt(
                "SELECT name_enc, phone_enc FROM registrations WHERE id = $1",
                &params![*id],
            )
            .await?
        {
            out.insert(*id, open_registration(vault, *id, &r, 0)?);
        }
    }
    Ok(out)
}

/// Daily counters of a site for a range of days: `(day, metric, count)`.
pub async fn counts_between(
    store: &Store,
    site: Uuid,
    from: Date,
    until: Date,
) -> Result<Vec<(String, String, i64)>> {
    store
        .query(
            "SELECT day, metric, n FROM daily_counts WHERE site_id = $1 AND day >= $2 AND day <= $3 \
             AND (metric LIKE 'screened.%' OR metric = 'decision.buffer')",
            &params![site, day_text(from), day_text(until)],
        )
        .await?
        .iter()
        .map(|r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .collect()
}

/// How the cases opened at a site between `from` and `until` stand now, by outcome
/// (`open` while none), with the urgent reports made about them: `(key, count)`.
pub async fn outcome_counts(
    store: &Store,
    site: Uuid,
    from: OffsetDateTime,
    until: OffsetDateTime,
) -> Result<Vec<(String, i64)>> {
    let mut out = Vec::new();
    for r in store
        .query(
            "SELECT COALESCE(outcome, 'open'), COUNT(*) FROM cases WHERE site_id = $1 AND opened_at >= $2 \
             AND opened_at < $3 GROUP BY COALESCE(outcome, 'open') ORDER BY 1",
            &params![site, from, until],
        )
        .await?
    {
        out.push((r.get(0)?, r.get(1)?));
    }
    if !out.is_empty() {
        let row = store
            .query_opt(
                "SELECT COUNT(*) FROM upward_reports u JOIN cases c ON c.id = u.case_id \
                 WHERE c.site_id = $1 AND c.opened_at >= $2 AND c.opened_at < $3",
                &params![site, from, until],
            )
            .await?;
        if let Some(r) = row {
            out.push(("upward_reports".to_owned(), r.get(0)?));
        }
    }
    Ok(out)
}
