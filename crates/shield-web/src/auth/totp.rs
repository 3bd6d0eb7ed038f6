//! Authenticator-app codes (RFC 6238: SHA-1, 6 digits, 30 s). A code is accepted for the
//! current step or one either side (clock drift), and only for a step later than the last one
//! used: the store's conditional update makes each code single-use (ASVS V6.5.1).

use rand_core::{OsRng, RngCore};
use shield_domain::session::totp_step;
use totp_rs::{Algorithm, Secret, TOTP};

/// 160-bit seeds (ASVS V6.5.2).
pub fn new_secret() -> Vec<u8> {
    let mut bytes = vec![0u8; 20];
    OsRng.fill_bytes(&mut bytes);
    bytes
}

fn totp(secret: &[u8], account: &str) -> Option<TOTP> {
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        30,
        secret.to_vec(),
        Some("Candidate Shield".into()),
        account.into(),
    )
    .ok()
}

/// The base32 text a person types into their app if they cannot scan.
pub fn secret_text(secret: &[u8]) -> String {
    let encoded = Secret::Raw(secret.to_vec()).to_encoded().to_string();
    encoded
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The `otpauth://` URI, drawn as an SVG QR code for the app to scan.
pub fn qr_svg(secret: &[u8], account: &str) -> Option<String> {
    let uri = totp(secret, account)?.get_url();
    let code = qrcode::QrCode::new(uri.as_bytes()).ok()?;
    Some(
        code.render::<qrcode::render::svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
    )
}

/// The code for a moment, for tests and the set-up check.
pub fn code_at(secret: &[u8], now_ms: i64) -> String {
    totp(secret, "x")
        .map(|t| t.generate((now_ms / 1000).max(0) as u64))
        .unwrap_or_default()
}

/// The step a typed code matches (current, previous or next), if any. The caller must then
/// claim that step in the store to make the code single-use.
pub fn matching_step(secret: &[u8], code: &str, now_ms: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let step = totp_step(now_ms);
    [step, step - 1, step + 1]
        .into_iter()
        .find(|s| crate::auth::token::same(&code_at(secret, s * 30_000), &code))
}

/// The seed from the text [`secret_text`] shows (spaces allowed), for tests and support.
pub fn secret_from_text(text: &str) -> Option<Vec<u8>> {
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    Secret::Encoded(compact).to_bytes().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc6238_vector() {
        // RFC 6238 appendix B, SHA-1, T = 59 s → 94287082 (8 digits); 6 digits: 287082.
        let secret = b"12345678901234567890";
        assert_eq!(code_at(secret, 59_000), "287082");
    }

    #[test]
    fn accepts_adjacent_steps_only() {
        let secret = new_secret();
        let now = 1_700_000_000_000;
        let code = code_at(&secret, now);
        assert_eq!(matching_step(&secret, &code, now), Some(totp_step(now)));
        assert_eq!(
            matching_step(&secret, &code, now + 30_000),
            Some(totp_step(now))
        );
        assert_eq!(matching_step(&secret, &code, now + 90_000), None);
        assert_eq!(matching_step(&secret, "12345", now), None);
    }

    #[test]
    fn renders_setup() {
        let secret = new_secret();
        assert!(
            qr_svg(&secret, "priya@example.org")
                .unwrap()
                .contains("<svg")
        );
        assert_eq!(secret_text(&secret).replace(' ', "").len(), 32);
    }
}
