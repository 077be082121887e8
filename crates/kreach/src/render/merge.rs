//! `kreach merge` as text: the merged matrix as a terminal table or Markdown.

use crate::analysis::merge::{Merged, MergedCell};
use crate::render::clean;

/// One merged cell as text: `—` where the report lacks the target, else the status word and the
/// detail, made safe by `escape` for the output at hand.
fn cell_text(cell: Option<&MergedCell>, escape: impl Fn(&str) -> String) -> String {
    match cell {
        None => "—".to_string(),
        Some(c) => match &c.detail {
            None => crate::render::status_word(c.status).to_string(),
            Some(d) => format!("{} {}", crate::render::status_word(c.status), escape(d)),
        },
    }
}

/// Widest line of the merged view, like the check table.
const MERGE_WIDTH: usize = 100;
/// Narrowest vantage column: more vantages than fit at this width go to a further table.
const MIN_VANTAGE_COLUMN: usize = 18;
/// Most characters of a cell's detail (the JSON has the whole summary).
const MAX_DETAIL: usize = 64;

/// The merged matrix as text, fitting 100 columns: the shared domain once above it,
/// one row per target by what distinguishes it, one column per vantage point (as many tables as
/// it takes when they do not fit side by side), then the differences.
pub fn merged_table(m: &Merged) -> String {
    use crate::render::{shared_domain_of, short_target, wrap_to};
    let host = |target: &str| target.rsplit_once(':').map_or(target, |(h, _)| h).to_string();
    let hosts: Vec<String> = m.rows.iter().map(|r| host(&r.target)).collect();
    let domain = shared_domain_of(hosts.iter().map(String::as_str));
    let mut out = String::new();
    if let Some(d) = &domain {
        out.push_str(&format!("Targets in {}\n", clean(d)));
    }
    let per_table = ((MERGE_WIDTH - crate::render::TARGET_WIDTH - 4) / (MIN_VANTAGE_COLUMN + 3)).max(1);
    let indices: Vec<usize> = (0..m.vantages.len()).collect();
    let chunks: Vec<&[usize]> = indices.chunks(per_table).collect();
    for (n, chunk) in chunks.iter().enumerate() {
        if chunks.len() > 1 {
            let (first, last) = (chunk[0] + 1, chunk[chunk.len() - 1] + 1);
            out.push_str(&format!(
                "{}Vantage points {first}–{last} of {}\n",
                if n > 0 { "\n" } else { "" },
                m.vantages.len()
            ));
        }
        let mut table = comfy_table::Table::new();
        table
            .load_preset(comfy_table::presets::UTF8_FULL_CONDENSED)
            .force_no_tty()
            .set_content_arrangement(comfy_table::ContentArrangement::Dynamic)
            .set_width(MERGE_WIDTH as u16);
        let mut header = vec!["target".to_string()];
        header.extend(chunk.iter().map(|&i| clean(&m.vantages[i]).into_owned()));
        table.set_header(header);
        for row in &m.rows {
            let mut cells = vec![short_target(&row.target, domain.as_deref())];
            for &i in chunk.iter() {
                let detail = |d: &str| crate::render::truncate(&clean(d), MAX_DETAIL);
                cells.push(cell_text(row.cells.get(i).and_then(Option::as_ref), detail));
            }
            table.add_row(cells);
        }
        out.push_str(&table.to_string());
        out.push('\n');
    }
    if m.differences.is_empty() {
        out.push_str("\nNo difference between the vantage points.\n");
    } else {
        out.push_str("\nDifferences:\n");
        for d in &m.differences {
            out.push_str(&wrap_to(&clean(d), "- ", "  ", MERGE_WIDTH));
        }
    }
    if !m.finding_differences.is_empty() {
        out.push_str("\nFindings raised from some vantage points only:\n");
        for d in &m.finding_differences {
            out.push_str(&wrap_to(&clean(d), "- ", "  ", MERGE_WIDTH));
        }
    }
    out
}

/// The merged matrix as a Markdown table (for a ticket), then the differences; every cell escaped
/// as the Markdown report escapes peer text.
pub fn merged_markdown(m: &Merged) -> String {
    use crate::render::md_escape as esc;
    let mut out = String::from("## kreach merge\n\n| target |");
    for v in &m.vantages {
        out.push_str(&format!(" {} |", esc(v)));
    }
    out.push_str("\n|---|");
    out.push_str(&"---|".repeat(m.vantages.len()));
    out.push('\n');
    for row in &m.rows {
        out.push_str(&format!("| {} |", esc(&row.target)));
        for c in &row.cells {
            out.push_str(&format!(" {} |", cell_text(c.as_ref(), esc)));
        }
        out.push('\n');
    }
    out.push_str(if m.differences.is_empty() {
        "\nNo difference between the vantage points.\n"
    } else {
        "\n### Differences\n\n"
    });
    for d in &m.differences {
        out.push_str(&format!("- {}\n", esc(d)));
    }
    if !m.finding_differences.is_empty() {
        out.push_str("\n### Findings raised from some vantage points only\n\n");
        for d in &m.finding_differences {
            out.push_str(&format!("- {}\n", esc(d)));
        }
    }
    out
}
