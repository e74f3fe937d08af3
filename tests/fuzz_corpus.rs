//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/`, seeds plus any crash
//! reproducers) through the same entry points the cargo-fuzz targets call, so a fixed crash
//! stays fixed on stable Rust and in CI, where the fuzzers themselves do not run.
#![allow(clippy::restriction)] // Cargo.toml's no-panic lints are for the library, not tests

use std::path::Path;

use oss_blocking::fuzzing;

fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        if path.is_file() {
            let data = std::fs::read(&path).unwrap();
            run(&data);
            count += 1;
        }
    }
    assert!(count > 0, "no corpus in {}", dir.display());
}

#[test]
fn error_xml_corpus() {
    replay("error_xml", fuzzing::error_response);
}

#[test]
fn response_headers_corpus() {
    replay("response_headers", fuzzing::response_headers);
}

#[test]
fn names_corpus() {
    replay("names", fuzzing::names);
}

#[test]
fn endpoint_corpus() {
    replay("endpoint", fuzzing::endpoint);
}

#[test]
fn hostile_inputs_do_not_panic() {
    // Inputs worth keeping even without a fuzzer: huge numbers, broken UTF-8, empty parts.
    let inputs: [&[u8]; 8] = [
        b"",
        b"\xff\xfe\xfd",
        b"x-oss-hash-crc64ecma: 99999999999999999999999999\nDate: Fri, 31 Dec 9999 23:59:59 GMT",
        b"Date: Thu, 01 Jan 1970 00:00:00 GMT",
        b"\x00\x00\n\n<Error><Code>",
        b"\x01\xf4x-oss-err: ###\n\n",
        b"\xff[::1\n\n\n",
        b"\x00http://\xc3\x28:99999999999\ncn-hangzhou\n\n",
    ];
    for input in inputs {
        fuzzing::error_response(input);
        fuzzing::response_headers(input);
        fuzzing::names(input);
        fuzzing::endpoint(input);
    }
}
