//! Configuration shared by every subcommand: flags, then `FANGKONG_*` environment
//! variables, then an optional TOML file, then defaults.

use clap::Args;
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

pub const DEFAULT_ADDR: &str = "127.0.0.1:8080";
pub const DEFAULT_DATA_DIR: &str = "./fangkong-data";
/// The SQLite file inside the data folder.
pub const DB_FILE: &str = "fangkong.db";
/// Held by a running server so no second server, restore or migration touches the files.
pub const LOCK_FILE: &str = "fangkong.lock";
/// The personal-data key file, created on first start (owner read/write only).
pub const KEY_FILE: &str = "fangkong.key";
/// The folder of the ticket search index inside the data folder.
pub const SEARCH_DIR: &str = "search";

/// Options every subcommand accepts (flags win over environment variables).
#[derive(Debug, Clone, Default, Args)]
pub struct Options {
    /// TOML file with `addr`, `data_dir`, `database_url`, `log_format`.
    #[arg(long, env = "FANGKONG_CONFIG", global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Folder of the embedded store [default: ./fangkong-data].
    #[arg(long, env = "FANGKONG_DATA_DIR", global = true, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// postgres://USER@HOST:PORT/DB to run on PostgreSQL instead of the embedded store.
    #[arg(
        long,
        env = "FANGKONG_DATABASE_URL",
        global = true,
        hide_env_values = true,
        value_name = "URL"
    )]
    pub database_url: Option<String>,
    /// Log lines as `text` or `json` [default: text].
    #[arg(
        long,
        env = "FANGKONG_LOG_FORMAT",
        global = true,
        value_name = "FORMAT"
    )]
    pub log_format: Option<String>,
    /// File holding the personal-data key (64 hex digits) [default: DATA_DIR/fangkong.key,
    /// created on first start]. FANGKONG_KEY may give the key itself instead.
    #[arg(long, env = "FANGKONG_KEY_FILE", global = true, value_name = "FILE")]
    pub key_file: Option<PathBuf>,
    /// Minutes a signed-in session may stay unused [default: 30].
    #[arg(
        long,
        env = "FANGKONG_SESSION_IDLE_MINUTES",
        global = true,
        value_name = "MIN"
    )]
    pub session_idle_minutes: Option<u64>,
    /// Hours a session lasts at most [default: 12].
    #[arg(
        long,
        env = "FANGKONG_SESSION_MAX_HOURS",
        global = true,
        value_name = "HOURS"
    )]
    pub session_max_hours: Option<u64>,
    /// Mark cookies Secure: `auto` (when a proxy says the request came over TLS),
    /// `always` or `never` [default: auto].
    #[arg(
        long,
        env = "FANGKONG_SECURE_COOKIES",
        global = true,
        value_name = "WHEN"
    )]
    pub secure_cookies: Option<String>,
    /// MQTT broker for thermal scanners and door counters, e.g. mqtt://127.0.0.1:1883
    /// (topic fangkong/SITE/CHECKPOINT/reading) [default: none].
    #[arg(long, env = "FANGKONG_MQTT_URL", global = true, value_name = "URL")]
    pub mqtt_url: Option<String>,
    /// Minutes a person rests in the buffer zone before a re-check [default: 5].
    #[arg(
        long,
        env = "FANGKONG_RECHECK_MINUTES",
        global = true,
        value_name = "MIN"
    )]
    pub recheck_minutes: Option<u16>,
    /// Re-checks in the buffer zone before a decision is forced [default: 3].
    #[arg(long, env = "FANGKONG_MAX_RECHECKS", global = true, value_name = "N")]
    pub max_rechecks: Option<u8>,
    /// Days door records of people never suspected are kept [default: 28].
    #[arg(
        long,
        env = "FANGKONG_RETENTION_DAYS",
        global = true,
        value_name = "DAYS"
    )]
    pub retention_days: Option<u16>,
    /// Minutes the leadership group has to acknowledge an alert before it escalates to
    /// the group leader, then the whole group, then the upward report [default: 15].
    #[arg(long, env = "FANGKONG_ACK_MINUTES", global = true, value_name = "MIN")]
    pub ack_minutes: Option<u16>,
    /// Minutes a visit is taken to last, for exposure lists [default: 60].
    #[arg(
        long,
        env = "FANGKONG_EXPOSURE_MINUTES",
        global = true,
        value_name = "MIN"
    )]
    pub exposure_minutes: Option<u16>,
    /// Floor on the standard deviation of the EARS baseline (fever-rate alerts) [default: 0.5].
    #[arg(long, env = "FANGKONG_EARS_SD_FLOOR", global = true, value_name = "SD")]
    pub ears_sd_floor: Option<f64>,
    /// Hosts group robots may be at, comma-separated [default: qyapi.weixin.qq.com,oapi.dingtalk.com]
    #[arg(
        long,
        env = "FANGKONG_ROBOT_HOSTS",
        global = true,
        value_name = "HOSTS"
    )]
    pub robot_hosts: Option<String>,
    /// The daily report's deadline, Beijing time `HH:MM` [default: 16:00].
    #[arg(
        long,
        env = "FANGKONG_REPORT_DEADLINE",
        global = true,
        value_name = "HH:MM"
    )]
    pub report_deadline: Option<String>,
    /// Business hours of working days for hotline deadlines, Beijing time.
    #[arg(
        long,
        env = "FANGKONG_BUSINESS_HOURS",
        global = true,
        value_name = "HH:MM-HH:MM,HH:MM-HH:MM"
    )]
    pub business_hours: Option<String>,
    /// Days back to look for the same caller's tickets at intake.
    #[arg(
        long,
        env = "FANGKONG_DUPLICATE_DAYS",
        global = true,
        value_name = "DAYS"
    )]
    pub duplicate_days: Option<u32>,
    /// Folder of the ticket search index (default: `search` in the data folder; in
    /// memory on PostgreSQL, rebuilt at start).
    #[arg(long, env = "FANGKONG_SEARCH_DIR", global = true, value_name = "DIR")]
    pub search_dir: Option<PathBuf>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    addr: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    log_format: Option<String>,
    key_file: Option<PathBuf>,
    session_idle_minutes: Option<u64>,
    session_max_hours: Option<u64>,
    secure_cookies: Option<String>,
    mqtt_url: Option<String>,
    recheck_minutes: Option<u16>,
    max_rechecks: Option<u8>,
    retention_days: Option<u16>,
    ack_minutes: Option<u16>,
    exposure_minutes: Option<u16>,
    ears_sd_floor: Option<f64>,
    robot_hosts: Option<String>,
    report_deadline: Option<String>,
    business_hours: Option<String>,
    duplicate_days: Option<u32>,
    search_dir: Option<PathBuf>,
}

/// Where the personal-data key comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// A file, created with a new random key when missing.
    File(PathBuf),
    /// The key itself (FANGKONG_KEY), for deployments that keep it in a secret store.
    Hex(String),
}

/// Where the data lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    Sqlite { data_dir: PathBuf },
    Postgres { url: String },
}

impl Database {
    pub fn sqlite_file(data_dir: &Path) -> PathBuf {
        data_dir.join(DB_FILE)
    }
}

/// The settled configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub addr: SocketAddr,
    pub database: Database,
    pub log_json: bool,
    pub key: KeySource,
    pub auth: fangkong_web::access::AuthSettings,
    pub screening: fangkong_web::screening::Settings,
    pub cases: fangkong_web::cases::Settings,
    pub reports: fangkong_web::reports::Settings,
    pub hotline: fangkong_web::hotline::Settings,
    /// The MQTT broker devices publish to, when any.
    pub mqtt: Option<fangkong_web::mqtt::Broker>,
}

impl Settings {
    /// Defaults for everything but where to listen and what to store in (tests).
    pub fn new(addr: SocketAddr, database: Database) -> Settings {
        let search_dir = match &database {
            Database::Sqlite { data_dir } => Some(data_dir.join(SEARCH_DIR)),
            Database::Postgres { .. } => None,
        };
        let dir = match &database {
            Database::Sqlite { data_dir } => data_dir.clone(),
            Database::Postgres { .. } => PathBuf::from(DEFAULT_DATA_DIR),
        };
        Settings {
            addr,
            database,
            log_json: false,
            key: KeySource::File(dir.join(KEY_FILE)),
            auth: fangkong_web::access::AuthSettings::default(),
            screening: fangkong_web::screening::Settings::default(),
            cases: fangkong_web::cases::Settings::default(),
            reports: fangkong_web::reports::Settings::default(),
            hotline: fangkong_web::hotline::Settings {
                search_dir,
                ..fangkong_web::hotline::Settings::default()
            },
            mqtt: None,
        }
    }
}

impl Settings {
    /// Settles the configuration; `addr` is the serve flag (or its environment variable).
    pub fn resolve(opts: &Options, addr: Option<&str>) -> Result<Settings, String> {
        let file = match &opts.config {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    format!(
                        "cannot read the config file {}: {e}; check --config",
                        path.display()
                    )
                })?;
                toml::from_str::<FileConfig>(&text).map_err(|e| {
                    let first = e.message().lines().next().unwrap_or("").to_owned();
                    format!(
                        "the config file {} is not valid: {first}; see docs/OPERATIONS.md",
                        path.display()
                    )
                })?
            }
            None => FileConfig::default(),
        };
        let addr_text = addr
            .map(str::to_owned)
            .or(file.addr)
            .unwrap_or_else(|| DEFAULT_ADDR.to_owned());
        let addr = resolve_addr(&addr_text)?;
        // A flag or variable naming either store beats anything the file says.
        let url_of = |u: Option<String>| u.filter(|u| !u.trim().is_empty());
        let database = match (url_of(opts.database_url.clone()), &opts.data_dir) {
            (Some(url), _) => postgres(url)?,
            (None, Some(dir)) => Database::Sqlite {
                data_dir: dir.clone(),
            },
            (None, None) => match url_of(file.database_url) {
                Some(url) => postgres(url)?,
                None => Database::Sqlite {
                    data_dir: file
                        .data_dir
                        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
                },
            },
        };
        let log_json = match opts.log_format.clone().or(file.log_format).as_deref() {
            None | Some("text") => false,
            Some("json") => true,
            Some(other) => return Err(format!("unknown log format {other:?}; use text or json")),
        };
        let key = match std::env::var("FANGKONG_KEY")
            .ok()
            .filter(|k| !k.trim().is_empty())
        {
            Some(hex) => KeySource::Hex(hex),
            None => KeySource::File(opts.key_file.clone().or(file.key_file).unwrap_or_else(|| {
                let dir = match &database {
                    Database::Sqlite { data_dir } => data_dir.clone(),
                    Database::Postgres { .. } => opts
                        .data_dir
                        .clone()
                        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR)),
                };
                dir.join(KEY_FILE)
            })),
        };
        let mut auth = fangkong_web::access::AuthSettings::default();
        if let Some(m) = opts.session_idle_minutes.or(file.session_idle_minutes) {
            if !(1..=24 * 60).contains(&m) {
                return Err("the session idle timeout must be 1 to 1440 minutes".into());
            }
            auth.idle = std::time::Duration::from_secs(m * 60);
        }
        if let Some(h) = opts.session_max_hours.or(file.session_max_hours) {
            if !(1..=7 * 24).contains(&h) {
                return Err("the session maximum must be 1 to 168 hours".into());
            }
            auth.absolute = std::time::Duration::from_secs(h * 3600);
        }
        auth.secure_cookies = match opts
            .secure_cookies
            .clone()
            .or(file.secure_cookies)
            .as_deref()
        {
            None | Some("auto") => None,
            Some("always") => Some(true),
            Some("never") => Some(false),
            Some(other) => {
                return Err(format!(
                    "unknown secure-cookies setting {other:?}; use auto, always or never"
                ));
            }
        };
        let mut screening = fangkong_web::screening::Settings::default();
        if let Some(m) = opts.recheck_minutes.or(file.recheck_minutes) {
            if !(1..=120).contains(&m) {
                return Err("the buffer-zone rest must be 1 to 120 minutes".into());
            }
            screening.buffer.rest = time::Duration::minutes(i64::from(m));
        }
        if let Some(n) = opts.max_rechecks.or(file.max_rechecks) {
            if !(1..=10).contains(&n) {
                return Err("the number of re-checks must be 1 to 10".into());
            }
            screening.buffer.max_rechecks = n;
        }
        if let Some(d) = opts.retention_days.or(file.retention_days) {
            if !(1..=3650).contains(&d) {
                return Err("the retention must be 1 to 3650 days".into());
            }
            screening.retention_days = d;
        }
        let mut cases = fangkong_web::cases::Settings::default();
        if let Some(m) = opts.ack_minutes.or(file.ack_minutes) {
            if !(1..=240).contains(&m) {
                return Err("the acknowledgement deadline must be 1 to 240 minutes".into());
            }
            cases.ack_deadline = time::Duration::minutes(i64::from(m));
        }
        if let Some(m) = opts.exposure_minutes.or(file.exposure_minutes) {
            if !(5..=480).contains(&m) {
                return Err("the exposure window must be 5 to 480 minutes".into());
            }
            cases.exposure_window = time::Duration::minutes(i64::from(m));
        }
        if let Some(f) = opts.ears_sd_floor.or(file.ears_sd_floor) {
            cases.ears = fangkong_domain::cases::ears::EarsParams {
                sd_floor: f,
                ..cases.ears
            }
            .validate()
            .ok()
            .filter(|p| p.sd_floor <= 10.0)
            .ok_or("the EARS standard-deviation floor must be above 0 and at most 10")?;
        }
        if let Some(hosts) = opts.robot_hosts.clone().or(file.robot_hosts) {
            let hosts: Vec<String> = hosts
                .split(',')
                .map(|h| h.trim().to_ascii_lowercase())
                .filter(|h| !h.is_empty())
                .collect();
            if hosts
                .iter()
                .any(|h| h.contains(['/', ':', '@', ' ']) && h != "[::1]")
            {
                return Err(
                    "robot hosts are host names, comma-separated (no scheme, port or path)".into(),
                );
            }
            cases.robot_hosts = hosts;
        }
        let mut reports = fangkong_web::reports::Settings::default();
        if let Some(d) = opts.report_deadline.clone().or(file.report_deadline) {
            reports.deadline = fangkong_domain::reports::parse_deadline(&d)
                .ok_or("the report deadline is a Beijing time HH:MM, such as 16:00")?;
        }
        let mut hotline = fangkong_web::hotline::Settings {
            search_dir: match &database {
                Database::Sqlite { data_dir } => Some(data_dir.join(SEARCH_DIR)),
                Database::Postgres { .. } => None,
            },
            ..fangkong_web::hotline::Settings::default()
        };
        if let Some(dir) = opts.search_dir.clone().or(file.search_dir) {
            hotline.search_dir = Some(dir);
        }
        if let Some(h) = opts.business_hours.clone().or(file.business_hours) {
            hotline.hours = fangkong_domain::calendar::BusinessHours::parse(&h).map_err(|_| {
                "business hours are two sessions, such as 08:30-12:00,14:30-17:30".to_owned()
            })?;
        }
        if let Some(d) = opts.duplicate_days.or(file.duplicate_days) {
            if !(1..=90).contains(&d) {
                return Err("duplicate days must be 1 to 90".into());
            }
            hotline.duplicate_days = d;
        }
        let mqtt = match opts
            .mqtt_url
            .clone()
            .or(file.mqtt_url)
            .filter(|u| !u.trim().is_empty())
        {
            None => None,
            Some(url) => Some(fangkong_web::mqtt::Broker::parse(&url)?),
        };
        Ok(Settings {
            addr,
            database,
            log_json,
            key,
            auth,
            screening,
            cases,
            reports,
            hotline,
            mqtt,
        })
    }
}

fn postgres(url: String) -> Result<Database, String> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Database::Postgres { url })
    } else {
        Err(
            "the database URL must start with postgres:// (leave it out to use the embedded store)"
                .into(),
        )
    }
}

/// `HOST:PORT`, where HOST is an address or a name such as `localhost`.
fn resolve_addr(text: &str) -> Result<SocketAddr, String> {
    use std::net::ToSocketAddrs;
    let bad =
        || format!("the address {text:?} is not valid; write it as HOST:PORT, e.g. 127.0.0.1:8080");
    if let Ok(addr) = text.parse() {
        return Ok(addr);
    }
    text.to_socket_addrs()
        .map_err(|_| bad())?
        .find(SocketAddr::is_ipv4)
        .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_embedded_store_on_localhost() {
        let s = Settings::resolve(&Options::default(), None).unwrap();
        assert_eq!(s.addr, DEFAULT_ADDR.parse().unwrap());
        assert_eq!(
            s.database,
            Database::Sqlite {
                data_dir: PathBuf::from(DEFAULT_DATA_DIR)
            }
        );
        assert!(!s.log_json);
    }

    #[test]
    fn flags_win_over_the_file_and_the_file_over_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("fangkong.toml");
        std::fs::write(
            &file,
            "addr = \"127.0.0.1:9000\"\ndata_dir = \"/srv/fk\"\nlog_format = \"json\"\n",
        )
        .unwrap();
        let opts = Options {
            config: Some(file.clone()),
            ..Options::default()
        };
        let s = Settings::resolve(&opts, None).unwrap();
        assert_eq!(s.addr, "127.0.0.1:9000".parse().unwrap());
        assert_eq!(
            s.database,
            Database::Sqlite {
                data_dir: "/srv/fk".into()
            }
        );
        assert!(s.log_json);
        let opts = Options {
            config: Some(file),
            data_dir: Some("/data".into()),
            log_format: Some("text".into()),
            ..Options::default()
        };
        let s = Settings::resolve(&opts, Some("0.0.0.0:80")).unwrap();
        assert_eq!(s.addr, "0.0.0.0:80".parse().unwrap());
        assert_eq!(
            s.database,
            Database::Sqlite {
                data_dir: "/data".into()
            }
        );
        assert!(!s.log_json);
    }

    #[test]
    fn sessions_cookies_and_the_key_are_configurable() {
        let s = Settings::resolve(&Options::default(), None).unwrap();
        assert_eq!(s.auth, fangkong_web::access::AuthSettings::default());
        assert_eq!(
            s.key,
            KeySource::File(PathBuf::from(DEFAULT_DATA_DIR).join(KEY_FILE))
        );
        let opts = Options {
            session_idle_minutes: Some(10),
            session_max_hours: Some(8),
            secure_cookies: Some("always".into()),
            key_file: Some("/etc/fangkong/key".into()),
            ..Options::default()
        };
        let s = Settings::resolve(&opts, None).unwrap();
        assert_eq!(s.auth.idle, std::time::Duration::from_secs(600));
        assert_eq!(s.auth.absolute, std::time::Duration::from_secs(8 * 3600));
        assert_eq!(s.auth.secure_cookies, Some(true));
        assert_eq!(s.key, KeySource::File("/etc/fangkong/key".into()));
        for bad in [
            Options {
                session_idle_minutes: Some(0),
                ..Options::default()
            },
            Options {
                session_max_hours: Some(1000),
                ..Options::default()
            },
            Options {
                secure_cookies: Some("sometimes".into()),
                ..Options::default()
            },
        ] {
            assert!(Settings::resolve(&bad, None).is_err());
        }
    }

    #[test]
    fn bad_settings_say_what_to_fix() {
        let err = Settings::resolve(&Options::default(), Some("localhost")).unwrap_err();
        assert!(err.contains("HOST:PORT"), "{err}");
        let opts = Options {
            database_url: Some("mysql://x".into()),
            ..Options::default()
        };
        assert!(
            Settings::resolve(&opts, None)
                .unwrap_err()
                .contains("postgres://")
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("bad.toml");
        std::fs::write(&file, "port = 1\n").unwrap();
        let opts = Options {
            config: Some(file),
            ..Options::default()
        };
        assert!(
            Settings::resolve(&opts, None)
                .unwrap_err()
                .contains("not valid")
        );
        let opts = Options {
            config: Some("/nonexistent/fangkong.toml".into()),
            ..Options::default()
        };
        assert!(
            Settings::resolve(&opts, None)
                .unwrap_err()
                .contains("cannot read")
        );
    }

    #[test]
    fn a_data_dir_flag_beats_a_url_in_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("fangkong.toml");
        std::fs::write(&file, "database_url = \"postgres://u@db/x\"\n").unwrap();
        let from_file = Options {
            config: Some(file.clone()),
            ..Options::default()
        };
        assert!(matches!(
            Settings::resolve(&from_file, None).unwrap().database,
            Database::Postgres { .. }
        ));
        let flag = Options {
            config: Some(file),
            data_dir: Some("/data".into()),
            ..Options::default()
        };
        assert_eq!(
            Settings::resolve(&flag, None).unwrap().database,
            Database::Sqlite {
                data_dir: "/data".into()
            }
        );
    }

    #[test]
    fn host_names_resolve() {
        let s = Settings::resolve(&Options::default(), Some("localhost:8080")).unwrap();
        assert_eq!(s.addr, "127.0.0.1:8080".parse().unwrap());
    }

    #[test]
    fn a_postgres_url_selects_postgres() {
        let opts = Options {
            database_url: Some("postgres://root@127.0.0.1/test".into()),
            ..Options::default()
        };
        assert!(matches!(
            Settings::resolve(&opts, None).unwrap().database,
            Database::Postgres { .. }
        ));
    }
}
