#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| paybridge_tests::fuzz::payoo_rest(data));
