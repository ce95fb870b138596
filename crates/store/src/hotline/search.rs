//! Full-text search over tickets (tantivy). The database is the record; the index is
//! derived from it and brought up to date from `tickets.updated_at` after a restart, so a
//! crash between a commit and its indexing loses nothing.
//!
//! Content is indexed twice: as words from the domain segmenter (jieba with the hotline
//! dictionary), which ranks, and as single characters with positions, so that any word of
//! one or two characters (药, 口罩) is found as a phrase even where the segmenter joined it
//! into a longer word.

use crate::{Result, Store, StoreError, Value};
use fangkong_domain::clock::{from_unix_millis, unix_millis};
use fangkong_domain::hotline::text::index_words;
use fangkong_domain::hotline::{Category, Status};
use std::ops::Bound;
use std::path::Path;
use std::sync::Mutex;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    BooleanQuery, BoostQuery, Occur, PhraseQuery, Query, RangeQuery, TermQuery, TermSetQuery,
};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value as _,
};
use tantivy::tokenizer::{Token, TokenStream, Tokenizer};
use tantivy::{Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

fn fail(e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(format!("search index: {e}"))
}

/// A token stream over tokens made up front.
struct Tokens {
    tokens: Vec<Token>,
    at: usize,
}

impl TokenStream for Tokens {
    fn advance(&mut self) -> bool {
        self.at += 1;
        self.at <= self.tokens.len()
    }
    fn token(&self) -> &Token {
        &self.tokens[self.at - 1]
    }
    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.at - 1]
    }
}

/// Words of the domain segmenter, lower-cased.
#[derive(Clone)]
struct Words;

impl Tokenizer for Words {
    type TokenStream<'a> = Tokens;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> Tokens {
        Tokens {
            tokens: index_words(text)
                .into_iter()
                .enumerate()
                .map(|(position, w)| Token {
                    offset_from: w.start,
                    offset_to: w.end,
                    position,
                    text: w.text.to_lowercase(),
                    position_length: 1,
                })
                .collect(),
            at: 0,
        }
    }
}

/// Single letters and digits, lower-cased, with positions.
#[derive(Clone)]
struct Chars;

fn chars(text: &str) -> Vec<Token> {
    text.char_indices()
        .filter(|(_, c)| c.is_alphanumeric())
        .enumerate()
        .map(|(position, (at, c))| Token {
            offset_from: at,
            offset_to: at + c.len_utf8(),
            position,
            text: c.to_lowercase().collect(),
            position_length: 1,
        })
        .collect()
}

impl Tokenizer for Chars {
    type TokenStream<'a> = Tokens;
    fn token_stream<'a>(&'a mut self, text: &'a str) -> Tokens {
        Tokens {
            tokens: chars(text),
            at: 0,
        }
    }
}

#[derive(Clone, Copy)]
struct Fields {
    id: Field,
    number: Field,
    site: Field,
    department: Field,
    category: Field,
    status: Field,
    created: Field,
    words: Field,
    chars: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let text = |tokenizer: &str| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(tokenizer)
                .set_index_option(IndexRecordOption::WithFreqsAndPositions),
        )
    };
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        number: b.add_text_field("number", STRING),
        site: b.add_text_field("site", STRING),
        department: b.add_text_field("department", STRING),
        category: b.add_text_field("category", STRING),
        status: b.add_text_field("status", STRING),
        created: b.add_i64_field(
            "created",
            NumericOptions::default().set_indexed().set_fast(),
        ),
        words: b.add_text_field("words", text("zh_words")),
        chars: b.add_text_field("chars", text("zh_chars")),
    };
    (b.build(), fields)
}

/// A ticket as the index sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doc {
    pub id: Uuid,
    pub number: String,
    pub site: Uuid,
    pub departments: Vec<Uuid>,
    pub category: Category,
    pub status: Status,
    pub created_at: OffsetDateTime,
    /// The change this document reflects (the index's watermark).
    pub updated_at: OffsetDateTime,
    pub content: String,
    pub place: String,
}

/// What to look for.
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub text: String,
    pub sites: Vec<uuid::Uuid>,
    /// Only tickets with one of these departments.
    pub departments: Option<Vec<Uuid>>,
    pub category: Option<Category>,
    pub status: Option<Status>,
    pub from: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
    pub limit: usize,
    pub offset: usize,
    /// Newest first instead of best match first.
    pub newest_first: bool,
}

/// Matching ticket ids in order, and how many match in all.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Hits {
    pub total: usize,
    pub ids: Vec<Uuid>,
}

/// The words of a query: split at white space and punctuation.
pub fn query_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric() && c != '-')
        .map(str::trim)
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .take(16)
        .collect()
}

/// The ticket index: one writer, a reader reloaded after each commit.
pub struct TicketIndex {
    index: Index,
    reader: IndexReader,
    writer: Mutex<IndexWriter>,
    fields: Fields,
}

impl TicketIndex {
    /// Opens the index in `dir` (created when missing), or in memory with `None`.
    pub fn open(dir: Option<&Path>) -> Result<TicketIndex> {
        let (schema, fields) = schema();
        let index = match dir {
            None => Index::create_in_ram(schema),
            Some(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| {
                    StoreError::Setup(format!(
                        "cannot create the search folder {}: {e}",
                        dir.display()
                    ))
                })?;
                let directory = tantivy::directory::MmapDirectory::open(dir).map_err(fail)?;
                Index::open_or_create(directory, schema).map_err(fail)?
            }
        };
        index.tokenizers().register("zh_words", Words);
        index.tokenizers().register("zh_chars", Chars);
        let writer = index
            .writer_with_num_threads(1, 64 * 1024 * 1024)
            .map_err(fail)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()
            .map_err(fail)?;
        Ok(TicketIndex {
            index,
            reader,
            writer: Mutex::new(writer),
            fields,
        })
    }

    /// The `updated_at` of the newest change indexed (from the last commit).
    pub fn watermark(&self) -> Result<Option<OffsetDateTime>> {
        Ok(self
            .index
            .load_metas()
            .map_err(fail)?
            .payload
            .and_then(|p| p.parse::<i64>().ok())
            .map(from_unix_millis))
    }

    /// Replaces the documents of `docs` and commits, recording `watermark`. Blocking.
    pub fn write(&self, docs: &[Doc], watermark: OffsetDateTime) -> Result<()> {
        let f = self.fields;
        let mut writer = self.writer.lock().map_err(fail)?;
        for d in docs {
            let id = d.id.to_string();
            writer.delete_term(Term::from_field_text(f.id, &id));
            let mut doc = TantivyDocument::default();
            doc.add_text(f.id, &id);
            doc.add_text(f.number, d.number.to_lowercase());
            doc.add_text(f.site, d.site.to_string());
            for dep in &d.departments {
                doc.add_text(f.department, dep.to_string());
            }
            doc.add_text(f.category, d.category.as_str());
            doc.add_text(f.status, d.status.as_str());
            doc.add_i64(f.created, unix_millis(d.created_at));
            let text = format!("{}\n{}", d.content, d.place);
            doc.add_text(f.words, &text);
            doc.add_text(f.chars, &text);
            writer.add_document(doc).map_err(fail)?;
        }
        let mut commit = writer.prepare_commit().map_err(fail)?;
        commit.set_payload(&unix_millis(watermark).to_string());
        commit.commit().map_err(fail)?;
        drop(writer);
        self.reader.reload().map_err(fail)
    }

    fn any_of(&self, field: Field, values: impl IntoIterator<Item = String>) -> Box<dyn Query> {
        Box::new(TermSetQuery::new(
            values.into_iter().map(|v| Term::from_field_text(field, &v)),
        ))
    }

    fn exact(&self, field: Field, value: &str) -> Box<dyn Query> {
        Box::new(TermQuery::new(
            Term::from_field_text(field, value),
            IndexRecordOption::Basic,
        ))
    }

    /// One query word: its characters as a phrase, or the segmenter's words (ranked
    /// higher), or a ticket number.
    fn word(&self, w: &str) -> Box<dyn Query> {
        let f = self.fields;
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let cs: Vec<Term> = chars(w)
            .into_iter()
            .map(|t| Term::from_field_text(f.chars, &t.text))
            .collect();
        match cs.len() {
            0 => {}
            1 => should.push((
                Occur::Should,
                Box::new(TermQuery::new(cs[0].clone(), IndexRecordOption::WithFreqs)),
            )),
            _ => should.push((Occur::Should, Box::new(PhraseQuery::new(cs)))),
        }
        let words: Vec<(Occur, Box<dyn Query>)> = index_words(w)
            .into_iter()
            .map(|t| {
                let q: Box<dyn Query> = Box::new(TermQuery::new(
                    Term::from_field_text(f.words, &t.text.to_lowercase()),
                    IndexRecordOption::WithFreqs,
                ));
                (Occur::Should, q)
            })
            .collect();
        if !words.is_empty() {
            should.push((
                Occur::Should,
                Box::new(BoostQuery::new(Box::new(BooleanQuery::new(words)), 2.0)),
            ));
        }
        if fangkong_domain::hotline::looks_like_number(w) {
            should.push((Occur::Should, self.exact(f.number, w)));
        }
        Box::new(BooleanQuery::new(should))
    }

    /// Runs a search. Blocking (a few milliseconds).
    pub fn search(&self, s: &Search) -> Result<Hits> {
        let f = self.fields;
        if s.sites.is_empty() {
            return Ok(Hits::default());
        }
        let mut must: Vec<(Occur, Box<dyn Query>)> = vec![(
            Occur::Must,
            self.any_of(f.site, s.sites.iter().map(Uuid::to_string)),
        )];
        let words = query_words(&s.text);
        for w in &words {
            must.push((Occur::Must, self.word(w)));
        }
        if let Some(ds) = &s.departments {
            must.push((
                Occur::Must,
                self.any_of(f.department, ds.iter().map(Uuid::to_string)),
            ));
        }
        if let Some(c) = s.category {
            must.push((Occur::Must, self.exact(f.category, c.as_str())));
        }
        if let Some(st) = s.status {
            must.push((Occur::Must, self.exact(f.status, st.as_str())));
        }
        if s.from.is_some() || s.until.is_some() {
            let bound = |at: Option<OffsetDateTime>, inclusive: bool| match at {
                None => Bound::Unbounded,
                Some(at) => {
                    let t = Term::from_field_i64(f.created, unix_millis(at));
                    if inclusive {
                        Bound::Included(t)
                    } else {
                        Bound::Excluded(t)
                    }
                }
            };
            must.push((
                Occur::Must,
                Box::new(RangeQuery::new(bound(s.from, true), bound(s.until, false))),
            ));
        }
        let query = BooleanQuery::new(must);
        let searcher = self.reader.searcher();
        let limit = s.limit.clamp(1, 200);
        if s.newest_first || words.is_empty() {
            let top = TopDocs::with_limit(limit)
                .and_offset(s.offset)
                .order_by_fast_field::<i64>("created", Order::Desc);
            let (total, docs) = searcher.search(&query, &(Count, top)).map_err(fail)?;
            self.hits(&searcher, total, docs.into_iter().map(|(_, a)| a).collect())
        } else {
            let top = TopDocs::with_limit(limit)
                .and_offset(s.offset)
                .order_by_score();
            let (total, docs) = searcher.search(&query, &(Count, top)).map_err(fail)?;
            self.hits(&searcher, total, docs.into_iter().map(|(_, a)| a).collect())
        }
    }

    fn hits(
        &self,
        searcher: &tantivy::Searcher,
        total: usize,
        addresses: Vec<tantivy::DocAddress>,
    ) -> Result<Hits> {
        let mut ids = Vec::with_capacity(addresses.len());
        for a in addresses {
            let doc: TantivyDocument = searcher.doc(a).map_err(fail)?;
            let id = doc
                .get_first(self.fields.id)
                .and_then(|v| v.as_str())
                .and_then(|s| Uuid::parse_str(s).ok())
                .ok_or_else(|| StoreError::Decode("search document id".to_owned()))?;
            ids.push(id);
        }
        Ok(Hits { total, ids })
    }

    /// How many documents the index holds.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The index documents of `ids` from the database (unknown ids are skipped).
pub async fn docs(store: &Store, ids: &[Uuid]) -> Result<Vec<Doc>> {
    let mut out = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(500) {
        let list = crate::value::placeholders(1, chunk.len());
        let values: Vec<Value> = chunk.iter().map(|i| Value::from(*i)).collect();
        let rows = store
            .query(
                &format!(
                    "SELECT id, seq, site_id, category, status, created_at, content, place, updated_at, day
                     FROM tickets WHERE id IN ({list})"
                ),
                &values,
            )
            .await?;
        let deps = super::departments_of(store, chunk).await?;
        for r in rows {
            let id: Uuid = r.get(0)?;
            out.push(Doc {
                id,
                number: fangkong_domain::hotline::number(
                    Date::parse(
                        &r.get::<String>(9)?,
                        &time::format_description::well_known::Iso8601::DATE,
                    )
                    .map_err(|_| StoreError::Decode("day".to_owned()))?,
                    u32::try_from(r.get::<i64>(1)?).unwrap_or(u32::MAX),
                ),
                site: r.get(2)?,
                departments: deps.get(&id).cloned().unwrap_or_default(),
                category: Category::parse(&r.get::<String>(3)?)
                    .ok_or_else(|| StoreError::Decode("category".to_owned()))?,
                status: Status::parse(&r.get::<String>(4)?)
                    .ok_or_else(|| StoreError::Decode("status".to_owned()))?,
                created_at: r.get(5)?,
                content: r.get(6)?,
                place: r.get(7)?,
                updated_at: r.get(8)?,
            });
        }
    }
    Ok(out)
}
