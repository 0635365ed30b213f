//! The cipher, its key file, and gateway-key material (no database).

use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use switchyard_store::{generate_key, hash_key, Cipher, StoreError};

use crate::common::{hex, unique};

const KEY: [u8; 32] =
    *b"0123456789abcdef\xff\xfe\xfd\xfc\xfb\xfa\xf9\xf8\xf7\xf6\xf5\xf4\xf3\xf2\xf1\xf0";

/// `a` and `b` hold the same key: each opens what the other sealed.
fn same_key(a: &Cipher, b: &Cipher) -> bool {
    let blob = a.encrypt(b"probe").unwrap();
    b.decrypt(&blob).map(|p| p == b"probe").unwrap_or(false)
}

#[test]
fn from_text_accepts_32_bytes_as_hex_or_base64() {
    let reference = Cipher::new(KEY);
    for text in [
        hex(&KEY),
        hex(&KEY).to_uppercase(),
        format!("  {}\n", hex(&KEY)),
        STANDARD.encode(KEY),
        STANDARD.encode(KEY).trim_end_matches('=').to_owned(),
        URL_SAFE_NO_PAD.encode(KEY),
    ] {
        let cipher = Cipher::from_text(&text).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert!(same_key(&reference, &cipher), "{text:?}");
    }
}

#[test]
fn from_text_rejects_anything_else_and_says_what_is_expected() {
    for text in [
        String::new(),
        "hunter2".into(),
        hex(&KEY[..31]),
        format!("{}00", hex(&KEY)),
        STANDARD.encode([7u8; 33]),
        STANDARD.encode([7u8; 16]),
        "g".repeat(64),
    ] {
        match Cipher::from_text(&text) {
            Err(StoreError::Crypto(m)) => {
                assert!(
                    m.contains("SWITCHYARD_ENCRYPTION_KEY") && m.contains("64 hex"),
                    "{m}"
                );
                assert!(text.len() < 8 || !m.contains(&text), "echoes the text: {m}");
                assert!(!m.contains("hunter2"), "{m}");
            }
            other => panic!("{text:?}: expected an error, got {other:?}"),
        }
    }
}

#[test]
fn encryption_round_trips_with_a_fresh_nonce_and_detects_tampering() {
    let cipher = Cipher::new(KEY);
    let plain = br#"{"api_key":"sk-123"}"#;
    let blob = cipher.encrypt(plain).unwrap();
    assert_eq!(blob[0], 1, "version byte");
    assert_eq!(blob.len(), 1 + 12 + plain.len() + 16);
    assert!(!crate::common::contains(&blob, b"sk-123"));
    assert_eq!(cipher.decrypt(&blob).unwrap(), plain);
    assert_ne!(
        cipher.encrypt(plain).unwrap(),
        blob,
        "nonces must not repeat"
    );

    let wrong = Cipher::new([9; 32]);
    let mut tampered = blob.clone();
    *tampered.last_mut().unwrap() ^= 1;
    for (what, result) in [
        ("wrong key", wrong.decrypt(&blob)),
        ("tampered", cipher.decrypt(&tampered)),
    ] {
        match result {
            Err(StoreError::Crypto(m)) => {
                assert!(
                    m.contains("could not be decrypted: wrong SWITCHYARD_ENCRYPTION_KEY?"),
                    "{m}"
                )
            }
            other => panic!("{what}: expected a crypto error, got {other:?}"),
        }
    }
    for bad in [&[][..], &blob[..10], &[2u8; 40][..]] {
        assert!(
            matches!(cipher.decrypt(bad), Err(StoreError::Crypto(_))),
            "{bad:?}"
        );
    }
}

#[test]
fn debug_output_shows_a_fingerprint_not_the_key() {
    let cipher = Cipher::new([0x41; 32]);
    let shown = format!("{cipher:?}");
    assert!(
        !shown.contains("4141") && !shown.contains("AAAA"),
        "{shown}"
    );
    assert!(shown.contains(cipher.fingerprint()), "{shown}");
    assert_ne!(cipher.fingerprint(), Cipher::new([0x42; 32]).fingerprint());
}

#[test]
fn load_or_create_makes_a_private_key_file_once_and_reads_it_back() {
    let dir = std::env::temp_dir().join(unique("switchyard_key_t_"));
    let path = dir.join("nested").join("encryption.key");

    let (created, was_created) = Cipher::load_or_create(&path).unwrap();
    assert!(was_created);
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.trim().len(), 64, "{text:?}");
    assert!(text.trim().bytes().all(|b| b.is_ascii_hexdigit()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{mode:o}");
    }

    let (loaded, was_created) = Cipher::load_or_create(&path).unwrap();
    assert!(!was_created);
    assert!(same_key(&created, &loaded));
    assert!(same_key(&Cipher::from_text(&text).unwrap(), &loaded));
    assert_eq!(
        std::fs::read_dir(path.parent().unwrap()).unwrap().count(),
        1,
        "no temp files left"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn load_or_create_racing_threads_agree_on_one_key() {
    let dir = std::env::temp_dir().join(unique("switchyard_key_t_"));
    let path = dir.join("encryption.key");
    let results: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| Cipher::load_or_create(&path).unwrap()))
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(results.iter().filter(|(_, created)| *created).count(), 1);
    for (cipher, _) in &results {
        assert!(same_key(&results[0].0, cipher));
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn load_or_create_rejects_a_malformed_key_file_naming_it() {
    let dir = std::env::temp_dir().join(unique("switchyard_key_t_"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("encryption.key");
    std::fs::write(&path, "not a key").unwrap();
    match Cipher::load_or_create(&path) {
        Err(StoreError::Crypto(m)) => {
            assert!(m.contains("encryption.key") && m.contains("64 hex"), "{m}")
        }
        other => panic!("expected an error, got {:?}", other.map(|(c, _)| c)),
    }
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        "not a key",
        "left as it was"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn generated_keys_are_random_sy_keys_whose_hash_is_sha256_of_the_text() {
    let (a, hash_a) = generate_key().unwrap();
    let (b, _) = generate_key().unwrap();
    assert_ne!(a, b);
    assert!(a.starts_with("sy-") && a.len() == 46, "{a}");
    assert_eq!(URL_SAFE_NO_PAD.decode(&a[3..]).unwrap().len(), 32);
    assert_eq!(hash_a, hash_key(&a));
    assert_eq!(
        hex(&hash_key("abc").0),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}
