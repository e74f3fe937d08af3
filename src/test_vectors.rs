//! Test-only access to the reference vectors produced by the official Python SDK
//! (`tests/data/vectors-public.json`), shared by the unit tests of every module.

use serde_json::Value;

/// The whole vector file, parsed.
pub(crate) fn all() -> Value {
    serde_json::from_str(include_str!("../tests/data/vectors-public.json"))
        .expect("tests/data/vectors-public.json parses")
}

/// One of `behaviour_cases` by id.
pub(crate) fn behaviour(id: &str) -> Value {
    all()["behaviour_cases"]
        .as_array()
        .expect("behaviour_cases is an array")
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no behaviour case {id}"))
        .clone()
}

/// A JSON object of header name to value as an ordered header list.
pub(crate) fn headers(object: &Value) -> Vec<(String, String)> {
    object
        .as_object()
        .map(|map| {
            map.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                .collect()
        })
        .unwrap_or_default()
}
