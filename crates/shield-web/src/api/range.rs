//! `GET /range/{prefix}`: the breached-password range API, in the shape of the well-known
//! Pwned Passwords one, so a browser (or any client that speaks that API) can check a password
//! without it, or its full hash, ever leaving the device (k-anonymity: a five-hex-digit prefix
//! is shared by hundreds of the list's hashes and by countless other passwords).
//!
//! Public and sessionless by design: the page's script sends no cookie with it, so a prefix is
//! never tied to a person. Answers are plain text, `SUFFIX:COUNT` per line (35 upper-case hex
//! digits), CRLF-separated; `Add-Padding: true` adds random `SUFFIX:0` lines so the response
//! size says nothing about the prefix. Cacheable for a day, tagged with the list's id.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rand_core::{OsRng, RngCore};
use shield_breached::{OpenError, Prefix};

use crate::AppState;

/// Padded responses hold at least this many lines, and up to `PAD_SPREAD` more (at random).
const PAD_MIN: usize = 800;
const PAD_SPREAD: u32 = 200;
const CACHE: &str = "public, max-age=86400";

fn text(status: StatusCode, body: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body.into(),
    )
        .into_response()
}

pub(crate) async fn range(
    State(state): State<AppState>,
    Path(prefix): Path<String>,
    headers: HeaderMap,
) -> Response {
    let Some(prefix) = Prefix::parse(&prefix) else {
        return text(
            StatusCode::BAD_REQUEST,
            "The hash prefix must be exactly 5 hexadecimal characters (0-9 and A-F): the \
             first 5 characters of a password's SHA-1 hash, as in /range/5BAA6.\n",
        );
    };
    let Some(list) = state.breached.clone() else {
        return unavailable();
    };
    let padded = headers
        .get("add-padding")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"));
    // File reads: off the async threads.
    let answer = tokio::task::spawn_blocking(move || {
        let file = list.current()?;
        let mut body = String::new();
        let found = file
            .write_range(prefix, &mut body)
            .map_err(|source| OpenError::Io {
                path: list.path().to_path_buf(),
                source,
            })?;
        Ok::<_, OpenError>((file.list_id(), body, found))
    })
    .await;
    let (list_id, mut body, found) = match answer {
        Ok(Ok(answer)) => answer,
        Ok(Err(OpenError::Missing(_))) => return unavailable(),
        Ok(Err(e)) => {
            tracing::error!(error = %e, "breached-password list unreadable");
            return unavailable();
        }
        Err(e) => {
            tracing::error!(error = %e, "range lookup task failed");
            return unavailable();
        }
    };
    let etag = format!(
        "{}\"{}-{prefix}\"",
        if padded { "W/" } else { "" },
        hex::encode(list_id)
    );
    let fresh = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
    let mut response = if fresh {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        if padded {
            pad(&mut body, found);
        }
        text(StatusCode::OK, body)
    };
    let h = response.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(CACHE));
    h.insert(header::VARY, HeaderValue::from_static("Add-Padding"));
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    response
}

/// Random `SUFFIX:0` lines up to a random total of 800–1,000 lines.
fn pad(body: &mut String, found: usize) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let target = PAD_MIN + (OsRng.next_u32() % (PAD_SPREAD + 1)) as usize;
    let extra = target.saturating_sub(found);
    let mut random = vec![0u8; extra * 18];
    OsRng.fill_bytes(&mut random);
    for chunk in random.chunks_exact(18) {
        for (i, b) in chunk.iter().enumerate() {
            body.push(HEX[usize::from(b >> 4)] as char);
            if i < 17 {
                body.push(HEX[usize::from(b & 0x0f)] as char);
            }
        }
        body.push_str(":0\r\n");
    }
}

fn unavailable() -> Response {
    text(
        StatusCode::SERVICE_UNAVAILABLE,
        "The breached-password check is not available: no list has been imported here.\n",
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn padding_lines_look_like_real_ones_with_a_zero_count() {
        let mut body = String::from("0018A45C4D1DEF81644B54AB7F969B88D65:1\r\n");
        super::pad(&mut body, 1);
        let lines: Vec<&str> = body.split("\r\n").filter(|l| !l.is_empty()).collect();
        assert!((800..=1000).contains(&lines.len()), "{}", lines.len());
        for line in &lines[1..] {
            let (suffix, count) = line.split_once(':').unwrap();
            assert_eq!(suffix.len(), 35);
            assert!(
                suffix
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_lowercase())
            );
            assert_eq!(count, "0");
        }
    }
}
