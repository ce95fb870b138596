//! Devices over MQTT: thermal scanners and door counters publish readings to
//! `fangkong/<site>/<checkpoint>/reading` on the broker given by `--mqtt-url`.
//!
//! The payload is JSON: the device's token, an optional message id (a resend with the
//! same id is stored once), then either a reading (`subject_kind`, `temperature_c`,
//! `mask`, optionally `phase` and `person`) or a passage (`"direction": "out"`). Each is
//! recorded through the same code as the HTTP API. A malformed or refused message is
//! logged and counted (`fangkong_mqtt_messages_total{outcome}`); it never stops the
//! listener. Several `serve` processes share one subscription (`$share/fangkong/…`), so
//! each message is handled once.

use crate::AppState;
use crate::access::{Principal, Via};
use crate::idempotency::Idem;
use crate::screening::{self, DoorEventBody, ScreeningBody};
use fangkong_domain::access::Permission;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::time::Duration;
use tokio::sync::watch;

/// Where the broker is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broker {
    pub host: String,
    pub port: u16,
}

impl Broker {
    /// `mqtt://HOST[:PORT]` (port 1883 by default).
    pub fn parse(url: &str) -> Result<Broker, String> {
        let bad = || format!("the MQTT URL {url:?} is not valid; write it as mqtt://HOST:PORT");
        let rest = url.trim().strip_prefix("mqtt://").ok_or_else(bad)?;
        let rest = rest.trim_end_matches('/');
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) => (h, p.parse::<u16>().map_err(|_| bad())?),
            None => (rest, 1883),
        };
        if host.is_empty() || host.contains(['/', '@', ' ']) {
            return Err(bad());
        }
        Ok(Broker {
            host: host.to_owned(),
            port,
        })
    }
}

/// The topic filter the listener subscribes to (shared between `serve` processes).
pub const SUBSCRIPTION: &str = "$share/fangkong/fangkong/+/+/reading";

/// One device message.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Message {
    token: String,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    direction: Option<String>,
    #[serde(default)]
    subject_kind: Option<String>,
    #[serde(default)]
    temperature_c: Option<serde_json::Value>,
    #[serde(default)]
    mask: Option<bool>,
    #[serde(default)]
    phase: Option<String>,
    #[serde(default)]
    person: Option<uuid::Uuid>,
}

/// Why a message was not stored (a metric label).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rejection {
    /// Not a `fangkong/<site>/<checkpoint>/reading` topic, or not the JSON expected.
    Malformed,
    /// No live token, or a token whose account may not record.
    Unauthorised,
    /// The reading was refused (out of range, unknown site or checkpoint).
    Invalid,
}

impl Rejection {
    const fn label(self) -> &'static str {
        match self {
            Rejection::Malformed => "malformed",
            Rejection::Unauthorised => "unauthorised",
            Rejection::Invalid => "invalid",
        }
    }
}

/// Starts the listener; it reconnects on its own until the server stops.
pub fn start(state: AppState, broker: Broker, mut stopping: watch::Receiver<bool>) {
    let client_id = format!("fangkong-{}", state.ids.new_id().simple());
    let mut options = MqttOptions::new(client_id, broker.host.clone(), broker.port);
    options.set_keep_alive(Duration::from_secs(30));
    options.set_max_packet_size(64 * 1024, 64 * 1024);
    let (client, mut events) = AsyncClient::new(options, 64);
    tokio::spawn(async move {
        tracing::info!(
            host = broker.host,
            port = broker.port,
            "MQTT listener starting"
        );
        loop {
            let event = tokio::select! {
                e = events.poll() => e,
                () = stopped(&mut stopping) => {
                    let _ = client.disconnect().await;
                    return;
                }
            };
            match event {
                Ok(Event::Incoming(Packet::ConnAck(_))) => {
                    // A clean session forgets subscriptions: subscribe on every connect.
                    if let Err(e) = client.subscribe(SUBSCRIPTION, QoS::AtLeastOnce).await {
                        tracing::warn!(error = %e, "cannot subscribe to device readings");
                    } else {
                        tracing::info!("MQTT listener subscribed");
                    }
                }
                Ok(Event::Incoming(Packet::Publish(p))) => {
                    let outcome = handle(&state, &p.topic, &p.payload).await;
                    let label = match outcome {
                        Ok(()) => "stored",
                        Err(r) => {
                            tracing::warn!(
                                topic = p.topic,
                                reason = r.label(),
                                "device message not stored"
                            );
                            r.label()
                        }
                    };
                    metrics::counter!("fangkong_mqtt_messages_total", "outcome" => label)
                        .increment(1);
                }
                Ok(_) => {}
                Err(e) => {
                    tracing::warn!(error = %e, "MQTT connection lost; retrying in 2 s");
                    tokio::select! {
                        () = tokio::time::sleep(Duration::from_secs(2)) => {}
                        () = stopped(&mut stopping) => return,
                    }
                }
            }
        }
    });
}

async fn stopped(rx: &mut watch::Receiver<bool>) {
    let _ = rx.wait_for(|s| *s).await;
}

/// `(site, checkpoint)` of a reading topic.
pub fn parse_topic(topic: &str) -> Option<(&str, &str)> {
    let mut parts = topic.split('/');
    match (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) {
        (Some("fangkong"), Some(site), Some(cp), Some("reading"), None)
            if !site.is_empty() && !cp.is_empty() =>
        {
            Some((site, cp))
        }
        _ => None,
    }
}

/// Records one message; what went wrong otherwise.
pub async fn handle(state: &AppState, topic: &str, payload: &[u8]) -> Result<(), Rejection> {
    let (site, checkpoint) = parse_topic(topic).ok_or(Rejection::Malformed)?;
    let msg: Message = serde_json::from_slice(payload).map_err(|_| Rejection::Malformed)?;
    if msg
        .id
        .as_ref()
        .is_some_and(|k| k.is_empty() || k.len() > 255 || !k.bytes().all(|b| b.is_ascii_graphic()))
    {
        return Err(Rejection::Malformed);
    }
    let now = state.clock.now();
    let account = crate::access::token_account(state, msg.token.trim(), now)
        .await
        .map_err(|e| {
            tracing::error!(error = %e, "cannot check a device token");
            Rejection::Invalid
        })?
        .filter(|a| a.role.can(Permission::ScreeningRecord) && !a.must_change)
        .ok_or(Rejection::Unauthorised)?;
    let who = Principal {
        account: Some(account),
        via: Via::Token,
        addr: "mqtt".into(),
        csrf: String::new(),
        cache: state.cache.clone(),
    };
    let fingerprint = crate::idempotency::hex(&Sha256::digest(payload));
    let result = match msg.direction {
        Some(direction) => {
            let idem = Idem::raw(
                "POST /api/v1/door-events",
                &who,
                msg.id.as_deref(),
                &fingerprint,
            );
            let body = DoorEventBody {
                site: site.to_owned(),
                checkpoint: Some(checkpoint.to_owned()),
                direction,
            };
            screening::passage(state, &who, &body, &idem).await
        }
        None => {
            let idem = Idem::raw(
                "POST /api/v1/screenings",
                &who,
                msg.id.as_deref(),
                &fingerprint,
            );
            let body = ScreeningBody {
                site: site.to_owned(),
                checkpoint: Some(checkpoint.to_owned()),
                subject_kind: msg.subject_kind.unwrap_or_default(),
                temperature_c: msg.temperature_c,
                mask: msg.mask,
                phase: msg.phase,
                person: msg.person,
                registration: None,
                at: None,
            };
            screening::record(state, &who, &body, &idem).await
        }
    };
    match result {
        Ok(res) if res.status().is_success() => Ok(()),
        Ok(_) => Err(Rejection::Invalid),
        Err(e) => {
            tracing::debug!(code = e.code, "device reading refused");
            Err(Rejection::Invalid)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_urls_name_host_and_port() {
        assert_eq!(
            Broker::parse("mqtt://127.0.0.1:1883").unwrap(),
            Broker {
                host: "127.0.0.1".into(),
                port: 1883
            }
        );
        assert_eq!(Broker::parse("mqtt://broker.local/").unwrap().port, 1883);
        for bad in ["http://x:1", "mqtt://", "mqtt://h:port", "mqtt://a@b:1"] {
            assert!(Broker::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn reading_topics_name_site_and_checkpoint() {
        assert_eq!(
            parse_topic("fangkong/JD/MAIN/reading"),
            Some(("JD", "MAIN"))
        );
        for bad in [
            "fangkong/JD/reading",
            "fangkong/JD/MAIN/reading/x",
            "other/JD/MAIN/reading",
            "fangkong//MAIN/reading",
        ] {
            assert_eq!(parse_topic(bad), None, "{bad}");
        }
    }
}
