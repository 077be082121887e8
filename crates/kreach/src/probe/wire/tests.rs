//! The codec against hostile counts, old brokers, and an independent encoder.

use super::*;

#[test]
fn huge_counts_are_refused_before_any_allocation() {
    // The 16-byte ApiVersions answer that once aborted kreach: count 2^32-2.
    let body = [0u8, 0, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0];
    let e = api_versions(&mut Reader::new(&body), 0).expect_err("refused");
    assert!(e.to_string().contains("negative length"), "{e}");
    let body = [0u8, 0, 0x7f, 0xff, 0xff, 0xfe, 0, 0, 0, 0];
    let e = api_versions(&mut Reader::new(&body), 0).expect_err("refused");
    assert!(e.to_string().contains("entries announced"), "{e}");
    // Compact form: uvarint 2^32-1.
    let body = [0u8, 0, 0xff, 0xff, 0xff, 0xff, 0x0f];
    assert!(api_versions(&mut Reader::new(&body), 3).is_err());
    let body = [0u8, 0, 0x7f, 0xff, 0xff, 0xff];
    assert!(sasl_handshake(&mut Reader::new(&body)).is_err());
    let body = [0u8, 0, 0xff, 0xff, 0x7f, 0xff, 0xff, 0xff];
    assert!(sasl_authenticate(&mut Reader::new(&body), 0).is_err(), "bytes longer than the frame");
    let body = [0u8, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff];
    assert!(metadata(&mut Reader::new(&body), 3).is_err());
}

#[test]
fn varints_are_bounded() {
    assert_eq!(Reader::new(&[0x96, 0x01]).uvarint("v"), Ok(150));
    assert!(Reader::new(&[0xff, 0xff, 0xff, 0xff, 0xff, 0x01]).uvarint("v").is_err());
    assert!(Reader::new(&[0x80]).uvarint("v").is_err(), "truncated");
}

#[test]
fn an_old_broker_answers_in_the_v0_layout() {
    // error 35, one API: ApiVersions 0..=2.
    let body = [0u8, 35, 0, 0, 0, 1, 0, 18, 0, 0, 0, 2];
    let v = api_versions(&mut Reader::new(&body), 3).expect("v0 layout");
    assert_eq!(v.error_code, UNSUPPORTED_VERSION);
    assert_eq!(v.range(ApiKey::ApiVersions), Some(ApiRange { key: 18, min: 0, max: 2 }));
}

#[test]
fn an_unsupported_version_answer_in_the_requests_layout_is_still_read() {
    // librdkafka's mock cluster, asked v3: error 35 in the compact layout it does not fully fill.
    let body = [0u8, 0x23, 0x01, 0x00, 0x12, 0, 0, 0, 2, 0, 0, 0, 0, 0];
    let v = api_versions(&mut Reader::new(&body), 3).expect("read");
    assert_eq!(v.error_code, UNSUPPORTED_VERSION);
}

#[test]
fn metadata_requests_encode_at_every_version() {
    for version in 1..=12 {
        let frame = request(&Body::Metadata(&[]), version, 7);
        let len = i32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]) as usize;
        assert_eq!(len, frame.len() - 4, "v{version}");
    }
}

/// Responses encoded by the kafka-protocol crate (an independent implementation generated from
/// Kafka's own message schemas) decode to the same values here, at every version kreach reads.
mod against_the_reference_encoder {
    use super::*;
    use bytes::BytesMut;
    use kafka_protocol::messages::api_versions_response::ApiVersion;
    use kafka_protocol::messages::metadata_response::{MetadataResponseBroker, MetadataResponseTopic};
    use kafka_protocol::messages::{
        ApiVersionsRequest, ApiVersionsResponse, BrokerId, MetadataRequest, MetadataResponse, RequestHeader,
        SaslAuthenticateRequest, SaslAuthenticateResponse, SaslHandshakeRequest, SaslHandshakeResponse, TopicName,
    };
    use kafka_protocol::protocol::{Decodable, Encodable, HeaderVersion, StrBytes};

    #[test]
    fn metadata_topics_at_every_version() {
        use kafka_protocol::messages::metadata_response::MetadataResponsePartition;
        for version in 1..=12 {
            let partition = |index: i32, leader: i32, error: i16| {
                MetadataResponsePartition::default()
                    .with_partition_index(index)
                    .with_leader_id(BrokerId(leader))
                    .with_error_code(error)
                    .with_replica_nodes(vec![BrokerId(1), BrokerId(2)])
                    .with_isr_nodes(vec![BrokerId(1)])
            };
            let topic = |name: &'static str, error: i16, partitions: Vec<MetadataResponsePartition>| {
                MetadataResponseTopic::default()
                    .with_name(Some(TopicName(StrBytes::from_static_str(name))))
                    .with_error_code(error)
                    .with_partitions(partitions)
            };
            let response = MetadataResponse::default().with_controller_id(BrokerId(1)).with_topics(vec![
                topic("orders", 0, vec![partition(0, 1, 0), partition(1, 2, 0), partition(2, -1, 5)]),
                topic("secret", 29, Vec::new()),
            ]);
            let m = metadata(&mut Reader::new(&encode(&response, version)), version).expect("decodes");
            assert_eq!(m.topics.len(), 2, "v{version}");
            let orders = &m.topics[0];
            assert_eq!((orders.name.as_str(), orders.error_code, orders.partitions), ("orders", 0, 3), "v{version}");
            assert_eq!(
                (orders.leaders.as_slice(), orders.leaderless.as_slice()),
                (&[1, 2][..], &[2][..]),
                "v{version}"
            );
            assert_eq!(orders.leader_of, [(0, 1), (1, 2), (2, -1)]);
            assert_eq!((m.topics[1].name.as_str(), m.topics[1].error_code), ("secret", 29));
        }
    }

    #[test]
    fn find_coordinator_offset_fetch_and_describe_configs_at_every_version() {
        use kafka_protocol::messages::describe_configs_response::DescribeConfigsResult;
        use kafka_protocol::messages::find_coordinator_response::Coordinator as RefCoordinator;
        use kafka_protocol::messages::offset_fetch_response::{OffsetFetchResponsePartition, OffsetFetchResponseTopic};
        use kafka_protocol::messages::{DescribeConfigsResponse, FindCoordinatorResponse, OffsetFetchResponse};
        for version in 1..=4 {
            let response = if version >= 4 {
                FindCoordinatorResponse::default().with_coordinators(vec![
                    RefCoordinator::default()
                        .with_key(StrBytes::from_static_str("g"))
                        .with_node_id(BrokerId(3))
                        .with_host(StrBytes::from_static_str("b3.example"))
                        .with_port(9092),
                ])
            } else {
                FindCoordinatorResponse::default()
                    .with_node_id(BrokerId(3))
                    .with_host(StrBytes::from_static_str("b3.example"))
                    .with_port(9092)
            };
            let c = find_coordinator(&mut Reader::new(&encode(&response, version)), version).expect("decodes");
            assert_eq!((c.error_code, c.node_id, c.host.as_str(), c.port), (0, 3, "b3.example", 9092), "v{version}");
            let refused = if version >= 4 {
                FindCoordinatorResponse::default()
                    .with_coordinators(vec![RefCoordinator::default().with_error_code(30).with_node_id(BrokerId(-1))])
            } else {
                FindCoordinatorResponse::default().with_error_code(30).with_node_id(BrokerId(-1))
            };
            let c = find_coordinator(&mut Reader::new(&encode(&refused, version)), version).expect("decodes");
            assert_eq!(c.error_code, 30, "v{version}");
        }
        for version in 2..=7 {
            let partition = |index: i32, offset: i64, error: i16| {
                OffsetFetchResponsePartition::default()
                    .with_partition_index(index)
                    .with_committed_offset(offset)
                    .with_error_code(error)
            };
            let response = OffsetFetchResponse::default().with_error_code(0).with_topics(vec![
                OffsetFetchResponseTopic::default()
                    .with_name(TopicName(StrBytes::from_static_str("orders")))
                    .with_partitions(vec![partition(0, 42, 0), partition(1, -1, 0), partition(2, -1, 29)]),
            ]);
            let o = offset_fetch(&mut Reader::new(&encode(&response, version)), version).expect("decodes");
            assert_eq!((o.error_code, o.partitions, o.committed), (0, 3, 1), "v{version}");
            assert_eq!(o.errors, [("orders".to_string(), 2, 29)]);
            let refused = OffsetFetchResponse::default().with_error_code(30);
            let o = offset_fetch(&mut Reader::new(&encode(&refused, version)), version).expect("decodes");
            assert_eq!((o.error_code, o.partitions), (30, 0), "v{version}");
        }
        // The reference speaks DescribeConfigs v1-v4 (Kafka 4 dropped v0, whose layout is v1's).
        for version in 1..=4 {
            let response = DescribeConfigsResponse::default().with_results(vec![
                DescribeConfigsResult::default()
                    .with_error_code(31)
                    .with_error_message(Some(StrBytes::from_static_str("Cluster authorization failed.")))
                    .with_resource_type(4),
            ]);
            let (code, message) =
                describe_configs(&mut Reader::new(&encode(&response, version)), version).expect("decodes");
            assert_eq!((code, message.as_deref()), (31, Some("Cluster authorization failed.")), "v{version}");
        }
    }

    fn encode<T: Encodable>(message: &T, version: i16) -> Vec<u8> {
        let mut buf = BytesMut::new();
        message.encode(&mut buf, version).expect("reference encodes");
        buf.to_vec()
    }

    #[test]
    fn api_versions_at_every_version() {
        for version in 0..=3 {
            let response = ApiVersionsResponse::default().with_api_keys(vec![
                ApiVersion::default().with_api_key(3).with_min_version(0).with_max_version(12),
                ApiVersion::default().with_api_key(18).with_min_version(0).with_max_version(3),
            ]);
            let v = api_versions(&mut Reader::new(&encode(&response, version)), version).expect("decodes");
            assert_eq!(v.error_code, 0);
            assert_eq!(v.range(ApiKey::Metadata), Some(ApiRange { key: 3, min: 0, max: 12 }), "v{version}");
            assert_eq!(v.api_keys.len(), 2);
        }
    }

    #[test]
    fn sasl_at_every_version() {
        for version in 0..=1 {
            let response = SaslHandshakeResponse::default()
                .with_error_code(33)
                .with_mechanisms(vec![StrBytes::from_static_str("PLAIN"), StrBytes::from_static_str("SCRAM-SHA-512")]);
            let h = sasl_handshake(&mut Reader::new(&encode(&response, version))).expect("decodes");
            assert_eq!(
                (h.error_code, h.mechanisms.as_slice()),
                (33, &["PLAIN".to_string(), "SCRAM-SHA-512".into()][..])
            );
        }
        for version in 0..=2 {
            let response = SaslAuthenticateResponse::default()
                .with_error_code(58)
                .with_error_message(Some(StrBytes::from_static_str("bad password")))
                .with_auth_bytes(bytes::Bytes::from_static(b"r=abc,s=c2FsdA==,i=4096"));
            let a = sasl_authenticate(&mut Reader::new(&encode(&response, version)), version).expect("decodes");
            assert_eq!(a.error_code, 58, "v{version}");
            assert_eq!(a.error_message.as_deref(), Some("bad password"));
            assert_eq!(a.auth_bytes, b"r=abc,s=c2FsdA==,i=4096");
        }
    }

    #[test]
    fn metadata_at_every_version_ignoring_topics() {
        for version in 1..=12 {
            let broker = |id: i32, host: &'static str, rack: Option<&'static str>| {
                MetadataResponseBroker::default()
                    .with_node_id(BrokerId(id))
                    .with_host(StrBytes::from_static_str(host))
                    .with_port(9092)
                    .with_rack(rack.map(StrBytes::from_static_str))
            };
            let mut response = MetadataResponse::default()
                .with_brokers(vec![broker(1, "b1.usw2-az1.example", Some("usw2-az1")), broker(2, "b2.example", None)])
                .with_controller_id(BrokerId(2))
                .with_topics(vec![
                    MetadataResponseTopic::default().with_name(Some(TopicName(StrBytes::from_static_str("t")))),
                ]);
            if version >= 2 {
                response = response.with_cluster_id(Some(StrBytes::from_static_str("lkc-lab01")));
            }
            let m = metadata(&mut Reader::new(&encode(&response, version)), version).expect("decodes");
            assert_eq!(m.brokers.len(), 2, "v{version}");
            assert_eq!(
                m.brokers[0],
                Broker { node_id: 1, host: "b1.usw2-az1.example".into(), port: 9092, rack: Some("usw2-az1".into()) }
            );
            assert_eq!(m.brokers[1].rack, None);
            assert_eq!(m.controller_id, 2);
            assert_eq!(m.cluster_id.as_deref(), (version >= 2).then_some("lkc-lab01"));
        }
    }

    /// kreach's requests, decoded by the reference: header and body at every version sent.
    #[test]
    fn requests_decode_in_the_reference() {
        fn check<R: Decodable + HeaderVersion>(frame: &[u8], key: i16, version: i16) -> R {
            let mut bytes = bytes::Bytes::copy_from_slice(&frame[4..]);
            let header = RequestHeader::decode(&mut bytes, R::header_version(version)).expect("header");
            assert_eq!((header.request_api_key, header.request_api_version, header.correlation_id), (key, version, 9));
            assert_eq!(header.client_id.as_deref(), Some(CLIENT_ID));
            let body = R::decode(&mut bytes, version).expect("body");
            assert!(bytes.is_empty(), "api {key} v{version}: {} bytes left over", bytes.len());
            body
        }
        for version in 0..=3 {
            let r: ApiVersionsRequest = check(&request(&Body::ApiVersions, version, 9), 18, version);
            if version >= 3 {
                assert_eq!(r.client_software_name.as_str(), "kreach");
            }
        }
        for version in 0..=1 {
            let r: SaslHandshakeRequest = check(&request(&Body::SaslHandshake("PLAIN"), version, 9), 17, version);
            assert_eq!(r.mechanism.as_str(), "PLAIN");
        }
        for version in 0..=2 {
            let r: SaslAuthenticateRequest =
                check(&request(&Body::SaslAuthenticate(b"\0u\0p"), version, 9), 36, version);
            assert_eq!(&r.auth_bytes[..], b"\0u\0p");
        }
        for version in 1..=12 {
            let r: MetadataRequest = check(&request(&Body::Metadata(&[]), version, 9), 3, version);
            assert_eq!(r.topics.as_ref().map(Vec::len), Some(0), "v{version}: no topic, not all topics");
            assert!(version < 4 || !r.allow_auto_topic_creation, "v{version}");
            let topics = ["orders".to_string(), "payments.v2".to_string()];
            let r: MetadataRequest = check(&request(&Body::Metadata(&topics), version, 9), 3, version);
            let names: Vec<String> =
                r.topics.unwrap_or_default().iter().filter_map(|t| t.name.as_ref().map(|n| n.0.to_string())).collect();
            assert_eq!(names, topics, "v{version}");
            assert!(version < 4 || !r.allow_auto_topic_creation, "v{version}: never creates a topic");
        }
        for version in 1..=4 {
            let r: kafka_protocol::messages::FindCoordinatorRequest =
                check(&request(&Body::FindCoordinator("orders-consumers"), version, 9), 10, version);
            let key = if version >= 4 { r.coordinator_keys[0].to_string() } else { r.key.to_string() };
            assert_eq!((key.as_str(), r.key_type), ("orders-consumers", 0), "v{version}");
        }
        let asked = [("orders".to_string(), vec![0, 1, 2])];
        for version in 2..=7 {
            let r: kafka_protocol::messages::OffsetFetchRequest =
                check(&request(&Body::OffsetFetch("g", &asked), version, 9), 9, version);
            assert_eq!(r.group_id.0.as_str(), "g", "v{version}");
            let topics = r.topics.expect("topics");
            assert_eq!((topics[0].name.0.as_str(), topics[0].partition_indexes.as_slice()), ("orders", &[0, 1, 2][..]));
            let r: kafka_protocol::messages::OffsetFetchRequest =
                check(&request(&Body::OffsetFetch("g", &[]), version, 9), 9, version);
            assert!(r.topics.is_none(), "v{version}: every topic");
        }
        for version in 1..=4 {
            let r: kafka_protocol::messages::DescribeConfigsRequest =
                check(&request(&Body::DescribeClusterConfigs, version, 9), 32, version);
            assert_eq!((r.resources[0].resource_type, r.resources[0].resource_name.as_str()), (4, ""), "v{version}");
        }
    }
}
