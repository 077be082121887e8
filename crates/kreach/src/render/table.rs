use comfy_table::presets::UTF8_FULL_CONDENSED;
use comfy_table::{Attribute, Cell, Color, ContentArrangement, Table};

use super::{clean, columns, status_word};
use crate::report::findings::Severity;
use crate::report::{Report, Stage, StageResult, StageStatus, Status};

/// Widest target label in the matrix (the shared domain is printed once, above it).
pub(crate) const TARGET_WIDTH: usize = 24;
/// Widest line of a stage cell.
/// A matrix cell's summary line at the default width (100 columns).
const CELL_WIDTH: usize = 14;

/// The pass/fail matrix (rows = targets, columns = DNS, TCP, TLS and the port's own protocol),
/// fitting 100 columns: the cluster's domain once above it, each target by what distinguishes it,
/// cells of two short lines; the client (librdkafka) and AWS verdicts under it; then the findings
/// with their fixes. `color` adds ANSI colours (the CLI turns it on for a TTY without `NO_COLOR`).
pub fn table(report: &Report, color: bool) -> String {
    table_width(report, color, LINE_WIDTH)
}

/// [`table`] for a terminal `width` columns wide (the CLI passes `COLUMNS`): the matrix cells and
/// the wrapped lines use what there is (cells never narrower than at 100 columns, lines never wider
/// than `width`, and never narrower than 60).
pub fn table_width(report: &Report, color: bool, width: usize) -> String {
    let width = width.clamp(60, 400);
    let wrap = |text: &str, first: &str, rest: &str| wrap_to(text, first, rest, width);
    // DNS, TCP, TLS, then the port's own protocol in one column: Kafka, or HTTP on the REST port.
    let has_https = report.targets.iter().any(|t| t.stage(Stage::Https).is_some());
    let mut stages: Vec<Stage> =
        columns(report).into_iter().filter(|s| !matches!(s, Stage::Client | Stage::Aws | Stage::Https)).collect();
    if has_https && !stages.contains(&Stage::Kafka) {
        stages.push(Stage::Https);
    }
    let domain = shared_domain(report);
    let mut matrix = Table::new();
    matrix.load_preset(UTF8_FULL_CONDENSED);
    matrix.set_content_arrangement(ContentArrangement::Disabled);
    if color {
        matrix.enforce_styling();
    } else {
        matrix.force_no_tty();
    }
    let mut header = vec![Cell::new("target").add_attribute(Attribute::Bold)];
    header.extend(stages.iter().map(|s| {
        let name = if *s == Stage::Kafka && has_https { "KAFKA/HTTPS".to_string() } else { s.as_str().to_uppercase() };
        Cell::new(name).add_attribute(Attribute::Bold)
    }));
    matrix.set_header(header);
    // The target column takes ~20; each stage column its share of the rest, less its borders.
    let cell_width = ((width.saturating_sub(22)) / stages.len().max(1)).saturating_sub(3).max(CELL_WIDTH);
    for t in &report.targets {
        let target = short_target(&t.target, domain.as_deref());
        let label = match &t.endpoint {
            Some(e) if e.name != t.target => format!("{}\n{target}", short_target(&e.name, domain.as_deref())),
            _ => target,
        };
        let mut row = vec![Cell::new(label)];
        for &stage in &stages {
            let stage = if stage == Stage::Kafka && t.stage(Stage::Kafka).is_none() { Stage::Https } else { stage };
            row.push(match t.stage(stage) {
                Some(result) => {
                    let c = Cell::new(compact_cell(result, cell_width));
                    if color { c.fg(stage_color(result.status)) } else { c }
                }
                None => Cell::new("—"),
            });
        }
        matrix.add_row(row);
    }

    let mut out = String::new();
    if let Some(d) = &domain {
        out.push_str(&format!("Targets in {}\n", clean(d)));
    }
    out.push_str(&matrix.to_string());
    out.push('\n');
    for t in &report.targets {
        for stage in [Stage::Client, Stage::Aws] {
            if let Some(result) = t.stage(stage) {
                let what = if stage == Stage::Client { "Client (librdkafka)" } else { "AWS audit" };
                let time = result.elapsed_ms.map(|ms| format!(" {ms} ms")).unwrap_or_default();
                let summary = clean(&result.summary);
                let head =
                    format!("{what}: {}{time}: ", paint(status_word(result.status), stage_color(result.status), color));
                out.push_str(&wrap(summary.strip_prefix("skipped: ").unwrap_or(&summary), &head, "  "));
            }
        }
    }
    if let Some(access) = &report.access {
        out.push_str(&wrap(&access.summary_line(), "Consumer access: ", "  "));
    }
    if !report.critical_path.is_empty() {
        out.push_str(&wrap(&critical_path(report, domain.as_deref()), "Critical path: ", "  "));
    }
    let not_waited: Vec<&str> =
        report.targets.iter().flat_map(|t| &t.addresses).filter_map(|a| a.not_waited_for.as_deref()).collect();
    if let Some(first) = not_waited.first() {
        let more = match not_waited.len() {
            1 => String::new(),
            n => format!(" (and {} more like it)", n - 1),
        };
        out.push_str(&wrap(&format!("{}{more}", clean(first)), "Not waited for: ", "  "));
    }
    let verdict = report.status.as_word();
    let counts = |sev| report.findings.iter().filter(|f| f.severity == sev).count();
    out.push_str(&format!(
        "\n{}: {} error(s), {} warning(s), {} info in {} ms (deadline {} ms){}\n",
        paint(verdict, status_color(report.status), color),
        counts(Severity::Error),
        counts(Severity::Warning),
        counts(Severity::Info),
        report.elapsed_ms,
        report.timeout_ms,
        if report.settings.tls_verification == crate::report::TlsVerification::Disabled {
            "; TLS verification DISABLED (--insecure)"
        } else {
            ""
        }
    ));
    out.push_str(&context_lines(report, color, width));
    for f in &report.findings {
        let sev = match f.severity {
            Severity::Error => paint("ERROR", Color::Red, color),
            Severity::Warning => paint("WARN ", Color::Yellow, color),
            Severity::Info => paint("INFO ", Color::Blue, color),
        };
        out.push_str(&format!("\n{sev} {} [{} {}]\n", f.code, clean(&f.target), f.stage.as_str()));
        out.push_str(&wrap(&clean(&f.summary), "  ", "  "));
        if f.severity != Severity::Info {
            out.push_str(&wrap(&clean(&f.fix), "  fix: ", "       "));
        }
        for line in crate::report::change_lines(f, report.changes.as_ref()) {
            out.push_str(&wrap(&clean(&line), "  changed: ", "           "));
        }
    }
    if let Some(changes) = report.changes.as_ref().filter(|c| !c.resources.is_empty()) {
        out.push_str(&wrap(
            &format!("Changes: CloudTrail, last {} h; {}.", changes.since_hours, changes.lag),
            "\n",
            "",
        ));
    }
    out
}

/// Where the probe ran, how the secret was read, the zones' verdicts: a few lines under the verdict.
fn context_lines(report: &Report, color: bool, width: usize) -> String {
    let wrap = |text: &str, first: &str, rest: &str| wrap_to(text, first, rest, width);
    let mut out = String::new();
    if let Some(v) = &report.vantage {
        let facts: Vec<String> = v.facts.entries().iter().map(|(k, val)| format!("{k}={}", clean(val))).collect();
        let vpc = match (v.kind, v.vpc_attached) {
            (crate::report::VantageKind::Lambda, Some(true)) => "; attached to a VPC",
            (crate::report::VantageKind::Lambda, Some(false)) => "; NOT attached to a VPC",
            _ => "",
        };
        let text = format!(
            "{}{}{vpc}{}",
            clean(&v.label),
            if facts.is_empty() { String::new() } else { format!(" ({})", facts.join(", ")) },
            v.note.as_ref().map(|n| format!(" — {}", clean(n))).unwrap_or_default()
        );
        out.push_str(&wrap(&text, "Vantage: ", "  "));
    }
    if let Some(s) = &report.secret {
        let how = match s.outcome {
            crate::report::SecretOutcome::Read => format!("read ({})", s.keys.join("/")),
            _ => format!("NOT read: {}", clean(s.detail.as_deref().unwrap_or(""))),
        };
        out.push_str(&wrap(&format!("secret {} {how}", clean(&s.secret_id)), "Credentials: ", "  "));
    }
    if !report.zones.is_empty() {
        let zones: Vec<String> = report
            .zones
            .iter()
            .map(|z| {
                let word = if z.status == StageStatus::Pass {
                    StageStatus::Pass.as_word()
                } else {
                    StageStatus::Fail.as_word()
                };
                let color_of = if z.status == StageStatus::Pass { Color::Green } else { Color::Red };
                format!(
                    "{} {} ({}/{} brokers)",
                    clean(&z.az_id),
                    paint(word, color_of, color),
                    z.passed,
                    z.brokers.len()
                )
            })
            .collect();
        out.push_str(&format!("Zones: {}\n", zones.join(", ")));
    }
    out
}

/// Widest line of the findings' text.
const LINE_WIDTH: usize = 100;

/// `text` wrapped at spaces to `width` columns, the first line after `first`, the others after
/// `rest` (a word longer than a line stays whole); every line ends in a newline.
pub fn wrap_to(text: &str, first: &str, rest: &str, width: usize) -> String {
    let mut out = String::new();
    let mut line = first.to_string();
    let mut empty = true;
    for word in text.split(' ').filter(|w| !w.is_empty()) {
        if !empty && line.chars().count() + 1 + word.chars().count() > width {
            out.push_str(&line);
            out.push('\n');
            line = rest.to_string();
            empty = true;
        }
        if !empty {
            line.push(' ');
        }
        line.push_str(word);
        empty = false;
    }
    out.push_str(&line);
    out.push('\n');
    out
}

/// The steps that ended last, grouped by target: `lkc-x:9092 dns 47 tcp 41 … ms → b2.az2:9092 …`.
fn critical_path(report: &Report, domain: Option<&str>) -> String {
    let mut groups: Vec<(String, Vec<String>)> = Vec::new();
    for step in &report.critical_path {
        let item = format!("{} {}", step.stage.as_str(), step.elapsed_ms);
        match groups.last_mut() {
            Some((target, items)) if *target == step.target => items.push(item),
            _ => groups.push((step.target.clone(), vec![item])),
        }
    }
    let total: u64 = report.critical_path.iter().map(|s| s.elapsed_ms).sum();
    let chain: Vec<String> = groups
        .iter()
        .map(|(target, items)| format!("{} {} ms", short_target(target, domain), items.join(" ")))
        .collect();
    format!("{} ({total} of {} ms)", chain.join(" → "), report.elapsed_ms)
}

/// The domain every target shares (at least two labels, never a whole host name), printed once.
/// An address literal has no domain: with one among the targets, every name is shown whole.
fn shared_domain(report: &Report) -> Option<String> {
    let endpoints = report.targets.iter().filter_map(|t| t.endpoint.as_ref()).map(|e| e.name.as_str());
    let endpoint_hosts = endpoints.map(|name| name.rsplit_once(':').map_or(name, |(h, _)| h));
    shared_domain_of(report.targets.iter().map(|t| t.host.as_str()).chain(endpoint_hosts))
}

/// The domain every one of `hosts` shares (at least two labels, never a whole host name); none
/// when one of them is an address literal.
pub(crate) fn shared_domain_of<'a>(hosts: impl IntoIterator<Item = &'a str>) -> Option<String> {
    let hosts: Vec<&str> = hosts.into_iter().collect();
    if hosts.iter().any(|h| h.trim_matches(['[', ']']).parse::<std::net::IpAddr>().is_ok()) {
        return None;
    }
    let hosts: Vec<Vec<&str>> = hosts.iter().map(|h| h.trim_end_matches('.').split('.').rev().collect()).collect();
    let shortest = hosts.iter().map(Vec::len).min()?;
    let mut common = 0;
    while common + 1 < shortest && hosts.iter().all(|h| h[common].eq_ignore_ascii_case(hosts[0][common])) {
        common += 1;
    }
    if common < 2 {
        return None;
    }
    let mut labels: Vec<&str> = hosts[0][..common].to_vec();
    labels.reverse();
    Some(labels.join("."))
}

/// `host:port` without the shared domain, cut in the middle when still too long.
pub(crate) fn short_target(target: &str, domain: Option<&str>) -> String {
    let short = match domain {
        Some(d) => {
            let (host, port) = target.rsplit_once(':').unwrap_or((target, ""));
            let suffix = format!(".{d}");
            let stripped = host.strip_suffix(suffix.as_str()).unwrap_or(host);
            if port.is_empty() { stripped.to_string() } else { format!("{stripped}:{port}") }
        }
        None => target.to_string(),
    };
    fit(&clean(&short))
}

fn fit(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    if chars.len() <= TARGET_WIDTH {
        return text.to_string();
    }
    let half = (TARGET_WIDTH - 1) / 2;
    let head: String = chars[..half].iter().collect();
    let tail: String = chars[chars.len() - (TARGET_WIDTH - 1 - half)..].iter().collect();
    format!("{head}…{tail}")
}

/// "3 addresses" → "3", "1 address" → "1": a count needs no noun in a cell; any other "address"
/// (`no address to connect to`) stays, and the cell's short words shorten it.
fn counted_addresses(summary: &str) -> String {
    let mut out = String::with_capacity(summary.len());
    let mut rest = summary;
    while let Some(at) = rest.find(" address") {
        let after = &rest[at + " address".len()..];
        let noun = if after.starts_with("es") { " addresses" } else { " address" };
        let counted = rest[..at].chars().next_back().is_some_and(|c| c.is_ascii_digit());
        out.push_str(&rest[..at]);
        if !counted {
            out.push_str(noun);
        }
        rest = &rest[at + noun.len()..];
    }
    out.push_str(rest);
    out
}

/// A cell in two short lines: the verdict and time, then the summary in its shortest words.
fn compact_cell(result: &StageResult, width: usize) -> String {
    let time = result.elapsed_ms.map(|ms| format!(" {ms}ms")).unwrap_or_default();
    let mut text = counted_addresses(&clean(&result.summary));
    for (long, short) in [
        ("skipped: ", ""),
        ("no address to connect to", "no address"),
        ("no TCP connection", "no TCP"),
        ("no TLS session", "no TLS"),
        ("(private)", "priv"),
        ("(public)", "PUBLIC"),
        ("(mixed)", "mixed"),
        (" via 1 CNAME", ""),
        (" connected", ""),
        (" handshakes", ""),
        ("TLSv1_3", "TLS1.3"),
        ("TLSv1_2", "TLS1.2"),
        (" days left", "d"),
        ("cert ", ""),
        (" answered", ""),
        ("ApiVersions+Metadata", "meta"),
        ("ApiVersions", "api"),
        (" brokers", " brk"),
        (";", ""),
        (",", ""),
    ] {
        text = text.replace(long, short);
    }
    format!("{}{time}\n{}", status_word(result.status), super::truncate(&text, width))
}

fn stage_color(status: StageStatus) -> Color {
    match status {
        StageStatus::Pass => Color::Green,
        StageStatus::Warn => Color::Yellow,
        StageStatus::Fail => Color::Red,
        StageStatus::Skipped | StageStatus::NotApplicable => Color::DarkGrey,
    }
}

fn status_color(status: Status) -> Color {
    match status {
        Status::Pass => Color::Green,
        Status::Warn => Color::Yellow,
        Status::Fail => Color::Red,
    }
}

fn paint(text: &str, color: Color, enabled: bool) -> String {
    if !enabled {
        return text.to_string();
    }
    let code = match color {
        Color::Red => 31,
        Color::Green => 32,
        Color::Yellow => 33,
        Color::Blue => 34,
        _ => 39,
    };
    format!("\x1b[1;{code}m{text}\x1b[0m")
}
