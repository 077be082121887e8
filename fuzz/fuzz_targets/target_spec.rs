#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| kreach::fuzzing::target_spec(data));
