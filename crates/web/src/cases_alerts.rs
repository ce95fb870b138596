//! The immediate report's machinery: escalation of unacknowledged alerts, fever-rate
//! breakouts (EARS) turned into alerts, and the group robots' messages (WeCom, DingTalk)
//! sent with retries and back-off.
//!
//! Every step reads time from the injected clock, so tests move a fake clock and call
//! [`tick`] instead of waiting. Messages wait in the store (`deliveries`) until sent or
//! failed; a process claims each for a short lease, so several `serve` processes never
//! send one twice at once, and a crash loses none.

use crate::AppState;
use crate::home::local_time;
use crate::i18n::Locale;
use crate::live::Topic;
use base64::Engine;
use fangkong_domain::cases::{self as rules, Level};
use fangkong_domain::screening::day_of;
use fangkong_store::cases::{self as store, Alert, AlertSummary, Delivery};
use fangkong_store::org::{self, Site};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::json;
use sha2::Sha256;
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::watch;

/// How often the worker looks for due escalations and messages.
const TICK: Duration = Duration::from_secs(5);
/// Fever rates are evaluated every this many passes (once a minute).
const FEVER_EVERY: u32 = 12;
/// How long a process holds a message it is sending.
const LEASE: time::Duration = time::Duration::seconds(60);

/// The HTTP client for robots: short timeouts, no redirects (a robot answers itself).
/// `None` when TLS cannot be set up: messages then wait, pending, and the log says why.
pub fn client() -> Option<reqwest::Client> {
    // ring is the TLS provider; installing it twice is harmless.
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(3))
        .timeout(Duration::from_secs(8))
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("fangkong/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| tracing::error!(error = %e, "cannot build the robots' HTTP client"))
        .ok()
}

/// Runs the worker until `stopping` turns true: a pass every few seconds, and a delivery
/// pass at once whenever an alert is raised in this process.
pub fn start(state: AppState, mut stopping: watch::Receiver<bool>) {
    let client = client();
    tokio::spawn(async move {
        let client = client.as_ref();
        let mut every = tokio::time::interval(TICK);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        let mut passes = 0u32;
        loop {
            tokio::select! {
                _ = every.tick() => {
                    pass(&state, client, passes.is_multiple_of(FEVER_EVERY)).await;
                    passes = passes.wrapping_add(1);
                }
                () = state.robots.notified() => {
                    if let Err(e) = deliver(&state, client).await {
                        tracing::warn!(error = %e, "cannot send robot messages");
                    }
                }
                () = stopped(&mut stopping) => return,
            }
        }
    });
}

async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

async fn pass(state: &AppState, client: Option<&reqwest::Client>, fever: bool) {
    if let Err(e) = escalate(state).await {
        tracing::warn!(error = %e, "cannot escalate alerts");
    }
    if fever && let Err(e) = fever_alerts(state).await {
        tracing::warn!(error = %e, "cannot evaluate fever rates");
    }
    if fever && let Err(e) = crate::reports::remind(state).await {
        tracing::warn!(error = %e, "cannot remind of missing daily reports");
    }
    if let Err(e) = deliver(state, client).await {
        tracing::warn!(error = %e, "cannot send robot messages");
    }
}

/// What one pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tick {
    pub escalated: usize,
    pub fever_alerts: usize,
    /// Reminders of daily reports missing at their deadline.
    pub reminders: usize,
    pub sent: usize,
    pub failed: usize,
}

/// One whole pass now: escalations, fever rates, messages. Tests call this after moving
/// the clock.
pub async fn tick(state: &AppState) -> Result<Tick, fangkong_store::StoreError> {
    let escalated = escalate(state).await?;
    let fever_alerts = fever_alerts(state).await?;
    let reminders = crate::reports::remind(state).await?;
    let (sent, failed) = deliver(state, client().as_ref()).await?;
    Ok(Tick {
        escalated,
        fever_alerts,
        reminders,
        sent,
        failed,
    })
}

/// Moves every unacknowledged alert to the level its age calls for.
async fn escalate(state: &AppState) -> Result<usize, fangkong_store::StoreError> {
    let now = state.clock.now();
    let deadline = state.cases.ack_deadline;
    let mut n = 0;
    for alert in store::escalating(&state.store).await? {
        let Some(level) = rules::escalation(alert.level, alert.raised_at, now, deadline) else {
            continue;
        };
        let mut tx = state.store.begin().await?;
        let moved = store::escalate(
            &mut tx,
            &state.vault,
            &alert,
            level,
            now,
            state.ids.as_ref(),
        )
        .await?;
        tx.commit().await?;
        if moved {
            tracing::warn!(alert = %alert.id, level = level.as_str(), "alert escalated: not acknowledged in time");
            n += 1;
        }
    }
    if n > 0 {
        state.live.touch(Topic::Alerts);
    }
    Ok(n)
}

/// Raises a site's alert of `kind` now unless one with the `dedupe` key exists (with its
/// robot messages); whether it was raised.
pub async fn raise_once(
    state: &AppState,
    site: uuid::Uuid,
    kind: &str,
    dedupe: &str,
    summary: &AlertSummary,
) -> Result<bool, fangkong_store::StoreError> {
    let mut tx = state.store.begin().await?;
    let raised = store::raise(
        &mut tx,
        state.ids.new_id(),
        site,
        kind,
        None,
        dedupe,
        state.clock.now(),
        summary,
        state.ids.as_ref(),
    )
    .await?;
    tx.commit().await?;
    Ok(raised)
}

/// Raises a fever-rate alert for each site whose abnormal temperatures today break out
/// against its own baseline (EARS C1, C2 or C3); at most one per site and day.
async fn fever_alerts(state: &AppState) -> Result<usize, fangkong_store::StoreError> {
    let now = state.clock.now();
    let today = day_of(now);
    let mut n = 0;
    for s in org::list_sites(&state.store).await? {
        let series = crate::cases::fever_series(state, s.site.id, today, 30).await?;
        let Some(last) = series.last() else {
            continue;
        };
        if last.alarms.is_empty() {
            continue;
        }
        let summary = AlertSummary {
            day: Some(last.date.clone()),
            count: Some(last.abnormal),
            methods: last.alarms.clone(),
            ..AlertSummary::default()
        };
        let dedupe = format!("ears:{}:{today}", s.site.id);
        if raise_once(state, s.site.id, "ears", &dedupe, &summary).await? {
            tracing::warn!(site = %s.site.code, day = %today, methods = ?last.alarms, "fever-rate breakout");
            n += 1;
        }
    }
    if n > 0 {
        state.live.touch(Topic::Alerts);
    }
    Ok(n)
}

/// Sends every due message; returns `(sent, failed for good)`.
async fn deliver(
    state: &AppState,
    client: Option<&reqwest::Client>,
) -> Result<(usize, usize), fangkong_store::StoreError> {
    let (mut sent, mut failed) = (0, 0);
    let Some(client) = client else {
        return Ok((0, 0));
    };
    // One message at a time, claimed just before it is sent: the lease (60 s) outlasts the
    // longest attempt (8 s), so no other process sends it meanwhile.
    while let Some((d, lease)) = store::claim_next(&state.store, state.clock.now(), LEASE).await? {
        // A message that cannot even be prepared fails alone; the others still go out.
        let attempt = match send_one(state, client, &d).await {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(delivery = %d.id, error = %e, "cannot prepare a robot message");
                give_up(&d, d.attempts + 1, state.clock.now(), "cannot be prepared")
            }
        };
        metrics::counter!("fangkong_webhook_deliveries_total", "outcome" => attempt.status)
            .increment(1);
        if !store::record_attempt(&state.store, d.id, lease, &attempt).await? {
            tracing::warn!(delivery = %d.id, "a robot message's lease ran out before its attempt was recorded");
            continue;
        }
        match attempt.status {
            "sent" => sent += 1,
            "failed" => {
                tracing::warn!(delivery = %d.id, error = ?attempt.error, "robot message failed for good");
                failed += 1;
            }
            _ => {}
        }
    }
    Ok((sent, failed))
}

async fn send_one(
    state: &AppState,
    client: &reqwest::Client,
    d: &Delivery,
) -> Result<store::Attempt, fangkong_store::StoreError> {
    let now = state.clock.now();
    let attempts = d.attempts + 1;
    let hook = store::find_webhook(&state.store, &state.vault, d.webhook_id).await?;
    let alert = store::find_alert(&state.store, d.alert_id).await?;
    let site = match &alert {
        Some(a) => org::find_site_by_id(&state.store, a.site_id).await?,
        None => None,
    };
    let (Some(hook), Some(alert), Some(site)) = (hook, alert, site) else {
        return Ok(give_up(d, attempts, now, "the robot or its alert is gone"));
    };
    if !hook.active {
        return Ok(give_up(d, attempts, now, "the robot was turned off"));
    }
    // An escalation nobody needs any more: the alert was acknowledged meanwhile.
    if d.level > Level::Raised && alert.acknowledged_at.is_some() {
        return Ok(give_up(d, attempts, now, "acknowledged before it was sent"));
    }
    let text = message(&alert, &site, d.level, state.cases.ack_deadline);
    let body = robot_body(&hook.format, &text, d.level.mentions_all());
    let body_text = body.to_string();
    let url = match &hook.secret {
        Some(secret) if hook.format == "dingtalk" => signed_url(&hook.url, secret, now),
        _ => hook.url.clone(),
    };
    let result = client.post(&url).json(&body).send().await;
    let (ok, status, error) = match result {
        Err(e) => (false, None, Some(short_error(&e))),
        Ok(res) => {
            let status = i64::from(res.status().as_u16());
            let success = res.status().is_success();
            let text = res.text().await.unwrap_or_default();
            match robot_error(&text) {
                _ if !success => (false, Some(status), Some(format!("HTTP {status}"))),
                Some(err) => (false, Some(status), Some(err)),
                None => (true, Some(status), None),
            }
        }
    };
    Ok(if ok {
        store::Attempt {
            body: body_text,
            attempts,
            status: "sent",
            next_at: now,
            http_status: status,
            error: None,
            sent_at: Some(now),
        }
    } else {
        match rules::retry_after(attempts) {
            Some(wait) => store::Attempt {
                body: body_text,
                attempts,
                status: "pending",
                next_at: now + wait,
                http_status: status,
                error,
                sent_at: None,
            },
            None => store::Attempt {
                body: body_text,
                attempts,
                status: "failed",
                next_at: now,
                http_status: status,
                error,
                sent_at: None,
            },
        }
    })
}

fn give_up(d: &Delivery, attempts: u32, now: OffsetDateTime, why: &str) -> store::Attempt {
    store::Attempt {
        body: d.body.clone().unwrap_or_default(),
        attempts,
        status: "failed",
        next_at: now,
        http_status: None,
        error: Some(why.to_owned()),
        sent_at: None,
    }
}

/// A failed request in a few words, without the URL (it carries the robot's key).
fn short_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "timed out".into()
    } else if e.is_connect() {
        "cannot connect".into()
    } else {
        "request failed".into()
    }
}

/// WeCom and DingTalk answer 200 with `errcode` ≠ 0 when they refuse a message.
fn robot_error(answer: &str) -> Option<String> {
    let v: serde_json::Value = serde_json::from_str(answer).ok()?;
    let code = v.get("errcode")?.as_i64()?;
    (code != 0).then(|| {
        let msg = v.get("errmsg").and_then(|m| m.as_str()).unwrap_or("");
        format!(
            "errcode {code}: {}",
            msg.chars().take(200).collect::<String>()
        )
    })
}

/// The robot's JSON body: WeCom's group robot or DingTalk's, as plain text. From the whole
/// group's level on, everyone is mentioned (`@all`), never a phone number.
pub fn robot_body(format: &str, text: &str, mention_all: bool) -> serde_json::Value {
    if format == "dingtalk" {
        json!({"msgtype": "text", "text": {"content": text}, "at": {"atMobiles": [], "isAtAll": mention_all}})
    } else if mention_all {
        json!({"msgtype": "text", "text": {"content": text, "mentioned_list": ["@all"]}})
    } else {
        json!({"msgtype": "text", "text": {"content": text}})
    }
}

/// DingTalk's signed address: `timestamp` (ms) and `sign` = base64(HMAC-SHA256(secret,
/// "timestamp\nsecret")), URL-encoded.
pub fn signed_url(url: &str, secret: &str, now: OffsetDateTime) -> String {
    let ts = fangkong_domain::clock::unix_millis(now);
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return url.to_owned();
    };
    mac.update(format!("{ts}\n{secret}").as_bytes());
    let sign = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let encoded: String = sign
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect();
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}timestamp={ts}&sign={encoded}")
}

/// The message for a robot, in Chinese (the hall's working language): site, time,
/// symptoms and highest temperature; never a name, ID number or phone number, which the
/// alert does not even hold.
/// The i18n key of an alert's title, by its kind (a report's notice: returned or missing).
pub fn title_key(kind: &str, returned: bool) -> &'static str {
    match kind {
        "ears" => "robot.title.ears",
        "report" if returned => "robot.title.report_returned",
        "report" => "robot.title.report",
        _ => "robot.title.case",
    }
}

pub fn message(alert: &Alert, site: &Site, level: Level, deadline: time::Duration) -> String {
    let l = Locale::ZhCn;
    let s = &alert.summary;
    let mut lines = Vec::new();
    let minutes = deadline.whole_minutes() * i64::from(level.number());
    match level {
        Level::Raised => {}
        Level::GroupHead => lines.push(format!(
            "【{}】{minutes} {}",
            l.t("alerts.level.group_head"),
            l.t("robot.unacknowledged")
        )),
        Level::WholeGroup => lines.push(format!(
            "【{}】{minutes} {}",
            l.t("alerts.level.whole_group"),
            l.t("robot.unacknowledged")
        )),
        Level::Upward => lines.push(format!(
            "【{}】{minutes} {}",
            l.t("alerts.level.upward"),
            l.t("robot.unacknowledged")
        )),
    }
    let title = l.t(title_key(&alert.kind, s.returned.is_some()));
    lines.push(format!("【{title}】{}", site.name));
    lines.push(format!(
        "{}：{}",
        l.t("robot.time"),
        local_time(alert.raised_at)
    ));
    if alert.kind == "report" {
        let (what, ask) = match s.returned {
            Some(_) => ("robot.report_returned", "robot.report_returned_ask"),
            None => ("robot.report_missing", "robot.report_ask"),
        };
        lines.push(format!(
            "{}：{} · {}",
            l.t("robot.day"),
            s.day.as_deref().unwrap_or(""),
            l.t(what)
        ));
        lines.push(l.t(ask).to_owned());
        return lines.join("\n");
    }
    if alert.kind == "ears" {
        lines.push(format!(
            "{}：{} · {}：{}",
            l.t("robot.day"),
            s.day.as_deref().unwrap_or(""),
            l.t("robot.abnormal"),
            s.count.unwrap_or(0)
        ));
        lines.push(format!(
            "{}：{}",
            l.t("robot.methods"),
            s.methods.join("、").to_uppercase()
        ));
    } else {
        if let Some(source) = s.source {
            lines.push(format!(
                "{}：{}",
                l.t("robot.source"),
                l.t(&format!("cases.source.{}", source.as_str()))
            ));
        }
        if let Some(kind) = s.kind {
            lines.push(format!(
                "{}：{}",
                l.t("robot.kind"),
                l.t(&format!("kind.{}", kind.as_str()))
            ));
        }
        let symptoms: Vec<&str> = s
            .symptoms
            .iter()
            .map(|x| l.t(&format!("symptom.{}", x.as_str())))
            .collect();
        lines.push(format!(
            "{}：{}",
            l.t("robot.symptoms"),
            if symptoms.is_empty() {
                l.t("robot.none").to_owned()
            } else {
                symptoms.join("、")
            }
        ));
        if let Some(t) = s.highest {
            lines.push(format!("{}：{}.{}℃", l.t("robot.highest"), t / 10, t % 10));
        }
    }
    lines.push(l.t("robot.ask").to_owned());
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use fangkong_domain::cases::Source;
    use fangkong_domain::screening::{SubjectKind, Symptom};
    use time::macros::datetime;
    use uuid::Uuid;

    fn site() -> Site {
        Site {
            id: Uuid::from_u128(1),
            code: "JD".into(),
            name: "揭东区政务服务中心".into(),
            kind: fangkong_domain::org::SiteKind::District,
            parent: None,
            capacity: 100,
            address: String::new(),
            opening_hours: String::new(),
            threshold: 373,
        }
    }

    fn alert(kind: &str) -> Alert {
        Alert {
            id: Uuid::from_u128(2),
            site_id: Uuid::from_u128(1),
            kind: kind.into(),
            case_id: None,
            raised_at: datetime!(2020-01-29 01:30 UTC),
            level: Level::Raised,
            level_at: datetime!(2020-01-29 01:30 UTC),
            summary: AlertSummary {
                source: Some(Source::Buffer),
                kind: Some(SubjectKind::Citizen),
                symptoms: vec![Symptom::Fever, Symptom::Cough],
                highest: Some(382),
                day: Some("2020-01-29".into()),
                count: Some(6),
                methods: vec!["c1".into(), "c3".into()],
                returned: None,
            },
            acknowledged_at: None,
            acknowledged_by: None,
        }
    }

    #[test]
    fn a_case_message_names_site_time_and_symptoms_in_beijing_time() {
        let text = message(
            &alert("case"),
            &site(),
            Level::Raised,
            time::Duration::minutes(15),
        );
        assert!(text.contains("揭东区政务服务中心"), "{text}");
        assert!(text.contains("2020-01-29 09:30"), "{text}");
        assert!(text.contains("发热、咳嗽"), "{text}");
        assert!(text.contains("38.2℃"), "{text}");
        assert!(text.contains("群众"), "{text}");
        assert!(!text.contains("【升级"), "{text}");
    }

    #[test]
    fn escalated_messages_say_how_long_it_went_unacknowledged() {
        let d = time::Duration::minutes(15);
        let head = message(&alert("case"), &site(), Level::GroupHead, d);
        assert!(head.starts_with("【"), "{head}");
        assert!(head.contains("15 "), "{head}");
        let upward = message(&alert("case"), &site(), Level::Upward, d);
        assert!(upward.contains("45 "), "{upward}");
    }

    #[test]
    fn a_fever_rate_message_names_the_day_count_and_methods() {
        let text = message(
            &alert("ears"),
            &site(),
            Level::Raised,
            time::Duration::minutes(15),
        );
        assert!(text.contains("2020-01-29"), "{text}");
        assert!(text.contains("C1、C3"), "{text}");
        assert!(text.contains('6'), "{text}");
    }

    #[test]
    fn report_notices_say_missing_or_returned_and_never_carry_the_comment() {
        let missing = message(
            &alert("report"),
            &site(),
            Level::Raised,
            time::Duration::minutes(15),
        );
        assert!(
            missing.contains("排查日报未报送") && missing.contains("2020-01-29"),
            "{missing}"
        );
        assert!(!missing.contains("退回"), "{missing}");
        let mut a = alert("report");
        a.summary.returned = Some(2);
        let returned = message(&a, &site(), Level::Raised, time::Duration::minutes(15));
        assert!(
            returned.contains("排查日报被退回") && returned.contains("重新报送"),
            "{returned}"
        );
        assert_eq!(title_key("report", true), "robot.title.report_returned");
        assert_eq!(title_key("report", false), "robot.title.report");
        assert_eq!(title_key("ears", false), "robot.title.ears");
        assert_eq!(title_key("case", false), "robot.title.case");
    }

    #[test]
    fn robot_bodies_follow_wecom_and_dingtalk() {
        let w = robot_body("wecom", "hi", false);
        assert_eq!(w, json!({"msgtype": "text", "text": {"content": "hi"}}));
        let w = robot_body("wecom", "hi", true);
        assert_eq!(w["text"]["mentioned_list"], json!(["@all"]));
        let d = robot_body("dingtalk", "hi", true);
        assert_eq!(d["at"]["isAtAll"], json!(true));
        assert_eq!(d["at"]["atMobiles"], json!([]));
        assert_eq!(d["text"]["content"], "hi");
    }

    #[test]
    fn dingtalk_signatures_are_hmac_sha256_base64_url_encoded() {
        let at = datetime!(2020-01-29 01:30 UTC);
        let url = signed_url(
            "https://oapi.dingtalk.com/robot/send?access_token=x",
            "SECabc",
            at,
        );
        let ts = fangkong_domain::clock::unix_millis(at);
        let mut mac = Hmac::<Sha256>::new_from_slice(b"SECabc").unwrap();
        mac.update(format!("{ts}\nSECabc").as_bytes());
        let sign = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        let encoded = sign
            .replace('+', "%2B")
            .replace('/', "%2F")
            .replace('=', "%3D");
        assert_eq!(
            url,
            format!(
                "https://oapi.dingtalk.com/robot/send?access_token=x&timestamp={ts}&sign={encoded}"
            )
        );
        assert!(signed_url("http://h/p", "s", at).starts_with("http://h/p?timestamp="));
    }

    #[test]
    fn robots_refusals_are_read_from_errcode() {
        assert_eq!(robot_error(r#"{"errcode":0,"errmsg":"ok"}"#), None);
        assert_eq!(
            robot_error(r#"{"errcode":93000,"errmsg":"invalid webhook url"}"#).as_deref(),
            Some("errcode 93000: invalid webhook url")
        );
        assert_eq!(robot_error("not json"), None);
    }
}
