//! JSON Schema → Gemini Schema conversion, with real-world schemas (Pydantic v1/v2, an MCP
//! server tool from zod-to-json-schema, OpenAI strict structured outputs, a zod union).

use serde_json::{json, Value};

use super::schema::{convert, convert_parameters};
use crate::native::TranslateError;

fn fixture(name: &str) -> Value {
    let text = match name {
        "schema_pydantic_v2.json" => include_str!("../../fixtures/google/schema_pydantic_v2.json"),
        "schema_pydantic_v2.expected.json" => {
            include_str!("../../fixtures/google/schema_pydantic_v2.expected.json")
        }
        "schema_pydantic_v1.json" => include_str!("../../fixtures/google/schema_pydantic_v1.json"),
        "schema_pydantic_v1.expected.json" => {
            include_str!("../../fixtures/google/schema_pydantic_v1.expected.json")
        }
        "schema_mcp_edit_file.json" => {
            include_str!("../../fixtures/google/schema_mcp_edit_file.json")
        }
        "schema_mcp_edit_file.expected.json" => {
            include_str!("../../fixtures/google/schema_mcp_edit_file.expected.json")
        }
        "schema_openai_strict.json" => {
            include_str!("../../fixtures/google/schema_openai_strict.json")
        }
        "schema_openai_strict.expected.json" => {
            include_str!("../../fixtures/google/schema_openai_strict.expected.json")
        }
        "schema_zod_union.json" => include_str!("../../fixtures/google/schema_zod_union.json"),
        "schema_zod_union.expected.json" => {
            include_str!("../../fixtures/google/schema_zod_union.expected.json")
        }
        "schema_recursive.json" => include_str!("../../fixtures/google/schema_recursive.json"),
        other => panic!("unknown fixture {other}"),
    };
    serde_json::from_str(text).unwrap()
}

fn golden(name: &str) {
    let input = fixture(&format!("{name}.json"));
    let expected = fixture(&format!("{name}.expected.json"));
    let got = convert(&input, "p").unwrap();
    assert_eq!(got, expected, "{name}: got {got:#}");
}

fn invalid_message(err: TranslateError) -> String {
    match err {
        TranslateError::InvalidRequest { message, param } => {
            assert_eq!(param.as_deref(), Some("p"));
            message
        }
        other => panic!("expected InvalidRequest, got {other:?}"),
    }
}

#[test]
fn pydantic_v2_defs_are_inlined_and_optional_fields_become_nullable() {
    golden("schema_pydantic_v2");
}

#[test]
fn pydantic_v1_all_of_ref_is_merged_and_integer_enum_moves_to_description() {
    golden("schema_pydantic_v1");
}

#[test]
fn mcp_tool_schema_loses_schema_uri_additional_properties_and_default() {
    golden("schema_mcp_edit_file");
}

#[test]
fn openai_strict_type_lists_become_nullable_or_any_of() {
    golden("schema_openai_strict");
}

#[test]
fn zod_union_keeps_any_of_and_drops_unsupported_formats_and_keywords() {
    golden("schema_zod_union");
}

#[test]
fn recursive_ref_is_rejected_naming_the_reference() {
    let err = convert(&fixture("schema_recursive.json"), "p").unwrap_err();
    let msg = invalid_message(err);
    assert!(msg.contains("#/$defs/Node"), "{msg}");
    assert!(msg.contains("recursive"), "{msg}");
}

#[test]
fn external_and_dangling_refs_are_rejected() {
    let ext =
        json!({"type": "object", "properties": {"a": {"$ref": "https://example.com/s.json"}}});
    assert!(invalid_message(convert(&ext, "p").unwrap_err()).contains("not local"));
    let dangling = json!({"type": "object", "properties": {"a": {"$ref": "#/$defs/Missing"}}});
    assert!(invalid_message(convert(&dangling, "p").unwrap_err()).contains("does not resolve"));
}

#[test]
fn ref_siblings_override_the_target() {
    let s = json!({
        "type": "object",
        "properties": {"u": {"$ref": "#/definitions/U", "description": "the unit"}},
        "definitions": {"U": {"type": "string", "description": "generic", "enum": ["a", "b"]}}
    });
    let got = convert(&s, "p").unwrap();
    assert_eq!(
        got["properties"]["u"],
        json!({"type": "STRING", "description": "the unit", "enum": ["a", "b"]})
    );
}

#[test]
fn one_of_is_read_as_any_of_and_null_branch_sets_nullable() {
    let s = json!({"oneOf": [{"type": "string"}, {"type": "integer"}, {"type": "null"}], "description": "d"});
    assert_eq!(
        convert(&s, "p").unwrap(),
        json!({"anyOf": [{"type": "STRING"}, {"type": "INTEGER"}], "description": "d", "nullable": true})
    );
}

#[test]
fn null_only_schema_is_rejected() {
    let s = json!({"type": "object", "properties": {"x": {"type": "null"}}});
    assert!(invalid_message(convert(&s, "p").unwrap_err()).contains("only allows null"));
}

#[test]
fn missing_type_is_inferred_from_keywords() {
    assert_eq!(
        convert(&json!({"properties": {"a": {"type": "string"}}}), "p").unwrap()["type"],
        "OBJECT"
    );
    assert_eq!(
        convert(&json!({"items": {"type": "string"}}), "p").unwrap()["type"],
        "ARRAY"
    );
    assert_eq!(
        convert(&json!({"enum": ["x", "y"]}), "p").unwrap(),
        json!({"type": "STRING", "enum": ["x", "y"]})
    );
    assert_eq!(
        convert(&json!({"enum": [1, 2]}), "p").unwrap()["type"],
        "INTEGER"
    );
    assert_eq!(
        convert(&json!({"minimum": 1.5}), "p").unwrap(),
        json!({"type": "NUMBER", "minimum": 1.5})
    );
    assert_eq!(
        convert(&json!(true), "p").unwrap(),
        json!({"type": "STRING"})
    );
}

#[test]
fn array_without_items_gets_string_items() {
    assert_eq!(
        convert(&json!({"type": "array"}), "p").unwrap(),
        json!({"type": "ARRAY", "items": {"type": "STRING"}})
    );
}

#[test]
fn keywords_are_kept_only_for_their_type() {
    let s = json!({"type": "string", "minimum": 3, "items": {"type": "string"}, "pattern": "^a", "minLength": 1});
    assert_eq!(
        convert(&s, "p").unwrap(),
        json!({"type": "STRING", "pattern": "^a", "minLength": 1})
    );
}

#[test]
fn number_formats_are_kept_and_unknown_ones_dropped() {
    assert_eq!(
        convert(&json!({"type": "integer", "format": "int64"}), "p").unwrap()["format"],
        "int64"
    );
    assert_eq!(
        convert(&json!({"type": "number", "format": "double"}), "p").unwrap()["format"],
        "double"
    );
    assert!(convert(&json!({"type": "integer", "format": "uint8"}), "p")
        .unwrap()
        .get("format")
        .is_none());
}

#[test]
fn required_names_that_are_not_properties_are_dropped() {
    let s = json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a", "ghost"]});
    assert_eq!(convert(&s, "p").unwrap()["required"], json!(["a"]));
    let none =
        json!({"type": "object", "properties": {"a": {"type": "string"}}, "required": ["ghost"]});
    assert!(convert(&none, "p").unwrap().get("required").is_none());
}

#[test]
fn all_of_merges_properties_and_required() {
    let s = json!({"allOf": [
        {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]},
        {"properties": {"b": {"type": "integer"}}, "required": ["b"]}
    ]});
    assert_eq!(
        convert(&s, "p").unwrap(),
        json!({"type": "OBJECT", "properties": {"a": {"type": "STRING"}, "b": {"type": "INTEGER"}}, "required": ["a", "b"]})
    );
}

#[test]
fn absurd_nesting_is_refused_not_overflowed() {
    let mut s = json!({"type": "string"});
    for _ in 0..200 {
        s = json!({"type": "array", "items": s});
    }
    assert!(invalid_message(convert(&s, "p").unwrap_err()).contains("nested too deeply"));
}

#[test]
fn parameters_must_be_an_object_and_empty_objects_are_omitted() {
    let empty = json!({"type": "object", "properties": {}, "required": []});
    assert_eq!(convert_parameters(&empty, "p").unwrap(), None);
    let bare = json!({"type": "object", "additionalProperties": false});
    assert_eq!(convert_parameters(&bare, "p").unwrap(), None);
    let scalar = json!({"type": "string"});
    assert!(invalid_message(convert_parameters(&scalar, "p").unwrap_err()).contains("type object"));
    let ok = json!({"type": "object", "properties": {"q": {"type": "string"}}});
    assert_eq!(
        convert_parameters(&ok, "p").unwrap(),
        Some(json!({"type": "OBJECT", "properties": {"q": {"type": "STRING"}}}))
    );
}

#[test]
fn property_ordering_is_kept_when_it_names_properties() {
    let s = json!({"type": "object", "properties": {"b": {"type": "string"}, "a": {"type": "string"}}, "propertyOrdering": ["b", "a"]});
    assert_eq!(
        convert(&s, "p").unwrap()["propertyOrdering"],
        json!(["b", "a"])
    );
    let bad = json!({"type": "object", "properties": {"a": {"type": "string"}}, "propertyOrdering": ["z"]});
    assert!(convert(&bad, "p")
        .unwrap()
        .get("propertyOrdering")
        .is_none());
}

#[test]
fn parent_keywords_apply_to_constraint_only_any_of_branches() {
    // "At least one of a/b": the properties must not be lost.
    let s = json!({
        "type": "object",
        "description": "lookup",
        "properties": {"a": {"type": "string"}, "b": {"type": "string"}},
        "anyOf": [{"required": ["a"]}, {"required": ["b"]}]
    });
    let props = json!({"a": {"type": "STRING"}, "b": {"type": "STRING"}});
    assert_eq!(
        convert(&s, "p").unwrap(),
        json!({"anyOf": [
            {"type": "OBJECT", "properties": props, "required": ["a"]},
            {"type": "OBJECT", "properties": props, "required": ["b"]}
        ], "description": "lookup"})
    );
    // Branches that differ only in dropped keywords collapse to one schema.
    let s = json!({"type": "string", "anyOf": [{"format": "date"}, {"format": "uri"}]});
    assert_eq!(convert(&s, "p").unwrap(), json!({"type": "STRING"}));
}

#[test]
fn optional_ref_keeps_the_outer_description() {
    let s = json!({
        "type": "object",
        "properties": {"home": {
            "anyOf": [{"$ref": "#/$defs/Address"}, {"type": "null"}],
            "description": "where they live"
        }},
        "$defs": {"Address": {"type": "object", "description": "an address", "properties": {"city": {"type": "string"}}}}
    });
    assert_eq!(
        convert(&s, "p").unwrap()["properties"]["home"],
        json!({"type": "OBJECT", "description": "where they live", "nullable": true, "properties": {"city": {"type": "STRING"}}})
    );
}
