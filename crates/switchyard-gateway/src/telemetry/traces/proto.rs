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
    pub fn varint(&mut self, mut v: u64) {
        // Tags, kinds and most lengths fit in one byte.
        while v >= 0x80 {
            self.buf.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.buf.push(v as u8);
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

    /// The head of a `KeyValue` in `field` whose `AnyValue` takes `value_len` bytes (its one
    /// field: tag, and length prefix for strings, included), up to that value's field. The
    /// lengths are known up front, so nothing is written twice (the nested messages are small
    /// and many: two per attribute), and the buffer grows at most once per attribute.
    #[inline]
    fn kv_head(&mut self, field: u32, key: &str, value_len: usize) {
        let kv_len = 1
            + varint_len(key.len() as u64)
            + key.len()
            + 1
            + varint_len(value_len as u64)
            + value_len;
        self.buf.reserve(kv_len + 6);
        let tag = (field << 3 | LEN) as u8;
        if field < 16 && kv_len < 0x80 {
            // Every length fits in one byte (the attributes' keys and most values): the head
            // is written in three copies, without a varint loop per length.
            self.buf
                .extend_from_slice(&[tag, kv_len as u8, 1 << 3 | LEN as u8, key.len() as u8]);
            self.buf.extend_from_slice(key.as_bytes());
            self.buf
                .extend_from_slice(&[2 << 3 | LEN as u8, value_len as u8]);
            return;
        }
        self.key(field, LEN);
        self.varint(kv_len as u64);
        self.key(1, LEN);
        self.varint(key.len() as u64);
        self.buf.extend_from_slice(key.as_bytes());
        self.key(2, LEN);
        self.varint(value_len as u64);
    }

    #[inline]
    pub fn kv_str(&mut self, field: u32, key: &str, v: &str) {
        self.kv_head(field, key, 1 + varint_len(v.len() as u64) + v.len());
        if v.len() < 0x80 {
            self.buf
                .extend_from_slice(&[(1 << 3 | LEN) as u8, v.len() as u8]);
        } else {
            self.buf.push((1 << 3 | LEN) as u8);
            self.varint(v.len() as u64);
        }
        self.buf.extend_from_slice(v.as_bytes());
    }

    #[inline]
    pub fn kv_int(&mut self, field: u32, key: &str, v: i64) {
        let v = v as u64;
        self.kv_head(field, key, 1 + varint_len(v));
        self.buf.push((3 << 3 | VARINT) as u8);
        self.varint(v);
    }

    #[inline]
    pub fn kv_bool(&mut self, field: u32, key: &str, v: bool) {
        self.kv_head(field, key, 2);
        self.buf.push((2 << 3 | VARINT) as u8);
        self.buf.push(u8::from(v));
    }
}

/// How many bytes `v` takes as a varint.
#[inline]
fn varint_len(v: u64) -> usize {
    let bits = u64::BITS - (v | 1).leading_zeros();
    (bits as usize).div_ceil(7)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[test]
    fn a_key_value_is_the_same_as_written_nested() {
        for v in [
            "",
            "x",
            // A key-value of 126 bytes (one-byte lengths), then of 128 (two-byte ones).
            &"v".repeat(60),
            &"u".repeat(61),
            &"y".repeat(127),
            &"z".repeat(128),
            &"w".repeat(20_000),
        ] {
            let key = "k".repeat(v.len() % 200);
            let mut flat = Writer::default();
            flat.kv_str(9, &key, v);
            flat.kv_int(9, &key, -5);
            flat.kv_int(9, &key, 1 << 40);
            flat.kv_bool(9, &key, true);
            let mut nested = Writer::default();
            for value in [
                &(|w: &mut Writer| w.str(1, v)) as &dyn Fn(&mut Writer),
                &|w: &mut Writer| w.uint(3, -5i64 as u64),
                &|w: &mut Writer| w.uint(3, 1 << 40),
                &|w: &mut Writer| w.uint(2, 1),
            ] {
                nested.begin(9);
                nested.str(1, &key);
                nested.begin(2);
                value(&mut nested);
                nested.end();
                nested.end();
            }
            assert_eq!(flat.finish(), nested.finish(), "value of {} bytes", v.len());
        }
        for (v, n) in [(0, 1), (127, 1), (128, 2), (16_383, 2), (16_384, 3)] {
            assert_eq!(varint_len(v), n);
        }
    }

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
