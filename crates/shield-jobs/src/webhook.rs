//! Signed webhooks in the [Standard Webhooks](https://www.standardwebhooks.com/) format.
//!
//! A webhook outbox row carries the endpoint URL as its address, the event type
//! (`report.created`, `report.shared`, `report.escalated`) as its template, flat ids as its
//! params, and the force's signing secret sealed by the caller. The worker opens the secret
//! through its [`SecretOpener`](crate::SecretOpener), builds an [`OutgoingWebhook`] (body, id,
//! timestamp and signature) and hands it to a [`WebhookSender`]; [`HttpWebhookSender`] POSTs it
//! with reqwest (rustls, no redirects followed).
//!
//! The body is `{"type": …, "timestamp": …, "data": {…ids…}}`: ids only, never report content.
//! The request carries `webhook-id` (the outbox row's stable message id, the same on every
//! retry, so a receiver can drop duplicates), `webhook-timestamp` (unix seconds of this
//! attempt) and `webhook-signature` (`v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`).
//!
//! Errors are reduced to a short class (`webhook_4xx`, `webhook_5xx`, `webhook_timeout`,
//! `connect`, …): a URL may carry a token and a reply may echo anything, so neither is logged.

use std::time::Duration;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::DecodePaddingMode;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig, STANDARD};
use hmac::{Hmac, Mac};
use secrecy::SecretSlice;
use serde_json::{Map, Value};
use sha2::Sha256;
use shield_domain::EpochMs;
use shield_store::OutboxParams;
use thiserror::Error;

use crate::email::SendError;

/// A new report was created and this force is its lead.
pub const EVENT_REPORT_CREATED: &str = "report.created";
/// A report was shared with this force (a constituency it covers).
pub const EVENT_REPORT_SHARED: &str = "report.shared";
/// A report was not acknowledged in time and moved to the next tier.
pub const EVENT_REPORT_ESCALATED: &str = "report.escalated";

/// The prefix of a Standard Webhooks secret; the rest is the base64 key.
pub const SECRET_PREFIX: &str = "whsec_";

/// How long [`HttpWebhookSender`] waits for a connection, and for the whole exchange.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Base64 that accepts the key with or without `=` padding.
const LENIENT_BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// The signing secret is not usable (empty, or `whsec_` followed by something that is not
/// base64).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
#[error("the webhook signing secret is malformed")]
pub struct SecretFormatError;

/// The HMAC key of a signing secret: the base64-decoded part after `whsec_`, or, for a secret
/// without the prefix, its bytes as they are.
pub fn signing_key(secret: &str) -> Result<SecretSlice<u8>, SecretFormatError> {
    let key = match secret.strip_prefix(SECRET_PREFIX) {
        Some(encoded) => LENIENT_BASE64
            .decode(encoded.trim())
            .map_err(|_| SecretFormatError)?,
        None => secret.as_bytes().to_vec(),
    };
    if key.is_empty() {
        return Err(SecretFormatError);
    }
    Ok(SecretSlice::from(key))
}

/// The `webhook-signature` value: `v1,` and the base64 HMAC-SHA256, under `secret_key`, of
/// `{msg_id}.{timestamp_secs}.{body}`.
pub fn sign(secret_key: &[u8], msg_id: &str, timestamp_secs: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret_key).expect("HMAC accepts any key length");
    mac.update(msg_id.as_bytes());
    mac.update(b".");
    mac.update(timestamp_secs.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The JSON body: `{"type": event_type, "timestamp": <RFC 3339 of occurred_at_ms>, "data":
/// <params>}`. The params are ids only (the outbox cannot hold anything else).
pub fn body(event_type: &str, occurred_at_ms: EpochMs, params: &OutboxParams) -> String {
    let timestamp = chrono::DateTime::from_timestamp_millis(occurred_at_ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let data = serde_json::from_str::<Value>(&params.to_json())
        .unwrap_or_else(|_| Value::Object(Map::new()));
    let mut object = Map::new();
    object.insert("type".into(), Value::from(event_type));
    object.insert("timestamp".into(), Value::from(timestamp));
    object.insert("data".into(), data);
    Value::Object(object).to_string()
}

/// One signed webhook request, ready to POST. Its `Debug` shows the message id only (the URL
/// may carry a token).
#[derive(Clone, PartialEq, Eq)]
pub struct OutgoingWebhook {
    /// The outbox row's stable id: the `webhook-id` header.
    pub message_id: String,
    pub url: String,
    /// This attempt's unix time in seconds: the `webhook-timestamp` header.
    pub timestamp_secs: i64,
    /// The `webhook-signature` header.
    pub signature: String,
    /// The JSON body, exactly as signed.
    pub body: String,
}

impl OutgoingWebhook {
    /// Builds and signs a webhook for `event_type` with `params`, stamped `now_ms` (truncated to
    /// seconds) and saying the event happened at `occurred_at_ms`.
    pub fn signed(
        message_id: &str,
        url: &str,
        event_type: &str,
        params: &OutboxParams,
        occurred_at_ms: EpochMs,
        now_ms: EpochMs,
        secret_key: &[u8],
    ) -> Self {
        let body = body(event_type, occurred_at_ms, params);
        let timestamp_secs = now_ms.div_euclid(1000);
        let signature = sign(secret_key, message_id, timestamp_secs, body.as_bytes());
        Self {
            message_id: message_id.to_owned(),
            url: url.to_owned(),
            timestamp_secs,
            signature,
            body,
        }
    }
}

impl std::fmt::Debug for OutgoingWebhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OutgoingWebhook")
            .field("message_id", &self.message_id)
            .field("timestamp_secs", &self.timestamp_secs)
            .finish_non_exhaustive()
    }
}

/// Delivers one webhook. `Ok` only for a 2xx reply. Implementations must not log URLs, bodies
/// or replies.
#[async_trait]
pub trait WebhookSender: Send + Sync + std::fmt::Debug {
    async fn send(&self, webhook: &OutgoingWebhook) -> Result<(), SendError>;
}

/// The HTTP client could not be set up.
#[derive(Debug, Error)]
#[error("the webhook HTTP client could not be set up")]
pub struct WebhookClientError(#[source] reqwest::Error);

/// POSTs webhooks with reqwest over rustls. Redirects are not followed (a 3xx is a failure):
/// the signed request goes to the registered endpoint or nowhere.
#[derive(Debug, Clone)]
pub struct HttpWebhookSender {
    client: reqwest::Client,
}

impl HttpWebhookSender {
    /// A sender whose connect and whole-request limits are both `timeout`.
    pub fn new(timeout: Duration) -> Result<Self, WebhookClientError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeout)
            .timeout(timeout)
            .user_agent(concat!(
                "CandidateShield-Webhooks/",
                env!("CARGO_PKG_VERSION")
            ))
            .build()
            .map_err(WebhookClientError)?;
        Ok(Self { client })
    }
}

/// The class of a reply status that is not a success.
pub fn status_class(status: u16) -> &'static str {
    match status {
        408 => "webhook_timeout",
        429 => "webhook_429",
        300..=399 => "webhook_3xx",
        400..=499 => "webhook_4xx",
        500..=599 => "webhook_5xx",
        _ => "webhook_status",
    }
}

/// The class of a transport failure; never the error's text (it names the URL).
fn error_class(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "webhook_timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_builder() {
        "bad_url"
    } else if e.is_redirect() {
        "webhook_3xx"
    } else {
        "webhook_io"
    }
}

#[async_trait]
impl WebhookSender for HttpWebhookSender {
    async fn send(&self, webhook: &OutgoingWebhook) -> Result<(), SendError> {
        let url = reqwest::Url::parse(&webhook.url).map_err(|_| SendError::new("bad_url"))?;
        if !matches!(url.scheme(), "https" | "http") || url.host().is_none() {
            return Err(SendError::new("bad_url"));
        }
        let reply = self
            .client
            .post(url)
            .header("content-type", "application/json")
            .header("webhook-id", &webhook.message_id)
            .header("webhook-timestamp", webhook.timestamp_secs.to_string())
            .header("webhook-signature", &webhook.signature)
            .body(webhook.body.clone())
            .send()
            .await
            .map_err(|e| SendError::new(error_class(&e)))?;
        let status = reply.status();
        // The reply body is not read: nothing in it is needed, and it may be large.
        drop(reply);
        if status.is_success() {
            Ok(())
        } else {
            Err(SendError::new(status_class(status.as_u16())))
        }
    }
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    /// The test vector of the Standard Webhooks reference libraries.
    #[test]
    fn sign_matches_the_standard_webhooks_test_vector() {
        let key = signing_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        assert_eq!(
            sign(
                key.expose_secret(),
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1_614_265_330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn signing_key_decodes_the_prefixed_form_and_takes_a_raw_secret_as_bytes() {
        let key = signing_key("whsec_AAEC/w==").unwrap();
        assert_eq!(key.expose_secret(), &[0u8, 1, 2, 255][..]);
        let unpadded = signing_key("whsec_AAEC/w").unwrap();
        assert_eq!(unpadded.expose_secret(), &[0u8, 1, 2, 255][..]);
        let raw = signing_key("plain-secret").unwrap();
        assert_eq!(raw.expose_secret(), b"plain-secret");
        assert_eq!(signing_key("whsec_!!!").err(), Some(SecretFormatError));
        assert_eq!(signing_key("whsec_").err(), Some(SecretFormatError));
        assert_eq!(signing_key("").err(), Some(SecretFormatError));
    }

    #[test]
    fn body_is_type_timestamp_and_the_ids_only() {
        let params = OutboxParams::new()
            .with_int("report", 42)
            .unwrap()
            .with_id("ref", "R-00042")
            .unwrap()
            .with_int("priority", 1)
            .unwrap()
            .with_id("force", "met")
            .unwrap();
        let text = body(EVENT_REPORT_CREATED, 1_720_000_000_123, &params);
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(
            value,
            serde_json::json!({
                "type": "report.created",
                "timestamp": "2024-07-03T09:46:40.123Z",
                "data": {"report": 42, "ref": "R-00042", "priority": 1, "force": "met"},
            })
        );
    }

    #[test]
    fn a_signed_webhook_verifies_and_debug_hides_url_and_body() {
        let params = OutboxParams::new().with_int("report", 7).unwrap();
        let hook = OutgoingWebhook::signed(
            "msg1",
            "https://force.example/hook?token=abc",
            EVENT_REPORT_ESCALATED,
            &params,
            1_000,
            1_720_000_000_999,
            b"key",
        );
        assert_eq!(hook.timestamp_secs, 1_720_000_000);
        assert_eq!(
            hook.signature,
            sign(b"key", "msg1", 1_720_000_000, hook.body.as_bytes())
        );
        let shown = format!("{hook:?}");
        assert!(shown.contains("msg1"));
        assert!(!shown.contains("token") && !shown.contains("report"));
    }

    #[test]
    fn statuses_map_to_short_classes() {
        assert_eq!(status_class(408), "webhook_timeout");
        assert_eq!(status_class(429), "webhook_429");
        assert_eq!(status_class(301), "webhook_3xx");
        assert_eq!(status_class(404), "webhook_4xx");
        assert_eq!(status_class(503), "webhook_5xx");
    }
}
