//! The lab's Kafka cluster: librdkafka's mock cluster (a real Kafka-protocol implementation,
//! in-process on 127.0.0.1), with each broker's advertised listener renamed to a zonal name
//! behind the lab endpoint, as a PrivateLink-fronted cluster advertises them.

// The mock cluster's advertised-listener control exists only as C functions in
// rdkafka-sys; these few calls are the lab's only unsafe code.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString};
use std::net::SocketAddr;

use rdkafka::ClientConfig;
use rdkafka::bindings as rd;
use rdkafka::producer::{BaseProducer, Producer};

use crate::LabError;

/// A running mock cluster; stops when dropped.
pub struct MockKafka {
    _producer: BaseProducer,
    /// Where each broker (id 1..=n) really listens.
    pub listeners: Vec<(i32, SocketAddr)>,
}

impl MockKafka {
    /// Starts `advertised.len()` brokers; broker `i + 1` advertises `advertised[i]`.
    pub fn start(advertised: &[(String, u16)]) -> Result<Self, LabError> {
        let producer: BaseProducer = ClientConfig::new()
            .set("test.mock.num.brokers", advertised.len().to_string())
            .set("log_level", "0")
            .create()
            .map_err(|e| LabError::Setup(format!("mock Kafka cluster: {e}")))?;
        let native = producer.client().native_ptr();
        // SAFETY: `native` is the live client handle owned by `producer`, which this struct keeps
        // alive as long as the cluster is used; the mock cluster pointer is owned by that client.
        let cluster = unsafe { rd::rd_kafka_handle_mock_cluster(native) };
        if cluster.is_null() {
            return Err(LabError::Setup("mock Kafka cluster did not start".into()));
        }
        // SAFETY: `cluster` is non-null and valid (above); the returned string is owned by it.
        let bootstraps =
            unsafe { CStr::from_ptr(rd::rd_kafka_mock_cluster_bootstraps(cluster)) }.to_string_lossy().into_owned();
        let mut listeners = Vec::new();
        for (i, entry) in bootstraps.split(',').enumerate() {
            let addr: SocketAddr =
                entry.trim().parse().map_err(|_| LabError::Setup(format!("mock broker address `{entry}`")))?;
            listeners.push((i as i32 + 1, addr));
        }
        if listeners.len() != advertised.len() {
            return Err(LabError::Setup(format!("{} mock brokers for {} names", listeners.len(), advertised.len())));
        }
        for (i, (host, port)) in advertised.iter().enumerate() {
            let host = CString::new(host.as_str()).map_err(|_| LabError::Setup(format!("bad broker name {host}")))?;
            // SAFETY: valid cluster pointer; `host` outlives the call, which copies it.
            unsafe { rd::rd_kafka_mock_broker_set_host_port(cluster, i as i32 + 1, host.as_ptr(), i32::from(*port)) };
        }
        Ok(MockKafka { _producer: producer, listeners })
    }
}
