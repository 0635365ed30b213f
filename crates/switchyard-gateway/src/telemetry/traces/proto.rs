//! A minimal protobuf writer for the OTLP messages the exporter sends: varints, fixed-width
//! numbers, length-delimited fields, and nested messages whose length is written in front of
//! them once they are complete.

/// A protobuf writer: fields appended to one buffer; a nested message's length is written in
/// front of it once it is complete (one byte reserved, the body moved when it needs more).
#[derive(Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
    open: Vec<usize>,
}

/// `v` as a protobuf varint: the bytes, and how many of them are used.
fn varint(mut v: u64) -> ([u8; 10], usize) {
    let mut out = [0u8; 10];
    let mut n = 0;
    for byte in out.iter_mut() {
        n += 1;
        if v < 0x80 {
            *byte = v as u8;
            break;
        }
        *byte = (v as u8) | 0x80;
        v >>= 7;
    }
    (out, n)
}

const VARINT: u32 = 0;
const FIXED64: u32 = 1;
const LEN: u32 = 2;
const FIXED32: u32 = 5;

impl Writer {
    pub fn with_capacity(n: usize) -> Writer {
        Writer {
            buf: Vec::with_capacity(n),
            open: Vec::new(),
        }
    }

    pub fn finish(self) -> Vec<u8> {
        self.buf
    }

    #[inline]
    pub fn varint(&mut self, v: u64) {
        // Tags, kinds and most lengths fit in one byte.
        if v < 0x80 {
            self.buf.push(v as u8);
            return;
        }
        let (head, n) = varint(v);
        self.buf
            .extend_from_slice(head.get(..n).unwrap_or(&head[..]));
    }

    #[inline]
    pub fn key(&mut self, field: u32, wire: u32) {
        self.varint(u64::from(field << 3 | wire));
    }

    #[inline]
    pub fn uint(&mut self, field: u32, v: u64) {
        self.key(field, VARINT);
        self.varint(v);
    }

    #[inline]
    pub fn fixed64(&mut self, field: u32, v: u64) {
        self.key(field, FIXED64);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    #[inline]
    pub fn fixed32(&mut self, field: u32, v: u32) {
        self.key(field, FIXED32);
        self.buf.extend_from_slice(&v.to_le_bytes());
    }

    /// A length-delimited field made of `parts` one after the other.
    #[inline]
    pub fn bytes(&mut self, field: u32, parts: &[&[u8]]) {
        self.key(field, LEN);
        let len: usize = parts.iter().map(|p| p.len()).sum();
        self.varint(len as u64);
        for p in parts {
            self.buf.extend_from_slice(p);
        }
    }

    #[inline]
    pub fn str(&mut self, field: u32, s: &str) {
        self.bytes(field, &[s.as_bytes()]);
    }

    /// Opens a nested message (close it with [`Writer::end`]).
    #[inline]
    pub fn begin(&mut self, field: u32) {
        self.key(field, LEN);
        self.open.push(self.buf.len());
        self.buf.push(0);
    }

    pub fn end(&mut self) {
        let Some(at) = self.open.pop() else {
            return;
        };
        let body = at + 1;
        let len = self.buf.len().saturating_sub(body) as u64;
        let (head, n) = varint(len);
        let head = head.get(..n).unwrap_or(&head[..]);
        if n > 1 {
            let old = self.buf.len();
            self.buf.resize(old + n - 1, 0);
            self.buf.copy_within(body..old, at + n);
        }
        if let Some(dst) = self.buf.get_mut(at..at + n) {
            dst.copy_from_slice(head);
        }
    }

    /// A `KeyValue` in `field`; `value` writes the `AnyValue`'s one field.
    pub fn kv(&mut self, field: u32, key: &str, value: impl FnOnce(&mut Writer)) {
        self.begin(field);
        self.str(1, key);
        self.begin(2);
        value(self);
        self.end();
        self.end();
    }

    #[inline]
    pub fn kv_str(&mut self, field: u32, key: &str, v: &str) {
        self.kv(field, key, |w| w.str(1, v));
    }

    #[inline]
    pub fn kv_int(&mut self, field: u32, key: &str, v: i64) {
        self.kv(field, key, |w| w.uint(3, v as u64));
    }

    #[inline]
    pub fn kv_bool(&mut self, field: u32, key: &str, v: bool) {
        self.kv(field, key, |w| w.uint(2, u64::from(v)));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn varints_and_nested_lengths() {
        assert_eq!(varint(0), ([0; 10], 1));
        assert_eq!(varint(300).0[..2], [0xac, 0x02]);
        assert_eq!(varint(u64::MAX).1, 10);
        let mut w = Writer::default();
        w.begin(1);
        w.str(2, &"a".repeat(200));
        w.end();
        let out = w.finish();
        // tag 1/LEN, length 203 as two bytes, then tag 2/LEN, length 200 as two bytes.
        assert_eq!(out[..3], [0x0a, 0xcb, 0x01]);
        assert_eq!(out[3..6], [0x12, 0xc8, 0x01]);
        assert_eq!(out.len(), 3 + 203);
    }
}
