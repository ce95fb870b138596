//! The government hotline (二(七)): departments, tickets and their timeline, near-duplicate
//! candidates, daily term counts for hot issues, the knowledge base, the working calendar's
//! overrides, and the search index ([`search`]).

pub mod search;

use crate::privacy::Vault;
use crate::value::placeholders;
use crate::{Op, Result, Row, Store, StoreError, Tx, Value, params};
use fangkong_domain::FieldError;
use fangkong_domain::calendar::Override;
use fangkong_domain::clock::beijing;
use fangkong_domain::hotline::{Category, Channel, EventKind, NewTicket, Satisfaction, Status};
use std::collections::HashMap;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

const CALLER_NAME: &str = "ticket.caller_name";
const CALLER_PHONE: &str = "ticket.caller_phone";

fn day_text(d: Date) -> String {
    d.to_string()
}

fn parse_day(s: &str) -> Result<Date> {
    Date::parse(s, &time::format_description::well_known::Iso8601::DATE)
        .map_err(|_| StoreError::Decode(format!("day {s}")))
}

fn decode<T>(v: Option<T>, what: &str) -> Result<T> {
    v.ok_or_else(|| StoreError::Decode(what.to_owned()))
}

/// `$first, …` for `ids`, and the values.
fn id_list(ids: &[Uuid], first: usize) -> (String, Vec<Value>) {
    (
        placeholders(first, ids.len()),
        ids.iter().map(|s| Value::from(*s)).collect(),
    )
}

/// The HMAC of a caller's phone: finds the same caller again without storing the number.
pub fn phone_lookup(vault: &Vault, phone: &str) -> Vec<u8> {
    vault.lookup(CALLER_PHONE, phone)
}

// ---------------------------------------------------------------------------------------
// Departments

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Department {
    pub id: Uuid,
    pub site_id: Uuid,
    pub code: String,
    pub name: String,
}

const DEPARTMENT: &str = "SELECT id, site_id, code, name FROM hotline_departments";

fn department_from(r: &Row) -> Result<Department> {
    Ok(Department {
        id: r.get(0)?,
        site_id: r.get(1)?,
        code: r.get(2)?,
        name: r.get(3)?,
    })
}

pub async fn insert_department(
    tx: &mut Tx,
    id: Uuid,
    site: Uuid,
    code: &str,
    name: &str,
    now: OffsetDateTime,
) -> Result<Department> {
    tx.execute(
        "INSERT INTO hotline_departments (id, site_id, code, name, created_at) VALUES ($1, $2, $3, $4, $5)",
        &params![id, site, code, name, now],
    )
    .await
    .map_err(|e| match e {
        StoreError::Unique { .. } => {
            StoreError::Invalid(FieldError::new("code", "hotline.department.code.taken"))
        }
        other => other,
    })?;
    Ok(Department {
        id,
        site_id: site,
        code: code.to_owned(),
        name: name.to_owned(),
    })
}

/// The departments of `sites`, by site then code.
pub async fn departments(store: &Store, sites: &[Uuid]) -> Result<Vec<Department>> {
    if sites.is_empty() {
        return Ok(Vec::new());
    }
    let (list, values) = id_list(sites, 1);
    store
        .query(
            &format!("{DEPARTMENT} WHERE site_id IN ({list}) ORDER BY code"),
            &values,
        )
        .await?
        .iter()
        .map(department_from)
        .collect()
}

pub async fn department(store: &Store, id: Uuid) -> Result<Option<Department>> {
    store
        .query_opt(&format!("{DEPARTMENT} WHERE id = $1"), &params![id])
        .await?
        .as_ref()
        .map(department_from)
        .transpose()
}

/// Links (or unlinks) an account of role `department` to a department.
pub async fn link_department_user(
    tx: &mut Tx,
    user: Uuid,
    department: Uuid,
    linked: bool,
) -> Result<()> {
    tx.execute(
        "DELETE FROM hotline_department_users WHERE user_id = $1 AND department_id = $2",
        &params![user, department],
    )
    .await?;
    if linked {
        tx.execute(
            "INSERT INTO hotline_department_users (user_id, department_id) VALUES ($1, $2)",
            &params![user, department],
        )
        .await?;
    }
    Ok(())
}

/// The departments an account answers for.
pub async fn departments_of_user(store: &Store, user: Uuid) -> Result<Vec<Uuid>> {
    store
        .query(
            "SELECT department_id FROM hotline_department_users WHERE user_id = $1",
            &params![user],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// `(department, username)` of every linked account of `departments`.
pub async fn department_users(store: &Store, departments: &[Uuid]) -> Result<Vec<(Uuid, String)>> {
    if departments.is_empty() {
        return Ok(Vec::new());
    }
    let (list, values) = id_list(departments, 1);
    store
        .query(
            &format!(
                "SELECT l.department_id, u.username FROM hotline_department_users l
                 JOIN users u ON u.id = l.user_id WHERE l.department_id IN ({list})
                 ORDER BY u.username"
            ),
            &values,
        )
        .await?
        .iter()
        .map(|r| Ok((r.get(0)?, r.get(1)?)))
        .collect()
}

// ---------------------------------------------------------------------------------------
// Tickets

/// A ticket as stored, the caller's fields opened (the web layer masks them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ticket {
    pub id: Uuid,
    pub site_id: Uuid,
    pub number: String,
    pub day: Date,
    pub channel: Channel,
    pub category: Category,
    pub urgent: bool,
    pub status: Status,
    pub content: String,
    pub place: String,
    pub caller_name: Option<String>,
    pub caller_phone: Option<String>,
    pub parent_id: Option<Uuid>,
    pub department_id: Option<Uuid>,
    pub due_at: OffsetDateTime,
    pub created_at: OffsetDateTime,
    pub created_by: String,
    pub updated_at: OffsetDateTime,
    pub closed_at: Option<OffsetDateTime>,
    pub satisfaction: Option<Satisfaction>,
    pub escalated_at: Option<OffsetDateTime>,
    pub supervisions: i64,
    pub version: i64,
}

const TICKET: &str = "SELECT t.id, t.site_id, t.seq, t.day, t.channel, t.category, t.urgent, t.status, t.content, t.place, t.caller_name_enc, t.caller_phone_enc, t.parent_id, t.department_id, t.due_at, t.created_at, t.created_by, t.updated_at, t.closed_at, t.satisfaction, t.escalated_at, t.supervisions, t.version FROM tickets t";

fn ticket_from(vault: &Vault, r: &Row) -> Result<Ticket> {
    let id: Uuid = r.get(0)?;
    let open = |field: &str, i: usize| -> Result<Option<String>> {
        r.get::<Option<Vec<u8>>>(i)?
            .map(|b| vault.open(field, id, &b))
            .transpose()
    };
    let day = parse_day(&r.get::<String>(3)?)?;
    Ok(Ticket {
        id,
        site_id: r.get(1)?,
        number: seq_number(day, r.get(2)?),
        day,
        channel: decode(Channel::parse(&r.get::<String>(4)?), "channel")?,
        category: decode(Category::parse(&r.get::<String>(5)?), "category")?,
        urgent: r.get(6)?,
        status: decode(Status::parse(&r.get::<String>(7)?), "status")?,
        content: r.get(8)?,
        place: r.get(9)?,
        caller_name: open(CALLER_NAME, 10)?,
        caller_phone: open(CALLER_PHONE, 11)?,
        parent_id: r.get(12)?,
        department_id: r.get(13)?,
        due_at: r.get(14)?,
        created_at: r.get(15)?,
        created_by: r.get(16)?,
        updated_at: r.get(17)?,
        closed_at: r.get(18)?,
        satisfaction: r
            .get::<Option<String>>(19)?
            .map(|s| decode(Satisfaction::parse(&s), "satisfaction"))
            .transpose()?,
        escalated_at: r.get(20)?,
        supervisions: r.get(21)?,
        version: r.get(22)?,
    })
}

/// What a new ticket's row needs besides the checked intake.
pub struct Intake<'a> {
    pub id: Uuid,
    pub event_id: Uuid,
    pub site: Uuid,
    pub ticket: &'a NewTicket,
    pub due_at: OffsetDateTime,
    pub created_by: &'a str,
    pub now: OffsetDateTime,
    /// Hot-issue terms of the content ([`fangkong_domain::hotline::text::terms`]).
    pub terms: &'a [String],
    /// MinHash band keys of the content.
    pub bands: &'a [i64],
}

/// The number of the `seq`-th ticket of `day`.
fn seq_number(day: Date, seq: i64) -> String {
    fangkong_domain::hotline::number(day, u32::try_from(seq).unwrap_or(u32::MAX))
}

/// The statements that take a ticket, for the group-commit writer: the day's next
/// sequence number (the first statement returns it), the row, its band keys, its term
/// counts and the first timeline entry.
pub fn create_ops(vault: &Vault, i: &Intake<'_>) -> Vec<Op> {
    let day = day_text(beijing(i.now).date());
    let t = i.ticket;
    let mut ops = vec![
        Op::returning(
            "INSERT INTO ticket_numbers (day, last) VALUES ($1, 1)
             ON CONFLICT (day) DO UPDATE SET last = ticket_numbers.last + 1 RETURNING last",
            params![day.as_str()],
        ),
        Op::new(
            "INSERT INTO tickets (id, site_id, seq, day, channel, category, urgent, status, content, place,
                 caller_name_enc, caller_phone_enc, caller_phone_mac, due_at, created_at, created_by, updated_at, version)
             VALUES ($1, $2, (SELECT last FROM ticket_numbers WHERE day = $3), $3, $4, $5, $6, 'new', $7, $8,
                 $9, $10, $11, $12, $13, $14, $13, 1)",
            params![
                i.id,
                i.site,
                day.as_str(),
                t.channel.as_str(),
                t.category.as_str(),
                t.urgent,
                t.content.as_str(),
                t.place.as_str(),
                t.caller_name.as_ref().map(|n| vault.seal(CALLER_NAME, i.id, n.as_str())),
                t.caller_phone.as_ref().map(|p| vault.seal(CALLER_PHONE, i.id, p.as_str())),
                t.caller_phone.as_ref().map(|p| phone_lookup(vault, p.as_str())),
                i.due_at,
                i.now,
                i.created_by
            ],
        ),
    ];
    for key in i.bands {
        ops.push(Op::new(
            "INSERT INTO ticket_bands (key, ticket_id, created_at) VALUES ($1, $2, $3)",
            params![*key, i.id, i.now],
        ));
        ops.push(Op::new(
            "INSERT INTO ticket_band_days (site_id, day, key, n) VALUES ($1, $2, $3, 1)
             ON CONFLICT (site_id, day, key) DO UPDATE SET n = ticket_band_days.n + 1",
            params![i.site, day.as_str(), *key],
        ));
    }
    ops.extend(i.terms.iter().map(|term| {
        Op::new(
            "INSERT INTO ticket_term_days (site_id, day, term, n) VALUES ($1, $2, $3, 1)
             ON CONFLICT (site_id, day, term) DO UPDATE SET n = ticket_term_days.n + 1",
            params![i.site, day.as_str(), term.as_str()],
        )
    }));
    ops.push(event_op(
        i.event_id,
        i.id,
        i.now,
        i.created_by,
        EventKind::Created,
        None,
        "",
    ));
    ops
}

/// The number a ticket got, from the counts of [`create_ops`] (its first statement).
pub fn created_number(now: OffsetDateTime, counts: &[u64]) -> String {
    let seq = counts.first().copied().unwrap_or_default();
    seq_number(beijing(now).date(), i64::try_from(seq).unwrap_or(i64::MAX))
}

fn event_op(
    id: Uuid,
    ticket: Uuid,
    at: OffsetDateTime,
    actor: &str,
    kind: EventKind,
    department: Option<Uuid>,
    detail: &str,
) -> Op {
    Op::new(
        "INSERT INTO ticket_events (id, ticket_id, at, actor, kind, department_id, detail) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        params![id, ticket, at, actor, kind.as_str(), department, detail],
    )
}

#[allow(clippy::too_many_arguments)]
async fn event(
    tx: &mut Tx,
    id: Uuid,
    ticket: Uuid,
    at: OffsetDateTime,
    actor: &str,
    kind: EventKind,
    department: Option<Uuid>,
    detail: &str,
) -> Result<()> {
    let op = event_op(id, ticket, at, actor, kind, department, detail);
    tx.execute(op.sql, &op.params).await?;
    Ok(())
}

pub async fn get(store: &Store, vault: &Vault, id: Uuid) -> Result<Option<Ticket>> {
    store
        .query_opt(&format!("{TICKET} WHERE t.id = $1"), &params![id])
        .await?
        .map(|r| ticket_from(vault, &r))
        .transpose()
}

pub async fn by_number(store: &Store, vault: &Vault, number: &str) -> Result<Option<Ticket>> {
    let Some((day, seq)) = fangkong_domain::hotline::parse_number(number) else {
        return Ok(None);
    };
    store
        .query_opt(
            &format!("{TICKET} WHERE t.day = $1 AND t.seq = $2"),
            &params![day_text(day), seq],
        )
        .await?
        .map(|r| ticket_from(vault, &r))
        .transpose()
}

/// The tickets merged into `parent`, oldest first.
pub async fn children(store: &Store, vault: &Vault, parent: Uuid) -> Result<Vec<Ticket>> {
    store
        .query(
            &format!("{TICKET} WHERE t.parent_id = $1 ORDER BY t.created_at"),
            &params![parent],
        )
        .await?
        .iter()
        .map(|r| ticket_from(vault, r))
        .collect()
}

/// A timeline entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub at: OffsetDateTime,
    pub actor: String,
    pub kind: EventKind,
    pub department: Option<String>,
    pub detail: String,
}

pub async fn timeline(store: &Store, ticket: Uuid) -> Result<Vec<Event>> {
    store
        .query(
            "SELECT e.at, e.actor, e.kind, d.name, e.detail FROM ticket_events e
             LEFT JOIN hotline_departments d ON d.id = e.department_id
             WHERE e.ticket_id = $1 ORDER BY e.at, e.id",
            &params![ticket],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(Event {
                at: r.get(0)?,
                actor: r.get(1)?,
                kind: decode(EventKind::parse(&r.get::<String>(2)?), "event kind")?,
                department: r.get(3)?,
                detail: r.get(4)?,
            })
        })
        .collect()
}

/// A department a ticket is with.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Assignment {
    pub department_id: Uuid,
    pub name: String,
    pub lead: bool,
}

pub async fn assignments(store: &Store, ticket: Uuid) -> Result<Vec<Assignment>> {
    store
        .query(
            "SELECT a.department_id, d.name, a.lead FROM ticket_departments a
             JOIN hotline_departments d ON d.id = a.department_id
             WHERE a.ticket_id = $1 ORDER BY a.lead DESC, d.code",
            &params![ticket],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(Assignment {
                department_id: r.get(0)?,
                name: r.get(1)?,
                lead: r.get(2)?,
            })
        })
        .collect()
}

/// What a step changes besides the status.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    Nothing,
    /// To a lead department with co-handlers, due at.
    Transfer {
        lead: Uuid,
        co: Vec<Uuid>,
        due_at: OffsetDateTime,
    },
    FollowUp(Satisfaction),
    /// Closed; merged tickets close with their parent.
    Close,
    /// Back with the hotline, due at.
    Reopen {
        due_at: OffsetDateTime,
    },
    /// Into `parent`, with the parent's own timeline entry.
    Merge {
        parent: Uuid,
        parent_event: Uuid,
    },
    Supervise,
    Escalate,
}

/// One step of a ticket's workflow, checked by the caller against the domain's rules.
#[derive(Debug, Clone)]
pub struct Step<'a> {
    pub ticket: Uuid,
    /// The version the caller decided on: a newer one refuses the step.
    pub version: i64,
    pub to: Status,
    pub event_id: Uuid,
    pub kind: EventKind,
    pub at: OffsetDateTime,
    pub actor: &'a str,
    pub department: Option<Uuid>,
    pub detail: &'a str,
    pub change: Change,
}

/// Applies a step inside `tx`. `Ok(false)`: the ticket changed since `version` (drop the
/// transaction: nothing is written).
pub async fn apply(tx: &mut Tx, s: &Step<'_>) -> Result<bool> {
    let extra = match &s.change {
        Change::Transfer { .. } => ", department_id = $6, due_at = $7, escalated_at = NULL",
        Change::FollowUp(_) => ", satisfaction = $6",
        Change::Close => ", closed_at = $3",
        Change::Reopen { .. } => ", closed_at = NULL, escalated_at = NULL, due_at = $6",
        Change::Merge { .. } => ", parent_id = $6",
        Change::Supervise => ", supervisions = supervisions + 1",
        Change::Escalate => ", escalated_at = $3",
        Change::Nothing => "",
    };
    let mut values = params![s.to.as_str(), s.version, s.at, s.ticket, s.version + 1].to_vec();
    match &s.change {
        Change::Transfer { lead, due_at, .. } => {
            values.extend([Value::from(*lead), Value::from(*due_at)]);
        }
        Change::FollowUp(sat) => values.push(Value::from(sat.as_str())),
        Change::Reopen { due_at } => values.push(Value::from(*due_at)),
        Change::Merge { parent, .. } => values.push(Value::from(*parent)),
        _ => {}
    }
    let n = tx
        .execute(
            &format!(
                "UPDATE tickets SET status = $1, updated_at = $3, version = $5{extra}
                 WHERE id = $4 AND version = $2"
            ),
            &values,
        )
        .await?;
    if n == 0 {
        return Ok(false);
    }
    event(
        tx,
        s.event_id,
        s.ticket,
        s.at,
        s.actor,
        s.kind,
        s.department,
        s.detail,
    )
    .await?;
    match &s.change {
        Change::Transfer { lead, co, .. } => {
            tx.execute(
                "DELETE FROM ticket_departments WHERE ticket_id = $1",
                &params![s.ticket],
            )
            .await?;
            for (d, lead) in std::iter::once((*lead, true)).chain(co.iter().map(|c| (*c, false))) {
                tx.execute(
                    "INSERT INTO ticket_departments (ticket_id, department_id, lead) VALUES ($1, $2, $3)",
                    &params![s.ticket, d, lead],
                )
                .await?;
            }
        }
        Change::Close => {
            tx.execute(
                "UPDATE tickets SET status = 'closed', closed_at = $1, updated_at = $1, version = version + 1
                 WHERE parent_id = $2",
                &params![s.at, s.ticket],
            )
            .await?;
        }
        Change::Merge {
            parent,
            parent_event,
        } => {
            // The parent's version moves too: a page open on it shows the new caller.
            let n = tx
                .execute(
                    "UPDATE tickets SET updated_at = $1, version = version + 1
                     WHERE id = $2 AND status NOT IN ('merged', 'closed')",
                    &params![s.at, *parent],
                )
                .await?;
            if n == 0 {
                return Ok(false);
            }
            // Tickets merged into the child follow it to the parent.
            tx.execute(
                "UPDATE tickets SET parent_id = $1, updated_at = $2 WHERE parent_id = $3",
                &params![*parent, s.at, s.ticket],
            )
            .await?;
            event(
                tx,
                *parent_event,
                *parent,
                s.at,
                s.actor,
                EventKind::Absorbed,
                None,
                s.detail,
            )
            .await?;
        }
        _ => {}
    }
    Ok(true)
}

/// Open tickets of `sites` due before `until`, soonest first; with `departments`, only
/// those sent to one of them (lead or co-handling).
pub async fn due_before(
    store: &Store,
    vault: &Vault,
    sites: &[Uuid],
    departments: Option<&[Uuid]>,
    until: OffsetDateTime,
    limit: i64,
) -> Result<Vec<Ticket>> {
    if sites.is_empty() || departments.is_some_and(<[Uuid]>::is_empty) {
        return Ok(Vec::new());
    }
    let (list, mut values) = id_list(sites, 3);
    values.insert(0, Value::from(until));
    values.insert(1, Value::from(limit));
    let mut sql = format!(
        "{TICKET} WHERE t.site_id IN ({list}) AND t.due_at < $1
           AND t.status IN ('new', 'transferred', 'replied', 'returned')"
    );
    if let Some(ds) = departments {
        let (list, more) = id_list(ds, values.len() + 1);
        values.extend(more);
        sql.push_str(&format!(
            " AND t.id IN (SELECT ticket_id FROM ticket_departments WHERE department_id IN ({list}))"
        ));
    }
    sql.push_str(" ORDER BY t.due_at LIMIT $2");
    store
        .query(&sql, &values)
        .await?
        .iter()
        .map(|r| ticket_from(vault, r))
        .collect()
}

/// Tickets by id (any order; unknown ids are skipped).
pub async fn by_ids(store: &Store, vault: &Vault, ids: &[Uuid]) -> Result<Vec<Ticket>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let (list, values) = id_list(chunk, 1);
        for r in store
            .query(&format!("{TICKET} WHERE t.id IN ({list})"), &values)
            .await?
        {
            out.push(ticket_from(vault, &r)?);
        }
    }
    Ok(out)
}

/// The departments (lead and co-handling) of each of `tickets`.
pub async fn departments_of(store: &Store, tickets: &[Uuid]) -> Result<HashMap<Uuid, Vec<Uuid>>> {
    let mut out: HashMap<Uuid, Vec<Uuid>> = HashMap::new();
    for chunk in tickets.chunks(500) {
        let (list, values) = id_list(chunk, 1);
        for r in store
            .query(
                &format!(
                    "SELECT ticket_id, department_id FROM ticket_departments WHERE ticket_id IN ({list})"
                ),
                &values,
            )
            .await?
        {
            out.entry(r.get(0)?).or_default().push(r.get(1)?);
        }
    }
    Ok(out)
}

/// How many open tickets of `sites` are past their deadline at `now`.
pub async fn count_overdue(store: &Store, sites: &[Uuid], now: OffsetDateTime) -> Result<i64> {
    if sites.is_empty() {
        return Ok(0);
    }
    let (list, mut values) = id_list(sites, 2);
    values.insert(0, Value::from(now));
    store
        .query_one(
            &format!(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM tickets
                 WHERE status IN ('new', 'transferred', 'replied', 'returned')
                   AND due_at < $1 AND site_id IN ({list})"
            ),
            &values,
        )
        .await?
        .get(0)
}

/// Open tickets past their deadline and not yet escalated: `(id, version)`.
pub async fn overdue_unescalated(
    store: &Store,
    now: OffsetDateTime,
    limit: i64,
) -> Result<Vec<(Uuid, i64, Status)>> {
    store
        .query(
            "SELECT id, version, status FROM tickets
             WHERE status IN ('new', 'transferred', 'replied', 'returned')
               AND due_at < $1 AND escalated_at IS NULL ORDER BY due_at LIMIT $2",
            &params![now, limit],
        )
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                decode(Status::parse(&r.get::<String>(2)?), "status")?,
            ))
        })
        .collect()
}

/// A possible duplicate of a ticket being taken: what the suggestion shows (no personal
/// field is opened for it).
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub id: Uuid,
    pub site_id: Uuid,
    pub number: String,
    pub status: Status,
    pub category: Category,
    pub content: String,
    pub created_at: OffsetDateTime,
    pub same_caller: bool,
}

/// The most candidates of each kind read for one intake.
const CANDIDATES: i64 = 50;

/// Tickets of `sites` since `since` sharing band keys (those sharing the most first: the
/// number of shared bands estimates the similarity) or the caller's phone (the newest),
/// newest first.
pub async fn candidates(
    store: &Store,
    vault: &Vault,
    sites: &[Uuid],
    bands: &[i64],
    phone: Option<&str>,
    since: OffsetDateTime,
) -> Result<Vec<Candidate>> {
    let mut hits: HashMap<Uuid, bool> = HashMap::new();
    if !bands.is_empty() {
        let list = placeholders(2, bands.len());
        let mut values = vec![Value::from(since)];
        values.extend(bands.iter().map(|b| Value::from(*b)));
        for r in store
            .query(
                &format!(
                    "SELECT ticket_id FROM ticket_bands
                     WHERE created_at >= $1 AND key IN ({list})
                     GROUP BY ticket_id ORDER BY COUNT(*) DESC, MAX(created_at) DESC
                     LIMIT {CANDIDATES}"
                ),
                &values,
            )
            .await?
        {
            hits.entry(r.get(0)?).or_default();
        }
    }
    if let Some(p) = phone {
        for r in store
            .query(
                &format!(
                    "SELECT id FROM tickets WHERE caller_phone_mac = $1 AND created_at >= $2
                 ORDER BY created_at DESC LIMIT {CANDIDATES}"
                ),
                &params![phone_lookup(vault, p), since],
            )
            .await?
        {
            hits.insert(r.get(0)?, true);
        }
    }
    let ids: Vec<Uuid> = hits.keys().copied().collect();
    let mut out: Vec<Candidate> = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let (list, values) = id_list(chunk, 1);
        for r in store
            .query(
                &format!(
                    "SELECT id, site_id, seq, status, category, content, created_at, day
                     FROM tickets WHERE id IN ({list})"
                ),
                &values,
            )
            .await?
        {
            let id: Uuid = r.get(0)?;
            let site_id: Uuid = r.get(1)?;
            if !sites.contains(&site_id) {
                continue;
            }
            let same_caller = hits[&id];
            out.push(Candidate {
                id,
                site_id,
                number: seq_number(parse_day(&r.get::<String>(7)?)?, r.get(2)?),
                status: decode(Status::parse(&r.get::<String>(3)?), "status")?,
                category: decode(Category::parse(&r.get::<String>(4)?), "category")?,
                content: r.get(5)?,
                created_at: r.get(6)?,
                same_caller,
            });
        }
    }
    out.sort_by_key(|c| std::cmp::Reverse(c.created_at));
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Summaries and hot issues

/// Counts of a day's tickets for the summary.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayCounts {
    pub by_category: Vec<(Category, i64)>,
    pub by_channel: Vec<(Channel, i64)>,
    pub by_status: Vec<(Status, i64)>,
    pub urgent: i64,
}

async fn grouped(
    store: &Store,
    column: &str,
    sites: &[Uuid],
    day: Date,
) -> Result<Vec<(String, i64)>> {
    let (list, mut values) = id_list(sites, 2);
    values.insert(0, Value::from(day_text(day)));
    store
        .query(
            &format!(
                "SELECT {column}, CAST(COUNT(*) AS BIGINT) FROM tickets
                 WHERE day = $1 AND site_id IN ({list}) AND {column} IS NOT NULL GROUP BY {column}"
            ),
            &values,
        )
        .await?
        .iter()
        .map(|r| Ok((r.get(0)?, r.get(1)?)))
        .collect()
}

/// The tickets taken on `day` at `sites`, counted three ways.
pub async fn day_counts(store: &Store, sites: &[Uuid], day: Date) -> Result<DayCounts> {
    if sites.is_empty() {
        return Ok(DayCounts::default());
    }
    let category = grouped(store, "category", sites, day).await?;
    let channel = grouped(store, "channel", sites, day).await?;
    let status = grouped(store, "status", sites, day).await?;
    let (list, mut values) = id_list(sites, 2);
    values.insert(0, Value::from(day_text(day)));
    let urgent: i64 = store
        .query_one(
            &format!(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM tickets WHERE day = $1 AND site_id IN ({list}) AND urgent = TRUE"
            ),
            &values,
        )
        .await?
        .get(0)?;
    Ok(DayCounts {
        by_category: category
            .into_iter()
            .filter_map(|(k, n)| Category::parse(&k).map(|c| (c, n)))
            .collect(),
        by_channel: channel
            .into_iter()
            .filter_map(|(k, n)| Channel::parse(&k).map(|c| (c, n)))
            .collect(),
        by_status: status
            .into_iter()
            .filter_map(|(k, n)| Status::parse(&k).map(|c| (c, n)))
            .collect(),
        urgent,
    })
}

/// Per department: tickets with it as lead, of which replied, open and overdue now; and
/// follow-up ratings of its tickets closed on `day`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DepartmentLine {
    pub department: Department,
    pub open: i64,
    pub overdue: i64,
    pub received_today: i64,
    pub satisfied: i64,
    pub basic: i64,
    pub unsatisfied: i64,
}

/// A line per department of `sites`: open and overdue tickets now, tickets received on
/// `day`, and follow-up ratings of tickets taken on `day`.
pub async fn department_lines(
    store: &Store,
    sites: &[Uuid],
    day: Date,
    now: OffsetDateTime,
) -> Result<Vec<DepartmentLine>> {
    let deps = departments(store, sites).await?;
    if deps.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = deps.iter().map(|d| d.id).collect();
    let (list, mut values) = id_list(&ids, 3);
    values.insert(0, Value::from(now));
    values.insert(1, Value::from(day_text(day)));
    let rows = store
        .query(
            &format!(
                "SELECT t.department_id,
                    CAST(SUM(CASE WHEN t.status IN ('transferred', 'returned', 'replied') THEN 1 ELSE 0 END) AS BIGINT),
                    CAST(SUM(CASE WHEN t.status IN ('transferred', 'returned') AND t.due_at < $1 THEN 1 ELSE 0 END) AS BIGINT),
                    CAST(SUM(CASE WHEN t.day = $2 THEN 1 ELSE 0 END) AS BIGINT),
                    CAST(SUM(CASE WHEN t.day = $2 AND t.satisfaction = 'satisfied' THEN 1 ELSE 0 END) AS BIGINT),
                    CAST(SUM(CASE WHEN t.day = $2 AND t.satisfaction = 'basic' THEN 1 ELSE 0 END) AS BIGINT),
                    CAST(SUM(CASE WHEN t.day = $2 AND t.satisfaction = 'unsatisfied' THEN 1 ELSE 0 END) AS BIGINT)
                 FROM tickets t WHERE t.department_id IN ({list}) GROUP BY t.department_id"
            ),
            &values,
        )
        .await?;
    let mut by: HashMap<Uuid, [i64; 6]> = HashMap::new();
    for r in rows {
        by.insert(
            r.get(0)?,
            [
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
            ],
        );
    }
    Ok(deps
        .into_iter()
        .map(|d| {
            let [open, overdue, received_today, satisfied, basic, unsatisfied] =
                by.get(&d.id).copied().unwrap_or_default();
            DepartmentLine {
                department: d,
                open,
                overdue,
                received_today,
                satisfied,
                basic,
                unsatisfied,
            }
        })
        .collect())
}

/// Ratings of tickets followed up, over everything taken on `day`.
pub async fn satisfaction(
    store: &Store,
    sites: &[Uuid],
    day: Date,
) -> Result<Vec<(Satisfaction, i64)>> {
    if sites.is_empty() {
        return Ok(Vec::new());
    }
    Ok(grouped(store, "satisfaction", sites, day)
        .await?
        .into_iter()
        .filter_map(|(k, n)| Satisfaction::parse(&k).map(|s| (s, n)))
        .collect())
}

/// Term counts of `sites` per day from `from` to `until`: `term → [(day, n)]`, only terms
/// counted at least `min` times on `until`.
pub async fn term_series(
    store: &Store,
    sites: &[Uuid],
    from: Date,
    until: Date,
    min: i64,
) -> Result<HashMap<String, Vec<(Date, i64)>>> {
    if sites.is_empty() {
        return Ok(HashMap::new());
    }
    let (list, mut values) = id_list(sites, 3);
    values.insert(0, Value::from(day_text(until)));
    values.insert(1, Value::from(min));
    let hot: Vec<String> = store
        .query(
            &format!(
                "SELECT term FROM ticket_term_days WHERE day = $1 AND site_id IN ({list})
                 GROUP BY term HAVING CAST(SUM(n) AS BIGINT) >= $2"
            ),
            &values,
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect::<Result<_>>()?;
    let mut out: HashMap<String, Vec<(Date, i64)>> =
        hot.into_iter().map(|t| (t, Vec::new())).collect();
    if out.is_empty() {
        return Ok(out);
    }
    let (list, mut values) = id_list(sites, 3);
    values.insert(0, Value::from(day_text(from)));
    values.insert(1, Value::from(day_text(until)));
    for r in store
        .query(
            &format!(
                "SELECT term, day, CAST(SUM(n) AS BIGINT) FROM ticket_term_days
                 WHERE day >= $1 AND day <= $2 AND site_id IN ({list}) GROUP BY term, day"
            ),
            &values,
        )
        .await?
    {
        let term: String = r.get(0)?;
        if let Some(series) = out.get_mut(&term) {
            series.push((parse_day(&r.get::<String>(1)?)?, r.get(2)?));
        }
    }
    Ok(out)
}

/// `(id, number, category, content)` of every ticket taken on `day` at `sites`.
pub async fn day_texts(
    store: &Store,
    sites: &[Uuid],
    day: Date,
) -> Result<Vec<(Uuid, String, Category, String)>> {
    if sites.is_empty() {
        return Ok(Vec::new());
    }
    let (list, mut values) = id_list(sites, 2);
    values.insert(0, Value::from(day_text(day)));
    store
        .query(
            &format!(
                "SELECT id, seq, category, content FROM tickets WHERE day = $1 AND site_id IN ({list}) ORDER BY created_at"
            ),
            &values,
        )
        .await?
        .iter()
        .map(|r| {
            Ok((
                r.get(0)?,
                seq_number(day, r.get(1)?),
                decode(Category::parse(&r.get::<String>(2)?), "category")?,
                r.get(3)?,
            ))
        })
        .collect()
}

/// Per day from `from` to `until` and per band key of `keys`: how many tickets of `sites`
/// had that key (the baselines of near-duplicate clusters).
pub async fn band_day_counts(
    store: &Store,
    sites: &[Uuid],
    keys: &[i64],
    from: Date,
    until: Date,
) -> Result<HashMap<(Date, i64), i64>> {
    let mut out = HashMap::new();
    if keys.is_empty() || sites.is_empty() {
        return Ok(out);
    }
    for chunk in keys.chunks(400) {
        let list = placeholders(3, chunk.len());
        let (sites_list, more) = id_list(sites, 3 + chunk.len());
        let mut values = vec![Value::from(day_text(from)), Value::from(day_text(until))];
        values.extend(chunk.iter().map(|k| Value::from(*k)));
        values.extend(more);
        for r in store
            .query(
                &format!(
                    "SELECT day, key, CAST(SUM(n) AS BIGINT) FROM ticket_band_days
                     WHERE day >= $1 AND day <= $2 AND key IN ({list}) AND site_id IN ({sites_list})
                     GROUP BY day, key"
                ),
                &values,
            )
            .await?
        {
            out.insert((parse_day(&r.get::<String>(0)?)?, r.get(1)?), r.get(2)?);
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Knowledge base

/// An answer the hotline group keeps (prevention knowledge, canned replies); published
/// answers are shown to citizens.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Answer {
    pub id: Uuid,
    pub site_id: Uuid,
    pub title: String,
    pub body: String,
    pub published: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub updated_by: String,
}

fn answer_from(r: &Row) -> Result<Answer> {
    Ok(Answer {
        id: r.get(0)?,
        site_id: r.get(1)?,
        title: r.get(2)?,
        body: r.get(3)?,
        published: r.get(4)?,
        updated_at: r.get(5)?,
        updated_by: r.get(6)?,
    })
}

const ANSWER: &str =
    "SELECT id, site_id, title, body, published, updated_at, updated_by FROM hotline_answers";

/// Adds an answer, or replaces one of `a.site_id` with the same id.
pub async fn save_answer(store: &Store, a: &Answer) -> Result<()> {
    let mut tx = store.begin().await?;
    let n = tx
        .execute(
            "UPDATE hotline_answers SET title = $1, body = $2, published = $3, updated_at = $4, updated_by = $5
             WHERE id = $6 AND site_id = $7",
            &params![a.title.as_str(), a.body.as_str(), a.published, a.updated_at, a.updated_by.as_str(), a.id, a.site_id],
        )
        .await?;
    if n == 0 {
        tx.execute(
            "INSERT INTO hotline_answers (id, site_id, title, body, published, updated_at, updated_by)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &params![a.id, a.site_id, a.title.as_str(), a.body.as_str(), a.published, a.updated_at, a.updated_by.as_str()],
        )
        .await?;
    }
    tx.commit().await
}

/// The answers of `sites` (published ones only when asked), newest first.
pub async fn answers(store: &Store, sites: &[Uuid], published_only: bool) -> Result<Vec<Answer>> {
    if sites.is_empty() {
        return Ok(Vec::new());
    }
    let (list, values) = id_list(sites, 1);
    let only = if published_only {
        " AND published = TRUE"
    } else {
        ""
    };
    let sql = format!("{ANSWER} WHERE site_id IN ({list}){only} ORDER BY updated_at DESC");
    store
        .query(&sql, &values)
        .await?
        .iter()
        .map(answer_from)
        .collect()
}

// ---------------------------------------------------------------------------------------
// Working calendar

pub async fn overrides(store: &Store) -> Result<Vec<Override>> {
    store
        .query(
            "SELECT day, workday, name FROM calendar_overrides ORDER BY day",
            &[],
        )
        .await?
        .iter()
        .map(|r| {
            Ok(Override {
                date: parse_day(&r.get::<String>(0)?)?,
                workday: r.get(1)?,
                name: r.get(2)?,
            })
        })
        .collect()
}

/// Sets (or with `None`, removes) the override of one day.
pub async fn set_override(
    store: &Store,
    date: Date,
    o: Option<&Override>,
    actor: &str,
    now: OffsetDateTime,
) -> Result<()> {
    let mut tx = store.begin().await?;
    tx.execute(
        "DELETE FROM calendar_overrides WHERE day = $1",
        &params![day_text(date)],
    )
    .await?;
    if let Some(o) = o {
        tx.execute(
            "INSERT INTO calendar_overrides (day, workday, name, updated_at, updated_by) VALUES ($1, $2, $3, $4, $5)",
            &params![day_text(o.date), o.workday, o.name.as_str(), now, actor],
        )
        .await?;
    }
    tx.commit().await
}

// ---------------------------------------------------------------------------------------
// Search index feed

/// Ids of tickets changed at or after `since` (to bring the index up to date).
pub async fn changed_since(
    store: &Store,
    since: OffsetDateTime,
) -> Result<Vec<(Uuid, OffsetDateTime)>> {
    store
        .query(
            "SELECT id, updated_at FROM tickets WHERE updated_at >= $1 ORDER BY updated_at",
            &params![since],
        )
        .await?
        .iter()
        .map(|r| Ok((r.get(0)?, r.get(1)?)))
        .collect()
}
