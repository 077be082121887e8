//! Text on the ground floor: what every layer may use to make peer-written text inert and short
//! (errors, inputs, findings, renderers alike), depending on nothing else of the crate.

use std::borrow::Cow;

/// Text that came from a peer or a file (host names, certificate subjects, error messages) made
/// safe for a terminal or a Markdown page: control characters (escape sequences, carriage
/// returns, line breaks) and bidirectional overrides become visible `\u{..}` escapes.
pub fn clean(text: &str) -> Cow<'_, str> {
    let unsafe_char = |c: char| {
        c.is_control()
            || matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
    };
    if !text.chars().any(unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `text` cut to `width` characters, the last one an ellipsis when anything was cut.
pub fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::clean;

    #[test]
    fn peer_text_cannot_drive_the_terminal() {
        assert_eq!(clean("b1.usw2-az1.example.com"), "b1.usw2-az1.example.com");
        assert_eq!(clean("evil\x1b[2J\rhost\n"), "evil\\u{1b}[2J\\u{d}host\\u{a}");
        assert_eq!(clean("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(clean("\u{9b}"), "\\u{9b}", "C1 CSI");
    }
}
