//! Trace ids, the client's W3C `traceparent`, and the sampling decision.
//!
//! The decision is the OpenTelemetry SDK's `ParentBased(TraceIdRatioBased(ratio))`: a request
//! with a valid `traceparent` follows the client's sampled flag; any other request starts a new
//! trace (a random id) and is sampled when the id's lower 64 bits, shifted right by one, fall
//! under `ratio × 2^63` — the SDK's rule, so a trace id is judged the same way here as by any
//! other OpenTelemetry SDK in the same trace.

/// A trace id: 16 bytes, never all zero.
pub type TraceId = [u8; 16];
/// A span id: 8 bytes, never all zero.
pub type SpanId = [u8; 8];

/// The `sampled` bit of the W3C trace flags.
pub const FLAG_SAMPLED: u8 = 0x01;

/// The W3C headers, as names (a lookup by `&str` parses and hashes the name each time).
static TRACEPARENT: http::HeaderName = http::HeaderName::from_static("traceparent");
static TRACESTATE: http::HeaderName = http::HeaderName::from_static("tracestate");

/// The client's span, from its `traceparent` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceParent {
    pub trace_id: TraceId,
    pub span_id: SpanId,
    pub flags: u8,
}

impl TraceParent {
    pub fn sampled(&self) -> bool {
        self.flags & FLAG_SAMPLED != 0
    }

    /// Parses `00-<32 hex>-<16 hex>-<2 hex flags>` (W3C Trace Context). A later version may
    /// add fields after a `-`; version `ff` and all-zero ids are invalid.
    pub fn parse(value: &[u8]) -> Option<TraceParent> {
        let value = value.trim_ascii();
        if value.len() < 55 {
            return None;
        }
        let version = hex_byte(value.get(0..2)?)?;
        if version == 0xff || value.get(2) != Some(&b'-') {
            return None;
        }
        // Version 00 is exactly 55 bytes; a later one may carry more after a `-`.
        if value.len() > 55 && (version == 0 || value.get(55) != Some(&b'-')) {
            return None;
        }
        let mut trace_id = [0u8; 16];
        hex_into(value.get(3..35)?, &mut trace_id)?;
        if value.get(35) != Some(&b'-') {
            return None;
        }
        let mut span_id = [0u8; 8];
        hex_into(value.get(36..52)?, &mut span_id)?;
        if value.get(52) != Some(&b'-') {
            return None;
        }
        // Flags other than `sampled` are accepted and cleared (W3C: "other flags").
        let flags = hex_byte(value.get(53..55)?)? & FLAG_SAMPLED;
        if trace_id == [0; 16] || span_id == [0; 8] {
            return None;
        }
        Some(TraceParent {
            trace_id,
            span_id,
            flags,
        })
    }

    /// The `traceparent` header of a request, if it has a valid one.
    pub fn from_headers(headers: &http::HeaderMap) -> Option<TraceParent> {
        TraceParent::parse(headers.get(&TRACEPARENT)?.as_bytes())
    }
}

/// Members a `tracestate` may hold (W3C).
const MAX_TRACE_STATE_MEMBERS: usize = 32;

/// The client's `tracestate`, passed on to the spans of its trace as it was sent (members
/// trimmed, empty ones dropped); `None` when absent, empty or malformed (as the SDK did).
pub fn trace_state(headers: &http::HeaderMap) -> Option<std::sync::Arc<str>> {
    let raw = headers.get(&TRACESTATE)?.to_str().ok()?;
    let mut out = String::with_capacity(raw.len());
    let mut members = 0usize;
    for member in raw.split(',').map(str::trim).filter(|m| !m.is_empty()) {
        let (key, value) = member.split_once('=')?;
        let key_ok = !key.is_empty()
            && key.len() <= 256
            && key
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_-*/@".contains(&b));
        let value_ok = !value.is_empty()
            && value.len() <= 256
            && value
                .bytes()
                .all(|b| (0x20..=0x7e).contains(&b) && b != b',' && b != b'=')
            && !value.ends_with(' ');
        members += 1;
        if !key_ok || !value_ok || members > MAX_TRACE_STATE_MEMBERS {
            return None;
        }
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(member);
    }
    (!out.is_empty()).then(|| std::sync::Arc::from(out))
}

/// One lower-case hex digit's value (upper case is invalid in `traceparent`).
fn nibble(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    }
}

fn hex_byte(two: &[u8]) -> Option<u8> {
    match two {
        [hi, lo] => Some(nibble(*hi)? << 4 | nibble(*lo)?),
        _ => None,
    }
}

/// Fills `out` from exactly `2 × out.len()` hex digits.
fn hex_into(hex: &[u8], out: &mut [u8]) -> Option<()> {
    if hex.len() != out.len() * 2 {
        return None;
    }
    for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        *byte = hex_byte(pair)?;
    }
    Some(())
}

/// A random trace id (never all zero).
pub fn new_trace_id() -> TraceId {
    loop {
        let id = fastrand::u128(..).to_be_bytes();
        if id != [0; 16] {
            return id;
        }
    }
}

/// A random span id (never all zero).
pub fn new_span_id() -> SpanId {
    loop {
        let id = fastrand::u64(..).to_be_bytes();
        if id != [0; 8] {
            return id;
        }
    }
}

/// `TraceIdRatioBased(ratio)`'s threshold: a trace is sampled when its id's lower 64 bits,
/// shifted right by one, are below it. `None` stands for "always" (a ratio of 1 or more).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ratio(Option<u64>);

impl Ratio {
    pub fn new(ratio: f64) -> Ratio {
        if ratio >= 1.0 {
            return Ratio(None);
        }
        // NaN and negatives count as 0; below 1 the product is below 2^63, so it fits in u64
        // (`as` saturates, and truncates the fraction as the SDK does).
        let ratio = if ratio.is_nan() { 0.0 } else { ratio.max(0.0) };
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let bound = (ratio * (1u64 << 63) as f64) as u64;
        Ratio(Some(bound))
    }

    /// Whether a new trace with this id is sampled.
    pub fn samples(&self, trace_id: &TraceId) -> bool {
        let Some(bound) = self.0 else {
            return true;
        };
        let mut low = [0u8; 8];
        low.copy_from_slice(&trace_id[8..]);
        (u64::from_be_bytes(low) >> 1) < bound
    }
}

/// The decision for one request: its trace id and whether it is recorded
/// (`ParentBased(TraceIdRatioBased)`).
pub fn decide(parent: Option<&TraceParent>, ratio: Ratio) -> Option<TraceId> {
    match parent {
        Some(p) => p.sampled().then_some(p.trace_id),
        None => {
            let id = new_trace_id();
            ratio.samples(&id).then_some(id)
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn id_with_low(low: u64) -> TraceId {
        let mut id = [0u8; 16];
        id[0] = 0xab;
        id[8..].copy_from_slice(&low.to_be_bytes());
        id
    }

    #[test]
    fn traceparent_is_parsed() {
        let p =
            TraceParent::parse(b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01").unwrap();
        assert_eq!(p.trace_id[0], 0x0a);
        assert_eq!(p.trace_id[15], 0x9c);
        assert_eq!(p.span_id, [0xb7, 0xad, 0x6b, 0x71, 0x69, 0x20, 0x33, 0x31]);
        assert!(p.sampled());
        let q =
            TraceParent::parse(b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00").unwrap();
        assert!(!q.sampled());
        // A later version may append fields.
        assert!(TraceParent::parse(
            b"01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra"
        )
        .is_some());
        let mut h = http::HeaderMap::new();
        h.insert(
            "traceparent",
            http::HeaderValue::from_static(
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            ),
        );
        assert!(TraceParent::from_headers(&h).is_some());
        assert!(TraceParent::from_headers(&http::HeaderMap::new()).is_none());
        // Unknown flags are cleared.
        let f =
            TraceParent::parse(b"00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-03").unwrap();
        assert_eq!(f.flags, FLAG_SAMPLED);
    }

    #[test]
    fn tracestate_is_kept_when_well_formed() {
        let mut h = http::HeaderMap::new();
        assert_eq!(trace_state(&h), None);
        h.insert(
            "tracestate",
            http::HeaderValue::from_static("rojo=00f067aa0ba902b7 , congo=t61rcWkgMzE,"),
        );
        assert_eq!(
            trace_state(&h).as_deref(),
            Some("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE")
        );
        h.insert("tracestate", http::HeaderValue::from_static("Bad Key=1"));
        assert_eq!(trace_state(&h), None);
        h.insert("tracestate", http::HeaderValue::from_static("novalue"));
        assert_eq!(trace_state(&h), None);
    }

    #[test]
    fn bad_traceparents_are_ignored() {
        for bad in [
            "",
            "00-zz-01",
            // version ff
            "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            // all-zero ids
            "00-00000000000000000000000000000000-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
            // upper case, short, long, wrong separators
            "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-x",
            "00_0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1",
            "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-0g",
            "é0-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        ] {
            assert!(TraceParent::parse(bad.as_bytes()).is_none(), "{bad}");
        }
    }

    #[test]
    fn ratio_follows_the_lower_half_of_the_trace_id() {
        let all = Ratio::new(1.0);
        let none = Ratio::new(0.0);
        let half = Ratio::new(0.5);
        for low in [0, 1, u64::MAX / 2, u64::MAX / 2 + 1, u64::MAX] {
            let id = id_with_low(low);
            assert!(all.samples(&id));
            assert!(!none.samples(&id));
        }
        // 0.5: sampled when (low >> 1) < 2^62, i.e. low < 2^63.
        assert!(half.samples(&id_with_low(0)));
        assert!(half.samples(&id_with_low((1 << 63) - 1)));
        assert!(!half.samples(&id_with_low(1 << 63)));
        assert!(!half.samples(&id_with_low(u64::MAX)));
        // The upper half of the id does not count.
        let mut id = id_with_low(1);
        id[..8].copy_from_slice(&[0xff; 8]);
        assert!(half.samples(&id));
        assert_eq!(Ratio::new(f64::NAN), none);
        assert_eq!(Ratio::new(-1.0), none);
        assert_eq!(Ratio::new(7.0), all);
    }

    #[test]
    fn the_parent_decides_for_its_requests() {
        let sampled =
            TraceParent::parse(b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01").unwrap();
        let unsampled =
            TraceParent::parse(b"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00").unwrap();
        assert_eq!(
            decide(Some(&sampled), Ratio::new(0.0)),
            Some(sampled.trace_id)
        );
        assert_eq!(decide(Some(&unsampled), Ratio::new(1.0)), None);
        assert_eq!(decide(None, Ratio::new(0.0)), None);
        let id = decide(None, Ratio::new(1.0)).unwrap();
        assert_ne!(id, [0; 16]);
        assert_ne!(new_span_id(), [0; 8]);
    }
}
