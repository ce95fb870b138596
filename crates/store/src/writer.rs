//! The group-commit writer for hot append-only records.
//!
//! Requests queue their operations; one writer takes everything queued, commits it in a
//! single transaction as soon as it is free (no fixed wait), then answers each request.
//! Many rows share one fsync, which is what lets the embedded store keep up with the
//! door at rush hour (see DESIGN.md's measurements).
//!
//! If a batch fails because one request's statement was refused (a constraint), the
//! writer rolls it back and commits each request of that batch on its own, so one bad
//! request never fails others. Any other failure (the connection, the commit itself) is
//! answered as is and never retried: the commit may have gone through unseen.

use crate::system::Stopwatch;
use crate::{Db, Result, StoreError, Value};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::{Mutex, mpsc, oneshot};
use tokio::task::JoinHandle;

/// How many requests may wait in the queue before submitters wait too (back-pressure).
const QUEUE: usize = 8192;
/// The most operations one batch commits.
const MAX_BATCH_OPS: usize = 4096;

/// One statement to run in the writer's transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct Op {
    pub sql: &'static str,
    pub params: Vec<Value>,
    /// The statement returns one integer (`RETURNING …`): its slot among the request's
    /// counts holds that value instead of a row count.
    pub returning: bool,
}

impl Op {
    pub fn new(sql: &'static str, params: impl Into<Vec<Value>>) -> Op {
        Op {
            sql,
            params: params.into(),
            returning: false,
        }
    }

    /// A statement returning one integer (a sequence number, say), which later statements
    /// of the batch and the request's closing statement can use.
    pub fn returning(sql: &'static str, params: impl Into<Vec<Value>>) -> Op {
        Op {
            returning: true,
            ..Op::new(sql, params)
        }
    }
}

/// Totals since start, for `/metrics` and benchmarks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WriterStats {
    /// Transactions committed.
    pub batches: u64,
    /// Requests answered.
    pub requests: u64,
    /// Operations committed.
    pub ops: u64,
    /// Requests waiting now.
    pub queued: u64,
    /// The largest batch so far, in requests.
    pub max_batch: u64,
}

/// A statement computed from a request's own row counts, run in the same transaction
/// right after them (an idempotency record holding the answer, say).
pub type Then = Box<dyn Fn(&[u64]) -> Op + Send + Sync>;

/// One request's work: its statements, then optionally a closing statement.
pub(crate) struct Work {
    pub(crate) ops: Vec<Op>,
    pub(crate) then: Option<Then>,
}

struct Job {
    work: Work,
    reply: oneshot::Sender<Result<Vec<u64>>>,
}

#[derive(Default)]
struct Counters {
    batches: AtomicU64,
    requests: AtomicU64,
    ops: AtomicU64,
    max_batch: AtomicU64,
}

pub(crate) struct Writer {
    sender: std::sync::RwLock<Option<mpsc::Sender<Job>>>,
    task: Mutex<Option<JoinHandle<()>>>,
    counters: Arc<Counters>,
    queue: mpsc::WeakSender<Job>,
}

impl Writer {
    pub(crate) fn start(db: Db) -> Writer {
        let (tx, rx) = mpsc::channel(QUEUE);
        let counters = Arc::new(Counters::default());
        let task = tokio::spawn(run(db, rx, counters.clone()));
        Writer {
            queue: tx.downgrade(),
            sender: std::sync::RwLock::new(Some(tx)),
            task: Mutex::new(Some(task)),
            counters,
        }
    }

    pub(crate) async fn submit(&self, ops: Vec<Op>, then: Option<Then>) -> Result<Vec<u64>> {
        if ops.is_empty() && then.is_none() {
            return Ok(Vec::new());
        }
        let sender = self
            .sender
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or(StoreError::Closed)?;
        let (reply, answer) = oneshot::channel();
        sender
            .send(Job {
                work: Work { ops, then },
                reply,
            })
            .await
            .map_err(|_| StoreError::Closed)?;
        drop(sender);
        answer.await.map_err(|_| StoreError::Closed)?
    }

    pub(crate) fn stats(&self) -> WriterStats {
        let c = &self.counters;
        let queued = self
            .queue
            .upgrade()
            .map_or(0, |s| (s.max_capacity() - s.capacity()) as u64);
        WriterStats {
            batches: c.batches.load(Ordering::Relaxed),
            requests: c.requests.load(Ordering::Relaxed),
            ops: c.ops.load(Ordering::Relaxed),
            queued,
            max_batch: c.max_batch.load(Ordering::Relaxed),
        }
    }

    /// Takes no more work, commits everything queued, and waits for the writer to finish.
    pub(crate) async fn close(&self) {
        self.sender
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(task) = self.task.lock().await.take() {
            let _ = task.await;
        }
    }
}

async fn run(db: Db, mut rx: mpsc::Receiver<Job>, counters: Arc<Counters>) {
    while let Some(first) = rx.recv().await {
        let mut n_ops = first.work.ops.len();
        let mut jobs = vec![first];
        while n_ops < MAX_BATCH_OPS {
            match rx.try_recv() {
                Ok(job) => {
                    n_ops += job.work.ops.len();
                    jobs.push(job);
                }
                Err(_) => break,
            }
        }
        let started = Stopwatch::start();
        let work: Vec<&Work> = jobs.iter().map(|j| &j.work).collect();
        let outcome = db.run_batch(&work).await;
        drop(work);
        match outcome {
            Ok(counts) => {
                record(&counters, jobs.len(), n_ops, started.seconds());
                for (job, mine) in jobs.into_iter().zip(counts) {
                    answer(job, Ok(mine));
                }
            }
            // A lone request, or a failure that is not one statement's fault: answer with
            // it. Clients retry with their Idempotency-Key.
            Err(e) if jobs.len() == 1 || !is_statement_error(&e) => {
                for job in jobs {
                    answer(job, Err(e.clone()));
                }
            }
            Err(_) => {
                // Commit each request alone so one bad request fails only itself.
                for job in jobs {
                    let single = Stopwatch::start();
                    let result = db
                        .run_batch(&[&job.work])
                        .await
                        .map(|mut c| c.pop().unwrap_or_default());
                    if result.is_ok() {
                        record(&counters, 1, job.work.ops.len(), single.seconds());
                    }
                    answer(job, result);
                }
            }
        }
    }
}

/// Whether a failed batch failed because one of its statements was refused (so the
/// other requests in it deserve a retry on their own).
fn is_statement_error(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::Unique { .. } | StoreError::ForeignKey | StoreError::Invalid(_)
    )
}

fn answer(job: Job, result: Result<Vec<u64>>) {
    // The requester may have gone away; the work is committed all the same.
    let _ = job.reply.send(result);
}

fn record(counters: &Counters, requests: usize, ops: usize, seconds: f64) {
    counters.batches.fetch_add(1, Ordering::Relaxed);
    counters
        .requests
        .fetch_add(requests as u64, Ordering::Relaxed);
    counters.ops.fetch_add(ops as u64, Ordering::Relaxed);
    counters
        .max_batch
        .fetch_max(requests as u64, Ordering::Relaxed);
    metrics::histogram!("fangkong_writer_batch_requests").record(requests as f64);
    metrics::histogram!("fangkong_writer_batch_rows").record(ops as f64);
    metrics::histogram!("fangkong_writer_commit_seconds").record(seconds);
}

impl Db {
    /// Commits the work of several requests in one transaction; the row counts of each.
    pub(crate) async fn run_batch(&self, work: &[&Work]) -> Result<Vec<Vec<u64>>> {
        match self {
            Db::Sqlite(db) => db.run_batch(work).await,
            Db::Postgres(db) => db.run_batch(work).await,
        }
    }
}
