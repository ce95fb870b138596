//! Validation errors shared by every area.

use std::fmt;

/// One rejected input field.
///
/// `code` is a stable, machine-readable message key (for example `site.code.invalid`);
/// the web layer turns it into words in the user's language. Domain code never writes
/// user-facing prose.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldError {
    pub field: &'static str,
    pub code: &'static str,
}

impl FieldError {
    pub const fn new(field: &'static str, code: &'static str) -> Self {
        Self { field, code }
    }

    /// The same error reported at another field (a form that names its fields
    /// differently from the rule).
    pub const fn at(self, field: &'static str) -> Self {
        Self { field, ..self }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.code)
    }
}

impl std::error::Error for FieldError {}

/// What is wrong with a free-text field (each area names it with its own message key).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFault {
    Required,
    TooLong,
    Invalid,
}

/// Trims free text and refuses nothing when `required`, more than `max` characters, and
/// control characters other than line breaks and tabs.
pub fn free_text(raw: &str, max: usize, required: bool) -> Result<String, TextFault> {
    let t = raw.trim();
    if required && t.is_empty() {
        return Err(TextFault::Required);
    }
    if t.chars().count() > max {
        return Err(TextFault::TooLong);
    }
    if t.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        return Err(TextFault::Invalid);
    }
    Ok(t.to_owned())
}
