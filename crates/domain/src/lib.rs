//! Fangkong's pure types and rules.
//!
//! Nothing here performs IO, spawns tasks or reads the clock or the random source: the
//! current time and new ids are parameters (see [`clock`]), so every rule is repeatable
//! in a unit test.

pub mod access;
pub mod audit;
pub mod calendar;
pub mod cases;
pub mod clock;
pub mod demo;
pub mod error;
pub mod hotline;
pub mod org;
pub mod passwords;
pub mod privacy;
pub mod reports;
pub mod screening;
pub mod sync;

pub use error::FieldError;
