#![no_main]
//! Fuzz target: see `oss_blocking::fuzzing::endpoint` for the input layout.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    oss_blocking::fuzzing::endpoint(data);
});
