//! The steps of a diagnosis as they happen, typed: what a progress display (or a fleet view)
//! reads through [`crate::Diagnosis::on_step`]. The same steps go out as `tracing` events (target
//! `kreach::step`, what `-v` prints), each outcome written by its [`StepOutcome::as_label`] — a
//! stable word, never a `Debug` rendering. Names in a step come from peers (advertised brokers):
//! they are escaped before any step carries them.

use std::net::IpAddr;
use std::sync::Arc;

use crate::report::{DnsOutcome, HttpsOutcome, KafkaOutcome, Stage, StageStatus, TcpOutcome, TlsOutcome};

/// Where the step stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StepPhase {
    /// It began (the stages that take long announce themselves: librdkafka, the AWS audit).
    Started,
    /// It ended, with an outcome.
    Ended,
}

/// How a step ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum StepOutcome {
    /// A lookup's outcome.
    Dns(DnsOutcome),
    /// A connect's outcome.
    Tcp(TcpOutcome),
    /// A handshake's outcome.
    Tls(TlsOutcome),
    /// An HTTP request's outcome.
    Https(HttpsOutcome),
    /// The Kafka requests' outcome.
    Kafka(KafkaOutcome),
    /// A whole stage's verdict (librdkafka, the AWS audit).
    Stage(StageStatus),
}

impl StepOutcome {
    /// A stable word for the outcome, the report's JSON spelling (`connected`, `timeout`,
    /// `nxdomain`, `skipped`, …).
    pub fn as_label(self) -> &'static str {
        match self {
            StepOutcome::Dns(o) => o.as_label(),
            StepOutcome::Tcp(o) => o.as_label(),
            StepOutcome::Tls(o) => o.as_label(),
            StepOutcome::Https(o) => o.as_label(),
            StepOutcome::Kafka(o) => o.as_label(),
            StepOutcome::Stage(s) => s.as_label(),
        }
    }

    /// Whether the step passed: the next one can run.
    pub fn passed(self) -> bool {
        matches!(
            self,
            StepOutcome::Dns(DnsOutcome::Answer | DnsOutcome::AddressLiteral)
                | StepOutcome::Tcp(TcpOutcome::Connected)
                | StepOutcome::Tls(TlsOutcome::Ok)
                | StepOutcome::Https(HttpsOutcome::Response)
                | StepOutcome::Kafka(KafkaOutcome::Ok)
                | StepOutcome::Stage(StageStatus::Pass | StageStatus::NotApplicable)
        )
    }

    /// Whether the step did not run at all (a stage skipped).
    pub fn skipped(self) -> bool {
        self == StepOutcome::Stage(StageStatus::Skipped)
    }
}

/// One step of a diagnosis.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Step {
    /// Which step.
    pub stage: Stage,
    /// The host (DNS), `host:port` (the network steps) or the stage's name (`librdkafka`, `AWS`),
    /// escaped for a terminal.
    pub target: String,
    /// The address, for the steps on one.
    pub address: Option<IpAddr>,
    /// Started or ended.
    pub phase: StepPhase,
    /// How it ended (none while started).
    pub outcome: Option<StepOutcome>,
    /// How long it took, when it ended.
    pub elapsed_ms: Option<u64>,
}

impl Step {
    /// A step that ended.
    pub fn ended(stage: Stage, target: &str, address: Option<IpAddr>, outcome: StepOutcome, elapsed_ms: u64) -> Step {
        Step {
            stage,
            target: crate::text::clean(target).into_owned(),
            address,
            phase: StepPhase::Ended,
            outcome: Some(outcome),
            elapsed_ms: Some(elapsed_ms),
        }
    }

    /// A step that began.
    pub fn started(stage: Stage, target: &str) -> Step {
        Step {
            stage,
            target: crate::text::clean(target).into_owned(),
            address: None,
            phase: StepPhase::Started,
            outcome: None,
            elapsed_ms: None,
        }
    }

    /// The outcome's word, or `started`.
    pub fn outcome_label(&self) -> &'static str {
        self.outcome.map_or("started", StepOutcome::as_label)
    }
}

/// Who hears of each step as it happens ([`crate::Diagnosis::on_step`]).
pub type StepObserver = Arc<dyn Fn(&Step) + Send + Sync>;

/// Hands `step` to the observer and to `tracing` (target `kreach::step`).
pub(crate) fn emit(observer: Option<&StepObserver>, step: Step) {
    match (step.address, step.elapsed_ms) {
        (Some(ip), Some(ms)) => tracing::info!(
            target: "kreach::step", stage = step.stage.as_str(), target = %step.target, %ip,
            outcome = %step.outcome_label(), elapsed_ms = ms
        ),
        (None, Some(ms)) => tracing::info!(
            target: "kreach::step", stage = step.stage.as_str(), target = %step.target,
            outcome = %step.outcome_label(), elapsed_ms = ms
        ),
        _ => tracing::info!(
            target: "kreach::step", stage = step.stage.as_str(), target = %step.target,
            outcome = %step.outcome_label()
        ),
    }
    if let Some(observer) = observer {
        observer(&step);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every label is the outcome's JSON spelling, so `-v`, progress and the report agree.
    #[test]
    fn labels_are_the_json_spelling() {
        fn json<T: serde::Serialize>(value: T) -> String {
            serde_json::to_value(value).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default()
        }
        use DnsOutcome as D;
        for o in [D::Answer, D::Nxdomain, D::NoData, D::Unreachable, D::Error, D::AddressLiteral] {
            assert_eq!(o.as_label(), json(o));
        }
        use TcpOutcome as T;
        for o in [T::Connected, T::Refused, T::Timeout, T::Unreachable, T::Error] {
            assert_eq!(o.as_label(), json(o));
        }
        use TlsOutcome as L;
        for o in [
            L::Ok,
            L::NameMismatch,
            L::UnknownIssuer,
            L::Expired,
            L::NotYetValid,
            L::NotTls,
            L::Closed,
            L::Timeout,
            L::Failed,
        ] {
            assert_eq!(o.as_label(), json(o));
        }
        use HttpsOutcome as H;
        for o in [H::Response, H::Malformed, H::Closed, H::Timeout] {
            assert_eq!(o.as_label(), json(o));
        }
        use KafkaOutcome as K;
        for o in [
            K::Ok,
            K::NotKafka,
            K::Closed,
            K::Timeout,
            K::MetadataFailed,
            K::MechanismUnsupported,
            K::AuthFailed,
            K::TlsListener,
            K::PlaintextListener,
            K::Failed,
        ] {
            assert_eq!(o.as_label(), json(o));
        }
        use StageStatus as S;
        for o in [S::Pass, S::Warn, S::Fail, S::Skipped, S::NotApplicable] {
            assert_eq!(o.as_label(), json(o));
        }
        assert!(StepOutcome::Tcp(T::Connected).passed() && !StepOutcome::Tcp(T::Timeout).passed());
        assert!(StepOutcome::Stage(S::Skipped).skipped());
        assert_eq!(Step::started(Stage::Client, "librdkafka").outcome_label(), "started");
        assert_eq!(
            Step::ended(Stage::Tcp, "a\x1b[2J:1", None, StepOutcome::Tcp(T::Timeout), 1).target,
            "a\\u{1b}[2J:1"
        );
    }
}
