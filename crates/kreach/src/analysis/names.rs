//! What names say: the availability zone a broker's name carries, the VPC endpoint a DNS name
//! belongs to.

/// The AZ ID a broker name carries, e.g. `usw2-az1` in `e-0cb9-usw2-az1-abc.dom.us-west-2.aws...`.
pub fn az_id_of(host: &str) -> Option<String> {
    let host = host.to_ascii_lowercase();
    for label in host.split('.') {
        let parts: Vec<&str> = label.split('-').collect();
        for pair in parts.windows(2) {
            let (region, az) = (pair[0], pair[1]);
            let region_ok = region.len() >= 3
                && region.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
                && region.chars().last().is_some_and(|c| c.is_ascii_digit())
                && region.chars().all(|c| c.is_ascii_alphanumeric());
            let az_ok = az.len() > 2 && az.starts_with("az") && az[2..].chars().all(|c| c.is_ascii_digit());
            if region_ok && az_ok {
                return Some(format!("{region}-{az}"));
            }
        }
    }
    None
}

/// Whether `label` is an AZ ID and nothing else (`usw2-az1`).
pub fn looks_like_az_id(label: &str) -> bool {
    az_id_of(label).is_some_and(|az| az.eq_ignore_ascii_case(label))
}

/// What a VPC endpoint's DNS name says about it: its id, its region and, for a zonal name, the
/// zone's AZ *name* (`us-west-2a`): `vpce-0a1b…-x1y2z3.vpce-svc-….us-west-2.vpce.amazonaws.com`,
/// `vpce-0a1b…-x1y2z3-us-west-2a.vpce-svc-….us-west-2.vpce.amazonaws.com`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VpceName {
    /// `vpce-` and its hexadecimal id.
    pub endpoint_id: String,
    /// The region the name is in.
    pub region: String,
    /// The AZ name of a zonal name.
    pub az_name: Option<String>,
}

/// Reads a VPC endpoint DNS name; `None` for any other name.
pub fn vpce_name(name: &str) -> Option<VpceName> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let rest = name.strip_suffix(".vpce.amazonaws.com").or_else(|| name.strip_suffix(".vpce.amazonaws.com.cn"))?;
    let (head, region) = rest.rsplit_once('.')?;
    az_prefix(region)?;
    let first = head.split('.').next()?;
    let id_hex = first.strip_prefix("vpce-")?.split('-').next()?;
    if id_hex.len() < 8 || !id_hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let az_name = first
        .rsplit_once(&format!("-{region}"))
        .map(|(_, letter)| letter)
        .filter(|letter| letter.len() == 1 && letter.bytes().all(|b| b.is_ascii_lowercase()))
        .map(|letter| format!("{region}{letter}"));
    Some(VpceName { endpoint_id: format!("vpce-{id_hex}"), region: region.to_string(), az_name })
}

/// The AWS region a name carries as one of its labels (`us-west-2` in
/// `lkc-1.abc.us-west-2.aws.confluent.cloud`, `us-gov-west-1`).
pub fn region_of(host: &str) -> Option<String> {
    host.to_ascii_lowercase().split('.').find(|label| az_prefix(label).is_some()).map(str::to_string)
}

/// The prefix of a region's AZ IDs: `us-west-2` → `usw2`, `ap-northeast-1` → `apne1`,
/// `eu-central-1` → `euc1`, `us-gov-west-1` → `usgw1`; `None` when `region` is not a region name.
pub fn az_prefix(region: &str) -> Option<String> {
    let parts: Vec<&str> = region.split('-').collect();
    let (country, rest) = parts.split_first()?;
    let (number, words) = rest.split_last()?;
    if country.len() != 2 || !country.bytes().all(|b| b.is_ascii_lowercase()) || words.is_empty() || words.len() > 2 {
        return None;
    }
    if number.is_empty() || number.len() > 2 || !number.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut out = country.to_string();
    for (i, word) in words.iter().enumerate() {
        let short = match *word {
            "gov" if i == 0 && words.len() == 2 => "g",
            "iso" | "isob" if i == 0 && words.len() == 2 => "i",
            "north" => "n",
            "south" => "s",
            "east" => "e",
            "west" => "w",
            "central" => "c",
            "northeast" => "ne",
            "northwest" => "nw",
            "southeast" => "se",
            "southwest" => "sw",
            _ => return None,
        };
        out.push_str(short);
    }
    out.push_str(number);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::{VpceName, az_id_of, az_prefix, region_of, vpce_name};

    #[test]
    fn regions_give_their_az_id_prefix() {
        for (region, prefix) in [
            ("us-west-2", "usw2"),
            ("us-east-1", "use1"),
            ("eu-central-1", "euc1"),
            ("ap-northeast-1", "apne1"),
            ("ap-southeast-2", "apse2"),
            ("sa-east-1", "sae1"),
            ("us-gov-west-1", "usgw1"),
            ("il-central-1", "ilc1"),
        ] {
            assert_eq!(az_prefix(region).as_deref(), Some(prefix), "{region}");
        }
        for not in ["usw2-az1", "lkc-abc", "confluent", "us-west", "aws"] {
            assert_eq!(az_prefix(not), None, "{not}");
        }
        assert_eq!(region_of("lkc-1.abc.us-west-2.aws.confluent.cloud").as_deref(), Some("us-west-2"));
        assert_eq!(region_of("kafka.corp.example"), None);
    }

    #[test]
    fn az_ids_are_found_in_broker_names() {
        assert_eq!(az_id_of("e-0cb9-usw2-az1-abc123.dom.us-west-2.aws.confluent.cloud").as_deref(), Some("usw2-az1"));
        assert_eq!(az_id_of("b3.usw2-az3.abc123.us-west-2.aws.confluent.cloud").as_deref(), Some("usw2-az3"));
        assert_eq!(az_id_of("b0-use1-az6.example.com").as_deref(), Some("use1-az6"));
        assert_eq!(az_id_of("lkc-abc.us-west-2.aws.confluent.cloud"), None, "a region name is not an AZ ID");
        assert_eq!(az_id_of("broker-1.example.com"), None);
    }

    #[test]
    fn endpoint_names_give_their_id_region_and_zone() {
        let regional = "vpce-0f0a3a13f7a8ff1fc-e9nhhr6g.vpce-svc-0a1b2c3d4e5f67890.us-west-2.vpce.amazonaws.com";
        assert_eq!(
            vpce_name(regional),
            Some(VpceName { endpoint_id: "vpce-0f0a3a13f7a8ff1fc".into(), region: "us-west-2".into(), az_name: None })
        );
        let zonal =
            "vpce-0f0a3a13f7a8ff1fc-e9nhhr6g-us-west-2b.vpce-svc-0a1b2c3d4e5f67890.us-west-2.vpce.amazonaws.com.";
        assert_eq!(vpce_name(zonal).and_then(|v| v.az_name).as_deref(), Some("us-west-2b"));
        let lab = "vpce-0a1b2c3d4e5f60789-lab01-us-west-2c.us-west-2.vpce.amazonaws.com";
        let v = vpce_name(lab).expect("lab name");
        assert_eq!((v.endpoint_id.as_str(), v.az_name.as_deref()), ("vpce-0a1b2c3d4e5f60789", Some("us-west-2c")));
        assert_eq!(
            vpce_name("vpce-0abc12345678-x.eu-central-1.vpce.amazonaws.com").map(|v| v.region).as_deref(),
            Some("eu-central-1")
        );
        for not in
            ["lkc-1.abc.us-west-2.aws.confluent.cloud", "vpce-xyz.us-west-2.vpce.amazonaws.com", "x.vpce.amazonaws.com"]
        {
            assert_eq!(vpce_name(not), None, "{not}");
        }
    }
}
