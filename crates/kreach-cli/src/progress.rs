//! Live progress on a terminal: one line on stderr, redrawn in place while a diagnosis runs
//! (what passed, what failed, what is still running, how long so far), erased before the report
//! prints. It reads the diagnosis's typed steps (`kreach::Diagnosis::on_step`), the same steps
//! `-v` prints as `tracing` events; it never shows anything a step does not carry (no secret).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use kreach::{Stage, Step, StepPhase};

/// How often the line is redrawn.
const TICK: Duration = Duration::from_millis(120);
/// The line never grows past this many columns (the report itself fits 100).
const WIDTH: usize = 99;
/// Erases the current terminal line.
pub const CLEAR: &str = "\r\x1b[2K";

#[derive(Default)]
struct State {
    started: Option<Instant>,
    /// Per target: the last step seen and where it stands.
    targets: BTreeMap<String, (String, Phase)>,
    passed: usize,
    failed: Vec<String>,
}

/// Where a target's last step stands.
#[derive(Clone, Copy, PartialEq)]
enum Phase {
    /// The step passed: the next one runs (a check's step).
    Passed,
    /// The step failed: nothing more runs on that target.
    Failed,
    /// The step itself is running (the librdkafka stage, the AWS audit).
    Started,
}

/// The progress line: the diagnosis's steps feeding it and a thread drawing it.
#[derive(Clone, Default)]
pub struct Progress {
    state: Arc<Mutex<State>>,
    running: Arc<AtomicBool>,
}

/// Whether to draw: stderr is a terminal, nobody asked for the `-v` event stream there, and the
/// JSON report is not going into a pipe (a script reading it wants nothing else on the screen).
pub fn wanted(stderr_tty: bool, verbose: bool, json_to_pipe: bool, disabled: bool) -> bool {
    stderr_tty && !verbose && !json_to_pipe && !disabled
}

impl Progress {
    /// Starts drawing (from zero) until [`Progress::finish`].
    pub fn start(&self) -> std::thread::JoinHandle<()> {
        if let Ok(mut s) = self.state.lock() {
            *s = State { started: Some(Instant::now()), ..State::default() };
        }
        self.running.store(true, Ordering::SeqCst);
        let me = self.clone();
        std::thread::spawn(move || {
            let mut err = std::io::stderr();
            while me.running.load(Ordering::SeqCst) {
                let line = me.line();
                let _ = write!(err, "{CLEAR}{line}");
                let _ = err.flush();
                std::thread::sleep(TICK);
            }
            let _ = write!(err, "{CLEAR}");
            let _ = err.flush();
        })
    }

    /// Stops drawing and erases the line (before the report prints).
    pub fn finish(&self, drawer: std::thread::JoinHandle<()>) {
        self.running.store(false, Ordering::SeqCst);
        let _ = drawer.join();
    }

    fn line(&self) -> String {
        let Ok(s) = self.state.lock() else { return String::new() };
        let elapsed = s.started.map_or(0.0, |t| t.elapsed().as_secs_f64());
        let mut line = format!("kreach {elapsed:.1} s · {} passed", s.passed);
        if !s.failed.is_empty() {
            let _ = write!(line, " · {} failed ({})", s.failed.len(), s.failed.join(", "));
        }
        let running: Vec<String> = s
            .targets
            .iter()
            .filter_map(|(target, (stage, phase))| {
                match phase {
                    Phase::Passed => next_stage(stage),
                    Phase::Started => Some(running_stage(stage)),
                    Phase::Failed => None,
                }
                .map(|what| format!("{} {what}", short(target)))
            })
            .collect();
        if running.is_empty() {
            line.push_str(if s.targets.is_empty() { " · resolving" } else { " · finishing" });
        } else {
            let _ = write!(line, " · running: {}", running.join(", "));
        }
        // Target names come from peers (advertised brokers): escaped like the table, so no escape
        // sequence they carry reaches the terminal.
        kreach::render::truncate(&kreach::render::clean(&line), WIDTH)
    }

    /// Takes one step of the running diagnosis.
    pub fn record(&self, step: &Step) {
        if !self.running.load(Ordering::SeqCst) {
            return;
        }
        let Ok(mut s) = self.state.lock() else { return };
        let stage = step.stage.as_str();
        let phase = match (step.phase, step.outcome) {
            (StepPhase::Started, _) | (_, None) => Phase::Started,
            (_, Some(o)) if o.skipped() => {
                s.targets.remove(&step.target);
                return;
            }
            (_, Some(o)) if o.passed() => Phase::Passed,
            _ => Phase::Failed,
        };
        match phase {
            Phase::Passed => s.passed += 1,
            Phase::Failed => {
                let what = format!("{} {stage} {}", short(&step.target), step.outcome_label());
                s.failed.push(what);
            }
            Phase::Started => {}
        }
        // DNS names a host; the later steps a host and port: the host's row gives way to them.
        if step.stage != Stage::Dns {
            if let Some((host, _)) = step.target.rsplit_once(':') {
                s.targets.remove(host);
            }
        }
        s.targets.insert(step.target.clone(), (stage.to_string(), phase));
    }
}

/// The step that follows `stage` on the same target, if any.
fn next_stage(stage: &str) -> Option<&'static str> {
    match stage {
        "dns" => Some("tcp"),
        "tcp" => Some("tls"),
        // Kafka on a Kafka port, HTTP on the REST port: the events do not say which.
        "tls" => Some("request"),
        _ => None,
    }
}

/// What a stage that announces its start is doing while it runs.
fn running_stage(stage: &str) -> &str {
    match stage {
        "client" => "metadata",
        "aws" => "audit",
        other => other,
    }
}

/// A target's host without the domain it shares with the others (the report prints it once).
fn short(target: &str) -> String {
    let (host, port) = target.rsplit_once(':').unwrap_or((target, ""));
    let first = host.split('.').next().unwrap_or(host);
    if port.is_empty() { first.to_string() } else { format!("{first}:{port}") }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kreach::report::DnsOutcome;
    use kreach::report::KafkaOutcome;
    use kreach::report::TcpOutcome;
    use kreach::{StageStatus, StepOutcome};

    /// A step as the diagnosis hands it over: `outcome` `None` is a stage announcing its start.
    fn step(stage: Stage, target: &str, outcome: Option<StepOutcome>) -> Step {
        match outcome {
            None => Step::started(stage, target),
            Some(o) => Step::ended(stage, target, None, o, 1),
        }
    }
    const ANSWER: Option<StepOutcome> = Some(StepOutcome::Dns(DnsOutcome::Answer));
    const CONNECTED: Option<StepOutcome> = Some(StepOutcome::Tcp(TcpOutcome::Connected));
    const TIMEOUT: Option<StepOutcome> = Some(StepOutcome::Tcp(TcpOutcome::Timeout));

    #[test]
    fn the_line_names_what_passed_failed_and_runs_next_within_the_width() {
        let p = Progress::default();
        p.running.store(true, Ordering::SeqCst);
        p.record(&step(Stage::Dns, "lkc-lab01.abc123.us-west-2.aws.confluent.cloud", ANSWER));
        p.record(&step(Stage::Tcp, "lkc-lab01.abc123.us-west-2.aws.confluent.cloud:9092", CONNECTED));
        p.record(&step(Stage::Tcp, "lkc-lab01.abc123.us-west-2.aws.confluent.cloud:443", TIMEOUT));
        let line = p.line();
        assert!(line.contains("2 passed"), "{line}");
        assert!(line.contains("1 failed (lkc-lab01:443 tcp timeout)"), "{line}");
        assert!(line.contains("running: lkc-lab01:9092 tls"), "{line}");
        assert!(!line.contains("lkc-lab01 tcp"), "the host's DNS row gave way to its ports: {line}");
        assert!(!line.contains("abc123"), "the shared domain is left out: {line}");
        for n in 0..40 {
            p.record(&step(Stage::Tcp, &format!("b{n}.usw2-az1.abc123.us-west-2.aws.confluent.cloud:9092"), TIMEOUT));
        }
        assert!(p.line().chars().count() <= WIDTH, "{}", p.line());
    }

    #[test]
    fn the_librdkafka_stage_and_the_aws_audit_show_while_they_run() {
        let p = Progress::default();
        p.running.store(true, Ordering::SeqCst);
        assert!(p.line().ends_with(" · resolving"), "{}", p.line());
        p.record(&step(Stage::Client, "librdkafka", None));
        p.record(&step(Stage::Aws, "AWS", None));
        p.record(&step(
            Stage::Kafka,
            "lkc-lab01.abc123.us-west-2.aws.confluent.cloud:9092",
            Some(StepOutcome::Kafka(KafkaOutcome::Ok)),
        ));
        let line = p.line();
        assert!(line.contains("running: AWS audit, librdkafka metadata"), "{line}");
        assert!(line.contains("1 passed"), "a start is not a result: {line}");
        p.record(&step(Stage::Aws, "AWS", Some(StepOutcome::Stage(StageStatus::Skipped))));
        p.record(&step(Stage::Client, "librdkafka", Some(StepOutcome::Stage(StageStatus::Fail))));
        let line = p.line();
        assert!(line.contains("1 passed · 1 failed (librdkafka client fail)"), "{line}");
        assert!(line.ends_with(" · finishing"), "nothing runs any more: {line}");
    }

    /// A broker advertising a name with terminal control sequences (set the title, clear the
    /// screen): the line carries them as visible escapes, never as bytes a terminal acts on.
    #[test]
    fn peer_names_cannot_drive_the_terminal() {
        let p = Progress::default();
        p.running.store(true, Ordering::SeqCst);
        p.record(&step(Stage::Tcp, "evil\x1b]0;owned\x07\x1b[2J\u{9b}31m.example:9092", TIMEOUT));
        p.record(&step(Stage::Dns, "b\x1b[1;1H\r\n.example", ANSWER));
        let line = p.line();
        assert!(!line.chars().any(|c| c.is_control()), "{line:?}");
        assert!(line.contains("\\u{1b}"), "shown as an escape: {line}");
    }

    /// A stage that announces its start is running, not failed.
    #[test]
    fn a_started_stage_is_running() {
        let p = Progress::default();
        p.running.store(true, Ordering::SeqCst);
        p.record(&Step::started(Stage::Client, "librdkafka"));
        let line = p.line();
        assert!(!line.contains("failed"), "{line}");
        assert!(line.contains("running: librdkafka metadata"), "{line}");
    }

    #[test]
    fn drawn_only_on_a_terminal_without_verbose_events_nor_json_to_a_pipe() {
        assert!(wanted(true, false, false, false));
        assert!(!wanted(false, false, false, false), "stderr is a pipe");
        assert!(!wanted(true, true, false, false), "-v prints the events themselves");
        assert!(!wanted(true, false, true, false), "--output json into a pipe");
        assert!(!wanted(true, false, false, true), "--no-progress");
    }
}
