//! Backend-neutral parameters and rows, so each query is written once for both stores.

use crate::StoreError;
use fangkong_domain::clock::{from_unix_millis, unix_millis};
use time::OffsetDateTime;
use uuid::Uuid;

/// One SQL value. Times are Unix milliseconds (`Int`), ids are text, booleans are
/// `BOOLEAN` on PostgreSQL and 0/1 on SQLite.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
    Bool(bool),
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Value { Value::Int(i64::from(v)) }
        }
    )*};
}
from_int!(i64, i32, u32, u16, u8);

impl From<f64> for Value {
    fn from(v: f64) -> Value {
        Value::Real(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Value {
        Value::Bool(v)
    }
}
impl From<String> for Value {
    fn from(v: String) -> Value {
        Value::Text(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Value {
        Value::Text(v.to_owned())
    }
}
impl From<&String> for Value {
    fn from(v: &String) -> Value {
        Value::Text(v.clone())
    }
}
impl From<Vec<u8>> for Value {
    fn from(v: Vec<u8>) -> Value {
        Value::Blob(v)
    }
}
impl From<Uuid> for Value {
    fn from(v: Uuid) -> Value {
        Value::Text(v.to_string())
    }
}
impl From<OffsetDateTime> for Value {
    fn from(v: OffsetDateTime) -> Value {
        Value::Int(unix_millis(v))
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Value {
        v.map_or(Value::Null, Into::into)
    }
}

/// Builds an array of query parameters: `&params![id, name, now]`.
#[macro_export]
macro_rules! params {
    () => { [] as [$crate::Value; 0] };
    ($($v:expr),+ $(,)?) => { [$($crate::Value::from($v)),+] };
}

/// One result row, read by column position.
#[derive(Debug, Clone, PartialEq)]
pub struct Row(pub(crate) Vec<Value>);

/// Bind markers for an `IN (…)` list: `$first, $first+1, …` for `count` values.
pub(crate) fn placeholders(first: usize, count: usize) -> String {
    (first..first + count)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Row {
    pub fn get<T: FromValue>(&self, idx: usize) -> Result<T, StoreError> {
        let v = self
            .0
            .get(idx)
            .ok_or_else(|| StoreError::Decode(format!("no column {idx}")))?;
        T::from_value(v)
            .ok_or_else(|| StoreError::Decode(format!("column {idx}: unexpected {v:?}")))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// Converts a stored value back to a Rust type.
pub trait FromValue: Sized {
    fn from_value(v: &Value) -> Option<Self>;
}

impl FromValue for i64 {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Int(i) => Some(*i),
            _ => None,
        }
    }
}
impl FromValue for u32 {
    fn from_value(v: &Value) -> Option<Self> {
        i64::from_value(v).and_then(|i| u32::try_from(i).ok())
    }
}
impl FromValue for f64 {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Real(f) => Some(*f),
            Value::Int(i) => Some(*i as f64),
            _ => None,
        }
    }
}
impl FromValue for bool {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Bool(b) => Some(*b),
            Value::Int(i) => Some(*i != 0),
            _ => None,
        }
    }
}
impl FromValue for String {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Text(s) => Some(s.clone()),
            _ => None,
        }
    }
}
impl FromValue for Vec<u8> {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Blob(b) => Some(b.clone()),
            _ => None,
        }
    }
}
impl FromValue for Uuid {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Text(s) => Uuid::parse_str(s).ok(),
            _ => None,
        }
    }
}
impl FromValue for OffsetDateTime {
    fn from_value(v: &Value) -> Option<Self> {
        i64::from_value(v).map(from_unix_millis)
    }
}
impl<T: FromValue> FromValue for Option<T> {
    fn from_value(v: &Value) -> Option<Self> {
        match v {
            Value::Null => Some(None),
            other => T::from_value(other).map(Some),
        }
    }
}

/// [`to_sqlite_placeholders`], remembered per thread: the same few statements run on
/// every request, and rewriting them each time showed in profiles.
pub(crate) fn sqlite_sql(sql: &str) -> std::rc::Rc<str> {
    use std::cell::RefCell;
    use std::collections::HashMap;
    thread_local! {
        static REWRITTEN: RefCell<HashMap<String, std::rc::Rc<str>>> = RefCell::new(HashMap::new());
    }
    REWRITTEN.with(|cache| {
        let mut cache = cache.borrow_mut();
        if let Some(hit) = cache.get(sql) {
            return hit.clone();
        }
        if cache.len() >= 1024 {
            cache.clear();
        }
        let out: std::rc::Rc<str> = to_sqlite_placeholders(sql).into();
        cache.insert(sql.to_owned(), out.clone());
        out
    })
}

/// Rewrites PostgreSQL placeholders (`$1`) into SQLite's numbered form (`?1`), leaving
/// quoted text alone.
pub(crate) fn to_sqlite_placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                if c == q {
                    quote = None;
                }
                out.push(c);
            }
            None if c == '\'' || c == '"' => {
                quote = Some(c);
                out.push(c);
            }
            None if c == '$' && chars.peek().is_some_and(char::is_ascii_digit) => out.push('?'),
            None => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rewritten_statements_are_remembered_by_their_text() {
        let a = sqlite_sql("SELECT $1");
        assert_eq!(&*a, "SELECT ?1");
        assert!(std::rc::Rc::ptr_eq(&a, &sqlite_sql("SELECT $1")));
        assert_eq!(&*sqlite_sql("SELECT $2"), "SELECT ?2");
    }

    #[test]
    fn placeholders_are_rewritten_outside_quotes_only() {
        assert_eq!(
            to_sqlite_placeholders("SELECT a FROM t WHERE b = $1 AND c = '$2' AND d = $10"),
            "SELECT a FROM t WHERE b = ?1 AND c = '$2' AND d = ?10"
        );
        assert_eq!(
            to_sqlite_placeholders("SELECT \"$1\", $"),
            "SELECT \"$1\", $"
        );
    }

    #[test]
    fn values_round_trip_through_rows() {
        let id = Uuid::from_u128(7);
        let at = time::macros::datetime!(2020-01-29 08:00 UTC);
        let row = Row(params![5i64, "x", true, id, at, Option::<i64>::None, 1.5f64].to_vec());
        assert_eq!(row.get::<i64>(0).unwrap(), 5);
        assert_eq!(row.get::<String>(1).unwrap(), "x");
        assert!(row.get::<bool>(2).unwrap());
        assert_eq!(row.get::<Uuid>(3).unwrap(), id);
        assert_eq!(row.get::<OffsetDateTime>(4).unwrap(), at);
        assert_eq!(row.get::<Option<i64>>(5).unwrap(), None);
        assert_eq!(row.get::<f64>(6).unwrap(), 1.5);
        assert!(row.get::<String>(0).is_err());
        assert!(row.get::<i64>(9).is_err());
    }
}
