//! OCI signing against a fixed key: the signature must equal the one OpenSSL computes for the
//! same signing string (`openssl dgst -sha256 -sign test_sa_key.pem`), and verify with the
//! key's public half.

use std::time::{Duration, UNIX_EPOCH};

use ring::signature::{UnparsedPublicKey, RSA_PKCS1_2048_8192_SHA256};

use super::*;

const KEY: &str = include_str!("../testdata/test_sa_key.pem");
const KEY_PKCS1: &str = include_str!("../testdata/test_sa_key_pkcs1.pem");
const URL: &str =
    "https://inference.generativeai.us-chicago-1.oci.oraclecloud.com/20231130/actions/chat";
const KEY_ID: &str = "ocid1.tenancy.oc1..aaaa/ocid1.user.oc1..bbbb/12:34:56:78:90:ab:cd:ef";

/// The signing string below, signed by OpenSSL with `test_sa_key.pem` (PKCS#1 v1.5 signatures
/// are deterministic):
///
/// ```text
/// (request-target): post /20231130/actions/chat
/// date: Tue, 14 Nov 2023 22:13:20 GMT
/// host: inference.generativeai.us-chicago-1.oci.oraclecloud.com
/// x-content-sha256: AVq9f1zFei3ZS3WQ8ErYCEJzkF7jPsXOvq5iJ2qX+GI=
/// content-type: application/json
/// content-length: 7
/// ```
const OPENSSL_SIGNATURE: &str = "XFCPcrG7fNoHDyNlF4rVUjebuzBGERDu/Fh2CtBoFJQZyfrpI1RvJrokreT5gKs1c2kes3MxMDXiamWKYku5HmHoaXiIFxz+WnnYaIfL5FpK7wHB5AnIdPkI7GrPdmIEy9XTZMXLekJjNdHE6FNK5xOAq3yfBP+96DeaEsApvkcKG960q2A7HjydG3IgTUgd9+nynStbxy8ZIiXw6BFon1Vlv6B2Yi3rjYjXvYJjrFAviNNSUyxSkHntZizQjUS1HVXw8tB65wanzsSiFUc9ICpkrQjt/wQhvK1c81ZpdTxoigLzdBYbZY7chJI1MND9t2W/QiCXxkd/Z3D/cMVuyw==";

fn creds(key: &str) -> OciCredentials {
    OciCredentials {
        key_id: KEY_ID.to_owned(),
        private_key: Secret::new(key),
    }
}

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn signed(key: &str, url: &str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    sign(
        &Method::POST,
        url,
        &mut headers,
        br#"{"a":1}"#,
        &creds(key),
        now(),
    )
    .unwrap();
    headers
}

fn param(auth: &str, name: &str) -> String {
    let start = format!("{name}=\"");
    let rest = auth.split(&start).nth(1).unwrap();
    rest.split('"').next().unwrap().to_owned()
}

#[test]
fn signature_matches_openssl_for_pkcs8_and_pkcs1_keys() {
    for key in [KEY, KEY_PKCS1] {
        let h = signed(key, URL);
        let auth = h.get("authorization").unwrap().to_str().unwrap();
        assert!(
            auth.starts_with("Signature version=\"1\",keyId=\""),
            "{auth}"
        );
        assert_eq!(param(auth, "keyId"), KEY_ID);
        assert_eq!(param(auth, "algorithm"), "rsa-sha256");
        assert_eq!(
            param(auth, "headers"),
            "(request-target) date host x-content-sha256 content-type content-length"
        );
        assert_eq!(param(auth, "signature"), OPENSSL_SIGNATURE);
        assert_eq!(h.get("date").unwrap(), "Tue, 14 Nov 2023 22:13:20 GMT");
        assert_eq!(
            h.get("x-content-sha256").unwrap(),
            "AVq9f1zFei3ZS3WQ8ErYCEJzkF7jPsXOvq5iJ2qX+GI="
        );
        assert_eq!(h.get("content-length").unwrap(), "7");
        assert!(h.get("authorization").unwrap().is_sensitive());
    }
}

#[test]
fn signature_verifies_with_the_public_key_over_the_signing_string() {
    let url = "http://127.0.0.1:8099/20231130/actions/chat?x=1";
    let h = signed(KEY, url);
    let auth = h.get("authorization").unwrap().to_str().unwrap();
    let sig = STANDARD.decode(param(auth, "signature")).unwrap();
    let ss = format!(
        "(request-target): post /20231130/actions/chat?x=1\ndate: {}\nhost: 127.0.0.1:8099\nx-content-sha256: {}\ncontent-type: application/json\ncontent-length: 7",
        h.get("date").unwrap().to_str().unwrap(),
        h.get("x-content-sha256").unwrap().to_str().unwrap()
    );
    let public = key_pair(KEY).unwrap().public().as_ref().to_vec();
    UnparsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, public)
        .verify(ss.as_bytes(), &sig)
        .unwrap();
}

#[test]
fn a_key_with_escaped_newlines_from_a_header_works() {
    let escaped = KEY.trim().replace('\n', "\\n");
    let h = signed(&escaped, URL);
    let auth = h.get("authorization").unwrap().to_str().unwrap();
    assert_eq!(param(auth, "signature"), OPENSSL_SIGNATURE);
}

#[test]
fn signing_again_replaces_the_earlier_signature_headers() {
    let mut headers = HeaderMap::new();
    for _ in 0..2 {
        sign(&Method::POST, URL, &mut headers, b"{}", &creds(KEY), now()).unwrap();
    }
    assert_eq!(headers.get_all("authorization").iter().count(), 1);
    assert_eq!(headers.get_all("date").iter().count(), 1);
    assert_eq!(headers.get("content-type").unwrap(), "application/json");
    let mut get = HeaderMap::new();
    sign(&Method::GET, URL, &mut get, b"", &creds(KEY), now()).unwrap();
    let auth = get.get("authorization").unwrap().to_str().unwrap();
    assert_eq!(param(auth, "headers"), "(request-target) date host");
    assert!(get.get("x-content-sha256").is_none());
}

#[test]
fn missing_options_are_named_and_the_key_never_shows() {
    let all: BTreeMap<String, String> = [
        (OPT_TENANCY, "ocid1.tenancy.oc1..aaaa"),
        (OPT_USER, "ocid1.user.oc1..bbbb"),
        (OPT_FINGERPRINT, "12:34:56:78:90:ab:cd:ef"),
        (OPT_PRIVATE_KEY, KEY),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let c = OciCredentials::from_options(&all).unwrap();
    assert_eq!(c.key_id, KEY_ID);
    let debug = format!("{c:?}");
    assert!(!debug.contains("PRIVATE KEY") && !debug.contains(KEY.lines().nth(1).unwrap()));
    for name in [OPT_TENANCY, OPT_USER, OPT_FINGERPRINT, OPT_PRIVATE_KEY] {
        let mut o = all.clone();
        o.remove(name);
        let (msg, param) = OciCredentials::from_options(&o).unwrap_err();
        assert_eq!(param, name);
        assert!(msg.contains(name), "{msg}");
    }
    let mut o = all.clone();
    o.insert(OPT_USER.into(), "ocid1\",x=\"y".into());
    assert_eq!(OciCredentials::from_options(&o).unwrap_err().1, OPT_USER);
}

#[test]
fn bad_and_encrypted_keys_are_refused_without_quoting_them() {
    let secret_line = KEY.lines().nth(1).unwrap();
    let truncated = KEY.replace(secret_line, "");
    let encrypted = "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHzBJBgkqhkiG9w0BBQ0w\n-----END ENCRYPTED PRIVATE KEY-----\n";
    for (key, expect) in [
        ("just some text", "not a PEM-encoded RSA private key"),
        (truncated.as_str(), "not a PEM-encoded RSA private key"),
        (encrypted, "encrypted"),
    ] {
        let mut headers = HeaderMap::new();
        let err = sign(&Method::POST, URL, &mut headers, b"{}", &creds(key), now()).unwrap_err();
        assert!(matches!(err, AuthError::InvalidCredentials(_)), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains(expect), "{msg}");
        assert!(
            !msg.contains(secret_line) && !msg.contains("MIIFHzBJ"),
            "{msg}"
        );
    }
}

#[test]
fn a_key_is_parsed_once_and_reused_for_later_signatures() {
    let first = cached_key_pair(KEY_PKCS1).unwrap();
    let again = cached_key_pair(KEY_PKCS1).unwrap();
    assert!(Arc::ptr_eq(&first, &again));
    // Another key is another entry, and a bad key is never cached as good.
    let other = cached_key_pair(KEY).unwrap();
    assert!(!Arc::ptr_eq(&first, &other));
    assert!(
        cached_key_pair("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----").is_err()
    );
    assert!(
        cached_key_pair("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----").is_err()
    );
}
