//! Java-style `.properties` files, as Confluent Cloud and librdkafka client configs come.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::Error;

/// Parsed `key=value` pairs. Values may be secrets: `Debug` shows the keys only.
#[derive(Clone, Default)]
pub struct Properties {
    entries: BTreeMap<String, String>,
}

impl std::fmt::Debug for Properties {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.entries.keys()).finish()
    }
}

/// Lines as Java's `Properties.load` splits them: `\n`, `\r` and `\r\n` each end a line (a file
/// saved with old Mac line endings is one "line" to a reader that splits on `\n` only, and its
/// first value would swallow every other one, secrets included).
fn java_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let text = rest?;
        match text.find(['\n', '\r']) {
            Some(i) => {
                let skip = if text[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = Some(&text[i + skip..]);
                Some(&text[..i])
            }
            None => {
                rest = None;
                (!text.is_empty()).then_some(text)
            }
        }
    })
}

impl Properties {
    /// Reads and parses a properties file.
    pub fn from_file(path: &Path) -> Result<Self, Error> {
        let bytes = crate::input::files::read_input_file(
            path,
            crate::limits::MAX_PROPERTIES_FILE,
            &path.display().to_string(),
        )?;
        let text = String::from_utf8(bytes)
            .map_err(|_| Error::invalid(path.display().to_string(), "the file is not UTF-8 text"))?;
        Self::parse(&text).map_err(|e| match e {
            Error::InvalidInput { field, message } => Error::invalid(format!("{} ({field})", path.display()), message),
            other => other,
        })
    }

    /// Parses properties text: `key=value`, `key: value` or `key value`; `#`/`!` comments;
    /// a trailing backslash continues a line; `\t \n \r \\ \uXXXX` escapes.
    pub fn parse(text: &str) -> Result<Self, Error> {
        // Editors on Windows start UTF-8 files with a byte-order mark; it is not part of the first key.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let mut entries = BTreeMap::new();
        let mut logical = String::new();
        let mut start_line = 0;
        for (idx, raw) in java_lines(text).enumerate() {
            let line = raw.trim_start();
            if logical.is_empty() {
                if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
                    continue;
                }
                start_line = idx + 1;
            }
            // An odd number of trailing backslashes continues the line.
            let trailing = line.chars().rev().take_while(|c| *c == '\\').count();
            if trailing % 2 == 1 {
                logical.push_str(&line[..line.len() - 1]);
                continue;
            }
            logical.push_str(line);
            let (key, value) = split_entry(&logical, start_line)?;
            entries.insert(key, value);
            logical.clear();
        }
        if !logical.is_empty() {
            let (key, value) = split_entry(&logical, start_line)?;
            entries.insert(key, value);
        }
        Ok(Properties { entries })
    }

    /// The value of a key, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries.get(key).map(String::as_str)
    }

    /// The keys present.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.keys().map(String::as_str)
    }

    /// Sets a key (a later `-X KEY=VALUE` wins over the file), in memory: nothing is written.
    pub fn set(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.entries.insert(key.into(), value.into());
    }

    /// The values of the keys that hold secrets, for scrubbing error messages.
    pub(crate) fn secret_values(&self) -> Vec<String> {
        self.entries
            .iter()
            .filter(|(k, _)| is_secret_key(k))
            .flat_map(|(k, v)| {
                let from_jaas = (k.as_str() == "sasl.jaas.config").then(|| jaas_value(v, "password")).flatten();
                [Some(v.clone()), from_jaas]
            })
            .flatten()
            .collect()
    }
}

/// Keys whose values are secrets: never taken from a command line, never quoted in a message.
pub const SECRET_KEYS: &[&str] = &[
    "sasl.password",
    "sasl.jaas.config",
    "ssl.key.password",
    "ssl.keystore.password",
    "ssl.truststore.password",
    "sasl.oauthbearer.client.secret",
    "ssl.key.pem",
    "sasl.oauthbearer.config",
];

/// Whether `key` holds a secret (case-insensitive, as a careless `-X SASL.PASSWORD` is still one).
pub fn is_secret_key(key: &str) -> bool {
    let key = key.trim().to_ascii_lowercase();
    SECRET_KEYS.contains(&key.as_str()) || key.ends_with(".password") || key.ends_with(".secret")
}

fn split_entry(line: &str, line_no: usize) -> Result<(String, String), Error> {
    let mut key = String::new();
    let mut chars = line.chars().peekable();
    let mut escaped = false;
    // Key ends at the first unescaped '=', ':' or whitespace.
    while let Some(&c) = chars.peek() {
        if escaped {
            key.push(c);
            escaped = false;
            chars.next();
            continue;
        }
        match c {
            '\\' => escaped = true,
            '=' | ':' | ' ' | '\t' => break,
            _ => key.push(c),
        }
        chars.next();
    }
    let rest: String = chars.collect();
    let rest = rest.trim_start();
    let rest = rest.strip_prefix(['=', ':']).unwrap_or(rest).trim_start();
    if key.is_empty() {
        return Err(Error::invalid(format!("line {line_no}"), "an entry has no key"));
    }
    let value = unescape(trim_unescaped_end(rest))
        .ok_or_else(|| Error::invalid(format!("line {line_no}"), format!("bad escape in the value of {key}")))?;
    Ok((key, value))
}

/// Trailing white space goes, unless it is escaped (`value\\ ` keeps its last space).
fn trim_unescaped_end(s: &str) -> &str {
    let trimmed = s.trim_end();
    let backslashes = trimmed.chars().rev().take_while(|c| *c == '\\').count();
    match s[trimmed.len()..].chars().next() {
        Some(ws) if backslashes % 2 == 1 => &s[..trimmed.len() + ws.len_utf8()],
        _ => trimmed,
    }
}

fn unescape(s: &str) -> Option<String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next()? {
            't' => out.push('\t'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            'f' => out.push('\u{c}'),
            'u' => {
                let hex: String = chars.by_ref().take(4).collect();
                if hex.len() != 4 {
                    return None;
                }
                let code = u32::from_str_radix(&hex, 16).ok()?;
                out.push(char::from_u32(code)?);
            }
            other => out.push(other),
        }
    }
    Some(out)
}

/// Pulls `username` and `password` out of a `sasl.jaas.config` value such as
/// `org.apache.kafka.common.security.plain.PlainLoginModule required username="k" password="s";`.
pub fn jaas_credentials(jaas: &str) -> Option<(String, String)> {
    Some((jaas_value(jaas, "username")?, jaas_value(jaas, "password")?))
}

/// The value of `name=…` (quoted or bare) in a JAAS line.
fn jaas_value(jaas: &str, name: &str) -> Option<String> {
    let mut rest = jaas;
    while let Some(pos) = rest.find(name) {
        let before_ok = pos == 0 || !rest.as_bytes()[pos - 1].is_ascii_alphanumeric();
        let after = rest[pos + name.len()..].trim_start();
        if before_ok {
            if let Some(after) = after.strip_prefix('=') {
                let after = after.trim_start();
                let quote = after.chars().next()?;
                if quote == '"' || quote == '\'' {
                    let body = &after[1..];
                    let end = body.find(quote)?;
                    return Some(body[..end].to_string());
                }
                let end = after.find(|c: char| c.is_whitespace() || c == ';').unwrap_or(after.len());
                return Some(after[..end].to_string());
            }
        }
        rest = &rest[pos + name.len()..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_confluent_style_file() {
        let text = "# Required connection configs for Kafka producer, consumer, and admin\n\
            bootstrap.servers=pkc-abc12.us-west-2.aws.confluent.cloud:9092\n\
            security.protocol = SASL_SSL\n\
            sasl.mechanisms:PLAIN\n\
            sasl.username KEY123\n\
            ! another comment\n\
            sasl.password=se\\=cret\\\n   tail\n\
            empty=\n";
        let p = Properties::parse(text).expect("parses");
        assert_eq!(p.get("bootstrap.servers"), Some("pkc-abc12.us-west-2.aws.confluent.cloud:9092"));
        assert_eq!(p.get("security.protocol"), Some("SASL_SSL"));
        assert_eq!(p.get("sasl.mechanisms"), Some("PLAIN"));
        assert_eq!(p.get("sasl.username"), Some("KEY123"));
        assert_eq!(p.get("sasl.password"), Some("se=crettail"));
        assert_eq!(p.get("empty"), Some(""));
        assert_eq!(p.keys().count(), 6);
    }

    #[test]
    fn rejects_bad_escape_naming_the_line() {
        let err = Properties::parse("a=1\nb=\\u12").expect_err("must fail");
        assert!(err.to_string().contains("line 2"), "{err}");
        let err = Properties::parse("=value").expect_err("must fail");
        assert!(err.to_string().contains("no key"), "{err}");
    }

    /// Java's `Properties.load`: `\r`, `\n` and `\r\n` each end a line; an escaped trailing
    /// space is part of the value; trailing white space otherwise is not.
    #[test]
    fn line_endings_and_trailing_space_as_java_reads_them() {
        let p = Properties::parse("a=1\rsasl.password=secret\rb=2\r\nc=3\n").expect("parses");
        assert_eq!(
            (p.get("a"), p.get("sasl.password"), p.get("b"), p.get("c")),
            (Some("1"), Some("secret"), Some("2"), Some("3"))
        );
        let p = Properties::parse("k=value\\ \nj=v  \nw=\\\\\n").expect("parses");
        assert_eq!(p.get("k"), Some("value "));
        assert_eq!(p.get("j"), Some("v"));
        assert_eq!(p.get("w"), Some("\\"), "an escaped backslash is not an escaped space");
        assert!(
            is_secret_key("SASL.PASSWORD")
                && is_secret_key("ssl.truststore.password")
                && !is_secret_key("sasl.username")
        );
        let p = Properties::parse("sasl.jaas.config=x required username='k' password=\"pw-1\";").expect("parses");
        assert_eq!(p.secret_values(), ["x required username='k' password=\"pw-1\";", "pw-1"]);
        assert!(!format!("{p:?}").contains("pw-1"), "Debug shows keys only");
    }

    #[test]
    fn reads_jaas_credentials() {
        let jaas =
            "org.apache.kafka.common.security.plain.PlainLoginModule required username='KEY' password=\"p a;ss\";";
        assert_eq!(jaas_credentials(jaas), Some(("KEY".into(), "p a;ss".into())));
        assert_eq!(jaas_credentials("x required username=bare password=pw;"), Some(("bare".into(), "pw".into())));
        assert_eq!(jaas_credentials("nothing here"), None);
    }
}
