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
