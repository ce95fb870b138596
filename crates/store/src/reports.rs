//! Daily reports (三(三)): the live figures of a day read from the counters the writers
//! keep (never from the door records, which the retention purge removes), the versions
//! each site submits, and the parent's decisions on them.

use crate::privacy::Vault;
use crate::value::placeholders;
use crate::{Result, Row, Store, StoreError, Tx, Value, params};
use fangkong_domain::clock::BEIJING;
use fangkong_domain::reports::{Figures, Rollup, Status};
use fangkong_domain::screening::Phase;
use std::collections::HashMap;
use time::{Date, Duration, OffsetDateTime, PrimitiveDateTime, Time};
use uuid::Uuid;

fn day_text(d: Date) -> String {
    d.to_string()
}

fn parse_day(s: &str) -> Result<Date> {
    Date::parse(s, &time::format_description::well_known::Iso8601::DATE)
        .map_err(|_| StoreError::Decode(format!("day {s}")))
}

/// The instant a Beijing day starts.
fn start_of(d: Date) -> OffsetDateTime {
    PrimitiveDateTime::new(d, Time::MIDNIGHT).assume_offset(BEIJING)
}

/// What the store knows of a site's day; the caller adds the staff figures, which depend
/// on whether the hall has closed (see [`Figures::set_staff`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DayParts {
    pub figures: Figures,
    /// Staff on the roster, and how many of them made their pre- / post-shift check
    /// (volunteers and people no longer on the roster do not count).
    pub staff_expected: i64,
    pub staff_pre: i64,
    pub staff_post: i64,
}

/// `$2, $3, …` for `sites` after the first `first - 1` parameters, and the values.
fn site_list(sites: &[Uuid], first: usize) -> (String, Vec<Value>) {
    (
        placeholders(first, sites.len()),
        sites.iter().map(|s| Value::from(*s)).collect(),
    )
}

/// The live figures of each of `sites` on `day`: six queries whatever the number of sites
/// or of door records. Sites with nothing recorded get zero figures.
pub async fn day_parts(
    store: &Store,
    sites: &[Uuid],
    day: Date,
) -> Result<HashMap<Uuid, DayParts>> {
    let mut out: HashMap<Uuid, DayParts> =
        sites.iter().map(|s| (*s, DayParts::default())).collect();
    if sites.is_empty() {
        return Ok(out);
    }
    let (list, ids) = site_list(sites, 2);
    let with_day = |d: Value| {
        let mut p = vec![d];
        p.extend(ids.iter().cloned());
        p
    };
    let mut counters: HashMap<Uuid, Vec<(String, i64)>> = HashMap::new();
    for r in store
        .query(
            &format!(
                "SELECT site_id, metric, n FROM daily_counts WHERE day = $1 AND site_id IN ({list})"
            ),
            &with_day(day_text(day).into()),
        )
        .await?
    {
        counters
            .entry(r.get(0)?)
            .or_default()
            .push((r.get(1)?, r.get(2)?));
    }
    for (site, c) in counters {
        if let Some(p) = out.get_mut(&site) {
            p.figures = Figures::from_counters(c.iter().map(|(m, n)| (m.as_str(), *n)));
        }
    }
    for r in store
        .query(
            &format!(
                "SELECT d.site_id, d.phase, COUNT(*) FROM staff_check_days d \
                 JOIN people p ON p.id = d.person_id AND p.site_id = d.site_id AND p.kind = 'staff' \
                 WHERE d.day = $1 AND d.site_id IN ({list}) GROUP BY d.site_id, d.phase"
            ),
            &with_day(day_text(day).into()),
        )
        .await?
    {
        let (site, phase, n): (Uuid, String, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
        if let Some(p) = out.get_mut(&site) {
            match Phase::parse(&phase) {
                Some(Phase::PreShift) => p.staff_pre = n,
                Some(Phase::PostShift) => p.staff_post = n,
                None => {}
            }
        }
    }
    for r in store
        .query(
            &format!(
                "SELECT site_id, COUNT(*) FROM people WHERE kind = 'staff' AND site_id IN ({}) GROUP BY site_id",
                placeholders(1, sites.len())
            ),
            &ids,
        )
        .await?
    {
        if let Some(p) = out.get_mut(&r.get::<Uuid>(0)?) {
            p.staff_expected = r.get(1)?;
        }
    }
    for r in store
        .query(
            &format!("SELECT site_id, peak, peak_at FROM occupancy_days WHERE day = $1 AND site_id IN ({list})"),
            &with_day(day_text(day).into()),
        )
        .await?
    {
        if let Some(p) = out.get_mut(&r.get::<Uuid>(0)?) {
            p.figures.occupancy_peak = r.get(1)?;
            p.figures.occupancy_peak_at = Some(r.get(2)?);
        }
    }
    // Cases and alerts are kept (never purged); the day is the Beijing day they arose.
    let (from, until) = (start_of(day), start_of(day) + Duration::days(1));
    let (list3, _) = site_list(sites, 3);
    let mut range = vec![Value::from(from), Value::from(until)];
    range.extend(ids.iter().cloned());
    for r in store
        .query(
            &format!(
                "SELECT site_id, status, COUNT(*) FROM cases WHERE opened_at >= $1 AND opened_at < $2 \
                 AND site_id IN ({list3}) GROUP BY site_id, status"
            ),
            &range,
        )
        .await?
    {
        let (site, status, n): (Uuid, String, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
        if let Some(p) = out.get_mut(&site) {
            if status == "closed" {
                p.figures.cases_closed += n;
            } else {
                p.figures.cases_open += n;
            }
        }
    }
    for r in store
        .query(
            &format!(
                "SELECT site_id, raised_at, acknowledged_at FROM alerts WHERE raised_at >= $1 AND raised_at < $2 \
                 AND kind <> 'report' AND site_id IN ({list3})"
            ),
            &range,
        )
        .await?
    {
        let (site, raised, acked): (Uuid, OffsetDateTime, Option<OffsetDateTime>) =
            (r.get(0)?, r.get(1)?, r.get(2)?);
        if let Some(p) = out.get_mut(&site) {
            let f = &mut p.figures;
            f.alerts_raised += 1;
            if let Some(at) = acked {
                let minutes = (at - raised).whole_minutes().max(0);
                f.alerts_acknowledged += 1;
                f.ack_minutes_total += minutes;
                f.ack_minutes_max = f.ack_minutes_max.max(minutes);
            }
        }
    }
    Ok(out)
}

/// The door counters of each of `sites`, per day from `from` to `until`: `(site, day,
/// figures)` for the days a site recorded anything, by site and day.
pub async fn site_series(
    store: &Store,
    sites: &[Uuid],
    from: Date,
    until: Date,
) -> Result<Vec<(Uuid, Date, Figures)>> {
    if sites.is_empty() {
        return Ok(Vec::new());
    }
    let (list, ids) = site_list(sites, 3);
    let mut p = vec![Value::from(day_text(from)), Value::from(day_text(until))];
    p.extend(ids);
    let mut by_day: std::collections::BTreeMap<(Uuid, String), Vec<(String, i64)>> =
        Default::default();
    for r in store
        .query(
            &format!(
                "SELECT site_id, day, metric, n FROM daily_counts WHERE day >= $1 AND day <= $2 \
                 AND site_id IN ({list})"
            ),
            &p,
        )
        .await?
    {
        by_day
            .entry((r.get(0)?, r.get(1)?))
            .or_default()
            .push((r.get(2)?, r.get(3)?));
    }
    by_day
        .into_iter()
        .map(|((site, d), c)| {
            Ok((
                site,
                parse_day(&d)?,
                Figures::from_counters(c.iter().map(|(m, n)| (m.as_str(), *n))),
            ))
        })
        .collect()
}

/// The door counters of `sites` together, per day from `from` to `until`: the trend
/// charts. Days with nothing recorded are left out.
pub async fn counter_series(
    store: &Store,
    sites: &[Uuid],
    from: Date,
    until: Date,
) -> Result<Vec<(Date, Figures)>> {
    let mut by_day: std::collections::BTreeMap<Date, Figures> = Default::default();
    for (_, day, f) in site_series(store, sites, from, until).await? {
        by_day.entry(day).or_default().absorb(&f);
    }
    Ok(by_day.into_iter().collect())
}

/// One submitted version of a site's report for a day.
#[derive(Debug, Clone, PartialEq)]
pub struct Version {
    pub id: Uuid,
    pub site_id: Uuid,
    pub day: Date,
    pub version: u32,
    /// The site's own figures as submitted (frozen).
    pub figures: Figures,
    /// For a site with sites below it: its subtree summed, as submitted.
    pub rollup: Option<Rollup>,
    pub remarks: String,
    pub submitted_by: String,
    pub submitted_at: OffsetDateTime,
    pub status: Status,
    pub decided_by: Option<String>,
    pub decided_at: Option<OffsetDateTime>,
    pub comment: Option<String>,
}

const COLUMNS: &str = "id, site_id, day, version, figures, rollup, remarks_enc, submitted_by, \
     submitted_at, status, decided_by, decided_at, comment_enc FROM daily_reports";

fn json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Decode(e.to_string()))
}

fn decode(vault: &Vault, r: &Row) -> Result<Version> {
    let id: Uuid = r.get(0)?;
    let from_json = |s: String| -> Result<Figures> {
        serde_json::from_str(&s)
            .map_err(|e| StoreError::Decode(format!("daily_reports.figures: {e}")))
    };
    Ok(Version {
        id,
        site_id: r.get(1)?,
        day: parse_day(&r.get::<String>(2)?)?,
        version: r.get(3)?,
        figures: from_json(r.get(4)?)?,
        rollup: r
            .get::<Option<String>>(5)?
            .map(|s| {
                serde_json::from_str(&s)
                    .map_err(|e| StoreError::Decode(format!("daily_reports.rollup: {e}")))
            })
            .transpose()?,
        remarks: vault.open("report.remarks", id, &r.get::<Vec<u8>>(6)?)?,
        submitted_by: r.get(7)?,
        submitted_at: r.get(8)?,
        status: Status::parse(&r.get::<String>(9)?)
            .ok_or_else(|| StoreError::Decode("daily_reports.status".into()))?,
        decided_by: r.get(10)?,
        decided_at: r.get(11)?,
        comment: r
            .get::<Option<Vec<u8>>>(12)?
            .map(|c| vault.open("report.comment", id, &c))
            .transpose()?,
    })
}

/// Every version of a site's report for a day, oldest first.
pub async fn versions(store: &Store, vault: &Vault, site: Uuid, day: Date) -> Result<Vec<Version>> {
    store
        .query(
            &format!("SELECT {COLUMNS} WHERE site_id = $1 AND day = $2 ORDER BY version"),
            &params![site, day_text(day)],
        )
        .await?
        .iter()
        .map(|r| decode(vault, r))
        .collect()
}

/// The latest version, read inside the transaction that will add to it.
pub async fn latest_in(
    tx: &mut Tx,
    vault: &Vault,
    site: Uuid,
    day: Date,
) -> Result<Option<Version>> {
    tx.query_opt(
        &format!("SELECT {COLUMNS} WHERE site_id = $1 AND day = $2 ORDER BY version DESC LIMIT 1"),
        &params![site, day_text(day)],
    )
    .await?
    .as_ref()
    .map(|r| decode(vault, r))
    .transpose()
}

/// Every version of the reports of `sites` from `from` to `until`, by day (newest first),
/// then site and version.
pub async fn between(
    store: &Store,
    vault: &Vault,
    sites: &[Uuid],
    from: Date,
    until: Date,
    limit: u32,
) -> Result<Vec<Version>> {
    if sites.is_empty() {
        return Ok(Vec::new());
    }
    let (list, ids) = site_list(sites, 3);
    let mut p = vec![Value::from(day_text(from)), Value::from(day_text(until))];
    p.extend(ids);
    store
        .query(
            &format!(
                "SELECT {COLUMNS} WHERE day >= $1 AND day <= $2 AND site_id IN ({list}) \
                 ORDER BY day DESC, site_id, version LIMIT {limit}"
            ),
            &p,
        )
        .await?
        .iter()
        .map(|r| decode(vault, r))
        .collect()
}

/// The latest version of each site's report per day from `from` to `until` (newest day
/// first), with the time its first version came in (timeliness counts that one); at most
/// `limit`.
pub async fn latest_between(
    store: &Store,
    vault: &Vault,
    sites: &[Uuid],
    from: Date,
    until: Date,
    limit: u32,
) -> Result<Vec<(Version, OffsetDateTime)>> {
    if sites.is_empty() {
        return Ok(Vec::new());
    }
    let (list, ids) = site_list(sites, 3);
    let mut p = vec![Value::from(day_text(from)), Value::from(day_text(until))];
    p.extend(ids);
    let latest: Vec<Version> = store
        .query(
            &format!(
                "SELECT {COLUMNS} r WHERE day >= $1 AND day <= $2 AND site_id IN ({list}) \
                 AND version = (SELECT MAX(x.version) FROM daily_reports x \
                                WHERE x.site_id = r.site_id AND x.day = r.day) \
                 ORDER BY day DESC, site_id LIMIT {limit}"
            ),
            &p,
        )
        .await?
        .iter()
        .map(|r| decode(vault, r))
        .collect::<Result<_>>()?;
    let mut first: HashMap<(Uuid, String), OffsetDateTime> = HashMap::new();
    for r in store
        .query(
            &format!(
                "SELECT site_id, day, MIN(submitted_at) FROM daily_reports \
                 WHERE day >= $1 AND day <= $2 AND site_id IN ({list}) GROUP BY site_id, day"
            ),
            &p,
        )
        .await?
    {
        first.insert((r.get(0)?, r.get(1)?), r.get(2)?);
    }
    Ok(latest
        .into_iter()
        .map(|v| {
            let at = first
                .get(&(v.site_id, day_text(v.day)))
                .copied()
                .unwrap_or(v.submitted_at);
            (v, at)
        })
        .collect())
}

/// The sites that existed at `at` (a day's deadline): a site added later owes no report
/// for that day.
pub async fn sites_existing_at(store: &Store, at: OffsetDateTime) -> Result<Vec<Uuid>> {
    store
        .query("SELECT id FROM sites WHERE created_at <= $1", &params![at])
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// Adds a version. Two submissions racing for one number: the second gets
/// [`StoreError::Unique`] and nothing changes.
pub async fn insert(tx: &mut Tx, vault: &Vault, v: &Version) -> Result<()> {
    tx.execute(
        "INSERT INTO daily_reports (id, site_id, day, version, figures, rollup, remarks_enc, submitted_by, \
         submitted_at, status) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        &params![
            v.id,
            v.site_id,
            day_text(v.day),
            v.version,
            json(&v.figures)?,
            v.rollup.as_ref().map(json).transpose()?,
            vault.seal("report.remarks", v.id, &v.remarks),
            v.submitted_by.as_str(),
            v.submitted_at,
            v.status.as_str()
        ],
    )
    .await
    .map(drop)
}

/// Acknowledges or returns a submitted version; false when it was decided already (a
/// racing decision) or is no longer submitted.
pub async fn decide(
    tx: &mut Tx,
    vault: &Vault,
    id: Uuid,
    status: Status,
    by: &str,
    at: OffsetDateTime,
    comment: Option<&str>,
) -> Result<bool> {
    let n = tx
        .execute(
            "UPDATE daily_reports SET status = $2, decided_by = $3, decided_at = $4, comment_enc = $5 \
             WHERE id = $1 AND status = 'submitted'",
            &params![
                id,
                status.as_str(),
                by,
                at,
                comment.map(|c| vault.seal("report.comment", id, c))
            ],
        )
        .await?;
    Ok(n == 1)
}

/// Settles, once a site's report for the day is in, its alerts about that day: the
/// reminder of the missing report and the notices of versions returned.
pub async fn settle_reminder(
    tx: &mut Tx,
    site: Uuid,
    day: Date,
    at: OffsetDateTime,
    by: &str,
) -> Result<()> {
    tx.execute(
        "UPDATE alerts SET acknowledged_at = $2, acknowledged_by = $3 \
         WHERE (dedupe = $1 OR dedupe LIKE $4) AND acknowledged_at IS NULL",
        &params![
            reminder_key(site, day),
            at,
            by,
            format!("returned:{site}:{day}:%")
        ],
    )
    .await
    .map(drop)
}

/// The dedupe key of the reminder alert of a site's missing report.
pub fn reminder_key(site: Uuid, day: Date) -> String {
    format!("report:{site}:{day}")
}

/// The dedupe key of the notice that a version of a site's report was returned.
pub fn returned_key(site: Uuid, day: Date, version: u32) -> String {
    format!("returned:{site}:{day}:{version}")
}

/// The counters of a site's day recounted from the door records (and re-checks, passages
/// and cases) still stored: a check that the writers' counters are right. Records removed
/// by the retention purge are no longer in the recount, while the counters keep them.
pub async fn recount(store: &Store, site: Uuid, day: Date) -> Result<Vec<(String, i64)>> {
    let d = day_text(day);
    let (from, until) = (start_of(day), start_of(day) + Duration::days(1));
    let sql = "SELECT 'screened.' || subject_kind, COUNT(*) FROM screenings WHERE site_id = $1 AND day = $2 GROUP BY subject_kind \
         UNION ALL SELECT 'decision.' || decision, COUNT(*) FROM screenings WHERE site_id = $1 AND day = $2 GROUP BY decision \
         UNION ALL SELECT 'no_mask', COUNT(*) FROM screenings WHERE site_id = $1 AND day = $2 AND mask = $3 \
         UNION ALL SELECT 'staff.' || phase, COUNT(*) FROM screenings WHERE site_id = $1 AND day = $2 AND phase IS NOT NULL GROUP BY phase \
         UNION ALL SELECT 'buffer.' || r.outcome, COUNT(*) FROM rechecks r JOIN screenings s ON s.id = r.screening_id \
             WHERE s.site_id = $1 AND r.at >= $4 AND r.at < $5 GROUP BY r.outcome \
         UNION ALL SELECT 'door.' || direction, COUNT(*) FROM door_events WHERE site_id = $1 AND at >= $4 AND at < $5 GROUP BY direction \
         UNION ALL SELECT 'cases.opened', COUNT(*) FROM cases WHERE site_id = $1 AND opened_at >= $4 AND opened_at < $5";
    let mut out: Vec<(String, i64)> = store
        .query(sql, &params![site, d.as_str(), false, from, until])
        .await?
        .iter()
        .map(|r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?)))
        .collect::<Result<Vec<_>>>()?
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect();
    out.sort();
    Ok(out)
}
