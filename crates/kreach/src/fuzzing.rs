//! Entry points for the fuzz targets in `fuzz/` (cargo-fuzz, nightly) and for the test that
//! replays their corpus on stable: every parser of untrusted input, fed raw bytes. Each must
//! return (anything) without panicking, aborting or allocating what the input merely claims.
//! Not part of kreach's API: compiled for tests and with the `fuzzing` feature only.

use crate::input::address::{HostPort, parse_resolver, parse_zone_address};
use crate::input::properties::{Properties, jaas_credentials};
use crate::probe::sasl::{Scram, ScramHash};
use crate::probe::wire::{self, ApiKey, Reader};

/// A Kafka response as kreach decodes it: the first byte picks the API and version, the rest is
/// the frame after its length prefix (header and body).
pub fn kafka_response(data: &[u8]) {
    let Some((&selector, frame)) = data.split_first() else { return };
    let (key, versions) = match selector % 7 {
        0 => (ApiKey::ApiVersions, 0..=3),
        1 => (ApiKey::SaslHandshake, 0..=1),
        2 => (ApiKey::SaslAuthenticate, 0..=2),
        3 => (ApiKey::Metadata, 1..=12),
        4 => (ApiKey::FindCoordinator, 1..=4),
        5 => (ApiKey::OffsetFetch, 2..=7),
        _ => (ApiKey::DescribeConfigs, 0..=4),
    };
    let span = versions.end() - versions.start() + 1;
    let version = versions.start() + i16::from(selector / 7) % span;
    let mut r = Reader::new(frame);
    if wire::response_header(&mut r, key, version).is_err() {
        return;
    }
    let _ = match key {
        ApiKey::ApiVersions => wire::api_versions(&mut r, version).map(drop),
        ApiKey::SaslHandshake => wire::sasl_handshake(&mut r).map(drop),
        ApiKey::SaslAuthenticate => wire::sasl_authenticate(&mut r, version).map(drop),
        ApiKey::Metadata => wire::metadata(&mut r, version).map(drop),
        ApiKey::FindCoordinator => wire::find_coordinator(&mut r, version).map(drop),
        ApiKey::OffsetFetch => wire::offset_fetch(&mut r, version).map(drop),
        ApiKey::DescribeConfigs => wire::describe_configs(&mut r, version).map(drop),
    };
}

/// SCRAM server-first and server-final messages.
pub fn scram_server(data: &[u8]) {
    let Ok((mut scram, _)) = Scram::start(ScramHash::Sha256, "user", "pencil") else { return };
    let _ = scram.respond(data);
    let _ = scram.verify(data);
}

/// An HTTP response head.
pub fn http_head(data: &[u8]) {
    let _ = crate::probe::https::parse_head(data);
}

/// A properties file (and the JAAS line it may hold).
pub fn properties(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(p) = Properties::parse(text) {
        let _ = p.get("sasl.jaas.config").map(jaas_credentials);
    }
    let _ = jaas_credentials(text);
}

/// `host:port`, resolver and zone-address arguments.
pub fn host_port(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(hp) = HostPort::parse(text, 9092) {
        // What parses prints back to something that parses to the same.
        assert_eq!(HostPort::parse(&hp.to_string(), 1).as_ref(), Ok(&hp), "{text:?}");
    }
    let _ = parse_resolver(text);
    let _ = parse_zone_address(text);
}

/// `--target` and `--schema-registry` values: what parses never carries a space or a control
/// character into the HTTP request line or the Host header.
pub fn target_spec(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    for spec in [
        crate::input::endpoints::EndpointSpec::parse_target(text),
        crate::input::endpoints::EndpointSpec::schema_registry(text),
    ]
    .into_iter()
    .flatten()
    {
        assert!(crate::probe::https::is_request_target(&spec.hp.host), "{text:?}");
        if let Some(path) = &spec.target.path {
            assert!(crate::probe::https::is_request_target(path), "{text:?}");
        }
    }
}

#[cfg(test)]
mod replay {
    //! The fuzz corpus (seeds and anything fuzzing kept), replayed on stable so CI guards every
    //! input that ever crashed a target.

    use std::path::PathBuf;

    fn corpus(target: &str) -> Vec<Vec<u8>> {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus").join(target);
        let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        files.sort();
        assert!(!files.is_empty(), "{} has no seed", dir.display());
        files.iter().map(|f| std::fs::read(f).expect("read corpus file")).collect()
    }

    #[test]
    fn every_corpus_input_is_handled() {
        type Target = (&'static str, fn(&[u8]));
        let targets: [Target; 6] = [
            ("kafka_response", super::kafka_response),
            ("scram_server", super::scram_server),
            ("http_head", super::http_head),
            ("properties", super::properties),
            ("host_port", super::host_port),
            ("target_spec", super::target_spec),
        ];
        for (target, run) in targets {
            for input in corpus(target) {
                run(&input);
            }
        }
    }

    /// Writes the seed corpus: well-formed answers of every kind (encoded by the kafka-protocol
    /// crate), the hostile ones the tests use, and sample inputs of the text parsers.
    /// `cargo test -p kreach --lib write_seed_corpus -- --ignored` regenerates it.
    #[test]
    #[ignore = "writes fuzz/corpus; run by hand"]
    fn write_seed_corpus() {
        use bytes::BytesMut;
        use kafka_protocol::messages::api_versions_response::ApiVersion;
        use kafka_protocol::messages::metadata_response::MetadataResponseBroker;
        use kafka_protocol::messages::*;
        use kafka_protocol::protocol::{Encodable, HeaderVersion, StrBytes};

        let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
        let write = |target: &str, name: &str, bytes: &[u8]| {
            let dir = root.join(target);
            std::fs::create_dir_all(&dir).expect("mkdir");
            std::fs::write(dir.join(name), bytes).expect("write seed");
        };
        fn frame<T: Encodable + HeaderVersion>(selector: u8, version: i16, m: &T) -> Vec<u8> {
            let mut buf = BytesMut::new();
            ResponseHeader::default().with_correlation_id(1).encode(&mut buf, T::header_version(version)).expect("h");
            m.encode(&mut buf, version).expect("m");
            let mut out = vec![selector];
            out.extend_from_slice(&buf);
            out
        }
        let av = ApiVersionsResponse::default().with_api_keys(vec![
            ApiVersion::default().with_api_key(3).with_max_version(12),
            ApiVersion::default().with_api_key(18).with_max_version(3),
        ]);
        // selector: low 2 bits = API, the rest picks the version from the start of its range.
        for v in 0..=3u8 {
            write("kafka_response", &format!("api_versions_v{v}"), &frame(4 * v, i16::from(v), &av));
        }
        let hs = SaslHandshakeResponse::default().with_mechanisms(vec![StrBytes::from_static_str("PLAIN")]);
        write("kafka_response", "sasl_handshake_v1", &frame(1 + 4, 1, &hs));
        let auth = SaslAuthenticateResponse::default().with_error_message(Some(StrBytes::from_static_str("no")));
        for v in 0..=2u8 {
            write("kafka_response", &format!("sasl_authenticate_v{v}"), &frame(2 + 4 * v, i16::from(v), &auth));
        }
        let md = MetadataResponse::default()
            .with_brokers(vec![
                MetadataResponseBroker::default()
                    .with_node_id(BrokerId(1))
                    .with_host(StrBytes::from_static_str("b1.usw2-az1.abc.example"))
                    .with_port(9092)
                    .with_rack(Some(StrBytes::from_static_str("usw2-az1"))),
            ])
            .with_cluster_id(Some(StrBytes::from_static_str("lkc-1")));
        for v in 1..=12u8 {
            write("kafka_response", &format!("metadata_v{v}"), &frame(3 + 4 * (v - 1), i16::from(v), &md));
        }
        write("kafka_response", "huge_count", &[0, 0, 0, 0, 1, 0, 0, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0]);
        write("kafka_response", "old_broker_v0_layout", &[12, 0, 0, 0, 1, 0, 35, 0, 0, 0, 1, 0, 18, 0, 0, 0, 2]);
        write(
            "scram_server",
            "server_first",
            b"r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096",
        );
        write("scram_server", "server_final", b"v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
        write("scram_server", "error", b"e=unknown-user");
        write("http_head", "401", b"HTTP/1.1 401 Unauthorized\r\nServer: envoy\r\nContent-Length: 0\r\n\r\n");
        write("http_head", "partial", b"HTTP/1.1 200 OK\r\nX-Pad: a");
        write(
            "properties",
            "confluent",
            b"bootstrap.servers=pkc-abc.us-west-2.aws.confluent.cloud:9092\nsecurity.protocol=SASL_SSL\n\
              sasl.mechanisms=PLAIN\nsasl.username=KEY\nsasl.password=se\\=cret\\\n  tail\n\
              sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username='K' password='S';\n",
        );
        write("properties", "bom_and_escapes", "\u{feff}a\\u0041=\\t1\n! c\nb : 2\n".as_bytes());
        for (name, text) in [
            ("name", "lkc-abc.us-west-2.aws.confluent.cloud:9092"),
            ("v6", "[fd00::1]:9093"),
            ("bare_v6", "::1"),
            ("zone", "usw2-az1=10.0.1.25"),
            ("resolver", "127.0.0.53:5353"),
        ] {
            write("host_port", name, text.as_bytes());
        }
    }
}
