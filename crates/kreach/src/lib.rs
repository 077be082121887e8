//! kreach: can this machine reach that Kafka cluster over AWS PrivateLink, and if not, which hop
//! is broken and what exactly must change?
//!
//! Build a [`CheckConfig`] (directly or by validating [`CheckOptions`]), call [`run`] (or a
//! [`Diagnosis`] with its extras), and read the [`Report`]: a matrix of targets × stages plus
//! [`Finding`]s with stable codes. A failing check is data in the report; [`Error`] only means the
//! run could not start.
//!
//! The root holds what a run needs; the rest is in public modules: [`input`] (options, properties,
//! files, the one input step), [`probe`] (each check alone), [`report`] (the report's types by
//! concern: [`report::aws`], [`report::evidence`], [`report::layout`], [`report::esm`],
//! [`report::access`]), [`render`] (table, JSON, Markdown, HTML, metrics), [`layout`] (which
//! private-connectivity layout), [`scope`] (where credentials may go), [`limits`] (every cap).

mod analysis;
mod error;
#[cfg(any(test, feature = "fuzzing"))]
#[doc(hidden)]
pub mod fuzzing;
pub mod input;
pub mod limits;
pub mod probe;
pub mod render;
pub mod report;
mod run;
pub mod scope;
mod text;

pub use analysis::consistent as verdict_consistent;
pub use analysis::findings as judge;
pub use analysis::layout;
pub use analysis::merge::{Merged, MergedCell, MergedRow, merge};
/// The AWS region a DNS or service name carries (`…us-west-2…` → `us-west-2`), if any.
pub use analysis::names::region_of;
pub use error::{Error, ParseError, quote};
pub use input::{
    CheckConfig, CheckOptions, DEFAULT_HTTPS_PORT, DEFAULT_KAFKA_PORT, DEFAULT_TIMEOUT, EventSourceMapping, HostPort,
    Properties, Secret, SecurityProtocol,
};
pub use report::{
    Finding, FindingCode, Report, Role, Severity, Stage, StageResult, StageStatus, Status, TargetReport, report_schema,
};
pub use run::diagnosis::{AuditScope, Diagnosis, ParitySignal, run};
pub use run::step::{Step, StepObserver, StepOutcome, StepPhase};
pub use scope::{CredentialScope, HostPattern};
