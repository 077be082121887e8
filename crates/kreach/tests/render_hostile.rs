//! Peer text in the Markdown report stays inert: a real diagnosis of the in-process lab, with
//! hostile text put where peers' words land (a finding's summary, a stage's summary, a target's
//! name, the vantage label in the Mermaid diagram), rendered and read back by pulldown-cmark (a
//! CommonMark implementation with GitHub's tables) as a support ticket's renderer would.

use std::time::Duration;

use kreach_lab::{Fault, Lab};
use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag};

const HOSTILE: &[&str] = &[
    "[Reset your password](https://evil.example/reset)",
    "![x](https://evil.example/x.png)",
    "<img src=x onerror=alert(1)>",
    "<a href=\"https://evil.example\">click</a>",
    "see https://evil.example/login now",
    "www.evil.example",
    "mail admin@evil.example",
    "**bold** _em_ ~~gone~~ `tick` | pipe",
    "&lt;script&gt; &#x3C;b&#x3E;",
    "\"]; X[\"injected\"]; click X \"https://evil.example\"",
    "line one\nline two\r# heading",
];

/// `report` with `hostile` where peers' words land: a finding's summary and fix, a stage's
/// summary, a target's name, the vantage label.
fn with_hostile(report: &kreach::Report, hostile: &str) -> kreach::Report {
    let mut r = report.clone();
    r.findings[0].summary = format!("peer said {hostile}");
    r.findings[0].fix = format!("fix {hostile}");
    r.targets[0].stages[0].summary = hostile.to_string();
    r.targets[1].target = hostile.to_string();
    let mut vantage = kreach::report::Vantage::undetected("test");
    vantage.label = hostile.to_string();
    r.vantage = Some(vantage);
    r
}

#[tokio::test]
async fn hostile_peer_text_renders_inert_in_markdown() {
    let lab = Lab::start(Fault::AzDown).await.expect("lab");
    let mut report = kreach::run(&kreach_testkit::lab_config(&lab, Duration::from_secs(2))).await.expect("report");
    assert!(!report.findings.is_empty() && report.targets.len() > 2);
    for hostile in HOSTILE {
        let md = kreach::render::markdown(&with_hostile(&report, hostile));
        check(&md, hostile);
    }
    // The untouched report reads the same way (no false alarm from kreach's own text).
    report.vantage = None;
    check(&kreach::render::markdown(&report), "none");
}

fn check(md: &str, hostile: &str) {
    let mut in_mermaid = false;
    for event in Parser::new_ext(md, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH) {
        match event {
            Event::Start(Tag::Link { dest_url, .. }) => panic!("{hostile}: a live link to {dest_url}\n{md}"),
            Event::Start(Tag::Image { dest_url, .. }) => panic!("{hostile}: a live image {dest_url}\n{md}"),
            Event::Start(Tag::Strikethrough | Tag::Emphasis) => panic!("{hostile}: peer text formatted\n{md}"),
            Event::Html(h) | Event::InlineHtml(h) => panic!("{hostile}: live HTML {h}\n{md}"),
            Event::Start(Tag::CodeBlock(CodeBlockKind::Fenced(lang))) => in_mermaid = lang.as_ref() == "mermaid",
            Event::End(pulldown_cmark::TagEnd::CodeBlock) => in_mermaid = false,
            Event::Text(t) if in_mermaid => {
                // Every label is one quoted string with no HTML: it cannot close its quotes.
                for line in t.lines() {
                    let quotes = line.matches('"').count();
                    assert!(quotes % 2 == 0 && quotes <= 4, "{hostile}: mermaid line {line}");
                    assert!(!line.contains('<') && !line.contains('>') || line.contains("-->"), "{hostile}: {line}");
                    assert!(!line.trim_start().starts_with("click"), "{hostile}: mermaid interaction {line}");
                }
            }
            // Text outside code spans is what a GitHub-style renderer would autolink.
            Event::Text(t) => {
                let lower = t.to_ascii_lowercase();
                assert!(
                    !lower.contains("://") && !lower.contains("www.") && !t.contains('@'),
                    "{hostile}: autolinkable text {t:?}\n{md}"
                );
            }
            _ => {}
        }
    }
    let headings = md.lines().filter(|l| l.starts_with('#')).count();
    assert_eq!(headings, 2, "{hostile}: only kreach's own headings\n{md}");
}

/// Peer text in the HTML report stays text, as a browser sees it: each hostile string put where
/// peers' words land (a finding, a stage summary, a target's name, the vantage label drawn in the
/// diagram), the page opened in headless Chromium: the DOM gains no element (no image, link,
/// script or handler), the console stays silent (no script ran, no fetch was attempted), and the
/// text is there, escaped.
#[tokio::test]
async fn hostile_peer_text_renders_inert_in_html() {
    let lab = Lab::start(Fault::AzDown).await.expect("lab");
    let report = kreach::run(&kreach_testkit::lab_config(&lab, Duration::from_secs(2))).await.expect("report");
    let dir = tempfile::tempdir().expect("dir");
    let extra = [
        "<script>document.title='pwned'</script>",
        "<svg onload=alert(1)><circle/></svg>",
        "</title><style>*{display:none}</style>",
    ];
    for (i, hostile) in HOSTILE.iter().chain(extra.iter()).enumerate() {
        let page = kreach::render::html(&with_hostile(&report, hostile));
        let path = dir.path().join(format!("hostile-{i}.html"));
        std::fs::write(&path, &page).expect("write");
        let run = kreach_testkit::headless_chromium(&path, None);
        assert!(run.console.is_empty(), "{hostile}: {:#?}", run.console);
        let body = run.dom.split_once("<body>").map(|(_, b)| b).expect("body");
        // Every element is one kreach writes, none with a handler (text has no raw `<`).
        const OURS: &[&str] = &[
            "h1", "h2", "h3", "span", "p", "b", "code", "svg", "g", "title", "rect", "text", "path", "table", "thead",
            "tbody", "tr", "th", "td", "section", "details", "summary", "pre", "ul", "li", "body", "html",
        ];
        for tag in body.split('<').skip(1).filter_map(|t| t.split('>').next()).filter(|t| !t.starts_with('/')) {
            let name = tag.split_whitespace().next().unwrap_or_default().to_ascii_lowercase();
            assert!(OURS.contains(&name.as_str()), "{hostile}: the DOM gained <{tag}>");
            for attr in attribute_names(tag) {
                assert!(!attr.to_ascii_lowercase().starts_with("on"), "{hostile}: a handler in <{tag}>");
            }
        }
        assert!(run.dom.contains("<title>kreach: fail"), "{hostile}: the title is kreach's own");
        // The words are there, as text (Chromium's DOM dump escapes < > & in text).
        let shown = kreach::render::html_escape(hostile).replace("&quot;", "\"").replace("&#39;", "'");
        let first_line = shown.lines().next().unwrap_or_default();
        assert!(body.contains(first_line), "{hostile}: {first_line} is not shown");
    }
}

/// The attribute names of a tag's text (`name attr="value with spaces" other=x`).
fn attribute_names(tag: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = tag.split_once(char::is_whitespace).map_or("", |(_, r)| r);
    loop {
        rest = rest.trim_start();
        if rest.is_empty() || rest == "/" {
            return names;
        }
        let end = rest.find(|c: char| c == '=' || c.is_whitespace()).unwrap_or(rest.len());
        names.push(rest[..end].to_string());
        rest = &rest[end..];
        if let Some(after) = rest.strip_prefix('=') {
            rest = match after.strip_prefix('"') {
                Some(quoted) => quoted.split_once('"').map_or("", |(_, r)| r),
                None => after.split_once(char::is_whitespace).map_or("", |(_, r)| r),
            };
        }
    }
}

/// A cluster that advertises brokers in ever new "zones" cannot create new metric series without
/// end: zone values are AZ IDs of the cluster's region (here `usw2-az…`), at most twelve; every
/// other name, and every zone past that, is folded into `other`. The lab's own zones keep theirs.
#[tokio::test]
async fn advertised_zone_names_cannot_mint_series() {
    let lab = Lab::start(Fault::None).await.expect("lab");
    let mut report = kreach::run(&kreach_testkit::lab_config(&lab, Duration::from_secs(3))).await.expect("report");
    let broker = report.targets.iter().find(|t| t.role == kreach::Role::Broker).cloned().expect("a broker row");
    let template = report.zones[0].clone();
    let names: Vec<String> = (4..60)
        .map(|i| format!("usw2-az{i}"))
        .chain((0..200).map(|i| format!("zz{i}-az1")))
        .chain(["euc1-az1".to_string(), "usw2-az1\"} 1\nx{".to_string(), "usw2-az100".to_string()])
        .collect();
    for name in &names {
        let mut t = broker.clone();
        if let Some(b) = t.broker.as_mut() {
            b.az_id = Some(name.clone());
        }
        report.targets.push(t);
        let mut z = template.clone();
        z.az_id = name.clone();
        report.zones.push(z);
    }
    let text = kreach::render::prometheus(&report);
    let zones: std::collections::BTreeSet<&str> =
        text.lines().filter_map(|l| l.split("zone=\"").nth(1)?.split('"').next()).collect();
    for lab_zone in ["usw2-az1", "usw2-az2", "usw2-az3"] {
        assert!(zones.contains(lab_zone), "{zones:?}");
    }
    assert!(zones.contains(kreach::render::OTHER_ZONE), "{zones:?}");
    assert!(zones.len() <= 12 + 2, "{} zone values: {zones:?}", zones.len());
    assert!(zones.iter().all(|z| *z == "any" || *z == "other" || z.starts_with("usw2-az")), "{zones:?}");
    let emf = kreach::render::emf(&report, 0);
    let emf_zones: std::collections::BTreeSet<String> = emf
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()?.get("Zone")?.as_str().map(str::to_string))
        .collect();
    assert!(emf_zones.len() <= 12 + 2, "{emf_zones:?}");
}
