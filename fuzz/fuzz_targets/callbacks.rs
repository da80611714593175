#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| paybridge_testkit::fuzz::callbacks(data));
