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

#[tokio::test]
async fn hostile_peer_text_renders_inert_in_markdown() {
    let lab = Lab::start(Fault::AzDown).await.expect("lab");
    let mut report = kreach::run(&kreach_testkit::lab_config(&lab, Duration::from_secs(2))).await.expect("report");
    assert!(!report.findings.is_empty() && report.targets.len() > 2);
    for hostile in HOSTILE {
        let mut r = report.clone();
        r.findings[0].summary = format!("peer said {hostile}");
        r.findings[0].fix = format!("fix {hostile}");
        r.targets[0].stages[0].summary = hostile.to_string();
        r.targets[1].target = hostile.to_string();
        let mut vantage = kreach::Vantage::undetected("test");
        vantage.label = hostile.to_string();
        r.vantage = Some(vantage);
        let md = kreach::render::markdown(&r);
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
