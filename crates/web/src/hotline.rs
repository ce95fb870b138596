//! The government hotline over the API (二(七)): intake with duplicate suggestions, the
//! workflow (answer, transfer with co-handling, department reply, review, follow-up, close,
//! reopen, merge, supervise), working-day deadlines, search, hot issues, the daily summary,
//! and the working calendar. The pages ([`crate::hotline_pages`]) share these functions.

use crate::AppState;
use crate::access::Principal;
use crate::cases::{finish, to_text};
use crate::error::ApiError;
use crate::idempotency::{Idem, IdempotencyKey, JsonBody, json_response};
use crate::reports::{SectionFuture, SectionQuery};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use fangkong_domain::FieldError;
use fangkong_domain::access::Role;
use fangkong_domain::audit::Outcome as AuditOutcome;
use fangkong_domain::calendar::{self, BusinessHours, Calendar, DayKind};
use fangkong_domain::clock::beijing;
use fangkong_domain::hotline::text::{self, Piece};
use fangkong_domain::hotline::{
    self as rules, Action, Category, EventKind, Intake, Refusal, Satisfaction, Standing, Status,
    Term, hot,
};
use fangkong_domain::privacy::{mask_name, mask_phone};
use fangkong_domain::reports::{Section, SectionRow};
use fangkong_store::audit::{self, Record};
use fangkong_store::hotline::search::{self, Search, TicketIndex};
use fangkong_store::hotline::{self as store, Change, Department, Step, Ticket};
use fangkong_store::org::{self, Site};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use time::{Date, Duration, OffsetDateTime};
use tokio::sync::{mpsc, watch};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

/// Hotline settings of a deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Business hours of working days (urgent deadlines count these hours).
    pub hours: BusinessHours,
    /// Tickets from the same caller within this many days are suggested as duplicates
    /// (similar text too).
    pub duplicate_days: u32,
    /// Where the search index lives; `None`: in memory, rebuilt at start.
    pub search_dir: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            hours: BusinessHours::default(),
            duplicate_days: 7,
            search_dir: None,
        }
    }
}

// ---- the search index, fed after each commit ---------------------------------------------

/// Feeds the search index from the database after each change, in the background, so
/// taking a ticket never waits for the index; a search first waits until every change
/// made before it is indexed (read your writes).
pub struct Indexer {
    pub index: Arc<TicketIndex>,
    queue: mpsc::UnboundedSender<(u64, Vec<Uuid>)>,
    queued: AtomicU64,
    done: watch::Receiver<u64>,
}

/// Changes made up to this long before the index's last commit are indexed again at
/// start: a commit that raced with the last indexing is not missed.
const CATCH_UP_MARGIN: Duration = Duration::minutes(5);
/// How long the feed gathers changes before one index commit.
const COALESCE: std::time::Duration = std::time::Duration::from_millis(100);

impl Indexer {
    /// Opens the index, brings it up to date with the database, and starts feeding it.
    pub async fn start(
        store: fangkong_store::Store,
        dir: Option<&std::path::Path>,
    ) -> Result<Arc<Indexer>, fangkong_store::StoreError> {
        tokio::task::spawn_blocking(text::warm)
            .await
            .map_err(|e| fangkong_store::StoreError::Database(e.to_string()))?;
        let index = Arc::new(TicketIndex::open(dir)?);
        // The newest change indexed: never moves back.
        let mut mark = index.watermark()?.unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let since = mark - CATCH_UP_MARGIN;
        let changed = store::changed_since(&store, since).await?;
        for chunk in changed.chunks(5000) {
            let ids: Vec<Uuid> = chunk.iter().map(|(id, _)| *id).collect();
            let docs = search::docs(&store, &ids).await?;
            mark = chunk.last().map_or(mark, |(_, at)| mark.max(*at));
            let idx = index.clone();
            tokio::task::spawn_blocking(move || idx.write(&docs, mark))
                .await
                .map_err(|e| fangkong_store::StoreError::Database(e.to_string()))??;
        }
        let (queue, mut rx) = mpsc::unbounded_channel::<(u64, Vec<Uuid>)>();
        let (done_tx, done) = watch::channel(0u64);
        let idx = index.clone();
        tokio::spawn(async move {
            while let Some((mut seq, mut ids)) = rx.recv().await {
                // Changes arriving together share one index commit.
                tokio::time::sleep(COALESCE).await;
                while let Ok((s, more)) = rx.try_recv() {
                    seq = seq.max(s);
                    ids.extend(more);
                }
                ids.sort();
                ids.dedup();
                let written = async {
                    let docs = search::docs(&store, &ids).await?;
                    let newest = docs.iter().map(|d| d.updated_at).max().unwrap_or(mark);
                    let at = mark.max(newest);
                    let idx = idx.clone();
                    tokio::task::spawn_blocking(move || idx.write(&docs, at))
                        .await
                        .map_err(|e| fangkong_store::StoreError::Database(e.to_string()))??;
                    Ok::<_, fangkong_store::StoreError>(at)
                }
                .await;
                match written {
                    Ok(at) => mark = at,
                    // The database keeps the change; the next start indexes it again.
                    Err(e) => tracing::error!(error = %e, "cannot index tickets"),
                }
                let _ = done_tx.send(seq);
            }
        });
        Ok(Arc::new(Indexer {
            index,
            queue,
            queued: AtomicU64::new(0),
            done,
        }))
    }

    /// Queues tickets to index again (after their change committed).
    pub fn touch(&self, ids: Vec<Uuid>) {
        let seq = self.queued.fetch_add(1, Ordering::SeqCst) + 1;
        let _ = self.queue.send((seq, ids));
    }

    /// Waits (at most five seconds) until every change queued so far is searchable.
    pub async fn settle(&self) {
        let target = self.queued.load(Ordering::SeqCst);
        let mut done = self.done.clone();
        let _ = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            done.wait_for(|d| *d >= target),
        )
        .await;
    }
}

// ---- who sees which tickets ------------------------------------------------------------------

/// What a principal may see of the hotline.
pub struct Reach {
    pub sites: Vec<Uuid>,
    /// For a department's account: only tickets sent to these departments.
    pub departments: Option<Vec<Uuid>>,
}

pub async fn reach(state: &AppState, who: &Principal) -> Result<Reach, ApiError> {
    let tree = org::list_sites(&state.store).await?;
    let scope = who.scope(&state.store).await?;
    let sites: Vec<Uuid> = tree
        .iter()
        .map(|s| s.site.id)
        .filter(|id| scope.covers(*id))
        .collect();
    let departments = if who.role() == Role::Department {
        Some(store::departments_of_user(&state.store, who.account()?.id).await?)
    } else {
        None
    };
    Ok(Reach { sites, departments })
}

/// A ticket the principal may see, with the departments it is with; 404 otherwise.
pub async fn visible(
    state: &AppState,
    who: &Principal,
    id: Uuid,
) -> Result<(Ticket, Vec<store::Assignment>, Reach), ApiError> {
    let reach = reach(state, who).await?;
    let ticket = store::get(&state.store, &state.vault, id)
        .await?
        .filter(|t| reach.sites.contains(&t.site_id))
        .ok_or_else(ApiError::not_found)?;
    let assigned = store::assignments(&state.store, id).await?;
    if let Some(mine) = &reach.departments
        && !assigned.iter().any(|a| mine.contains(&a.department_id))
    {
        return Err(ApiError::not_found());
    }
    Ok((ticket, assigned, reach))
}

/// The working calendar with the administrators' overrides (cached: a change of an
/// override empties the cache like any change outside the hot routes).
pub async fn calendar(state: &AppState) -> Result<Arc<Calendar>, ApiError> {
    if let Some(hit) = state.cache.calendar() {
        return Ok(hit);
    }
    let cal = Arc::new(Calendar::new(store::overrides(&state.store).await?));
    state.cache.put_calendar(cal.clone());
    Ok(cal)
}

/// The sites of `site`'s subtree (cached).
async fn subtree(state: &AppState, site: Uuid) -> Result<Vec<Uuid>, ApiError> {
    let sites = match state.cache.subtree(site) {
        Some(hit) => hit,
        None => {
            let sites = Arc::new(org::subtree_sites(&state.store, site).await?);
            state.cache.put_subtree(site, sites.clone());
            sites
        }
    };
    Ok(sites.iter().map(|(id, _)| *id).collect())
}

fn no_data(e: calendar::NoData) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "calendar.no_data")
        .with_cause(e.year.to_string())
}

fn refused(r: Refusal) -> ApiError {
    match r {
        Refusal::WrongStatus => ApiError::new(StatusCode::CONFLICT, "hotline.wrong_status"),
        Refusal::VersionChanged => ApiError::new(StatusCode::CONFLICT, "hotline.version_changed"),
        Refusal::CannotMerge => ApiError::new(StatusCode::CONFLICT, "hotline.cannot_merge"),
        Refusal::NotAssigned => ApiError::new(StatusCode::FORBIDDEN, "hotline.not_assigned"),
    }
}

fn rfc3339(at: OffsetDateTime) -> String {
    at.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

// ---- intake --------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct TicketBody {
    /// `phone`, `wechat`, `web` or `walk_in`.
    pub channel: String,
    /// `price_gouging`, `violation`, `epidemic_clue`, `prevention_question`, `hardship`, `other`.
    pub category: String,
    pub content: String,
    pub caller_name: Option<String>,
    pub caller_phone: Option<String>,
    pub place: Option<String>,
    pub urgent: bool,
    /// Site code of the hotline taking it (default: the account's own site).
    pub site: Option<String>,
}

/// A possible duplicate of a ticket.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Duplicate {
    pub id: Uuid,
    pub number: String,
    pub status: String,
    pub category: String,
    pub content: String,
    /// Jaccard similarity of the texts' character bigrams, 0 to 1.
    pub similarity: f64,
    pub same_caller: bool,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CreatedTicket {
    pub id: Uuid,
    pub number: String,
    pub status: String,
    pub due_at: String,
    pub duplicates: Vec<Duplicate>,
}

/// Near-duplicates of `content` and earlier tickets of the same caller within the
/// configured days, most similar first.
pub async fn duplicates(
    state: &AppState,
    reach: &Reach,
    content: &str,
    bands: &[i64],
    phone: Option<&str>,
    except: Option<Uuid>,
) -> Result<Vec<Duplicate>, ApiError> {
    let since = state.clock.now() - Duration::days(i64::from(state.hotline.duplicate_days));
    let found = store::candidates(
        &state.store,
        &state.vault,
        &reach.sites,
        bands,
        phone,
        since,
    )
    .await?;
    let mine = text::shingles(content);
    let mut out: Vec<Duplicate> = found
        .into_iter()
        .filter(|c| Some(c.id) != except)
        .filter_map(|c| {
            let similarity = text::jaccard(&mine, &text::shingles(&c.content));
            (c.same_caller || similarity >= text::DUPLICATE_SIMILARITY).then(|| Duplicate {
                id: c.id,
                number: c.number,
                status: c.status.as_str().to_owned(),
                category: c.category.as_str().to_owned(),
                similarity: (similarity * 100.0).round() / 100.0,
                same_caller: c.same_caller,
                created_at: rfc3339(c.created_at),
                content: c.content,
            })
        })
        .collect();
    out.sort_by(|a, b| b.similarity.total_cmp(&a.similarity));
    out.truncate(10);
    Ok(out)
}

/// Takes a ticket; the page, the public form and the API share this. `site`: where.
pub async fn take(
    state: &AppState,
    who: &Principal,
    site: &Site,
    body: &TicketBody,
    idem: &Idem<'_>,
) -> Result<Response, ApiError> {
    let ticket = rules::check_intake(&Intake {
        channel: &body.channel,
        category: &body.category,
        content: &body.content,
        caller_name: body.caller_name.as_deref(),
        caller_phone: body.caller_phone.as_deref(),
        place: body.place.as_deref(),
        urgent: body.urgent,
    })
    .map_err(ApiError::invalid)?;
    if let Some(replay) = idem.check(&state.store).await? {
        return Ok(replay);
    }
    let now = state.clock.now();
    let cal = calendar(state).await?;
    let due_at = Term::default_for(ticket.category, ticket.urgent)
        .due(&cal, state.hotline.hours, now)
        .map_err(no_data)?;
    let reach = Reach {
        sites: subtree(state, site.id).await?,
        departments: None,
    };
    let bands = text::band_keys(&ticket.content);
    let dups = duplicates(
        state,
        &reach,
        &ticket.content,
        &bands,
        ticket.caller_phone.as_ref().map(|p| p.as_str()),
        None,
    )
    .await?;
    let id = state.ids.new_id();
    let terms = text::terms(&ticket.content);
    let ops = store::create_ops(
        &state.vault,
        &store::Intake {
            id,
            event_id: state.ids.new_id(),
            site: site.id,
            ticket: &ticket,
            due_at,
            created_by: who.actor(),
            now,
            terms: &terms,
            bands: &bands,
        },
    );
    // The number is the day's sequence, known only inside the commit: the answer (and the
    // idempotency record holding it) is written from the writer's counts.
    let answer = CreatedTicket {
        id,
        number: String::new(),
        status: Status::New.as_str().to_owned(),
        due_at: rfc3339(due_at),
        duplicates: dups,
    };
    let render = move |counts: &[u64]| {
        let mut a = answer.clone();
        a.number = store::created_number(now, counts);
        serde_json::to_string(&a).unwrap_or_default()
    };
    let written = match idem.remember_after(StatusCode::CREATED, now, render.clone()) {
        Some(then) => state.store.write_then(ops, then).await,
        None => state.store.write(ops).await,
    };
    let res = match written {
        Ok(counts) => json_response(StatusCode::CREATED, render(&counts)),
        Err(e) => return idem.resolve(&state.store, e).await,
    };
    state.hotline_index.touch(vec![id]);
    Ok(res)
}

/// Takes a ticket (a call, a WeChat message, a walk-in). Answers with its number, its
/// deadline and the near-duplicates or earlier tickets of the same caller to merge.
#[utoipa::path(post, path = "/api/v1/tickets", tag = "hotline", request_body = TicketBody,
    params(("Idempotency-Key" = Option<String>, Header, description = "Replays return the first answer")),
    responses((status = 201, body = CreatedTicket), (status = 422, description = "Empty content, unknown channel or category, bad phone")))]
async fn post_ticket(
    State(state): State<AppState>,
    who: Principal,
    key: IdempotencyKey,
    body: JsonBody<TicketBody>,
) -> Result<Response, ApiError> {
    let idem = Idem::new("POST /api/v1/tickets", &who, &key, &body);
    let site = crate::screening::site_of(&state, &who, body.value.site.as_deref()).await?;
    take(&state, &who, &site, &body.value, &idem).await
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SimilarQuery {
    pub content: Option<String>,
    pub caller_phone: Option<String>,
}

/// Suggestions while a ticket is typed: near-duplicates and the caller's recent tickets.
#[utoipa::path(get, path = "/api/v1/tickets/similar", tag = "hotline", params(SimilarQuery),
    responses((status = 200, body = [Duplicate])))]
async fn get_similar(
    State(state): State<AppState>,
    who: Principal,
    Query(q): Query<SimilarQuery>,
) -> Result<Json<Vec<Duplicate>>, ApiError> {
    let reach = reach(&state, &who).await?;
    let phone = q
        .caller_phone
        .as_deref()
        .map(str::trim)
        .filter(|p| fangkong_domain::privacy::Phone::parse(p, "caller_phone").is_ok());
    let content = q.content.as_deref().unwrap_or("");
    let bands = text::band_keys(content);
    Ok(Json(
        duplicates(&state, &reach, content, &bands, phone, None).await?,
    ))
}

// ---- reading -----------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EventDto {
    pub at: String,
    pub actor: String,
    pub kind: String,
    pub department: Option<String>,
    pub detail: String,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AssignmentDto {
    pub department_id: Uuid,
    pub name: String,
    pub lead: bool,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct TicketDto {
    pub id: Uuid,
    pub number: String,
    pub site: String,
    pub channel: String,
    pub category: String,
    pub urgent: bool,
    pub status: String,
    pub content: String,
    pub place: String,
    /// Masked (`张*`); revealed only through the audited reveal.
    pub caller_name: Option<String>,
    pub caller_phone: Option<String>,
    pub parent_id: Option<Uuid>,
    pub due_at: String,
    /// `on_time`, `near_due` or `overdue` while open.
    pub standing: Option<String>,
    pub created_at: String,
    pub closed_at: Option<String>,
    pub satisfaction: Option<String>,
    pub escalated: bool,
    pub supervisions: i64,
    pub version: i64,
    pub departments: Vec<AssignmentDto>,
    pub merged: Vec<MergedDto>,
    pub timeline: Vec<EventDto>,
}

/// A ticket merged into another, its caller masked.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MergedDto {
    pub id: Uuid,
    pub number: String,
    pub content: String,
    pub caller_name: Option<String>,
    pub caller_phone: Option<String>,
}

pub fn standing(t: &Ticket, now: OffsetDateTime) -> Option<Standing> {
    t.status
        .is_open()
        .then(|| Standing::of(t.due_at, now, t.urgent))
}

pub async fn ticket_dto(
    state: &AppState,
    t: &Ticket,
    assigned: &[store::Assignment],
) -> Result<TicketDto, ApiError> {
    let site = org::find_site_by_id(&state.store, t.site_id)
        .await?
        .map(|s| s.code)
        .unwrap_or_default();
    let merged = store::children(&state.store, &state.vault, t.id)
        .await?
        .into_iter()
        .map(|c| MergedDto {
            id: c.id,
            number: c.number,
            content: c.content,
            caller_name: c.caller_name.as_deref().map(mask_name),
            caller_phone: c.caller_phone.as_deref().map(mask_phone),
        })
        .collect();
    let timeline = store::timeline(&state.store, t.id)
        .await?
        .into_iter()
        .map(|e| EventDto {
            at: rfc3339(e.at),
            actor: e.actor,
            kind: e.kind.as_str().to_owned(),
            department: e.department,
            detail: e.detail,
        })
        .collect();
    Ok(TicketDto {
        id: t.id,
        number: t.number.clone(),
        site,
        channel: t.channel.as_str().to_owned(),
        category: t.category.as_str().to_owned(),
        urgent: t.urgent,
        status: t.status.as_str().to_owned(),
        content: t.content.clone(),
        place: t.place.clone(),
        caller_name: t.caller_name.as_deref().map(mask_name),
        caller_phone: t.caller_phone.as_deref().map(mask_phone),
        parent_id: t.parent_id,
        due_at: rfc3339(t.due_at),
        standing: standing(t, state.clock.now()).map(|s| s.as_str().to_owned()),
        created_at: rfc3339(t.created_at),
        closed_at: t.closed_at.map(rfc3339),
        satisfaction: t.satisfaction.map(|s| s.as_str().to_owned()),
        escalated: t.escalated_at.is_some(),
        supervisions: t.supervisions,
        version: t.version,
        departments: assigned
            .iter()
            .map(|a| AssignmentDto {
                department_id: a.department_id,
                name: a.name.clone(),
                lead: a.lead,
            })
            .collect(),
        merged,
        timeline,
    })
}

/// A ticket with its departments, merged tickets and timeline.
#[utoipa::path(get, path = "/api/v1/tickets/{id}", tag = "hotline",
    params(("id" = Uuid, Path, description = "Ticket id")),
    responses((status = 200, body = TicketDto), (status = 404, description = "No such ticket for you")))]
async fn get_ticket(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<Uuid>,
) -> Result<Json<TicketDto>, ApiError> {
    let (t, assigned, _) = visible(&state, &who, id).await?;
    Ok(Json(ticket_dto(&state, &t, &assigned).await?))
}

#[derive(Debug, Clone, Default, Deserialize, IntoParams)]
#[serde(default)]
pub struct SearchQuery {
    /// Words to find (any Chinese word, including one or two characters), or a number.
    pub q: Option<String>,
    pub category: Option<String>,
    pub status: Option<String>,
    /// Department code.
    pub department: Option<String>,
    /// First and last Beijing day taken (YYYY-MM-DD).
    pub from: Option<String>,
    pub until: Option<String>,
    /// `new`: newest first (default with no words: newest first).
    pub sort: Option<String>,
    pub limit: Option<usize>,
    pub offset: Option<usize>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Hit {
    pub id: Uuid,
    pub number: String,
    pub category: String,
    pub status: String,
    pub urgent: bool,
    pub place: String,
    pub created_at: String,
    pub due_at: String,
    pub standing: Option<String>,
    /// The content around the first match, matches marked `hit`.
    #[schema(value_type = Vec<Object>)]
    pub snippet: Vec<Piece>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SearchAnswer {
    pub total: usize,
    pub items: Vec<Hit>,
}

fn parse_date(raw: Option<&str>, field: &'static str) -> Result<Option<Date>, FieldError> {
    match raw.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => Date::parse(s, &time::format_description::well_known::Iso8601::DATE)
            .map(Some)
            .map_err(|_| FieldError::new(field, "hotline.date.invalid")),
    }
}

fn day_start(d: Date) -> OffsetDateTime {
    time::PrimitiveDateTime::new(d, time::Time::MIDNIGHT)
        .assume_offset(fangkong_domain::clock::BEIJING)
}

/// Searches the tickets the principal may see.
pub async fn find(
    state: &AppState,
    who: &Principal,
    q: &SearchQuery,
) -> Result<SearchAnswer, ApiError> {
    let mut errors = Vec::new();
    let category = match q
        .category
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        Some(c) => Category::parse(c).or_else(|| {
            errors.push(FieldError::new("category", "hotline.category.invalid"));
            None
        }),
        None => None,
    };
    let status = match q.status.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        Some(c) => Status::parse(c).or_else(|| {
            errors.push(FieldError::new("status", "hotline.status.invalid"));
            None
        }),
        None => None,
    };
    let from = parse_date(q.from.as_deref(), "from").unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    let until = parse_date(q.until.as_deref(), "until").unwrap_or_else(|e| {
        errors.push(e);
        None
    });
    let reach = reach(state, who).await?;
    let mut departments = reach.departments.clone();
    if let Some(code) = q
        .department
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        let all = store::departments(&state.store, &reach.sites).await?;
        match all.iter().find(|d| d.code == code) {
            Some(d) => {
                if departments
                    .as_ref()
                    .is_some_and(|mine| !mine.contains(&d.id))
                {
                    departments = Some(Vec::new());
                } else {
                    departments = Some(vec![d.id]);
                }
            }
            None => errors.push(FieldError::new("department", "hotline.department.unknown")),
        }
    }
    if !errors.is_empty() {
        return Err(ApiError::invalid(errors));
    }
    let text = q.q.clone().unwrap_or_default();
    let s = Search {
        text: text.clone(),
        sites: reach.sites,
        departments,
        category,
        status,
        from: from.map(day_start),
        until: until.map(|d| day_start(d) + Duration::days(1)),
        limit: q.limit.unwrap_or(20).clamp(1, 100),
        offset: q.offset.unwrap_or(0).min(10_000),
        newest_first: q.sort.as_deref() == Some("new"),
    };
    state.hotline_index.settle().await;
    let index = state.hotline_index.index.clone();
    let hits = tokio::task::spawn_blocking(move || index.search(&s))
        .await
        .map_err(|_| ApiError::internal())??;
    let needles = search::query_words(&text);
    let mut by_id: HashMap<Uuid, Ticket> = store::by_ids(&state.store, &state.vault, &hits.ids)
        .await?
        .into_iter()
        .map(|t| (t.id, t))
        .collect();
    let now = state.clock.now();
    let items = hits
        .ids
        .iter()
        .filter_map(|id| by_id.remove(id))
        .map(|t| Hit {
            id: t.id,
            snippet: text::highlight(&t.content, &needles, 80),
            standing: standing(&t, now).map(|s| s.as_str().to_owned()),
            number: t.number,
            category: t.category.as_str().to_owned(),
            status: t.status.as_str().to_owned(),
            urgent: t.urgent,
            place: t.place,
            created_at: rfc3339(t.created_at),
            due_at: rfc3339(t.due_at),
        })
        .collect();
    Ok(SearchAnswer {
        total: hits.total,
        items,
    })
}

/// Full-text search over tickets (Chinese words of any length, ticket numbers) with
/// filters; each hit has a snippet with the matches marked.
#[utoipa::path(get, path = "/api/v1/tickets", tag = "hotline", params(SearchQuery),
    responses((status = 200, body = SearchAnswer), (status = 422, description = "Unknown category, status or department; bad date")))]
async fn get_tickets(
    State(state): State<AppState>,
    who: Principal,
    Query(q): Query<SearchQuery>,
) -> Result<Json<SearchAnswer>, ApiError> {
    Ok(Json(find(&state, &who, &q).await?))
}

// ---- the workflow ---------------------------------------------------------------------------

/// What one step needs from its request.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct StepBody {
    /// The version the user saw (from the ticket); a newer one refuses the step with 409.
    pub version: Option<i64>,
    /// The reply, the review comment, the note of a follow-up, supervision or reopening.
    pub text: Option<String>,
    /// Transfer: the lead department's code.
    pub department: Option<String>,
    /// Transfer: co-handling departments' codes.
    pub co_departments: Vec<String>,
    /// Transfer: working days (default by category) or, for urgent tickets, hours.
    pub workdays: Option<i64>,
    pub hours: Option<i64>,
    /// Review: accept (`true`) or return for rework (`false`).
    pub accept: Option<bool>,
    /// Follow-up: `satisfied`, `basic` or `unsatisfied`.
    pub satisfaction: Option<String>,
    /// Merge: the parent ticket's number or id.
    pub into: Option<String>,
}

/// The steps of the workflow, as routed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    Answer,
    Transfer,
    Reply,
    Review,
    FollowUp,
    Close,
    Reopen,
    Merge,
    Supervise,
}

impl Verb {
    pub fn parse(s: &str) -> Option<Verb> {
        Some(match s {
            "answer" => Verb::Answer,
            "transfer" => Verb::Transfer,
            "reply" => Verb::Reply,
            "review" => Verb::Review,
            "follow-up" => Verb::FollowUp,
            "close" => Verb::Close,
            "reopen" => Verb::Reopen,
            "merge" => Verb::Merge,
            "supervise" => Verb::Supervise,
            _ => return None,
        })
    }
}

fn required_text(raw: Option<&str>, field: &'static str) -> Result<String, ApiError> {
    Ok(rules::text_field(
        raw.unwrap_or(""),
        field,
        rules::MAX_CONTENT,
        true,
    )?)
}

fn optional_text(raw: Option<&str>) -> Result<String, ApiError> {
    Ok(rules::text_field(
        raw.unwrap_or(""),
        "text",
        rules::MAX_CONTENT,
        false,
    )?)
}

/// The answer of a step: the ticket's new standing.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StepAnswer {
    pub id: Uuid,
    pub number: String,
    pub status: String,
    pub version: i64,
    pub due_at: String,
}

/// Carries out one step; the pages and the API share this.
pub async fn act(
    state: &AppState,
    who: &Principal,
    id: Uuid,
    verb: Verb,
    b: &StepBody,
    idem: &Idem<'_>,
) -> Result<Response, ApiError> {
    let (t, assigned, reach) = visible(state, who, id).await?;
    // Only departments reply; only the hotline carries the rest.
    let may = match verb {
        Verb::Reply => who.can(fangkong_domain::access::Permission::HotlineReply),
        _ => who.can(fangkong_domain::access::Permission::HotlineHandle),
    };
    if !may {
        return Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden"));
    }
    let now = state.clock.now();
    let version = b.version.unwrap_or(t.version);
    if version != t.version {
        return Err(refused(Refusal::VersionChanged));
    }
    let mut department = None;
    let mut due_at = t.due_at;
    let (action, kind, detail, change) = match verb {
        Verb::Answer => (
            Action::Answer,
            EventKind::Answered,
            required_text(b.text.as_deref(), "text")?,
            Change::Nothing,
        ),
        Verb::Transfer => {
            let all = store::departments(&state.store, &reach.sites).await?;
            let find = |code: &str| -> Option<&Department> {
                all.iter()
                    .find(|d| d.code == code.trim() || d.id.to_string() == code.trim())
            };
            let lead = b
                .department
                .as_deref()
                .and_then(find)
                .ok_or(FieldError::new("department", "hotline.department.unknown"))?;
            let mut co = Vec::new();
            for c in &b.co_departments {
                let d = find(c).ok_or(FieldError::new(
                    "co_departments",
                    "hotline.department.unknown",
                ))?;
                if d.id != lead.id && !co.contains(&d.id) {
                    co.push(d.id);
                }
            }
            let term = Term::check(b.workdays, b.hours)?
                .unwrap_or(Term::default_for(t.category, t.urgent));
            let cal = calendar(state).await?;
            due_at = term.due(&cal, state.hotline.hours, now).map_err(no_data)?;
            department = Some(lead.id);
            (
                Action::Transfer,
                EventKind::Transferred,
                optional_text(b.text.as_deref())?,
                Change::Transfer {
                    lead: lead.id,
                    co,
                    due_at,
                },
            )
        }
        Verb::Reply => {
            let mine: Vec<Uuid> = match &reach.departments {
                Some(d) => d.clone(),
                // An administrator answers for the lead department.
                None => assigned
                    .iter()
                    .filter(|a| a.lead)
                    .map(|a| a.department_id)
                    .collect(),
            };
            let lead = assigned
                .iter()
                .find(|a| a.lead && mine.contains(&a.department_id));
            let co = assigned
                .iter()
                .find(|a| !a.lead && mine.contains(&a.department_id));
            let text = required_text(b.text.as_deref(), "text")?;
            match (lead, co) {
                (Some(a), _) => {
                    department = Some(a.department_id);
                    (Action::Reply, EventKind::Replied, text, Change::Nothing)
                }
                (None, Some(a)) => {
                    department = Some(a.department_id);
                    (Action::CoReply, EventKind::CoReplied, text, Change::Nothing)
                }
                (None, None) => return Err(refused(Refusal::NotAssigned)),
            }
        }
        Verb::Review => {
            let accept = b
                .accept
                .ok_or(FieldError::new("accept", "hotline.review.required"))?;
            if accept {
                (
                    Action::Accept,
                    EventKind::Accepted,
                    optional_text(b.text.as_deref())?,
                    Change::Nothing,
                )
            } else {
                department = t.department_id;
                (
                    Action::Return,
                    EventKind::Returned,
                    required_text(b.text.as_deref(), "text")?,
                    Change::Nothing,
                )
            }
        }
        Verb::FollowUp => {
            let s = b
                .satisfaction
                .as_deref()
                .and_then(Satisfaction::parse)
                .ok_or(FieldError::new(
                    "satisfaction",
                    "hotline.satisfaction.invalid",
                ))?;
            (
                Action::FollowUp,
                EventKind::FollowedUp,
                optional_text(b.text.as_deref())?,
                Change::FollowUp(s),
            )
        }
        Verb::Close => (
            Action::Close,
            EventKind::Closed,
            optional_text(b.text.as_deref())?,
            Change::Close,
        ),
        Verb::Reopen => {
            let cal = calendar(state).await?;
            due_at = Term::default_for(t.category, t.urgent)
                .due(&cal, state.hotline.hours, now)
                .map_err(no_data)?;
            (
                Action::Reopen,
                EventKind::Reopened,
                required_text(b.text.as_deref(), "text")?,
                Change::Reopen { due_at },
            )
        }
        Verb::Merge => {
            let into = b.into.as_deref().map(str::trim).unwrap_or("");
            let parent = match Uuid::parse_str(into) {
                Ok(pid) => store::get(&state.store, &state.vault, pid).await?,
                Err(_) => store::by_number(&state.store, &state.vault, into).await?,
            }
            .filter(|p| reach.sites.contains(&p.site_id))
            .ok_or(FieldError::new("into", "hotline.merge.unknown"))?;
            rules::check_merge(t.id, t.status, parent.id, parent.status).map_err(refused)?;
            (
                Action::MergeInto,
                EventKind::Merged,
                parent.number.clone(),
                Change::Merge {
                    parent: parent.id,
                    parent_event: state.ids.new_id(),
                },
            )
        }
        Verb::Supervise => {
            department = t.department_id;
            (
                Action::Supervise,
                EventKind::Supervised,
                optional_text(b.text.as_deref())?,
                Change::Supervise,
            )
        }
    };
    let to = rules::next(t.status, action).map_err(refused)?;
    let merged_into = match &change {
        Change::Merge { parent, .. } => Some(*parent),
        _ => None,
    };
    let mut tx = state.store.begin().await?;
    if let Some(replay) = idem.check_in(&mut tx).await? {
        return Ok(replay);
    }
    let step = Step {
        ticket: t.id,
        version,
        to,
        event_id: state.ids.new_id(),
        kind,
        at: now,
        actor: who.actor(),
        department,
        detail: &detail,
        change,
    };
    if !store::apply(&mut tx, &step).await? {
        return Err(refused(Refusal::VersionChanged));
    }
    let text = to_text(&StepAnswer {
        id: t.id,
        number: t.number.clone(),
        status: to.as_str().to_owned(),
        version: version + 1,
        due_at: rfc3339(due_at),
    })?;
    let res = finish(state, idem, tx, StatusCode::OK, text).await?;
    let mut touched = vec![t.id];
    touched.extend(merged_into);
    if matches!(verb, Verb::Close | Verb::Merge) {
        touched.extend(
            store::children(&state.store, &state.vault, merged_into.unwrap_or(t.id))
                .await?
                .iter()
                .map(|c| c.id),
        );
    }
    state.hotline_index.touch(touched);
    Ok(res)
}

macro_rules! step_route {
    ($name:ident, $path:literal, $verb:expr, $doc:literal) => {
        #[doc = $doc]
        #[utoipa::path(post, path = $path, tag = "hotline", request_body = StepBody,
            params(("id" = Uuid, Path, description = "Ticket id"),
                ("Idempotency-Key" = Option<String>, Header, description = "Replays return the first answer")),
            responses((status = 200, body = StepAnswer), (status = 404, description = "No such ticket for you"),
                (status = 409, description = "Not in this status (a closed ticket), or changed since the version given"),
                (status = 422, description = "Missing text, unknown department, bad term")))]
        async fn $name(
            State(state): State<AppState>,
            who: Principal,
            Path(id): Path<Uuid>,
            key: IdempotencyKey,
            body: JsonBody<StepBody>,
        ) -> Result<Response, ApiError> {
            let fingerprint = format!("{id}/{}", body.fingerprint);
            let idem = Idem::raw($path, &who, key.0.as_deref(), &fingerprint);
            act(&state, &who, id, $verb, &body.value, &idem).await
        }
    };
}

step_route!(
    post_answer,
    "/api/v1/tickets/{id}/answer",
    Verb::Answer,
    "Answers the caller directly (from the knowledge base): `text` is the answer."
);
step_route!(
    post_transfer,
    "/api/v1/tickets/{id}/transfer",
    Verb::Transfer,
    "Transfers (转办) to a lead `department` with `co_departments` (协办) and a deadline in `workdays` (or `hours` for urgent tickets)."
);
step_route!(
    post_reply,
    "/api/v1/tickets/{id}/reply",
    Verb::Reply,
    "A department's reply (`text`): the lead's moves the ticket to review; a co-handler's is recorded."
);
step_route!(
    post_review,
    "/api/v1/tickets/{id}/review",
    Verb::Review,
    "The hotline accepts the reply (`accept: true`) or returns it for rework with a `text`."
);
step_route!(
    post_follow_up,
    "/api/v1/tickets/{id}/follow-up",
    Verb::FollowUp,
    "Records the follow-up call (回访) with the caller's `satisfaction`."
);
step_route!(
    post_close,
    "/api/v1/tickets/{id}/close",
    Verb::Close,
    "Closes (办结) the ticket and the tickets merged into it."
);
step_route!(
    post_reopen,
    "/api/v1/tickets/{id}/reopen",
    Verb::Reopen,
    "Reopens a closed ticket with a reason (`text`); it is due again."
);
step_route!(
    post_merge,
    "/api/v1/tickets/{id}/merge",
    Verb::Merge,
    "Merges this ticket into the ticket `into` (number or id): answered with it, its caller kept."
);
step_route!(
    post_supervise,
    "/api/v1/tickets/{id}/supervise",
    Verb::Supervise,
    "Records a supervision notice (督办) to the department."
);

/// Reveals a caller's name or phone, to call back. Audited.
pub async fn reveal(
    state: &AppState,
    who: &Principal,
    id: Uuid,
    field: &str,
) -> Result<String, ApiError> {
    let (t, _, _) = visible(state, who, id).await?;
    let value = match field {
        "name" => t.caller_name.clone(),
        "phone" => t.caller_phone.clone(),
        _ => {
            return Err(ApiError::invalid(vec![FieldError::new(
                "field",
                "person.field.invalid",
            )]));
        }
    }
    .ok_or_else(ApiError::not_found)?;
    let site = org::find_site_by_id(&state.store, t.site_id)
        .await?
        .map(|s| s.code)
        .unwrap_or_default();
    audit::append_now(
        &state.store,
        state.clock.now(),
        &Record {
            actor: who.actor(),
            addr: &who.addr,
            action: "ticket.reveal",
            target: format!("ticket:{id}"),
            site: &site,
            outcome: AuditOutcome::Ok,
            detail: serde_json::json!({"field": field}),
        },
    )
    .await?;
    Ok(value)
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct RevealBody {
    /// `name` or `phone`.
    pub field: String,
}

/// Reveals the caller's name or phone for a call back (audited).
#[utoipa::path(post, path = "/api/v1/tickets/{id}/reveal", tag = "hotline", request_body = RevealBody,
    params(("id" = Uuid, Path, description = "Ticket id")),
    responses((status = 200, description = "`{\"value\": \"…\"}`"), (status = 404, description = "No such ticket or no such field")))]
async fn post_reveal(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<Uuid>,
    Json(b): Json<RevealBody>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let value = reveal(&state, &who, id, b.field.trim()).await?;
    Ok(Json(serde_json::json!({ "value": value })))
}

// ---- supervision --------------------------------------------------------------------------

/// Open tickets overdue or due within a day, soonest first.
pub async fn supervision(state: &AppState, reach: &Reach) -> Result<Vec<Ticket>, ApiError> {
    Ok(store::due_before(
        &state.store,
        &state.vault,
        &reach.sites,
        reach.departments.as_deref(),
        state.clock.now() + Duration::days(1),
        500,
    )
    .await?)
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SupervisionLine {
    pub id: Uuid,
    pub number: String,
    pub status: String,
    pub standing: String,
    pub due_at: String,
    pub department: Option<String>,
    pub escalated: bool,
    pub supervisions: i64,
}

/// Overdue and near-due tickets per department, for supervision (督办).
#[utoipa::path(get, path = "/api/v1/hotline/supervision", tag = "hotline",
    responses((status = 200, body = [SupervisionLine])))]
async fn get_supervision(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<Vec<SupervisionLine>>, ApiError> {
    let reach = reach(&state, &who).await?;
    let deps: HashMap<Uuid, String> = store::departments(&state.store, &reach.sites)
        .await?
        .into_iter()
        .map(|d| (d.id, d.name))
        .collect();
    let now = state.clock.now();
    Ok(Json(
        supervision(&state, &reach)
            .await?
            .into_iter()
            .map(|t| SupervisionLine {
                standing: Standing::of(t.due_at, now, t.urgent).as_str().to_owned(),
                id: t.id,
                number: t.number,
                status: t.status.as_str().to_owned(),
                due_at: rfc3339(t.due_at),
                department: t.department_id.and_then(|d| deps.get(&d).cloned()),
                escalated: t.escalated_at.is_some(),
                supervisions: t.supervisions,
            })
            .collect(),
    ))
}

/// Raises overdue tickets to the hotline group's leader once: an `escalated` entry on the
/// ticket, and the ticket marked on the supervision list. Runs every minute.
pub async fn escalate(state: &AppState) -> Result<usize, ApiError> {
    let now = state.clock.now();
    let due = store::overdue_unescalated(&state.store, now, 200).await?;
    let mut n = 0;
    for (id, version, status) in due {
        let mut tx = state.store.begin().await?;
        let step = Step {
            ticket: id,
            version,
            to: status,
            event_id: state.ids.new_id(),
            kind: EventKind::Escalated,
            at: now,
            actor: "system",
            department: None,
            detail: "",
            change: Change::Escalate,
        };
        if store::apply(&mut tx, &step).await? {
            tx.commit().await?;
            n += 1;
        }
    }
    Ok(n)
}

/// Starts the minute loop of escalations.
pub fn start(state: AppState, mut stop: watch::Receiver<bool>) {
    tokio::spawn(async move {
        loop {
            if let Err(e) = escalate(&state).await {
                tracing::warn!(error = ?e.code, "cannot escalate overdue tickets");
            }
            tokio::select! {
                () = tokio::time::sleep(std::time::Duration::from_secs(60)) => {}
                _ = stop.wait_for(|s| *s) => return,
            }
        }
    });
}

// ---- hot issues and the summary -----------------------------------------------------------

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HotTerm {
    pub term: String,
    pub today: u32,
    pub mean: f64,
    pub score: f64,
    /// Counts of the 14 days before and the day itself, oldest first.
    pub trend: Vec<u32>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HotCluster {
    /// The day's tickets holding the cluster's most common band key (its baseline is
    /// counted the same way).
    pub size: usize,
    pub baseline_mean: f64,
    pub score: f64,
    pub category: String,
    /// Up to five sample tickets: `(number, content)`.
    pub samples: Vec<(String, String)>,
    pub ids: Vec<Uuid>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct HotIssues {
    pub date: String,
    pub tickets: usize,
    pub terms: Vec<HotTerm>,
    pub clusters: Vec<HotCluster>,
}

/// The least a term or cluster must count on the day to be hot.
pub const HOT_MIN_COUNT: u32 = 3;

/// Terms of `day` bursting against their own baseline of the 14 days before, from the
/// daily term counts.
pub async fn hot_terms(
    state: &AppState,
    sites: &[Uuid],
    day: Date,
) -> Result<Vec<HotTerm>, ApiError> {
    let from = day - Duration::days(hot::BASELINE_DAYS as i64);
    let series =
        store::term_series(&state.store, sites, from, day, i64::from(HOT_MIN_COUNT)).await?;
    let mut terms: Vec<HotTerm> = series
        .into_iter()
        .filter_map(|(term, points)| {
            let by: HashMap<Date, i64> = points.into_iter().collect();
            let trend: Vec<u32> = (0..=hot::BASELINE_DAYS as i64)
                .map(|i| {
                    let d = from + Duration::days(i);
                    u32::try_from(by.get(&d).copied().unwrap_or(0)).unwrap_or(u32::MAX)
                })
                .collect();
            let (today, baseline) = trend.split_last()?;
            let b = hot::burst(*today, baseline, HOT_MIN_COUNT)?;
            Some(HotTerm {
                term,
                today: b.today,
                mean: (b.mean * 10.0).round() / 10.0,
                score: (b.score * 10.0).round() / 10.0,
                trend,
            })
        })
        .collect();
    terms.sort_by(|a, b| b.score.total_cmp(&a.score).then(b.today.cmp(&a.today)));
    terms.truncate(30);
    Ok(terms)
}

/// Terms and near-duplicate clusters of `day` bursting against their own baseline of the
/// 14 days before (clusters hash the day's tickets again: the hot-issues page only).
pub async fn hot_issues(
    state: &AppState,
    sites: &[Uuid],
    day: Date,
) -> Result<HotIssues, ApiError> {
    let terms = hot_terms(state, sites, day).await?;
    let texts = store::day_texts(&state.store, sites, day).await?;
    let tickets = texts.len();
    let keys: Vec<Vec<i64>> = {
        let contents: Vec<String> = texts.iter().map(|t| t.3.clone()).collect();
        tokio::task::spawn_blocking(move || contents.iter().map(|c| text::band_keys(c)).collect())
            .await
            .map_err(|_| ApiError::internal())?
    };
    let found: Vec<Vec<usize>> = hot::clusters(&keys, HOT_MIN_COUNT as usize)
        .into_iter()
        .take(20)
        .collect();
    // A cluster's count on a day, the day itself and its baseline alike: the most tickets
    // of that day holding one of the band keys of the cluster's first ticket.
    let mut today_keys: HashMap<i64, u32> = HashMap::new();
    for k in keys.iter().flatten() {
        *today_keys.entry(*k).or_default() += 1;
    }
    let reps: Vec<i64> = found.iter().flat_map(|m| keys[m[0]].clone()).collect();
    let from = day - Duration::days(hot::BASELINE_DAYS as i64);
    let before = store::band_day_counts(
        &state.store,
        sites,
        &reps,
        from,
        day.previous_day().unwrap_or(day),
    )
    .await?;
    let mut clusters = Vec::new();
    for members in found {
        let first = members[0];
        let rep = &keys[first];
        let most = |count: &dyn Fn(i64) -> u32| rep.iter().map(|k| count(*k)).max().unwrap_or(0);
        let today = most(&|k| today_keys.get(&k).copied().unwrap_or(0));
        let baseline: Vec<u32> = (1..=hot::BASELINE_DAYS as i64)
            .rev()
            .map(|i| {
                let d = day - Duration::days(i);
                most(&|k| {
                    u32::try_from(before.get(&(d, k)).copied().unwrap_or(0)).unwrap_or(u32::MAX)
                })
            })
            .collect();
        let Some(b) = hot::burst(today, &baseline, HOT_MIN_COUNT) else {
            continue;
        };
        let near: Vec<usize> = (0..keys.len())
            .filter(|&i| hot::share_band(&keys[i], rep))
            .collect();
        clusters.push(HotCluster {
            size: today as usize,
            baseline_mean: (b.mean * 10.0).round() / 10.0,
            score: (b.score * 10.0).round() / 10.0,
            category: texts[first].2.as_str().to_owned(),
            samples: near
                .iter()
                .take(5)
                .map(|&i| (texts[i].1.clone(), texts[i].3.clone()))
                .collect(),
            ids: near.iter().map(|&i| texts[i].0).collect(),
        });
    }
    clusters.sort_by(|a, b| b.score.total_cmp(&a.score));
    Ok(HotIssues {
        date: day.to_string(),
        tickets,
        terms,
        clusters,
    })
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DayQuery {
    /// YYYY-MM-DD, Beijing time (default today).
    pub date: Option<String>,
}

pub fn day_or_today(state: &AppState, raw: Option<&str>) -> Result<Date, ApiError> {
    Ok(parse_date(raw, "date")?.unwrap_or_else(|| beijing(state.clock.now()).date()))
}

/// Hot issues of a day: bursting terms and near-duplicate clusters with samples.
#[utoipa::path(get, path = "/api/v1/hotline/hot", tag = "hotline", params(DayQuery),
    responses((status = 200, body = HotIssues)))]
async fn get_hot(
    State(state): State<AppState>,
    who: Principal,
    Query(q): Query<DayQuery>,
) -> Result<Json<HotIssues>, ApiError> {
    let day = day_or_today(&state, q.date.as_deref())?;
    let reach = reach(&state, &who).await?;
    Ok(Json(hot_issues(&state, &reach.sites, day).await?))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Count {
    pub key: String,
    pub n: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DepartmentSummary {
    pub code: String,
    pub name: String,
    pub received_today: i64,
    pub open: i64,
    pub overdue: i64,
    pub satisfied: i64,
    pub basic: i64,
    pub unsatisfied: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Summary {
    pub date: String,
    pub total: i64,
    pub urgent: i64,
    pub by_category: Vec<Count>,
    pub by_channel: Vec<Count>,
    pub by_status: Vec<Count>,
    pub departments: Vec<DepartmentSummary>,
    pub overdue_now: i64,
    pub satisfaction: Vec<Count>,
    pub hot_terms: Vec<HotTerm>,
}

/// The daily hotline summary of `sites`.
pub async fn summary(state: &AppState, sites: &[Uuid], day: Date) -> Result<Summary, ApiError> {
    let counts = store::day_counts(&state.store, sites, day).await?;
    let lines = store::department_lines(&state.store, sites, day, state.clock.now()).await?;
    let sat = store::satisfaction(&state.store, sites, day).await?;
    let hot_terms = hot_terms(state, sites, day).await?;
    let all = |kinds: &[&'static str], got: &[(String, i64)]| -> Vec<Count> {
        kinds
            .iter()
            .map(|k| Count {
                key: (*k).to_owned(),
                n: got.iter().find(|(g, _)| g == k).map_or(0, |(_, n)| *n),
            })
            .collect()
    };
    let cats: Vec<&'static str> = Category::ALL.iter().map(|c| c.as_str()).collect();
    let chans: Vec<&'static str> = rules::Channel::ALL.iter().map(|c| c.as_str()).collect();
    let stats: Vec<&'static str> = Status::ALL.iter().map(|c| c.as_str()).collect();
    let sats: Vec<&'static str> = Satisfaction::ALL.iter().map(|c| c.as_str()).collect();
    let total = counts.by_category.iter().map(|(_, n)| n).sum();
    let overdue_now = store::count_overdue(&state.store, sites, state.clock.now()).await?;
    Ok(Summary {
        date: day.to_string(),
        total,
        urgent: counts.urgent,
        by_category: all(
            &cats,
            &counts
                .by_category
                .iter()
                .map(|(c, n)| (c.as_str().to_owned(), *n))
                .collect::<Vec<_>>(),
        ),
        by_channel: all(
            &chans,
            &counts
                .by_channel
                .iter()
                .map(|(c, n)| (c.as_str().to_owned(), *n))
                .collect::<Vec<_>>(),
        ),
        by_status: all(
            &stats,
            &counts
                .by_status
                .iter()
                .map(|(c, n)| (c.as_str().to_owned(), *n))
                .collect::<Vec<_>>(),
        ),
        departments: lines
            .into_iter()
            .map(|l| DepartmentSummary {
                code: l.department.code,
                name: l.department.name,
                received_today: l.received_today,
                open: l.open,
                overdue: l.overdue,
                satisfied: l.satisfied,
                basic: l.basic,
                unsatisfied: l.unsatisfied,
            })
            .collect(),
        overdue_now,
        satisfaction: all(
            &sats,
            &sat.iter()
                .map(|(s, n)| (s.as_str().to_owned(), *n))
                .collect::<Vec<_>>(),
        ),
        hot_terms: hot_terms.into_iter().take(10).collect(),
    })
}

/// The daily hotline summary: by category, channel, status and department, overdue work,
/// satisfaction and hot terms.
#[utoipa::path(get, path = "/api/v1/hotline/summary", tag = "hotline", params(DayQuery),
    responses((status = 200, body = Summary)))]
async fn get_summary(
    State(state): State<AppState>,
    who: Principal,
    Query(q): Query<DayQuery>,
) -> Result<Json<Summary>, ApiError> {
    let day = day_or_today(&state, q.date.as_deref())?;
    let sites: Vec<Uuid> = {
        let scope = who.scope(&state.store).await?;
        org::list_sites(&state.store)
            .await?
            .iter()
            .map(|s| s.site.id)
            .filter(|id| scope.covers(*id))
            .collect()
    };
    Ok(Json(summary(&state, &sites, day).await?))
}

/// The rows of the daily report's hotline section.
pub const SECTION_ROWS: &[&str] = &["taken", "urgent"];

/// The daily report's hotline section (listed in `reports::SECTIONS`): tickets the site's
/// hotline took that day, the urgent ones, and each category.
pub fn report_section<'a>(q: &'a SectionQuery<'a>) -> SectionFuture<'a> {
    Box::pin(async move {
        let counts = store::day_counts(&q.state.store, &[q.site.id], q.day).await?;
        let taken: i64 = counts.by_category.iter().map(|(_, n)| n).sum();
        if taken == 0 {
            return Ok(None);
        }
        let row = |key: &str, n: i64| SectionRow {
            key: key.to_owned(),
            n,
            max: false,
        };
        let mut rows = vec![row("taken", taken), row("urgent", counts.urgent)];
        for c in Category::ALL {
            let n = counts
                .by_category
                .iter()
                .find(|(k, _)| k == c)
                .map_or(0, |(_, n)| *n);
            rows.push(row(c.as_str(), n));
        }
        Ok(Some(Section {
            key: "hotline".into(),
            rows,
        }))
    })
}

// ---- departments and the knowledge base ----------------------------------------------------

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct DepartmentBody {
    pub code: String,
    pub name: String,
}

/// Adds a department tickets can be transferred to (at the account's own site).
pub async fn add_department(
    state: &AppState,
    who: &Principal,
    b: &DepartmentBody,
) -> Result<Department, ApiError> {
    let (code, name) = rules::check_department(&b.code, &b.name).map_err(ApiError::invalid)?;
    let site = who.account()?.site_id;
    let mut tx = state.store.begin().await?;
    let d = store::insert_department(
        &mut tx,
        state.ids.new_id(),
        site,
        &code,
        &name,
        state.clock.now(),
    )
    .await?;
    tx.commit().await?;
    Ok(d)
}

/// The departments tickets can be transferred to.
#[utoipa::path(get, path = "/api/v1/hotline/departments", tag = "hotline",
    responses((status = 200, body = [Object])))]
async fn get_departments(
    State(state): State<AppState>,
    who: Principal,
) -> Result<Json<Vec<Department>>, ApiError> {
    let reach = reach(&state, &who).await?;
    Ok(Json(store::departments(&state.store, &reach.sites).await?))
}

/// Adds a department.
#[utoipa::path(post, path = "/api/v1/hotline/departments", tag = "hotline", request_body = DepartmentBody,
    responses((status = 201, body = Object), (status = 422, description = "Bad or taken code, bad name")))]
async fn post_department(
    State(state): State<AppState>,
    who: Principal,
    Json(b): Json<DepartmentBody>,
) -> Result<(StatusCode, Json<Department>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(add_department(&state, &who, &b).await?),
    ))
}

#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct LinkBody {
    /// An account of role `department`.
    pub username: String,
    pub linked: bool,
}

/// Links an account of role `department` to a department (or unlinks it).
pub async fn link(
    state: &AppState,
    who: &Principal,
    department: Uuid,
    b: &LinkBody,
) -> Result<(), ApiError> {
    let reach = reach(state, who).await?;
    let d = store::department(&state.store, department)
        .await?
        .filter(|d| reach.sites.contains(&d.site_id))
        .ok_or_else(ApiError::not_found)?;
    let account = fangkong_store::accounts::list_users(&state.store)
        .await?
        .into_iter()
        .find(|a| a.username == b.username.trim())
        .filter(|a| a.role == Role::Department && reach.sites.contains(&a.site_id))
        .ok_or(FieldError::new("username", "hotline.department.account"))?;
    let mut tx = state.store.begin().await?;
    store::link_department_user(&mut tx, account.id, d.id, b.linked).await?;
    tx.commit().await?;
    Ok(())
}

/// Links an account of role `department` to the department.
#[utoipa::path(post, path = "/api/v1/hotline/departments/{id}/users", tag = "hotline", request_body = LinkBody,
    params(("id" = Uuid, Path, description = "Department id")),
    responses((status = 204), (status = 422, description = "No such department account")))]
async fn post_link(
    State(state): State<AppState>,
    who: Principal,
    Path(id): Path<Uuid>,
    Json(b): Json<LinkBody>,
) -> Result<StatusCode, ApiError> {
    link(&state, &who, id, &b).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct AnswerBody {
    /// To change an answer; none adds one.
    pub id: Option<Uuid>,
    pub title: String,
    pub body: String,
    /// Shown to citizens on the public hotline page.
    pub published: bool,
}

/// Adds or changes a knowledge-base answer.
pub async fn save_answer(
    state: &AppState,
    who: &Principal,
    b: &AnswerBody,
) -> Result<store::Answer, ApiError> {
    let title = rules::text_field(&b.title, "title", 100, true);
    let body = rules::text_field(&b.body, "body", rules::MAX_CONTENT, true);
    let (title, body) = match (title, body) {
        (Ok(t), Ok(b)) => (t, b),
        (t, b) => {
            return Err(ApiError::invalid(
                [t.err(), b.err()].into_iter().flatten().collect(),
            ));
        }
    };
    let site = who.account()?.site_id;
    if let Some(id) = b.id {
        let reach = reach(state, who).await?;
        store::answers(&state.store, &reach.sites, false)
            .await?
            .into_iter()
            .find(|a| a.id == id)
            .ok_or_else(ApiError::not_found)?;
    }
    let a = store::Answer {
        id: b.id.unwrap_or_else(|| state.ids.new_id()),
        site_id: site,
        title,
        body,
        published: b.published,
        updated_at: state.clock.now(),
        updated_by: who.actor().to_owned(),
    };
    store::save_answer(&state.store, &a).await?;
    Ok(a)
}

/// Knowledge-base answers matching `q` (every word in the title or body), newest first.
pub async fn find_answers(
    state: &AppState,
    sites: &[Uuid],
    q: &str,
    published_only: bool,
) -> Result<Vec<store::Answer>, ApiError> {
    let words = search::query_words(q);
    Ok(store::answers(&state.store, sites, published_only)
        .await?
        .into_iter()
        .filter(|a| {
            let hay = format!("{}\n{}", a.title, a.body).to_lowercase();
            words.iter().all(|w| hay.contains(w.as_str()))
        })
        .collect())
}

/// Answers of the knowledge base that mention any term of `content` (for answering a
/// ticket directly), those mentioning most first, five at most.
pub async fn suggest_answers(
    state: &AppState,
    sites: &[Uuid],
    content: &str,
) -> Result<Vec<store::Answer>, ApiError> {
    let terms = text::terms(content);
    let mut scored: Vec<(usize, store::Answer)> = store::answers(&state.store, sites, false)
        .await?
        .into_iter()
        .map(|a| {
            let hay = format!("{}\n{}", a.title, a.body);
            (terms.iter().filter(|t| hay.contains(t.as_str())).count(), a)
        })
        .filter(|(n, _)| *n > 0)
        .collect();
    scored.sort_by_key(|(n, _)| std::cmp::Reverse(*n));
    Ok(scored.into_iter().take(5).map(|(_, a)| a).collect())
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct AnswerQuery {
    pub q: Option<String>,
}

/// The knowledge base: prevention answers and canned replies, searched.
#[utoipa::path(get, path = "/api/v1/hotline/answers", tag = "hotline", params(AnswerQuery),
    responses((status = 200, body = [Object])))]
async fn get_answers(
    State(state): State<AppState>,
    who: Principal,
    Query(q): Query<AnswerQuery>,
) -> Result<Json<Vec<store::Answer>>, ApiError> {
    let reach = reach(&state, &who).await?;
    Ok(Json(
        find_answers(&state, &reach.sites, q.q.as_deref().unwrap_or(""), false).await?,
    ))
}

/// Adds or changes an answer of the knowledge base.
#[utoipa::path(post, path = "/api/v1/hotline/answers", tag = "hotline", request_body = AnswerBody,
    responses((status = 200, body = Object), (status = 422, description = "Empty title or body")))]
async fn post_answer_kb(
    State(state): State<AppState>,
    who: Principal,
    Json(b): Json<AnswerBody>,
) -> Result<Json<store::Answer>, ApiError> {
    Ok(Json(save_answer(&state, &who, &b).await?))
}

// ---- the working calendar -----------------------------------------------------------------

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CalendarDay {
    pub date: String,
    pub workday: bool,
    /// `workday`, `weekend`, `holiday`, `makeup` or `override`.
    pub kind: DayKind,
    /// The holiday (春节), `调休上班（春节）`, or an override's name.
    pub name: Option<String>,
}

pub fn day_dto(d: calendar::Day) -> CalendarDay {
    CalendarDay {
        date: d.date.to_string(),
        workday: d.workday,
        kind: d.kind,
        name: d.name,
    }
}

fn path_date(raw: &str, field: &'static str) -> Result<Date, ApiError> {
    Ok(parse_date(Some(raw), field)?.ok_or(FieldError::new(field, "hotline.date.invalid"))?)
}

/// Whether a date is a working day, from the State Council's notices and the overrides.
#[utoipa::path(get, path = "/api/v1/calendar/{date}", tag = "hotline",
    params(("date" = String, Path, description = "YYYY-MM-DD")),
    responses((status = 200, body = CalendarDay), (status = 422, description = "Bad date, or a year the calendar has no data for (`calendar.no_data`)")))]
async fn get_calendar_day(
    State(state): State<AppState>,
    Path(date): Path<String>,
) -> Result<Json<CalendarDay>, ApiError> {
    let date = path_date(&date, "date")?;
    let cal = calendar(&state).await?;
    Ok(Json(day_dto(cal.day(date).map_err(no_data)?)))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DeadlineQuery {
    /// YYYY-MM-DD; it does not count.
    pub start: String,
    /// Working days after the start, 0 to 366.
    pub workdays: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Deadline {
    pub due: String,
}

/// The N-th working day after the start date (the start itself does not count).
#[utoipa::path(get, path = "/api/v1/calendar/deadline", tag = "hotline", params(DeadlineQuery),
    responses((status = 200, body = Deadline), (status = 422, description = "Bad date or count, or past the calendar's last year (`calendar.no_data`)")))]
async fn get_deadline(
    State(state): State<AppState>,
    Query(q): Query<DeadlineQuery>,
) -> Result<Json<Deadline>, ApiError> {
    let start = path_date(&q.start, "start")?;
    let n = u32::try_from(q.workdays)
        .ok()
        .filter(|n| *n <= 366)
        .ok_or(FieldError::new("workdays", "calendar.workdays.invalid"))?;
    let cal = calendar(&state).await?;
    let due = cal.add_workdays(start, n).map_err(no_data)?;
    Ok(Json(Deadline {
        due: due.to_string(),
    }))
}

#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct OverrideBody {
    pub workday: bool,
    pub name: String,
    /// Removes the override: the notices decide again.
    pub remove: bool,
}

/// Sets or removes an administrator's override of one day (audited).
pub async fn set_override(
    state: &AppState,
    who: &Principal,
    date: Date,
    b: &OverrideBody,
) -> Result<CalendarDay, ApiError> {
    let o = if b.remove {
        None
    } else {
        Some(calendar::check_override(date, b.workday, &b.name)?)
    };
    if !(calendar::FIRST_YEAR..=calendar::LAST_YEAR).contains(&date.year()) {
        return Err(no_data(calendar::NoData { year: date.year() }));
    }
    let now = state.clock.now();
    store::set_override(&state.store, date, o.as_ref(), who.actor(), now).await?;
    audit::append_now(
        &state.store,
        now,
        &Record {
            actor: who.actor(),
            addr: &who.addr,
            action: "calendar.override",
            target: format!("day:{date}"),
            site: who.account()?.site_code.as_str(),
            outcome: AuditOutcome::Ok,
            detail: serde_json::json!({"workday": b.workday, "name": b.name, "remove": b.remove}),
        },
    )
    .await?;
    // Read afresh: the cache empties only once this request has been answered.
    let cal = Calendar::new(store::overrides(&state.store).await?);
    Ok(day_dto(cal.day(date).map_err(no_data)?))
}

/// Changes one day of the working calendar (a local closure, a late notice), or removes
/// the change.
#[utoipa::path(post, path = "/api/v1/calendar/{date}", tag = "hotline", request_body = OverrideBody,
    params(("date" = String, Path, description = "YYYY-MM-DD")),
    responses((status = 200, body = CalendarDay), (status = 422, description = "Bad date or name, or a year without data")))]
async fn post_calendar_day(
    State(state): State<AppState>,
    who: Principal,
    Path(date): Path<String>,
    Json(b): Json<OverrideBody>,
) -> Result<Json<CalendarDay>, ApiError> {
    let date = path_date(&date, "date")?;
    Ok(Json(set_override(&state, &who, date, &b).await?))
}

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(post_ticket, get_tickets))
        .routes(routes!(get_similar))
        .routes(routes!(get_ticket))
        .routes(routes!(post_answer))
        .routes(routes!(post_transfer))
        .routes(routes!(post_reply))
        .routes(routes!(post_review))
        .routes(routes!(post_follow_up))
        .routes(routes!(post_close))
        .routes(routes!(post_reopen))
        .routes(routes!(post_merge))
        .routes(routes!(post_supervise))
        .routes(routes!(post_reveal))
        .routes(routes!(get_supervision))
        .routes(routes!(get_hot))
        .routes(routes!(get_summary))
        .routes(routes!(get_departments, post_department))
        .routes(routes!(post_link))
        .routes(routes!(get_answers, post_answer_kb))
        .routes(routes!(get_deadline))
        .routes(routes!(get_calendar_day, post_calendar_day))
}
