#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kreach_lambda::fuzz_event(data));
