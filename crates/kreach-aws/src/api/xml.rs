//! A small XML tree for EC2's Query API responses, built from `xmlparser`'s tokens with caps on
//! size, depth and element count: a hostile or broken endpoint gets a parse error, never an
//! unbounded allocation.

/// Largest response body read.
pub(crate) const MAX_BODY: usize = 8 * 1024 * 1024;
/// Most elements kept from one response.
const MAX_ELEMENTS: usize = 200_000;
/// Deepest nesting accepted (EC2's responses nest about six deep).
const MAX_DEPTH: usize = 32;

/// One element: its local name (no namespace prefix), its text, its child elements.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Element {
    pub(crate) name: String,
    pub(crate) text: String,
    pub(crate) children: Vec<Element>,
}

impl Element {
    /// The first child named `name`.
    pub(crate) fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// The text of the first child named `name`, trimmed; `None` when absent or empty.
    pub(crate) fn text(&self, name: &str) -> Option<&str> {
        self.child(name).map(|c| c.text.trim()).filter(|t| !t.is_empty())
    }

    /// EC2's list shape: `<name><item>…</item><item>…</item></name>`, the items.
    pub(crate) fn items<'a>(&'a self, name: &str) -> impl Iterator<Item = &'a Element> + 'a {
        self.child(name).into_iter().flat_map(|c| c.children.iter().filter(|i| i.name == "item"))
    }

    /// EC2's list of strings: `<name><item>text</item>…</name>`.
    pub(crate) fn strings(&self, name: &str) -> Vec<String> {
        self.items(name).map(|i| i.text.trim().to_string()).filter(|t| !t.is_empty()).collect()
    }

    /// A boolean child (`true`/`false`).
    pub(crate) fn flag(&self, name: &str) -> Option<bool> {
        match self.text(name)? {
            "true" => Some(true),
            "false" => Some(false),
            _ => None,
        }
    }

    /// An integer child.
    pub(crate) fn int(&self, name: &str) -> Option<i64> {
        self.text(name)?.parse().ok()
    }

    /// The first descendant named `name`, depth first.
    pub(crate) fn find(&self, name: &str) -> Option<&Element> {
        self.children.iter().find_map(|c| if c.name == name { Some(c) } else { c.find(name) })
    }
}

/// Parses a document into its root element.
pub(crate) fn parse(text: &str) -> Result<Element, String> {
    use xmlparser::{ElementEnd, Token, Tokenizer};
    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    let mut count = 0usize;
    for token in Tokenizer::from(text) {
        let token = token.map_err(|e| format!("malformed XML: {e}"))?;
        match token {
            Token::ElementStart { local, .. } => {
                if root.is_some() {
                    return Err("malformed XML: content after the root element".into());
                }
                count += 1;
                if count > MAX_ELEMENTS {
                    return Err(format!("the response has more than {MAX_ELEMENTS} elements"));
                }
                if stack.len() >= MAX_DEPTH {
                    return Err(format!("the response nests deeper than {MAX_DEPTH} elements"));
                }
                stack.push(Element { name: local.as_str().to_string(), ..Element::default() });
            }
            Token::ElementEnd { end, .. } => {
                let close = match end {
                    ElementEnd::Open => continue,
                    ElementEnd::Close(_, local) => Some(local.as_str()),
                    ElementEnd::Empty => None,
                };
                let element = stack.pop().ok_or("malformed XML: a closing tag without an opening one")?;
                if close.is_some_and(|c| c != element.name) {
                    return Err(format!("malformed XML: <{}> closed by </{}>", element.name, close.unwrap_or("")));
                }
                match stack.last_mut() {
                    Some(parent) => parent.children.push(element),
                    None => root = Some(element),
                }
            }
            Token::Text { text } | Token::Cdata { text, .. } => {
                if let Some(current) = stack.last_mut() {
                    let raw = text.as_str();
                    if matches!(token, Token::Cdata { .. }) {
                        current.text.push_str(raw);
                    } else {
                        current.text.push_str(&unescape(raw)?);
                    }
                }
            }
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err("malformed XML: the document ends inside an element".into());
    }
    root.ok_or_else(|| "malformed XML: no root element".into())
}

/// Resolves the predefined entities and character references.
fn unescape(raw: &str) -> Result<String, String> {
    if !raw.contains('&') {
        return Ok(raw.to_string());
    }
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let end = after.find(';').filter(|e| *e <= 10).ok_or("malformed XML: an unterminated entity")?;
        let entity = &after[..end];
        let ch = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = entity.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()
                } else {
                    entity.strip_prefix('#').and_then(|d| d.parse().ok())
                };
                code.and_then(char::from_u32).ok_or_else(|| format!("malformed XML: unknown entity &{entity};"))?
            }
        };
        out.push(ch);
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ec2_response_reads_as_a_tree() {
        let doc = r#"<?xml version="1.0" encoding="UTF-8"?>
<DescribeVpcAttributeResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>7a62c49f</requestId>
  <vpcId>vpc-1a2b</vpcId>
  <enableDnsSupport><value>true</value></enableDnsSupport>
  <groupSet><item><groupId>sg-1</groupId></item><item><groupId>sg-2</groupId></item></groupSet>
  <subnetIdSet><item>subnet-a</item><item>subnet-b</item></subnetIdSet>
  <name>a &amp; b &#x41;&#66;</name><empty/>
</DescribeVpcAttributeResponse>"#;
        let root = parse(doc).expect("parses");
        assert_eq!(root.name, "DescribeVpcAttributeResponse");
        assert_eq!(root.child("enableDnsSupport").and_then(|e| e.flag("value")), Some(true));
        let groups: Vec<&str> = root.items("groupSet").filter_map(|g| g.text("groupId")).collect();
        assert_eq!(groups, ["sg-1", "sg-2"]);
        assert_eq!(root.strings("subnetIdSet"), ["subnet-a", "subnet-b"]);
        assert_eq!(root.text("name"), Some("a & b AB"));
        assert_eq!(root.text("empty"), None);
        assert!(root.child("empty").is_some());
    }

    #[test]
    fn broken_or_hostile_documents_are_errors_not_panics() {
        for bad in [
            "",
            "<a>",
            "<a></b>",
            "</a>",
            "<a>&bogus;</a>",
            "<a>&#xFFFFFFFF;</a>",
            "<a>&amp</a>",
            "<a/><b/>",
            "text only",
        ] {
            assert!(parse(bad).is_err(), "{bad:?} parsed");
        }
        let deep = "<a>".repeat(MAX_DEPTH + 1) + &"</a>".repeat(MAX_DEPTH + 1);
        assert!(parse(&deep).expect_err("too deep").contains("deeper"));
        let wide = format!("<r>{}</r>", "<i/>".repeat(MAX_ELEMENTS + 1));
        assert!(parse(&wide).expect_err("too many").contains("more than"));
    }
}
