//! A `multipart/form-data` body of text fields (RFC 7578), as Stability's v2beta API takes it.

use crate::native::TranslateError;

/// The body and its `content-type` (with the boundary) for `fields`, in order. The boundary is
/// built from `seed` (a per-request id); a field value that contains it is refused rather than
/// sent as a broken body.
pub(super) fn form(
    fields: &[(&str, String)],
    seed: &str,
) -> Result<(Vec<u8>, String), TranslateError> {
    let boundary = format!(
        "switchyard-{}",
        seed.chars()
            .filter(char::is_ascii_alphanumeric)
            .take(40)
            .collect::<String>()
    );
    let mut body = Vec::with_capacity(fields.iter().map(|(_, v)| v.len() + 96).sum());
    for (name, value) in fields {
        if value.contains(&boundary) {
            return Err(TranslateError::invalid_request(
                format!("{name} contains the form boundary {boundary:?}"),
                Some(name),
            ));
        }
        body.extend_from_slice(b"--");
        body.extend_from_slice(boundary.as_bytes());
        body.extend_from_slice(b"\r\nContent-Disposition: form-data; name=\"");
        // Field names are this module's own ASCII constants: no quoting needed.
        body.extend_from_slice(name.as_bytes());
        body.extend_from_slice(b"\"\r\n\r\n");
        body.extend_from_slice(value.as_bytes());
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(b"--");
    body.extend_from_slice(boundary.as_bytes());
    body.extend_from_slice(b"--\r\n");
    Ok((body, format!("multipart/form-data; boundary={boundary}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_framed_by_the_boundary_in_order() {
        let (body, ct) = form(
            &[("prompt", "a cat".into()), ("seed", "7".into())],
            "chatcmpl-ab12",
        )
        .unwrap();
        assert_eq!(ct, "multipart/form-data; boundary=switchyard-chatcmplab12");
        assert_eq!(
            String::from_utf8(body).unwrap(),
            "--switchyard-chatcmplab12\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\na cat\r\n\
             --switchyard-chatcmplab12\r\nContent-Disposition: form-data; name=\"seed\"\r\n\r\n7\r\n\
             --switchyard-chatcmplab12--\r\n"
        );
    }

    #[test]
    fn a_value_holding_the_boundary_is_refused() {
        let e = form(&[("prompt", "x switchyard-id1 y".into())], "id1").unwrap_err();
        assert!(
            matches!(e, TranslateError::InvalidRequest { param: Some(p), .. } if p == "prompt")
        );
    }
}
