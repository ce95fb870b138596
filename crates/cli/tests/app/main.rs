//! End-to-end tests of the `fangkong` platform: real server, real port, real databases,
//! real Chromium. One test binary for the crate (builds are slow on two cores).

mod access;
mod api;
mod browser;
mod browser_cases;
mod browser_hotline;
mod browser_pages;
mod browser_reports;
mod browser_screening;
mod cases;
mod helpers;
mod hotline;
mod process;
mod reports;
mod screening;
