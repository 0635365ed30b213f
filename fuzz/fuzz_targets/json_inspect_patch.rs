//! `json::inspect` and `json::patch_object` on arbitrary bytes.
//!
//! Whenever `patch_object` accepts a body its output must be valid JSON that `inspect` can read,
//! with every override applied and every other member's value kept byte for byte.

#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::value::RawValue;
use serde_json::Value;
use switchyard_types::json::{inspect, patch_object, BodyError};

fuzz_target!(|data: &[u8]| {
    let head = inspect(data);
    let model = RawValue::from_string("\"patched-model\"".into()).unwrap();
    let temp = RawValue::from_string("0.5".into()).unwrap();
    let obj = RawValue::from_string("{\"include_usage\":true}".into()).unwrap();
    let overrides = [
        ("model", &*model),
        ("temperature", &*temp),
        ("stream_options", &*obj),
    ];
    if let Ok(out) = patch_object(data, &overrides) {
        let v: Value = serde_json::from_slice(&out).expect("patched body is not valid JSON");
        assert_eq!(v["model"], "patched-model");
        assert_eq!(v["temperature"], 0.5);
        let patched = inspect(&out);
        match &patched {
            Ok(h) => {
                assert_eq!(h.model.as_deref(), Some("patched-model"));
                assert!(h.include_usage);
            }
            // `stream` is not overridden: it may still have the wrong type.
            Err(BodyError::WrongType {
                field: "stream", ..
            }) => {}
            Err(e) => panic!("patched body unreadable: {e:?}"),
        }
        // Every value of the input is still in the output, byte for byte, unless replaced.
        if let Ok(s) = std::str::from_utf8(data) {
            if let Ok(members) =
                serde_json::from_str::<std::collections::BTreeMap<String, &RawValue>>(s)
            {
                for (k, raw) in members {
                    if !matches!(k.as_str(), "model" | "temperature" | "stream_options") {
                        let needle = raw.get().as_bytes();
                        assert!(out.windows(needle.len()).any(|w| w == needle));
                    }
                }
            }
        }
        // A body patch_object accepts is an object, so inspect never calls it a non-object.
        assert!(!matches!(head, Err(BodyError::NotAnObject)));
    }
});
