//! What names say: the availability zone a broker's name carries.

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

#[cfg(test)]
mod tests {
    use super::az_id_of;

    #[test]
    fn az_ids_are_found_in_broker_names() {
        assert_eq!(az_id_of("e-0cb9-usw2-az1-abc123.dom.us-west-2.aws.confluent.cloud").as_deref(), Some("usw2-az1"));
        assert_eq!(az_id_of("b3.usw2-az3.abc123.us-west-2.aws.confluent.cloud").as_deref(), Some("usw2-az3"));
        assert_eq!(az_id_of("b0-use1-az6.example.com").as_deref(), Some("use1-az6"));
        assert_eq!(az_id_of("lkc-abc.us-west-2.aws.confluent.cloud"), None, "a region name is not an AZ ID");
        assert_eq!(az_id_of("broker-1.example.com"), None);
    }
}
