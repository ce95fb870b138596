//! Entrance screening: door records, buffer-zone re-checks, occupancy, daily counters,
//! self-registrations and the suspected-case records the buffer zone opens.
//!
//! A door record is a hot append: [`screening_ops`] and [`door_event_ops`] return the
//! statements for the group-commit writer, which commits the record, its daily counters
//! and the occupancy change together. Counters are kept as records arrive, so reports
//! never scan records and survive the retention purge.

use crate::cases::{CaseDetails, NewCase};
use crate::privacy::Vault;
use crate::{Op, Result, Row, Store, StoreError, Tx, params};
use fangkong_domain::cases::Source;
use fangkong_domain::clock::{IdSource, unix_millis};
use fangkong_domain::privacy::{PersonName, Phone};
use fangkong_domain::screening::{
    Answers, Decision, Direction, Outcome, Phase, SubjectKind, Symptom, Temperature, day_of,
};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

/// A door record to store.
#[derive(Debug, Clone)]
pub struct NewScreening {
    pub id: Uuid,
    pub site_id: Uuid,
    pub checkpoint_id: Uuid,
    pub at: OffsetDateTime,
    pub kind: SubjectKind,
    pub temperature: Temperature,
    pub mask: bool,
    pub decision: Decision,
    pub phase: Option<Phase>,
    pub person_id: Option<Uuid>,
    pub registration_id: Option<Uuid>,
    /// The account (or device) that recorded it.
    pub recorded_by: String,
}

/// The ISO date text a record counts for.
pub fn day_text(day: Date) -> String {
    day.to_string()
}

const COUNT: &str = "INSERT INTO daily_counts (site_id, day, metric, n) VALUES ($1, $2, $3, 1) \
     ON CONFLICT (site_id, day, metric) DO UPDATE SET n = daily_counts.n + 1";

fn count(site: Uuid, day: &str, metric: String) -> Op {
    Op::new(COUNT, params![site, day, metric])
}

/// Several counters of one site and day in one statement (one row each): fewer
/// statements per door record for the writer.
fn counts(site: Uuid, day: &str, metrics: Vec<String>) -> Op {
    const SQL: [&str; 4] = [
        COUNT,
        "INSERT INTO daily_counts (site_id, day, metric, n) VALUES ($1, $2, $3, 1), ($1, $2, $4, 1) \
         ON CONFLICT (site_id, day, metric) DO UPDATE SET n = daily_counts.n + 1",
        "INSERT INTO daily_counts (site_id, day, metric, n) VALUES ($1, $2, $3, 1), ($1, $2, $4, 1), ($1, $2, $5, 1) \
         ON CONFLICT (site_id, day, metric) DO UPDATE SET n = daily_counts.n + 1",
        "INSERT INTO daily_counts (site_id, day, metric, n) VALUES ($1, $2, $3, 1), ($1, $2, $4, 1), ($1, $2, $5, 1), ($1, $2, $6, 1) \
         ON CONFLICT (site_id, day, metric) DO UPDATE SET n = daily_counts.n + 1",
    ];
    let sql = SQL[metrics.len().clamp(1, SQL.len()) - 1];
    let mut params = vec![site.into(), day.into()];
    params.extend(metrics.into_iter().take(SQL.len()).map(crate::Value::from));
    Op::new(sql, params)
}

const ENTER: &str = "INSERT INTO occupancy (site_id, day, inside, peak, peak_at, updated_at) \
     VALUES ($1, $2, 1, 1, $3, $3) ON CONFLICT (site_id) DO UPDATE SET \
     inside = CASE WHEN occupancy.day = $2 THEN occupancy.inside + 1 ELSE 1 END, \
     peak = CASE WHEN occupancy.day <> $2 THEN 1 \
                 WHEN occupancy.inside + 1 > occupancy.peak THEN occupancy.inside + 1 \
                 ELSE occupancy.peak END, \
     peak_at = CASE WHEN occupancy.day <> $2 OR occupancy.inside + 1 > occupancy.peak THEN $3 \
                    ELSE occupancy.peak_at END, \
     day = $2, updated_at = $3 \
     WHERE occupancy.day <= $2";

const LEAVE: &str = "INSERT INTO occupancy (site_id, day, inside, peak, peak_at, updated_at) \
     VALUES ($1, $2, 0, 0, $3, $3) ON CONFLICT (site_id) DO UPDATE SET \
     inside = CASE WHEN occupancy.day = $2 AND occupancy.inside > 0 THEN occupancy.inside - 1 ELSE 0 END, \
     peak = CASE WHEN occupancy.day = $2 THEN occupancy.peak ELSE 0 END, \
     day = $2, updated_at = $3 \
     WHERE occupancy.day <= $2";

/// Keeps the day's peak beyond the day: copies the live count's peak into
/// `occupancy_days` when it grew (the daily report reads it).
const PEAK: &str = "INSERT INTO occupancy_days (site_id, day, peak, peak_at) \
     SELECT site_id, day, peak, peak_at FROM occupancy WHERE site_id = $1 AND day = $2 \
     ON CONFLICT (site_id, day) DO UPDATE SET peak = excluded.peak, peak_at = excluded.peak_at \
     WHERE excluded.peak > occupancy_days.peak";

/// One passage in or out on `day`. A passage of an earlier day (a reading sent late after a
/// network drop that spanned midnight) leaves a newer day's count alone. An entry may set
/// a new peak, which the day's record keeps.
fn passage(site: Uuid, day: &str, at: OffsetDateTime, direction: Direction) -> Vec<Op> {
    match direction {
        Direction::In => vec![
            Op::new(ENTER, params![site, day, at]),
            Op::new(PEAK, params![site, day]),
        ],
        Direction::Out => vec![Op::new(LEAVE, params![site, day, at])],
    }
}

/// The statements that store one door record: the record, its counters (by subject
/// kind, by decision, staff phase) and, for `admit`, one more person inside.
pub fn screening_ops(s: &NewScreening) -> Vec<Op> {
    let day = day_text(day_of(s.at));
    let buffer_state = (s.decision == Decision::Buffer).then_some("waiting");
    let mut ops = vec![Op::new(
        "INSERT INTO screenings (id, site_id, checkpoint_id, at, day, subject_kind, temperature, \
             mask, decision, phase, person_id, registration_id, recorded_by, buffer_state, rechecks, \
             last_measured_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 0, $4)",
        params![
            s.id,
            s.site_id,
            s.checkpoint_id,
            s.at,
            day.as_str(),
            s.kind.as_str(),
            s.temperature.tenths(),
            s.mask,
            s.decision.as_str(),
            s.phase.map(Phase::as_str),
            s.person_id,
            s.registration_id,
            s.recorded_by.as_str(),
            buffer_state,
        ],
    )];
    let mut metrics = vec![
        format!("screened.{}", s.kind.as_str()),
        format!("decision.{}", s.decision.as_str()),
    ];
    if !s.mask {
        metrics.push("no_mask".into());
    }
    if let Some(phase) = s.phase {
        metrics.push(format!("staff.{}", phase.as_str()));
        // Who checked, once per person and phase: the report's staff figures.
        if let Some(person) = s.person_id {
            ops.push(Op::new(
                "INSERT INTO staff_check_days (site_id, day, person_id, phase) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (site_id, day, person_id, phase) DO NOTHING",
                params![s.site_id, day.as_str(), person, phase.as_str()],
            ));
        }
    }
    ops.push(counts(s.site_id, &day, metrics));
    if s.decision == Decision::Admit {
        ops.extend(passage(s.site_id, &day, s.at, Direction::In));
    }
    ops
}

/// A passage recorded at the door (a tap or a counter device).
#[derive(Debug, Clone)]
pub struct NewDoorEvent {
    pub id: Uuid,
    pub site_id: Uuid,
    pub checkpoint_id: Uuid,
    pub at: OffsetDateTime,
    pub direction: Direction,
    pub recorded_by: String,
}

pub fn door_event_ops(e: &NewDoorEvent) -> Vec<Op> {
    let day = day_text(day_of(e.at));
    let mut ops = vec![
        Op::new(
            "INSERT INTO door_events (id, site_id, checkpoint_id, at, direction, recorded_by) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            params![
                e.id,
                e.site_id,
                e.checkpoint_id,
                e.at,
                e.direction.as_str(),
                e.recorded_by.as_str()
            ],
        ),
        count(e.site_id, &day, format!("door.{}", e.direction.as_str())),
    ];
    ops.extend(passage(e.site_id, &day, e.at, e.direction));
    ops
}

/// A hall's occupancy today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Occupancy {
    pub inside: u32,
    pub peak: u32,
    #[serde(with = "time::serde::rfc3339::option")]
    pub peak_at: Option<OffsetDateTime>,
}

fn occupancy_of(row: Option<&Row>, today: &str) -> Result<Occupancy> {
    match row {
        Some(r) if r.get::<String>(1)? == today => Ok(Occupancy {
            inside: r.get(2)?,
            peak: r.get(3)?,
            peak_at: Some(r.get(4)?),
        }),
        _ => Ok(Occupancy::default()),
    }
}

/// People inside a hall now (zero when nothing was recorded today).
pub async fn occupancy(store: &Store, site: Uuid, now: OffsetDateTime) -> Result<Occupancy> {
    let row = store
        .query_opt(
            "SELECT site_id, day, inside, peak, peak_at FROM occupancy WHERE site_id = $1",
            &params![site],
        )
        .await?;
    occupancy_of(row.as_ref(), &day_text(day_of(now)))
}

/// The occupancy of every hall that recorded a passage today.
pub async fn occupancies(
    store: &Store,
    now: OffsetDateTime,
) -> Result<std::collections::HashMap<Uuid, Occupancy>> {
    let today = day_text(day_of(now));
    let rows = store
        .query(
            "SELECT site_id, day, inside, peak, peak_at FROM occupancy WHERE day = $1",
            &params![today.as_str()],
        )
        .await?;
    rows.iter()
        .map(|r| Ok((r.get::<Uuid>(0)?, occupancy_of(Some(r), &today)?)))
        .collect()
}

/// Sets the count inside by hand (a correction after a missed exit), audited by the caller.
pub async fn set_occupancy(
    tx: &mut Tx,
    site: Uuid,
    inside: u32,
    now: OffsetDateTime,
) -> Result<()> {
    let day = day_text(day_of(now));
    tx.execute(
        "INSERT INTO occupancy (site_id, day, inside, peak, peak_at, updated_at) \
         VALUES ($1, $2, $3, $3, $4, $4) ON CONFLICT (site_id) DO UPDATE SET \
         inside = $3, peak = CASE WHEN occupancy.day = $2 AND occupancy.peak > $3 THEN occupancy.peak ELSE $3 END, \
         day = $2, updated_at = $4",
        &params![site, day.as_str(), inside, now],
    )
    .await?;
    tx.execute(PEAK, &params![site, day.as_str()])
        .await
        .map(drop)
}

/// The counters of one site and day: `(metric, count)`.
pub async fn daily_counts(store: &Store, site: Uuid, day: Date) -> Result<Vec<(String, i64)>> {
    store
        .query(
            "SELECT metric, n FROM daily_counts WHERE site_id = $1 AND day = $2 ORDER BY metric",
            &params![site, day_text(day)],
        )
        .await?
        .iter()
        .map(|r| Ok((r.get(0)?, r.get(1)?)))
        .collect()
}

/// A stored door record.
#[derive(Debug, Clone, PartialEq)]
pub struct Screening {
    pub id: Uuid,
    pub site_id: Uuid,
    pub site_code: String,
    pub checkpoint_id: Uuid,
    pub checkpoint_name: String,
    pub at: OffsetDateTime,
    pub kind: SubjectKind,
    pub temperature: Temperature,
    pub mask: bool,
    pub decision: Decision,
    pub phase: Option<Phase>,
    pub person_id: Option<Uuid>,
    pub registration_id: Option<Uuid>,
    pub recorded_by: String,
    /// `waiting`, `cleared` or `suspected` for people sent to the buffer zone.
    pub buffer_state: Option<String>,
    pub rechecks: u32,
    pub last_measured_at: OffsetDateTime,
    pub case_id: Option<Uuid>,
}

const SCREENING_COLUMNS: &str = "s.id, s.site_id, si.code, s.checkpoint_id, c.name, s.at, \
     s.subject_kind, s.temperature, s.mask, s.decision, s.phase, s.person_id, s.registration_id, \
     s.recorded_by, s.buffer_state, s.rechecks, s.last_measured_at, s.case_id \
     FROM screenings s JOIN sites si ON si.id = s.site_id JOIN checkpoints c ON c.id = s.checkpoint_id";

fn decode(r: &Row) -> Result<Screening> {
    let bad = |what: &str| StoreError::Decode(format!("screenings.{what}"));
    let phase: Option<String> = r.get(10)?;
    Ok(Screening {
        id: r.get(0)?,
        site_id: r.get(1)?,
        site_code: r.get(2)?,
        checkpoint_id: r.get(3)?,
        checkpoint_name: r.get(4)?,
        at: r.get(5)?,
        kind: SubjectKind::parse(&r.get::<String>(6)?).ok_or_else(|| bad("subject_kind"))?,
        temperature: Temperature::from_tenths(u16::try_from(r.get::<i64>(7)?).unwrap_or(0))
            .ok_or_else(|| bad("temperature"))?,
        mask: r.get(8)?,
        decision: Decision::parse(&r.get::<String>(9)?).ok_or_else(|| bad("decision"))?,
        phase: match phase {
            Some(p) => Some(Phase::parse(&p).ok_or_else(|| bad("phase"))?),
            None => None,
        },
        person_id: r.get(11)?,
        registration_id: r.get(12)?,
        recorded_by: r.get(13)?,
        buffer_state: r.get(14)?,
        rechecks: r.get(15)?,
        last_measured_at: r.get(16)?,
        case_id: r.get(17)?,
    })
}

pub async fn find(store: &Store, id: Uuid) -> Result<Option<Screening>> {
    let sql = format!("SELECT {SCREENING_COLUMNS} WHERE s.id = $1");
    store
        .query_opt(&sql, &params![id])
        .await?
        .as_ref()
        .map(decode)
        .transpose()
}

/// Filters for the records list; every field narrows.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    /// The sites the reader may see (required: an empty list finds nothing).
    pub sites: Vec<Uuid>,
    pub from: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
    pub kind: Option<SubjectKind>,
    pub decision: Option<Decision>,
    /// Only people waiting in the buffer zone now.
    pub waiting: bool,
    /// Only records older than this id (paging backwards).
    pub before: Option<Uuid>,
}

/// Door records, newest first.
pub async fn list(store: &Store, f: &Filter, limit: u32) -> Result<Vec<Screening>> {
    if f.sites.is_empty() {
        return Ok(Vec::new());
    }
    let mut sql = format!("SELECT {SCREENING_COLUMNS} WHERE s.site_id IN (");
    let mut values: Vec<crate::Value> = Vec::new();
    for (i, s) in f.sites.iter().enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        values.push((*s).into());
        sql.push_str(&format!("${}", values.len()));
    }
    sql.push(')');
    let mut clause = |cond: &str, v: crate::Value| {
        values.push(v);
        sql.push_str(&format!(" AND {cond} ${}", values.len()));
    };
    if let Some(t) = f.from {
        clause("s.at >=", t.into());
    }
    if let Some(t) = f.until {
        clause("s.at <", t.into());
    }
    if let Some(k) = f.kind {
        clause("s.subject_kind =", k.as_str().into());
    }
    if let Some(d) = f.decision {
        clause("s.decision =", d.as_str().into());
    }
    if let Some(b) = f.before {
        clause("s.id <", b.into());
    }
    if f.waiting {
        sql.push_str(" AND s.buffer_state = 'waiting'");
    }
    values.push(i64::from(limit).into());
    sql.push_str(&format!(" ORDER BY s.id DESC LIMIT ${}", values.len()));
    store
        .query(&sql, &values)
        .await?
        .iter()
        .map(decode)
        .collect()
}

/// People waiting in the buffer zone of these sites, longest-waiting first.
pub async fn waiting(store: &Store, sites: &[Uuid]) -> Result<Vec<Screening>> {
    let f = Filter {
        sites: sites.to_vec(),
        waiting: true,
        ..Filter::default()
    };
    let mut out = list(store, &f, 1_000).await?;
    out.reverse();
    Ok(out)
}

/// The symptoms and answers of one re-check: health data, sealed at rest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Health {
    pub symptoms: Vec<Symptom>,
    pub answers: Answers,
}

/// A re-check to record.
#[derive(Debug, Clone)]
pub struct NewRecheck {
    pub id: Uuid,
    pub screening: Uuid,
    pub at: OffsetDateTime,
    pub temperature: Temperature,
    pub health: Health,
    pub outcome: Outcome,
    pub recorded_by: String,
    /// The case id to open when the outcome is `suspected`.
    pub case_id: Uuid,
}

/// What a recorded re-check did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecheckResult {
    pub attempt: u32,
    pub case_id: Option<Uuid>,
}

/// Records a re-check of a person waiting in the buffer zone, in the caller's
/// transaction. `cleared` admits them (one more inside); `suspected` opens a case record
/// holding everything gathered. Refuses (`NotFound`) when the person is not waiting.
pub async fn record_recheck(
    tx: &mut Tx,
    vault: &Vault,
    r: &NewRecheck,
    ids: &dyn IdSource,
) -> Result<RecheckResult> {
    let row = tx
        .query_opt(
            "SELECT site_id, rechecks, buffer_state, at, temperature, registration_id, person_id, subject_kind \
             FROM screenings WHERE id = $1",
            &params![r.screening],
        )
        .await?
        .ok_or(StoreError::NotFound)?;
    if row.get::<Option<String>>(2)?.as_deref() != Some("waiting") {
        return Err(StoreError::NotFound);
    }
    let site: Uuid = row.get(0)?;
    let attempt = row.get::<u32>(1)? + 1;
    let health = serde_json::to_string(&r.health).map_err(|e| StoreError::Decode(e.to_string()))?;
    tx.execute(
        "INSERT INTO rechecks (id, screening_id, attempt, at, temperature, health_enc, outcome, recorded_by) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        &params![
            r.id,
            r.screening,
            attempt,
            r.at,
            r.temperature.tenths(),
            vault.seal("recheck.health", r.id, &health),
            r.outcome.as_str(),
            r.recorded_by.as_str()
        ],
    )
    .await?;
    let state = match r.outcome {
        Outcome::Cleared => "cleared",
        Outcome::Recheck => "waiting",
        Outcome::Suspected => "suspected",
    };
    let case_id = (r.outcome == Outcome::Suspected).then_some(r.case_id);
    tx.execute(
        "UPDATE screenings SET rechecks = $2, buffer_state = $3, last_measured_at = $4, case_id = $5 \
         WHERE id = $1",
        &params![r.screening, attempt, state, r.at, case_id],
    )
    .await?;
    let day = day_text(day_of(r.at));
    // One counter per outcome; their sum is the number of re-checks.
    let mut ops = vec![count(site, &day, format!("buffer.{}", r.outcome.as_str()))];
    if r.outcome == Outcome::Cleared {
        ops.extend(passage(site, &day, r.at, Direction::In));
    }
    if let Some(case) = case_id {
        let mut temperatures = vec![(unix_millis(row.get(3)?), tenths(&row, 4)?)];
        for t in tx
            .query(
                "SELECT at, temperature FROM rechecks WHERE screening_id = $1 ORDER BY attempt",
                &params![r.screening],
            )
            .await?
        {
            temperatures.push((unix_millis(t.get(0)?), tenths(&t, 1)?));
        }
        let registration: Option<Uuid> = row.get(5)?;
        let (name, phone) = match registration {
            Some(id) => registration_fields(tx, vault, id).await?,
            None => (None, None),
        };
        let seen_at = temperatures.first().map(|t| t.0);
        let details = CaseDetails {
            screening_id: Some(r.screening),
            registration_id: registration,
            person_id: row.get(6)?,
            name,
            phone,
            temperatures,
            symptoms: r.health.symptoms.clone(),
            onset: None,
            answers: r.health.answers.clone(),
            seen_at,
            actions: Vec::new(),
        };
        let kind = SubjectKind::parse(&row.get::<String>(7)?)
            .ok_or_else(|| StoreError::Decode("screenings.subject_kind".into()))?;
        let new = NewCase {
            id: case,
            site_id: site,
            at: r.at,
            source: Source::Buffer,
            kind,
            details,
            opened_by: r.recorded_by.clone(),
            alert_id: ids.new_id(),
            event_id: ids.new_id(),
        };
        crate::cases::insert_case(tx, vault, &new, ids).await?;
    }
    for op in ops {
        tx.execute(op.sql, &op.params).await?;
    }
    Ok(RecheckResult { attempt, case_id })
}

fn tenths(row: &Row, idx: usize) -> Result<u16> {
    u16::try_from(row.get::<i64>(idx)?).map_err(|_| StoreError::Decode("temperature".into()))
}

/// The re-checks of one door record: `(attempt, when, temperature, health, outcome)`.
pub async fn rechecks(
    store: &Store,
    vault: &Vault,
    screening: Uuid,
) -> Result<Vec<(u32, OffsetDateTime, u16, Health, Outcome)>> {
    store
        .query(
            "SELECT id, attempt, at, temperature, health_enc, outcome FROM rechecks \
             WHERE screening_id = $1 ORDER BY attempt",
            &params![screening],
        )
        .await?
        .iter()
        .map(|r| {
            let id: Uuid = r.get(0)?;
            let health: Health =
                serde_json::from_str(&vault.open("recheck.health", id, &r.get::<Vec<u8>>(4)?)?)
                    .map_err(|e| StoreError::Decode(e.to_string()))?;
            let outcome = Outcome::parse(&r.get::<String>(5)?)
                .ok_or_else(|| StoreError::Decode("rechecks.outcome".into()))?;
            Ok((r.get(1)?, r.get(2)?, tenths(r, 3)?, health, outcome))
        })
        .collect()
}

/// A citizen's self-registration to store.
#[derive(Debug, Clone)]
pub struct NewRegistration {
    pub id: Uuid,
    pub site_id: Uuid,
    pub checkpoint_id: Uuid,
    pub at: OffsetDateTime,
    pub name: Option<PersonName>,
    pub phone: Option<Phone>,
}

/// Stores a self-registration under a four-digit number not yet used at the site today;
/// `numbers` supplies candidates (random), tried in turn. Returns the number.
pub async fn insert_registration(
    store: &Store,
    vault: &Vault,
    r: &NewRegistration,
    numbers: impl IntoIterator<Item = String>,
) -> Result<String> {
    let day = day_text(day_of(r.at));
    let name = r
        .name
        .as_ref()
        .map(|n| vault.seal("registration.name", r.id, n.as_str()));
    let phone = r
        .phone
        .as_ref()
        .map(|p| vault.seal("registration.phone", r.id, p.as_str()));
    let mac = r.phone.as_ref().map(|p| vault.lookup("phone", p.as_str()));
    for number in numbers {
        let mut tx = store.begin().await?;
        let taken = tx
            .query_opt(
                "SELECT 1 FROM registrations WHERE site_id = $1 AND day = $2 AND number = $3",
                &params![r.site_id, day.as_str(), number.as_str()],
            )
            .await?
            .is_some();
        if taken {
            continue;
        }
        tx.execute(
            "INSERT INTO registrations (id, site_id, checkpoint_id, day, number, at, name_enc, phone_enc, phone_mac) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            &params![
                r.id,
                r.site_id,
                r.checkpoint_id,
                day.as_str(),
                number.as_str(),
                r.at,
                name.clone(),
                phone.clone(),
                mac.clone()
            ],
        )
        .await?;
        tx.commit().await?;
        return Ok(number);
    }
    Err(StoreError::Invalid(fangkong_domain::FieldError::new(
        "registration",
        "screening.registration.full",
    )))
}

/// The registration with this number at a site today, if any.
pub async fn find_registration(
    store: &Store,
    site: Uuid,
    day: Date,
    number: &str,
) -> Result<Option<Uuid>> {
    store
        .query_opt(
            "SELECT id FROM registrations WHERE site_id = $1 AND day = $2 AND number = $3",
            &params![site, day_text(day), number],
        )
        .await?
        .map(|r| r.get(0))
        .transpose()
}

async fn registration_fields(
    tx: &mut Tx,
    vault: &Vault,
    id: Uuid,
) -> Result<(Option<String>, Option<String>)> {
    match tx
        .query_opt(
            "SELECT name_enc, phone_enc FROM registrations WHERE id = $1",
            &params![id],
        )
        .await?
    {
        Some(r) => open_registration(vault, id, &r, 0),
        None => Ok((None, None)),
    }
}

/// The masked name and phone of registrations, for the records list and exports (one
/// query per 500 registrations).
pub async fn registration_masks(
    store: &Store,
    vault: &Vault,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, (String, String)>> {
    use fangkong_domain::privacy::{mask_name, mask_phone};
    let mut wanted = ids.to_vec();
    wanted.sort_unstable();
    wanted.dedup();
    let mut out = std::collections::HashMap::new();
    for chunk in wanted.chunks(500) {
        let list = crate::value::placeholders(1, chunk.len());
        let sql = format!("SELECT id, name_enc, phone_enc FROM registrations WHERE id IN ({list})");
        let values: Vec<crate::Value> = chunk.iter().map(|id| (*id).into()).collect();
        for r in store.query(&sql, &values).await? {
            let id: Uuid = r.get(0)?;
            let (name, phone) = open_registration(vault, id, &r, 1)?;
            out.insert(
                id,
                (
                    name.map(|n| mask_name(&n)).unwrap_or_default(),
                    phone.map(|p| mask_phone(&p)).unwrap_or_default(),
                ),
            );
        }
    }
    Ok(out)
}

/// The name and phone of a registration row, opened: the columns `name_enc` and
/// `phone_enc` at `first` and `first + 1`.
pub(crate) fn open_registration(
    vault: &Vault,
    id: Uuid,
    r: &Row,
    first: usize,
) -> Result<(Option<String>, Option<String>)> {
    let open = |field: &str, v: Option<Vec<u8>>| -> Result<Option<String>> {
        v.map(|b| vault.open(field, id, &b)).transpose()
    };
    Ok((
        open("registration.name", r.get(first)?)?,
        open("registration.phone", r.get(first + 1)?)?,
    ))
}

/// The staff checks recorded on a day at a site: `(person, phase)`.
pub async fn staff_checks(store: &Store, site: Uuid, day: Date) -> Result<Vec<(Uuid, Phase)>> {
    store
        .query(
            "SELECT person_id, phase FROM screenings \
             WHERE day = $1 AND site_id = $2 AND person_id IS NOT NULL AND phase IS NOT NULL",
            &params![day_text(day), site],
        )
        .await?
        .iter()
        .filter_map(|r| {
            let phase = r.get::<String>(1).ok().and_then(|p| Phase::parse(&p))?;
            Some(r.get::<Uuid>(0).map(|p| (p, phase)))
        })
        .collect()
}

/// Deletes door records made before `before` of people never suspected, with their
/// re-checks and passages, and self-registrations of the same age. Counters stay.
/// Returns the number of door records removed.
pub async fn purge(tx: &mut Tx, before: OffsetDateTime) -> Result<u64> {
    tx.execute(
        "DELETE FROM rechecks WHERE screening_id IN \
         (SELECT id FROM screenings WHERE at < $1 AND case_id IS NULL)",
        &params![before],
    )
    .await?;
    let n = tx
        .execute(
            "DELETE FROM screenings WHERE at < $1 AND case_id IS NULL",
            &params![before],
        )
        .await?;
    tx.execute("DELETE FROM door_events WHERE at < $1", &params![before])
        .await?;
    tx.execute(
        "DELETE FROM registrations WHERE at < $1 AND id NOT IN \
         (SELECT registration_id FROM screenings WHERE registration_id IS NOT NULL)",
        &params![before],
    )
    .await?;
    Ok(n)
}
