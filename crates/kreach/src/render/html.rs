//! The report as one self-contained HTML page, the file an engineer attaches to a ticket: the
//! path drawn as an SVG diagram (vantage → resolver → the zone answering the names → the
//! endpoint's interface per address → the brokers per zone) with each broken hop marked by the
//! findings that explain it, the pass/fail matrix, the findings with their fixes, and the
//! evidence folded away. No script, no fetch: a Content-Security-Policy of `default-src 'none'`
//! forbids both, and every byte of peer text is escaped.

use std::fmt::Write as _;

use crate::analysis::merge::Merged;
use crate::report::{Finding, Hop, Report, Role, Stage, StageStatus, Status, TargetReport, TcpOutcome, TlsOutcome};

/// Most endpoint addresses and zones drawn (the rest are in the matrix).
const MAX_DRAWN: usize = 12;
/// Longest label drawn in a diagram box, in characters.
const MAX_LABEL: usize = 34;

/// Text made inert in HTML: the five characters that mean something there, escaped, and
/// control characters shown as `\u{..}` escapes.
pub fn escape(text: &str) -> String {
    markup_escaped(&super::clean(text))
}

/// Text with only HTML's five special characters escaped: for kreach's own serialized JSON, whose
/// line breaks are layout (JSON itself escapes every control character inside its strings).
fn markup_escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:24px;color:#1b1f24;background:#fff}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.meta{color:#555;margin:0 0 12px} code{font:12px ui-monospace,Menlo,monospace}
.badge{display:inline-block;padding:2px 10px;border-radius:10px;font-weight:600;color:#fff;margin-right:8px}
.pass{background:#1a7f37} .warn{background:#9a6700} .fail{background:#cf222e}
table{border-collapse:collapse;font-size:13px} th,td{border:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa} td.s-pass{background:#dafbe1} td.s-warn{background:#fff8c5} td.s-fail{background:#ffebe9;font-weight:600}
td.s-skipped,td.s-not_applicable{color:#888} th.v-pass{background:#dafbe1} th.v-warn{background:#fff8c5} th.v-fail{background:#ffebe9}
.finding{border-left:4px solid #d0d7de;padding:6px 12px;margin:10px 0;background:#f6f8fa}
.finding.sev-error{border-color:#cf222e} .finding.sev-warning{border-color:#9a6700} .finding.sev-info{border-color:#0969da}
.finding h3{font-size:14px;margin:0 0 4px} .fix{margin:4px 0} .fix b{color:#1a7f37}
details{margin:6px 0} summary{cursor:pointer;color:#0969da} pre{white-space:pre-wrap;word-break:break-all;font-size:12px;background:#f6f8fa;padding:8px}
svg{max-width:100%;height:auto;border:1px solid #eee;background:#fcfcfd}
svg .node rect{fill:#eef6ff;stroke:#54aeff;stroke-width:1.5} svg .node.broken rect{fill:#ffebe9;stroke:#cf222e;stroke-width:2.5}
svg text{font:12px system-ui,sans-serif;fill:#1b1f24} svg .codes{fill:#cf222e;font-weight:600;font-size:11px}
svg .edge{stroke:#8c959f;stroke-width:1.5;fill:none} svg .edge.broken{stroke:#cf222e;stroke-dasharray:5 4}
";

/// The page's head: a policy that forbids every fetch and every script.
fn head(title: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n\
         <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style></head>\n<body>\n",
        escape(title)
    )
}

fn cut(text: &str) -> String {
    super::truncate(text, MAX_LABEL)
}

/// One box of the diagram.
struct Node {
    id: String,
    hop: &'static str,
    zone: Option<String>,
    x: u32,
    y: u32,
    lines: Vec<String>,
    codes: Vec<&'static str>,
    broken: bool,
}

impl Node {
    const W: u32 = 210;
    const H: u32 = 58;

    fn svg(&self, out: &mut String) {
        let class = if self.broken { "node broken" } else { "node" };
        let codes = self.codes.join(" ");
        let _ = write!(
            out,
            "<g class=\"{class}\" id=\"{}\" data-hop=\"{}\" data-broken=\"{}\"{} data-codes=\"{}\">",
            escape(&self.id),
            self.hop,
            self.broken,
            self.zone.as_ref().map(|z| format!(" data-zone=\"{}\"", escape(z))).unwrap_or_default(),
            escape(&codes)
        );
        let _ = write!(out, "<title>{}</title>", escape(&self.lines.join(" — ")));
        let _ = write!(
            out,
            "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"6\"/>",
            self.x,
            self.y,
            Self::W,
            Self::H
        );
        for (i, line) in self.lines.iter().take(2).enumerate() {
            let _ = write!(
                out,
                "<text x=\"{}\" y=\"{}\">{}</text>",
                self.x + 8,
                self.y + 18 + 16 * i as u32,
                escape(&cut(line))
            );
        }
        if !self.codes.is_empty() {
            let _ = write!(
                out,
                "<text class=\"codes\" x=\"{}\" y=\"{}\">{}</text>",
                self.x + 8,
                self.y + 50,
                escape(&cut(&codes))
            );
        }
        out.push_str("</g>\n");
    }
}

/// Codes of `findings` that match `keep`, once each, in report order.
fn codes<'a>(findings: impl Iterator<Item = &'a Finding>, keep: impl Fn(&Finding) -> bool) -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for f in findings.filter(|f| keep(f) && f.severity != crate::Severity::Info) {
        if !out.contains(&f.code.as_str()) {
            out.push(f.code.as_str());
        }
    }
    out
}

/// The path as SVG, broken hops marked; `None` without a bootstrap target.
fn diagram(report: &Report) -> Option<String> {
    let bootstrap = report.targets.iter().find(|t| t.role == Role::Bootstrap)?;
    let findings = &report.findings;
    let col = |i: u32| 16 + i * (Node::W + 40);
    let addresses: Vec<_> = bootstrap.addresses.iter().take(MAX_DRAWN).collect();
    let zones: Vec<_> = report.zones.iter().take(MAX_DRAWN).collect();
    let rows = addresses.len().max(zones.len()).max(1) as u32;
    let height = 24 + rows * (Node::H + 18);
    let mid = (height - Node::H) / 2;
    let mut nodes: Vec<Node> = Vec::new();
    let vantage = report.vantage.as_ref().map_or("this machine".to_string(), |v| v.label.clone());
    nodes.push(Node {
        id: "hop-vantage".into(),
        hop: "vantage",
        zone: None,
        x: col(0),
        y: mid,
        lines: vec!["vantage".into(), vantage],
        codes: Vec::new(),
        broken: false,
    });
    let resolver = bootstrap.dns.as_ref().map_or("the system resolver".to_string(), |d| d.lookup.resolver.clone());
    // Each node shows the findings that blame its hop (their typed `hop`), never a reading of text.
    let resolver_codes = codes(findings.iter(), |f| matches!(f.hop, Hop::Resolver | Hop::PublicDns));
    nodes.push(Node {
        id: "hop-resolver".into(),
        hop: "resolver",
        zone: None,
        x: col(1),
        y: mid,
        lines: vec!["resolver".into(), resolver],
        broken: !resolver_codes.is_empty(),
        codes: resolver_codes,
    });
    let dns = bootstrap.stage(Stage::Dns);
    let dns_ok = dns.is_some_and(|s| matches!(s.status, StageStatus::Pass | StageStatus::Warn));
    let zone_name = report
        .network
        .as_ref()
        .and_then(|n| n.domain.as_ref())
        .map_or("the DNS answer".to_string(), |d| d.name.clone());
    let zone_codes = codes(findings.iter(), |f| {
        matches!(f.hop, Hop::Zone | Hop::Record) && (f.zone.is_none() || f.target == bootstrap.target)
    });
    nodes.push(Node {
        id: "hop-zone".into(),
        hop: "zone",
        zone: None,
        x: col(2),
        y: mid,
        lines: vec!["zone".into(), zone_name],
        broken: !dns_ok,
        codes: zone_codes,
    });
    let aws_endpoint_codes =
        codes(findings.iter(), |f| f.stage == Stage::Aws && matches!(f.hop, Hop::Endpoint | Hop::Network));
    let row_y = |i: usize| 12 + i as u32 * (Node::H + 18);
    let mut endpoint_rows: Vec<(usize, Option<String>)> = Vec::new();
    for (i, a) in addresses.iter().enumerate() {
        let az = report.zones.iter().find(|z| z.addresses.contains(&a.ip)).map(|z| z.az_id.clone());
        let tcp_bad = a.tcp.as_ref().is_some_and(|t| t.outcome != TcpOutcome::Connected);
        let tls_bad = a.tls.as_ref().is_some_and(|t| t.outcome != TlsOutcome::Ok);
        let broken = tcp_bad || tls_bad;
        let on_the_way =
            |h: Hop| matches!(h, Hop::Endpoint | Hop::Network | Hop::Listener | Hop::Certificate | Hop::Trust);
        let mut c = codes(findings.iter(), |f| f.addresses.contains(&a.ip) && on_the_way(f.hop));
        if broken {
            for code in &aws_endpoint_codes {
                if !c.contains(code) {
                    c.push(code);
                }
            }
        }
        let state = match (&a.tcp, &a.tls) {
            (Some(t), _) if t.outcome != TcpOutcome::Connected => format!("TCP {}", t.outcome.as_label()),
            (_, Some(t)) if t.outcome != TlsOutcome::Ok => format!("TLS {}", t.outcome.word()),
            (Some(_), _) => "reached".to_string(),
            _ => String::new(),
        };
        nodes.push(Node {
            id: format!("hop-endpoint-{i}"),
            hop: "endpoint",
            zone: az.clone(),
            x: col(3),
            y: row_y(i),
            lines: vec![format!("{} {}", a.ip, az.as_deref().map(|z| format!("({z})")).unwrap_or_default()), state],
            broken,
            codes: c,
        });
        endpoint_rows.push((i, az));
    }
    for (j, z) in zones.iter().enumerate() {
        let broker_targets: Vec<&TargetReport> = report
            .targets
            .iter()
            .filter(|t| t.broker.as_ref().and_then(|b| b.az_id.as_deref()) == Some(z.az_id.as_str()))
            .collect();
        let c = codes(findings.iter(), |f| {
            f.zone.as_deref() == Some(z.az_id.as_str())
                || broker_targets.iter().any(|t| t.target == f.target || f.explains.contains(&t.target))
        });
        let y = endpoint_rows
            .iter()
            .find(|(_, az)| az.as_deref() == Some(z.az_id.as_str()))
            .map_or(row_y(j), |(i, _)| row_y(*i));
        nodes.push(Node {
            id: format!("hop-brokers-{j}"),
            hop: "brokers",
            zone: Some(z.az_id.clone()),
            x: col(4),
            y,
            lines: vec![format!("brokers in {}", z.az_id), format!("{}/{} pass", z.passed, z.brokers.len())],
            broken: z.status == StageStatus::Fail,
            codes: c,
        });
    }
    let width = col(5);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" height=\"{height}\" role=\"img\" aria-label=\"the path\">\n"
    );
    let find = |id: &str| nodes.iter().find(|n| n.id == id);
    let edge = |out: &mut String, from: &Node, to: &Node| {
        let (x1, y1) = (from.x + Node::W, from.y + Node::H / 2);
        let (x2, y2) = (to.x, to.y + Node::H / 2);
        let class = if to.broken { "edge broken" } else { "edge" };
        let _ =
            writeln!(out, "<path class=\"{class}\" d=\"M{x1},{y1} C{},{y1} {},{y2} {x2},{y2}\"/>", x1 + 20, x2 - 20);
    };
    if let (Some(v), Some(r), Some(z)) = (find("hop-vantage"), find("hop-resolver"), find("hop-zone")) {
        edge(&mut out, v, r);
        edge(&mut out, r, z);
        for e in nodes.iter().filter(|n| n.hop == "endpoint") {
            edge(&mut out, z, e);
        }
        for b in nodes.iter().filter(|n| n.hop == "brokers") {
            let from = nodes.iter().find(|e| e.hop == "endpoint" && e.zone == b.zone).unwrap_or(z);
            edge(&mut out, from, b);
        }
    }
    for n in &nodes {
        n.svg(&mut out);
    }
    out.push_str("</svg>\n");
    Some(out)
}

/// The matrix: a row per target, a column per stage.
fn matrix(report: &Report, out: &mut String) {
    let stages = [Stage::Dns, Stage::Tcp, Stage::Tls, Stage::Https, Stage::Kafka, Stage::Client, Stage::Aws];
    let shown: Vec<Stage> =
        stages.into_iter().filter(|s| report.targets.iter().any(|t| t.stage(*s).is_some())).collect();
    out.push_str("<table class=\"matrix\"><thead><tr><th>target</th>");
    for s in &shown {
        let _ = write!(out, "<th>{}</th>", s.as_str());
    }
    out.push_str("</tr></thead><tbody>\n");
    for t in &report.targets {
        let _ = write!(out, "<tr><td><code>{}</code></td>", escape(&t.target));
        for s in &shown {
            match t.stage(*s) {
                Some(r) => {
                    let _ = write!(
                        out,
                        "<td class=\"s-{}\" title=\"{}\">{}</td>",
                        r.status.as_label(),
                        escape(&r.summary),
                        crate::render::status_word(r.status)
                    );
                }
                None => out.push_str("<td></td>"),
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n");
}

/// The whole report as one self-contained HTML page.
pub fn html(report: &Report) -> String {
    let cluster = report.targets.iter().find(|t| t.role == Role::Bootstrap).map_or("", |t| t.target.as_str());
    let status = report.status.as_label();
    let mut out = head(&format!("kreach: {status} — {cluster}"));
    let _ = writeln!(
        out,
        "<h1><span class=\"badge {status}\" id=\"verdict\">{}</span>{}</h1>",
        status.to_uppercase(),
        escape(cluster)
    );
    let vantage = report.vantage.as_ref().map_or("this machine".to_string(), |v| v.label.clone());
    let _ = writeln!(
        out,
        "<p class=\"meta\">from {} · started {} · {} ms of a {} ms deadline · TLS verification {} · kreach {}</p>",
        escape(&vantage),
        escape(&report.started_at),
        report.elapsed_ms,
        report.timeout_ms,
        match report.settings.tls_verification {
            crate::report::TlsVerification::Disabled => "<b>off (--insecure)</b>",
            _ => "on",
        },
        escape(&report.kreach_version)
    );
    if let Some(svg) = diagram(report) {
        out.push_str("<h2>The path</h2>\n");
        out.push_str(&svg);
    }
    out.push_str("<h2>Matrix</h2>\n");
    matrix(report, &mut out);
    let _ = writeln!(out, "<h2>Findings ({})</h2>", report.findings.len());
    for f in &report.findings {
        let _ = write!(
            out,
            "<section class=\"finding sev-{}\" data-code=\"{}\"><h3>{} <code>{}</code> {}</h3><p class=\"fix\"><b>Fix:</b> {}</p>",
            f.severity.as_str(),
            f.code.as_str(),
            f.severity.as_str(),
            f.code.as_str(),
            escape(&f.summary),
            escape(&f.fix)
        );
        let _ = writeln!(
            out,
            "<details><summary>Evidence</summary><p>target <code>{}</code>, stage {}{}</p><p>{}</p></details></section>",
            escape(&f.target),
            f.stage.as_str(),
            if f.addresses.is_empty() {
                String::new()
            } else {
                format!(", addresses {}", escape(&f.addresses.join(", ")))
            },
            escape(f.code.description())
        );
    }
    out.push_str(
        "<h2>Evidence</h2>\n<details><summary>The whole report as JSON (docs/report.schema.json)</summary><pre>",
    );
    out.push_str(&markup_escaped(&crate::render::json(report)));
    out.push_str("</pre></details>\n</body></html>\n");
    out
}

/// A merged fleet: the vantage × target grid coloured by verdict, then what differs.
pub fn merged_html(m: &Merged) -> String {
    let failed = m.statuses.contains(&Status::Fail);
    let mut out = head(&format!("kreach: {} vantage points", m.vantages.len()));
    let _ = writeln!(
        out,
        "<h1><span class=\"badge {}\" id=\"verdict\">{}</span>{} vantage points</h1>",
        if failed { "fail" } else { "pass" },
        if failed { Status::Fail.as_word() } else { Status::Pass.as_word() },
        m.vantages.len()
    );
    out.push_str("<h2>Vantage points × targets</h2>\n<table class=\"grid\"><thead><tr><th>target</th>");
    for (v, s) in m.vantages.iter().zip(&m.statuses) {
        let _ = write!(out, "<th class=\"v-{}\">{}</th>", s.as_label(), escape(v));
    }
    out.push_str("</tr></thead><tbody>\n");
    for row in &m.rows {
        let _ = write!(out, "<tr><td><code>{}</code></td>", escape(&row.target));
        for cell in &row.cells {
            match cell {
                None => out.push_str("<td class=\"s-not_applicable\">—</td>"),
                Some(c) => {
                    let _ = write!(
                        out,
                        "<td class=\"s-{}\">{}{}</td>",
                        c.status.as_label(),
                        crate::render::status_word(c.status),
                        c.detail.as_ref().map(|d| format!(" {}", escape(d))).unwrap_or_default()
                    );
                }
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table>\n<h2>What differs</h2>\n<ul>\n");
    for d in m.differences.iter().chain(&m.finding_differences) {
        let _ = writeln!(out, "<li>{}</li>", escape(d));
    }
    out.push_str("</ul>\n</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_in_peer_text_is_escaped() {
        assert_eq!(
            super::escape("<img src=x onerror=\"a('1')\">&"),
            "&lt;img src=x onerror=&quot;a(&#39;1&#39;)&quot;&gt;&amp;"
        );
        assert_eq!(super::escape("a\u{1b}[31mb"), "a\\u{1b}[31mb");
        // The evidence is JSON with its own line breaks; peer text inside it stays escaped.
        let json = "{\n  \"summary\": \"<script>\\u001b\"\n}";
        assert_eq!(
            super::markup_escaped(json),
            "{\n  \"summary\": \"&lt;script&gt;\\u001b\"\n}".replace('"', "&quot;")
        );
    }
}
