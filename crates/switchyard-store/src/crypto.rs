//! Secrets at rest and gateway-key material.
//!
//! [`Cipher`] seals stored provider credentials with AES-256-GCM (ring): every value gets a fresh
//! random 96-bit nonce and is stored as `version byte || nonce || ciphertext+tag`, so a wrong key or
//! a tampered blob fails to open instead of yielding garbage. [`generate_key`] makes gateway keys
//! and [`hash_key`] turns one into the only form the database ever holds.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use ring::digest::{digest, SHA256};
use ring::rand::{SecureRandom, SystemRandom};

use crate::StoreError;

/// The only blob layout so far: `1 || nonce (12) || ciphertext || tag (16)`.
const VERSION: u8 = 1;
const TAG_LEN: usize = 16;
/// What the environment variable is called, for error messages.
const KEY_VAR: &str = "SWITCHYARD_ENCRYPTION_KEY";

/// The SHA-256 of a gateway key's text: what the database stores and looks keys up by.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct KeyHash(pub [u8; 32]);

impl fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyHash({})", hex(&self.0[..4]))
    }
}

/// A new gateway key: `"sy-"` followed by 32 random bytes from the system's CSPRNG in URL-safe
/// base64 without padding (43 characters). Returns the text, shown to its owner once, and its hash,
/// which is all the store keeps.
pub fn generate_key() -> Result<(String, KeyHash), StoreError> {
    let bytes: [u8; 32] = random()?;
    let key = format!("sy-{}", URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash_key(&key);
    Ok((key, hash))
}

/// SHA-256 of the key's text.
///
/// A slow password hash (argon2, bcrypt) is not needed here: it protects low-entropy secrets that
/// people choose, by making each guess expensive. Gateway keys are 256 bits from a CSPRNG, so no
/// guess has a chance whatever its cost, and a fast hash lets every request be authenticated with
/// one index lookup instead of spending milliseconds of CPU per request.
pub fn hash_key(key: &str) -> KeyHash {
    let d = digest(&SHA256, key.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    KeyHash(out)
}

/// AES-256-GCM over values stored at rest. Cheap to clone; `Debug` shows a fingerprint of the key,
/// never the key.
#[derive(Clone)]
pub struct Cipher {
    key: Arc<LessSafeKey>,
    fingerprint: String,
}

impl fmt::Debug for Cipher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Cipher")
            .field("fingerprint", &self.fingerprint)
            .finish()
    }
}

impl Cipher {
    /// A cipher with this 256-bit key.
    pub fn new(key: [u8; 32]) -> Cipher {
        let fingerprint = {
            let mut input = b"switchyard key fingerprint ".to_vec();
            input.extend_from_slice(&key);
            hex(&digest(&SHA256, &input).as_ref()[..4])
        };
        // The only error is a key of the wrong length, which the array type rules out.
        let unbound = UnboundKey::new(&AES_256_GCM, &key)
            .unwrap_or_else(|_| unreachable!("AES-256-GCM takes a 32-byte key"));
        Cipher {
            key: Arc::new(LessSafeKey::new(unbound)),
            fingerprint,
        }
    }

    /// The key from configuration text: 64 hex characters, or standard or URL-safe base64 (padded
    /// or not) of exactly 32 bytes. Surrounding whitespace is ignored. The error says what is
    /// expected and never repeats the text.
    pub fn from_text(s: &str) -> Result<Cipher, StoreError> {
        parse_key(s)
            .map(Cipher::new)
            .map_err(|what| StoreError::Crypto(format!("{KEY_VAR} {what}")))
    }

    /// Zero-config key management: reads the key file at `path` (the same text forms as
    /// [`Cipher::from_text`]), or creates it holding 32 random bytes as hex, readable by the owner
    /// only (mode 0600) and with its parent directories, when it does not exist. Two processes
    /// racing to create it end up with the same key. Returns the cipher and whether the file was
    /// created.
    pub fn load_or_create(path: &Path) -> Result<(Cipher, bool), StoreError> {
        let shown = path.display();
        match std::fs::read_to_string(path) {
            Ok(text) => {
                warn_if_readable_by_others(path);
                return Ok((Self::from_key_file(path, &text)?, false));
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(StoreError::Crypto(format!(
                    "cannot read key file {shown}: {e}"
                )))
            }
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| {
                StoreError::Crypto(format!(
                    "cannot create the directory of key file {shown}: {e}"
                ))
            })?;
        }
        let key: [u8; 32] = random()?;
        // Write a private temporary file, then hard-link it into place: the link fails if another
        // process created the key meanwhile, and nobody ever sees a half-written key file.
        let tmp = path.with_extension(format!("tmp-{}", hex(&random::<8>()?)));
        let written = write_private(&tmp, format!("{}\n", hex(&key)).as_bytes())
            .and_then(|()| std::fs::hard_link(&tmp, path));
        let _ = std::fs::remove_file(&tmp);
        match written {
            Ok(()) => Ok((Cipher::new(key), true)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let text = std::fs::read_to_string(path).map_err(|e| {
                    StoreError::Crypto(format!("cannot read key file {shown}: {e}"))
                })?;
                Ok((Self::from_key_file(path, &text)?, false))
            }
            Err(e) => Err(StoreError::Crypto(format!(
                "cannot create key file {shown}: {e}"
            ))),
        }
    }

    fn from_key_file(path: &Path, text: &str) -> Result<Cipher, StoreError> {
        parse_key(text)
            .map(Cipher::new)
            .map_err(|what| StoreError::Crypto(format!("key file {}: {what}", path.display())))
    }

    /// A short, non-secret identifier of the key (the first bytes of a domain-separated SHA-256),
    /// for telling in logs whether two nodes use the same key.
    pub fn fingerprint(&self) -> &str {
        &self.fingerprint
    }

    /// Seals `plain` under a fresh random nonce.
    pub fn encrypt(&self, plain: &[u8]) -> Result<Vec<u8>, StoreError> {
        self.seal(plain, b"")
    }

    /// Opens a blob made by [`Cipher::encrypt`]. A wrong key or a changed byte is an error.
    pub fn decrypt(&self, blob: &[u8]) -> Result<Vec<u8>, StoreError> {
        self.open(blob, b"")
    }

    /// Seals `plain`, binding it to `context` (authenticated, not stored): the blob only opens with
    /// the same context, so a sealed value cannot be moved to another record.
    pub(crate) fn seal(&self, plain: &[u8], context: &[u8]) -> Result<Vec<u8>, StoreError> {
        let nonce: [u8; NONCE_LEN] = random()?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + plain.len() + TAG_LEN);
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        let mut sealed = plain.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context),
                &mut sealed,
            )
            .map_err(|_| StoreError::Crypto("a secret could not be encrypted".into()))?;
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens a blob made by [`Cipher::seal`] with the same `context`.
    pub(crate) fn open(&self, blob: &[u8], context: &[u8]) -> Result<Vec<u8>, StoreError> {
        let Some((&version, rest)) = blob.split_first() else {
            return Err(StoreError::Crypto("a stored secret is empty".into()));
        };
        if version != VERSION {
            return Err(StoreError::Crypto(format!(
                "a stored secret has an unknown format (version {version})"
            )));
        }
        if rest.len() < NONCE_LEN + TAG_LEN {
            return Err(StoreError::Crypto("a stored secret is truncated".into()));
        }
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce)
            .map_err(|_| StoreError::Crypto("a stored secret is truncated".into()))?;
        let mut buf = sealed.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(context), &mut buf)
            .map_err(|_| {
                StoreError::Crypto(format!(
                    "a stored secret could not be decrypted: wrong {KEY_VAR}? (this key's \
                 fingerprint is {})",
                    self.fingerprint
                ))
            })?;
        Ok(plain.to_vec())
    }
}

/// 32 key bytes from their text forms, or what is wrong with the text (without repeating it).
fn parse_key(s: &str) -> Result<[u8; 32], String> {
    let s = s.trim();
    if s.len() == 64 {
        if let Some(bytes) = unhex(s) {
            return Ok(bytes);
        }
    }
    for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        if let Ok(bytes) = engine.decode(s) {
            if let Ok(key) = <[u8; 32]>::try_from(bytes.as_slice()) {
                return Ok(key);
            }
        }
    }
    Err(format!(
        "must be 32 bytes written as 64 hex characters or as base64 (e.g. the output of \
         `openssl rand -hex 32`); got {} characters that are neither",
        s.chars().count()
    ))
}

/// `N` bytes from the system's CSPRNG.
pub(crate) fn random<const N: usize>() -> Result<[u8; N], StoreError> {
    let mut out = [0u8; N];
    SystemRandom::new()
        .fill(&mut out)
        .map_err(|_| StoreError::Crypto("the system random generator failed".into()))?;
    Ok(out)
}

/// A new record id: `prefix` and 24 lowercase hex characters (96 random bits).
pub(crate) fn new_id(prefix: &str) -> Result<String, StoreError> {
    Ok(format!("{prefix}{}", hex(&random::<12>()?)))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    s
}

fn unhex(s: &str) -> Option<[u8; 32]> {
    let digits = s.as_bytes();
    let mut out = [0u8; 32];
    for (i, pair) in digits.chunks(2).enumerate() {
        let hi = char::from(pair[0]).to_digit(16)?;
        let lo = char::from(*pair.get(1)?).to_digit(16)?;
        *out.get_mut(i)? = u8::try_from(hi * 16 + lo).ok()?;
    }
    Some(out)
}

/// A key file others can read gives the stored secrets away with a copy of the database.
#[cfg(unix)]
fn warn_if_readable_by_others(path: &Path) {
    use std::os::unix::fs::PermissionsExt as _;
    if let Ok(meta) = std::fs::metadata(path) {
        if meta.permissions().mode() & 0o077 != 0 {
            tracing::warn!(path = %path.display(), "the encryption key file is readable by others; chmod 600 it");
        }
    }
}

#[cfg(not(unix))]
fn warn_if_readable_by_others(_path: &Path) {}

#[cfg(unix)]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_value_opens_only_with_its_context() {
        let c = Cipher::new([7; 32]);
        let blob = c.seal(b"secret", b"vk_1").unwrap();
        assert_eq!(c.open(&blob, b"vk_1").unwrap(), b"secret");
        assert!(matches!(c.open(&blob, b"vk_2"), Err(StoreError::Crypto(_))));
    }

    #[test]
    fn hex_round_trips() {
        let key = [0xab; 32];
        assert_eq!(unhex(&hex(&key)), Some(key));
        assert_eq!(unhex(&"g".repeat(64)), None);
    }
}
