//! kreach: can this machine reach that Kafka cluster over AWS PrivateLink, and if not, which hop
//! is broken and what exactly must change?
//!
//! Build a [`CheckConfig`] (directly or by validating [`CheckOptions`]), call [`run`], and read
//! the [`Report`]: a matrix of targets × stages plus [`Finding`]s with stable codes. A failing
//! check is data in the report; [`Error`] only means the run could not start.

mod address;
mod analysis;
mod config;
mod diagnosis;
mod dns;
mod endpoints;
mod error;
mod esm;
mod files;
mod findings;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
mod https;
pub mod input;
mod kafka;
pub mod layout;
mod limits;
mod matrix;
mod merge;
mod names;
pub mod probe;
mod properties;
pub mod render;
mod report;
mod runner;
mod sasl;
mod step;
mod tcp;
mod tls;
mod vantage;
mod wire;

pub use analysis::consistent as verdict_consistent;
pub use config::{
    CaBundle, CheckConfig, CheckOptions, DEFAULT_HTTPS_PORT, DEFAULT_KAFKA_PORT, DEFAULT_PRIVATE_CIDRS,
    DEFAULT_TIMEOUT, ENV_SASL_PASSWORD, ENV_SASL_SECRET, ENV_SASL_USERNAME, HostPort, MAX_TIMEOUT, Sasl, Secret,
    SecurityProtocol, default_private_cidrs, parse_resolver, parse_zone_address,
};
pub use diagnosis::{AuditScope, Diagnosis, ParitySignal, run};
pub use endpoints::{API_PORT, AWS_APIS, CONFLUENT_APIS, EndpointSpec, MAX_ENDPOINTS};
pub use error::{Error, ParseError, quote};
pub use esm::{EsmProblem, EventSourceMapping, MAX_MAPPING_BYTES};
pub use files::read_input_file;
pub use findings::{FindingCode, Severity};
pub use limits::*;
pub use merge::{Merged, MergedCell, MergedRow, merge, merged_markdown, merged_table};
pub use properties::{Properties, SECRET_KEYS, is_secret_key, jaas_credentials};
pub use report::*;
pub use step::{Step, StepObserver, StepOutcome, StepPhase};
pub use tls::name_matches;
pub use vantage::{IMDS_DEFAULT, detect as detect_vantage};
