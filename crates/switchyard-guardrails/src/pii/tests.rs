//! Tests of the PII detector.

use super::*;

fn found(text: &str) -> Vec<(&'static str, &str)> {
    detect(text, &Categories::ALL)
        .into_iter()
        .map(|f| (f.category.name(), &text[f.start..f.end]))
        .collect()
}

const JWT: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c";
const ANTHROPIC: &str = "sk-ant-api03-AbCdEf1234567890GhIjKlMnOpQrStUvWxYz_-0123456789abcdEFGH";
const OPENAI: &str = "sk-proj-Ab3dEfGh1JkLmN0pQrStUvWxYz0123456789";

#[test]
fn finds_each_category() {
    let cases: Vec<(String, Vec<(&str, &str)>)> = vec![
        ("mail john.doe+x@mail.example.co.uk now".into(), vec![("email", "john.doe+x@mail.example.co.uk")]),
        ("call +44 20 7946 0958 or (555) 123-4567 or 555.123.4567".into(),
         vec![("phone", "+44 20 7946 0958"), ("phone", "(555) 123-4567"), ("phone", "555.123.4567")]),
        ("card 4111 1111 1111 1111, amex 3782-822463-10005, bare 5555555555554444".into(),
         vec![("credit_card", "4111 1111 1111 1111"), ("credit_card", "3782-822463-10005"), ("credit_card", "5555555555554444")]),
        ("card 4111 1111 1111 1111 12 months".into(), vec![("credit_card", "4111 1111 1111 1111")]),
        ("ssn 123-45-6789 and 078 05 1120".into(), vec![("ssn", "123-45-6789"), ("ssn", "078 05 1120")]),
        ("iban GB82 WEST 1234 5698 7654 32 and DE89370400440532013000 ok".into(),
         vec![("iban", "GB82 WEST 1234 5698 7654 32"), ("iban", "DE89370400440532013000")]),
        ("hosts 192.168.1.20, 2001:db8::8a2e:370:7334 and ::ffff:192.0.2.1.".into(),
         vec![("ip_address", "192.168.1.20"), ("ip_address", "2001:db8::8a2e:370:7334"), ("ip_address", "::ffff:192.0.2.1")]),
        ("aws AKIAIOSFODNN7EXAMPLE key".into(), vec![("aws_access_key", "AKIAIOSFODNN7EXAMPLE")]),
        ("gcp AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY done".into(), vec![("gcp_api_key", "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY")]),
        (format!("keys {OPENAI} and {ANTHROPIC}"), vec![("openai_api_key", OPENAI), ("anthropic_api_key", ANTHROPIC)]),
        ("old sk-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghijkl".into(), vec![("openai_api_key", "sk-AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdefghijkl")]),
        ("gh ghp_16C7e42F292c6912E7710c838347Ae178B4a and github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEF".into(),
         vec![("github_token", "ghp_16C7e42F292c6912E7710c838347Ae178B4a"), ("github_token", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEF")]),
        (format!("Bearer {JWT}"), vec![("jwt", JWT)]),
    ];
    for (text, want) in cases {
        assert_eq!(found(&text), want, "{text}");
    }
}

#[test]
fn rejects_lookalikes() {
    for text in [
        "order 4111 1111 1111 1112 (bad Luhn)",
        "0000 0000 0000 0000",
        "ssn 000-12-3456, 666-12-3456, 912-34-5678, 123-00-4567",
        "iban GB82 WEST 1234 5698 7654 33",
        "version 1.2.3.4.5 and 256.1.1.1",
        "std::io::Result, a::b, 12:30:45, Foo::bar(), ::",
        "MAC 00:1A:2B:3C:4D:5E",
        "sk-this-is-not-a-real-key-at-all",
        "task-AbCdEf1234567890GhIjKl",
        "eyJub3QiOiJhIGp3dCJ9.eyJzdWIiOiIxIn0.sig",
        "the year 2024 and number 12345678",
        "math: 3+4 = 7",
        "room 555-1234",
        "user@localhost",
    ] {
        assert_eq!(found(text), vec![], "{text}");
    }
}

#[test]
fn redacts_with_stable_numbers() {
    let text = "a@x.com wrote to b@y.org, then a@x.com again; card 4111111111111111.";
    let (redacted, findings) = redact(text, &Categories::ALL);
    assert_eq!(
        redacted,
        "[EMAIL_1] wrote to [EMAIL_2], then [EMAIL_1] again; card [CREDIT_CARD_1]."
    );
    assert_eq!(findings.len(), 4);
    assert_eq!(findings[2].placeholder(), "[EMAIL_1]");
    assert_eq!((findings[3].start, findings[3].end), (51, 67));

    let only_cards = Categories::NONE.with(Category::CreditCard);
    assert_eq!(
        redact(text, &only_cards).0,
        "a@x.com wrote to b@y.org, then a@x.com again; card [CREDIT_CARD_1]."
    );
    assert_eq!(redact(text, &Categories::NONE).0, text);

    let mut r = Redactor::new(Categories::ALL);
    assert_eq!(r.redact("from a@x.com").0, "from [EMAIL_1]");
    assert_eq!(
        r.redact("to b@x.com, cc a@x.com").0,
        "to [EMAIL_2], cc [EMAIL_1]"
    );
    assert_eq!(
        redact("no pii here", &Categories::ALL),
        ("no pii here".to_owned(), vec![])
    );
}

#[test]
fn overlaps_go_to_the_most_specific() {
    // An Anthropic key also matches the OpenAI pattern; an IBAN-looking card is a card.
    assert_eq!(found(ANTHROPIC), vec![("anthropic_api_key", ANTHROPIC)]);
    let only_openai = Categories::NONE.with(Category::OpenaiApiKey);
    assert!(detect(ANTHROPIC, &only_openai).is_empty());
    // A phone number inside an e-mail's local part is part of the e-mail.
    assert_eq!(
        found("555-123-4567@example.com"),
        vec![("email", "555-123-4567@example.com")]
    );
}

#[test]
fn categories() {
    assert_eq!(
        Categories::from_names(["email", "JWT"]),
        Ok(Categories::NONE.with(Category::Email).with(Category::Jwt))
    );
    assert!(Categories::from_names(["email", "passport"])
        .unwrap_err()
        .contains("\"passport\""));
    assert_eq!(Categories::ALL.iter().count(), 12);
    assert_eq!(
        Category::ALL.into_iter().collect::<Categories>(),
        Categories::ALL
    );
    for c in Category::ALL {
        assert_eq!(Category::from_name(c.name()), Some(c));
    }
    assert_eq!(ensure_compiled(), Ok(()));
}

#[test]
fn checksums() {
    assert!(luhn(&digits("4111111111111111")));
    assert!(!luhn(&digits("4111111111111112")));
    assert!(iban_ok("GB82WEST12345698765432"));
    assert!(iban_ok("DE89 3704 0044 0532 0130 00"));
    assert!(!iban_ok("DE89 3704 0044 0532 0130 01"));
}
