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

/// Kafka errors a test plants in the mock cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum MockError {
    /// UNKNOWN_TOPIC_OR_PARTITION (3).
    UnknownTopicOrPartition,
    /// LEADER_NOT_AVAILABLE (5).
    LeaderNotAvailable,
    /// COORDINATOR_NOT_AVAILABLE (15).
    CoordinatorNotAvailable,
    /// TOPIC_AUTHORIZATION_FAILED (29).
    TopicAuthorizationFailed,
    /// GROUP_AUTHORIZATION_FAILED (30).
    GroupAuthorizationFailed,
    /// CLUSTER_AUTHORIZATION_FAILED (31).
    ClusterAuthorizationFailed,
}

impl MockError {
    fn native(self) -> rd::rd_kafka_resp_err_t {
        use rd::rd_kafka_resp_err_t as E;
        match self {
            MockError::UnknownTopicOrPartition => E::RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
            MockError::LeaderNotAvailable => E::RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
            MockError::CoordinatorNotAvailable => E::RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE,
            MockError::TopicAuthorizationFailed => E::RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED,
            MockError::GroupAuthorizationFailed => E::RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED,
            MockError::ClusterAuthorizationFailed => E::RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED,
        }
    }
}

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

    /// The mock cluster of the client this struct keeps alive (re-read on each call, so no raw
    /// pointer is stored and the struct stays `Send`).
    fn cluster(&self) -> *mut rd::rd_kafka_mock_cluster_t {
        // SAFETY: the client handle is live for as long as `self`; the cluster is owned by it.
        unsafe { rd::rd_kafka_handle_mock_cluster(self._producer.client().native_ptr()) }
    }

    /// Creates `topic` with `partitions` partitions (replication factor 1), spread over the brokers.
    pub fn create_topic(&self, topic: &str, partitions: i32) -> Result<(), LabError> {
        let name = CString::new(topic).map_err(|_| LabError::Setup(format!("bad topic name {topic}")))?;
        // SAFETY: valid cluster (see `cluster`); `name` outlives the call, which copies it.
        let err = unsafe { rd::rd_kafka_mock_topic_create(self.cluster(), name.as_ptr(), partitions, 1) };
        if err != rd::rd_kafka_resp_err_t::RD_KAFKA_RESP_ERR_NO_ERROR {
            return Err(LabError::Setup(format!("mock topic {topic}: {err:?}")));
        }
        Ok(())
    }

    /// Every Metadata answer gives `topic` this error from now on.
    pub fn set_topic_error(&self, topic: &str, error: MockError) -> Result<(), LabError> {
        let name = CString::new(topic).map_err(|_| LabError::Setup(format!("bad topic name {topic}")))?;
        // SAFETY: valid cluster; `name` outlives the call.
        unsafe { rd::rd_kafka_mock_topic_set_error(self.cluster(), name.as_ptr(), error.native()) };
        Ok(())
    }

    /// Makes broker `broker_id` the leader of `topic`'s partition.
    pub fn set_partition_leader(&self, topic: &str, partition: i32, broker_id: i32) -> Result<(), LabError> {
        let name = CString::new(topic).map_err(|_| LabError::Setup(format!("bad topic name {topic}")))?;
        // SAFETY: valid cluster; `name` outlives the call.
        unsafe { rd::rd_kafka_mock_partition_set_leader(self.cluster(), name.as_ptr(), partition, broker_id) };
        Ok(())
    }

    /// Makes broker `broker_id` the coordinator of consumer group `group`.
    pub fn set_group_coordinator(&self, group: &str, broker_id: i32) -> Result<(), LabError> {
        let key = CString::new(group).map_err(|_| LabError::Setup(format!("bad group {group}")))?;
        // SAFETY: valid cluster; both strings outlive the call.
        unsafe { rd::rd_kafka_mock_coordinator_set(self.cluster(), c"group".as_ptr(), key.as_ptr(), broker_id) };
        Ok(())
    }

    /// The next `errors.len()` requests of API `api_key` (any broker) answer these errors, in order.
    pub fn push_request_errors(&self, api_key: i16, errors: &[MockError]) {
        let native: Vec<rd::rd_kafka_resp_err_t> = errors.iter().map(|e| e.native()).collect();
        // SAFETY: valid cluster; `native` holds `len` errors and outlives the call, which copies them.
        unsafe { rd::rd_kafka_mock_push_request_errors_array(self.cluster(), api_key, native.len(), native.as_ptr()) };
    }

    /// Starts recording every request the brokers receive (see [`MockKafka::requests`]).
    pub fn start_request_tracking(&self) {
        // SAFETY: valid cluster.
        unsafe { rd::rd_kafka_mock_start_request_tracking(self.cluster()) };
    }

    /// The API keys of the requests received since tracking started, in order.
    pub fn requests(&self) -> Vec<i16> {
        let mut count = 0usize;
        // SAFETY: valid cluster; the returned array holds `count` requests that we own and destroy.
        unsafe {
            let requests = rd::rd_kafka_mock_get_requests(self.cluster(), &mut count);
            if requests.is_null() {
                return Vec::new();
            }
            let keys = (0..count).map(|i| rd::rd_kafka_mock_request_api_key(*requests.add(i))).collect();
            rd::rd_kafka_mock_request_destroy_array(requests, count);
            keys
        }
    }
}
