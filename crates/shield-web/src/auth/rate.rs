//! Per-address limits on the requests that check a credential (ASVS V2.4.1 anti-automation).
//! They sit in front of the per-account lock-out, which is in the database and holds across
//! instances; these counters are per process, which is enough to blunt one address hammering
//! one instance. Behind a reverse proxy listed in `SHIELD_TRUSTED_PROXIES` ([`TrustedProxies`]), the
//! address counted is the right-most address in `X-Forwarded-For` that is not itself a trusted
//! proxy (anything further left could have been written by the client); from any other peer the
//! header is ignored and the socket peer is counted.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::sync::Arc;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
pub use governor::Quota;
use governor::{DefaultKeyedRateLimiter, RateLimiter};

use crate::AppState;

/// Credential checks per address: a burst of 20, then one every 2 seconds.
pub type Limiter = Arc<DefaultKeyedRateLimiter<IpAddr>>;

pub fn limiter() -> Limiter {
    let burst = NonZeroU32::new(20).unwrap_or(NonZeroU32::MIN);
    let per_minute = NonZeroU32::new(30).unwrap_or(NonZeroU32::MIN);
    limiter_with(Quota::per_minute(per_minute).allow_burst(burst))
}

/// Range lookups (`GET /range/…`) per address: a burst of 100, then one a second. Someone
/// checking their passwords makes one request per password; a scraper walking all 2^20
/// prefixes is slowed to days.
pub fn lookup_limiter() -> Limiter {
    let burst = NonZeroU32::new(100).unwrap_or(NonZeroU32::MIN);
    let per_minute = NonZeroU32::new(60).unwrap_or(NonZeroU32::MIN);
    limiter_with(Quota::per_minute(per_minute).allow_burst(burst))
}

/// A limiter with another quota (tests use a slow refill, so timing cannot matter).
pub fn limiter_with(quota: Quota) -> Limiter {
    Arc::new(RateLimiter::keyed(quota))
}

/// The reverse proxies whose `X-Forwarded-For` is believed: addresses and CIDR ranges
/// (`10.0.0.0/8`, `::1`, `2001:db8::/32`). Empty by default: no header is believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<(IpAddr, u8)>);

impl TrustedProxies {
    /// Parses a comma-separated list; an empty list trusts nobody.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut out = Vec::new();
        for item in text.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let (addr, len) = match item.split_once('/') {
                Some((a, l)) => (a, Some(l)),
                None => (item, None),
            };
            let ip: IpAddr = addr
                .parse()
                .map_err(|_| format!("{item:?} is not an IP address or CIDR range"))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let len = match len {
                Some(l) => l
                    .parse::<u8>()
                    .ok()
                    .filter(|l| *l <= max)
                    .ok_or_else(|| format!("{item:?} has a bad prefix length"))?,
                None => max,
            };
            out.push((ip, len));
        }
        Ok(Self(out))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|(net, len)| match (canonical(*net), ip) {
            (IpAddr::V4(n), IpAddr::V4(a)) => prefix_eq(&n.octets(), &a.octets(), *len),
            (IpAddr::V6(n), IpAddr::V6(a)) => prefix_eq(&n.octets(), &a.octets(), *len),
            _ => false,
        })
    }

    /// The address a request is counted against: the socket peer, unless the peer is a
    /// trusted proxy; then the right-most `X-Forwarded-For` entry that is not a trusted proxy
    /// (if every entry is trusted, the left-most; if an entry cannot be read, the last
    /// trusted hop before it, since nothing from there on can be believed).
    pub fn client_ip(&self, peer: IpAddr, forwarded_for: &[&str]) -> IpAddr {
        if !self.contains(peer) {
            return peer;
        }
        let mut current = peer;
        let entries = forwarded_for
            .iter()
            .rev()
            .flat_map(|h| h.rsplit(','))
            .map(str::trim)
            .filter(|s| !s.is_empty());
        for entry in entries {
            let Ok(ip) = entry.parse::<IpAddr>() else {
                return current;
            };
            current = canonical(ip);
            if !self.contains(current) {
                return current;
            }
        }
        current
    }
}

/// IPv4-mapped IPv6 addresses (`::ffff:192.0.2.1`) compared as IPv4.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn prefix_eq(a: &[u8], b: &[u8], len: u8) -> bool {
    let full = usize::from(len / 8);
    let rest = len % 8;
    if a[..full] != b[..full] {
        return false;
    }
    if rest == 0 {
        return true;
    }
    let mask = 0xffu8 << (8 - rest);
    (a[full] & mask) == (b[full] & mask)
}

fn checks_a_credential(method: &Method, path: &str) -> bool {
    *method == Method::POST && matches!(path, "/sign-in" | "/sign-in/code" | "/sign-in/passkey")
}

pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if checks_a_credential(request.method(), request.uri().path())
        && let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>()
        && state
            .limiter
            .check_key(&client_ip(&state, peer.ip(), &request))
            .is_err()
    {
        tracing::warn!("sign-in rate limit reached");
        return (
            StatusCode::TOO_MANY_REQUESTS,
            crate::html::errors::too_many(),
        )
            .into_response();
    }
    if *request.method() == Method::GET
        && request.uri().path().starts_with("/range/")
        && let Some(ConnectInfo(peer)) = request.extensions().get::<ConnectInfo<SocketAddr>>()
        && state
            .lookup_limiter
            .check_key(&client_ip(&state, peer.ip(), &request))
            .is_err()
    {
        tracing::warn!("range lookup rate limit reached");
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(
                axum::http::header::CONTENT_TYPE,
                "text/plain; charset=utf-8",
            )],
            "Too many lookups from your address. Wait a minute and try again.\n",
        )
            .into_response();
    }
    next.run(request).await
}

fn client_ip(state: &AppState, peer: IpAddr, request: &Request) -> IpAddr {
    if state.trusted_proxies.is_empty() {
        return peer;
    }
    let headers: Vec<&str> = request
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    state.trusted_proxies.client_ip(peer, &headers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_socket_peer_counts_and_the_header_is_ignored() {
        let none = TrustedProxies::default();
        assert_eq!(
            none.client_ip(ip("10.0.0.5"), &["203.0.113.9"]),
            ip("10.0.0.5")
        );
        let trusted = TrustedProxies::parse("10.0.0.5").unwrap();
        // A peer that is not a trusted proxy cannot choose its address with the header.
        assert_eq!(
            trusted.client_ip(ip("198.51.100.7"), &["203.0.113.9"]),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn behind_a_trusted_proxy_the_right_most_untrusted_address_counts() {
        let trusted = TrustedProxies::parse(" 10.0.0.0/8 , 192.168.1.1 ").unwrap();
        // The client forged the left-most entry; the proxy appended the real one.
        assert_eq!(
            trusted.client_ip(ip("10.0.0.5"), &["1.2.3.4, 203.0.113.9"]),
            ip("203.0.113.9")
        );
        // Two proxies in a row, and the header split over two lines.
        assert_eq!(
            trusted.client_ip(ip("10.0.0.5"), &["1.2.3.4, 203.0.113.9", "192.168.1.1"]),
            ip("203.0.113.9")
        );
        // Every hop trusted: the left-most.
        assert_eq!(
            trusted.client_ip(ip("10.0.0.5"), &["10.9.9.9, 192.168.1.1"]),
            ip("10.9.9.9")
        );
        // No header: the proxy itself.
        assert_eq!(trusted.client_ip(ip("10.0.0.5"), &[]), ip("10.0.0.5"));
        // Garbage stops the walk at the last trusted hop.
        assert_eq!(
            trusted.client_ip(ip("10.0.0.5"), &["203.0.113.9, not-an-ip"]),
            ip("10.0.0.5")
        );
    }

    #[test]
    fn ranges_and_ipv6_and_mapped_addresses() {
        let trusted = TrustedProxies::parse("2001:db8::/32,172.16.0.0/12,::1").unwrap();
        assert!(trusted.contains(ip("2001:db8:1::9")));
        assert!(!trusted.contains(ip("2001:db9::1")));
        assert!(trusted.contains(ip("172.31.255.255")));
        assert!(!trusted.contains(ip("172.32.0.0")));
        assert!(trusted.contains(ip("::ffff:172.16.0.1")));
        assert!(trusted.contains(ip("::1")));
        assert_eq!(
            trusted.client_ip(ip("::1"), &["2001:db8::7, 2a00::1"]),
            ip("2a00::1")
        );
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.internal").is_err());
    }
}
