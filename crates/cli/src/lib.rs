//! The `fangkong` binary's wiring, as a library so tests start the real server.

pub mod commands;
pub mod config;
pub mod server;
