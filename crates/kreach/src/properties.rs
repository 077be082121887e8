//! Java-style `.properties` files, as Confluent Cloud and librdkafka client configs come.

use std::collections::BTreeMap;
use std::path::Path;

use crate::error::Error;

/// Parsed `key=value` pairs. Values may be secrets: this type has no `Debug`.
pub struct Properties {
    entries: BTreeMap<String, String>,
}

impl Properties {
    /// Reads and parses a properties file.
    pub fn from_file(path: &Path) -> Result<Self, Error> {
        let bytes = crate::files::read_capped(path, crate::limits::MAX_PROPERTIES_FILE, &path.display().to_string())?;
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
        for (idx, raw) in text.lines().enumerate() {
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
    let value = unescape(rest.trim_end())
        .ok_or_else(|| Error::invalid(format!("line {line_no}"), format!("bad escape in the value of {key}")))?;
    Ok((key, value))
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
    let find = |name: &str| -> Option<String> {
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
    };
    Some((find("username")?, find("password")?))
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
        let err = Properties::parse("a=1\nb=\\u12").err().expect("must fail");
        assert!(err.to_string().contains("line 2"), "{err}");
        let err = Properties::parse("=value").err().expect("must fail");
        assert!(err.to_string().contains("no key"), "{err}");
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
