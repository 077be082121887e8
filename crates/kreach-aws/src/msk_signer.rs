//! AWS signing with the client's own credentials (the default credential chain): STS
//! `GetWebIdentityToken` requests for Confluent's AWS IAM OAuth (`sign_request`), and AWS_MSK_IAM's
//! SASL payload, which Amazon MSK's IAM access control reads. As AWS's client library (aws-msk-iam-auth, `AWS4SignedPayloadGenerator`)
//! builds it: a GET of `https://<broker host>/?Action=kafka-cluster:Connect` presigned with SigV4
//! for the service `kafka-cluster` (query-string signature, 15 minutes, the host header alone
//! signed, the empty body's hash), its query parameters lower-cased into a JSON object with
//! `version` `2020_10_22`, `host` and `user-agent`. The payload is a secret (it authenticates
//! for 15 minutes); the report gets how signing went, never the payload nor a key.

use std::time::{Duration, SystemTime};

use aws_config::SdkConfig;
use aws_credential_types::provider::error::CredentialsError;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use kreach::input::{MskIamSign, Reading};
use kreach::report::{IamSigning, IamSigningOutcome};

/// The payload version AWS's client library sends.
pub const MSK_IAM_VERSION: &str = "2020_10_22";
/// How long a signed payload is valid (the library's 15 minutes).
const EXPIRES: Duration = Duration::from_secs(900);

/// Signs with `sdk`'s credential provider and region.
pub struct MskIamSigner {
    sdk: SdkConfig,
    /// The role the credentials are assumed as (the evidence names it when its credentials sign),
    /// with the STS region it is assumed in.
    role: Option<(String, String)>,
    /// The profile tried first (the evidence names it when its credentials sign).
    profile: Option<String>,
    /// Which option's provider gave the last credentials (with a profile: see [`FirstOf`]).
    won: Won,
    /// The provider's last answer and when it came: the bootstrap's addresses, signing beside each
    /// other, share one load; a later run (`--watch`) loads again.
    loaded: tokio::sync::Mutex<Option<(std::time::Instant, Loaded)>>,
}

/// The credentials, or how loading them failed.
type Loaded = Result<aws_credential_types::Credentials, (IamSigningOutcome, String)>;

/// How long one load of the credentials serves the signatures of a run.
const LOAD_REUSE: Duration = Duration::from_secs(30);

impl MskIamSigner {
    /// A signer for `sdk` (its credentials are loaded at the first signature, not now).
    pub fn new(sdk: SdkConfig) -> Self {
        MskIamSigner { sdk, role: None, profile: None, won: Won::default(), loaded: tokio::sync::Mutex::new(None) }
    }

    /// A signer that first assumes `role` (aws-msk-iam-auth's `awsRoleArn`, `awsRoleSessionName`,
    /// `awsStsRegion`) with `sdk`'s credentials, through STS (`sts:AssumeRole`, inside the signing
    /// step's time; its refusal is the credentials' failure).
    pub async fn assuming(sdk: SdkConfig, role: &kreach::input::MskRole) -> Self {
        let provider = assume(&sdk, role).await;
        let sdk = sdk.into_builder().credentials_provider(SharedCredentialsProvider::new(provider)).build();
        MskIamSigner {
            sdk,
            role: Some((role.arn.clone(), role.assumed_in())),
            profile: None,
            won: Won::default(),
            loaded: tokio::sync::Mutex::new(None),
        }
    }

    /// A signer with the credentials aws-msk-iam-auth's JAAS options choose, in the library's
    /// order: the profile `awsProfileName` names, then the role `awsRoleArn` names, then `sdk`'s
    /// own chain — the first that gives credentials signs (a later one is tried when an earlier
    /// one fails, any way, as the library's chain does).
    pub async fn for_client(sdk: SdkConfig, profile: Option<&str>, role: Option<&kreach::input::MskRole>) -> Self {
        if profile.is_none() {
            return match role {
                Some(role) => Self::assuming(sdk, role).await,
                None => Self::new(sdk),
            };
        }
        let mut providers: Vec<(&'static str, SharedCredentialsProvider)> = Vec::new();
        if let Some(name) = profile {
            // The profile's own chain (a role, SSO, a process) needs a client and a region: the SDK's.
            let mut conf = aws_config::provider_config::ProviderConfig::without_region()
                .with_region(sdk.region().cloned())
                .with_http_client(sdk.http_client().unwrap_or_else(crate::https_client));
            if let Some(sleep) = sdk.sleep_impl() {
                conf = conf.with_sleep_impl(sleep);
            }
            let provider = aws_config::profile::ProfileFileCredentialsProvider::builder()
                .configure(&conf)
                .profile_name(name)
                .build();
            providers.push((FROM_PROFILE, SharedCredentialsProvider::new(provider)));
        }
        if let Some(role) = role {
            providers.push((FROM_ROLE, SharedCredentialsProvider::new(assume(&sdk, role).await)));
        }
        if let Some(default) = sdk.credentials_provider() {
            providers.push((FROM_DEFAULT, default));
        }
        let won = Won::default();
        let chain = FirstOf { providers, won: won.clone() };
        let sdk = sdk.into_builder().credentials_provider(SharedCredentialsProvider::new(chain)).build();
        MskIamSigner {
            sdk,
            role: role.map(|r| (r.arn.clone(), r.assumed_in())),
            profile: profile.map(str::to_string),
            won,
            loaded: tokio::sync::Mutex::new(None),
        }
    }
}

/// `role` assumed with `sdk`'s credentials, or with the keys the JAAS line gives for it.
async fn assume(sdk: &SdkConfig, role: &kreach::input::MskRole) -> aws_config::sts::AssumeRoleProvider {
    let mut builder = aws_config::sts::AssumeRoleProvider::builder(role.arn.clone())
        .session_name(role.session_name.clone().unwrap_or_else(|| "kreach-msk-iam".to_string()))
        .region(aws_config::Region::new(role.assumed_in()));
    if let Some(id) = &role.external_id {
        builder = builder.external_id(id.clone());
    }
    let builder = builder.configure(sdk);
    match &role.keys {
        Some(k) => {
            let keys = aws_credential_types::Credentials::new(
                k.access_key_id.expose(),
                k.secret_access_key.expose(),
                k.session_token.as_ref().map(|t| t.expose().to_string()),
                None,
                "awsRoleAccessKeyId",
            );
            builder.build_from_provider(keys).await
        }
        None => builder.build().await,
    }
}

/// Which of [`FirstOf`]'s providers gave the credentials last.
type Won = std::sync::Arc<std::sync::Mutex<Option<&'static str>>>;
const FROM_PROFILE: &str = "awsProfileName";
const FROM_ROLE: &str = "awsRoleArn";
const FROM_DEFAULT: &str = "default chain";

/// aws-msk-iam-auth's chain: each provider in turn until one gives credentials (`won` says
/// which option chose it); when none does, the first provider's error.
#[derive(Debug)]
struct FirstOf {
    providers: Vec<(&'static str, SharedCredentialsProvider)>,
    won: Won,
}

impl ProvideCredentials for FirstOf {
    fn provide_credentials<'a>(&'a self) -> aws_credential_types::provider::future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        aws_credential_types::provider::future::ProvideCredentials::new(async move {
            let mut first_error = None;
            for (label, provider) in &self.providers {
                match provider.provide_credentials().await {
                    Ok(c) => {
                        *self.won.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = Some(label);
                        return Ok(c);
                    }
                    Err(e) => {
                        first_error.get_or_insert(e);
                    }
                }
            }
            Err(first_error.unwrap_or_else(|| CredentialsError::not_loaded("no credential provider")))
        })
    }
}

/// The region in an MSK broker's name (`b-1.<cluster>.<id>.c2.kafka.<region>.amazonaws.com`,
/// `boot-….kafka-serverless.<region>.amazonaws.com`).
pub fn region_of_broker(host: &str) -> Option<&str> {
    let labels: Vec<&str> = host.trim_end_matches('.').split('.').collect();
    let at = labels.iter().rposition(|l| *l == "kafka" || *l == "kafka-serverless")?;
    let rest = labels.get(at + 2..)?;
    (rest == ["amazonaws", "com"] || rest == ["amazonaws", "com", "cn"])
        .then(|| labels[at + 1])
        .filter(|r| !r.is_empty())
}

impl MskIamSigner {
    /// The credentials, unexpired, with what the evidence may say of them; the evidence alone
    /// (its outcome set) when there are none.
    async fn credentials(&self, evidence: &mut IamSigning) -> Result<aws_credential_types::Credentials, IamSigning> {
        // Without a profile the role (when named) is the only provider.
        if self.profile.is_none() {
            self.name_sources(evidence, Some(FROM_ROLE));
        }
        let load = async {
            let Some(provider) = self.sdk.credentials_provider() else {
                return Err((IamSigningOutcome::NoCredentials, "no credential provider is configured".to_string()));
            };
            provider.provide_credentials().await.map_err(|e| {
                let outcome = match &e {
                    CredentialsError::CredentialsNotLoaded(_) => IamSigningOutcome::NoCredentials,
                    CredentialsError::ProviderTimedOut(_) => IamSigningOutcome::CredentialsUnreachable,
                    _ => IamSigningOutcome::Failed,
                };
                (outcome, crate::display_chain(&e).chars().take(300).collect())
            })
        };
        let loaded = {
            let mut last = self.loaded.lock().await;
            match last.as_ref().filter(|(at, _)| at.elapsed() < LOAD_REUSE) {
                Some((_, loaded)) => loaded.clone(),
                None => {
                    let loaded = load.await;
                    *last = Some((std::time::Instant::now(), loaded.clone()));
                    loaded
                }
            }
        };
        let credentials = match &loaded {
            Ok(c) => c.clone(),
            Err((outcome, why)) => {
                evidence.outcome = *outcome;
                evidence.detail = Some(why.clone());
                return Err(evidence.clone());
            }
        };
        if self.profile.is_some() {
            let won = *self.won.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            self.name_sources(evidence, won);
        }
        evidence.credentials_source = Some(match (credentials.session_token().is_some(), credentials.account_id()) {
            (true, Some(a)) => format!("session credentials of account {}", a.as_str()),
            (true, None) => "session credentials".to_string(),
            (false, Some(a)) => format!("a long-term access key of account {}", a.as_str()),
            (false, None) => "a long-term access key".to_string(),
        });
        if let Some(expiry) = credentials.expiry() {
            evidence.credentials_expire = Some(rfc3339(expiry));
            if expiry <= SystemTime::now() {
                evidence.outcome = IamSigningOutcome::CredentialsExpired;
                return Err(evidence.clone());
            }
        }
        Ok(credentials)
    }
}

impl MskIamSigner {
    /// The role (with its STS region) and the profile the evidence names, for the provider `won`.
    fn name_sources(&self, evidence: &mut IamSigning, won: Option<&str>) {
        let role = self.role.clone().filter(|_| won == Some(FROM_ROLE));
        (evidence.role, evidence.role_sts_region) = role.map_or((None, None), |(arn, sts)| (Some(arn), Some(sts)));
        evidence.profile = self.profile.clone().filter(|_| won == Some(FROM_PROFILE));
    }
}

impl MskIamSign for MskIamSigner {
    fn sign_request<'a>(
        &'a self,
        service: &'a str,
        region: &'a str,
        method: &'a str,
        path: &'a str,
        headers: &'a [(&'a str, &'a str)],
        body: &'a str,
    ) -> Reading<'a, kreach::input::SignedHeaders> {
        Box::pin(async move {
            let mut evidence = IamSigning::default();
            evidence.host = headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case("host"))
                .map(|(_, v)| v.to_string())
                .unwrap_or_default();
            evidence.region = region.to_string();
            let credentials = self.credentials(&mut evidence).await?;
            signed(signed_headers(&credentials, service, region, method, path, headers, body), evidence)
        })
    }

    fn sign<'a>(&'a self, host: &'a str) -> Reading<'a, Result<(kreach::Secret, IamSigning), IamSigning>> {
        Box::pin(async move {
            let (credentials, evidence) = self.for_broker(host).await?;
            signed(payload(&credentials, &evidence.region, host, SystemTime::now()), evidence)
        })
    }

    fn sign_token<'a>(&'a self, host: &'a str) -> Reading<'a, Result<(kreach::Secret, IamSigning), IamSigning>> {
        Box::pin(async move {
            let (credentials, mut evidence) = self.for_broker(host).await?;
            // The token names the region's MSK endpoint, not the broker.
            evidence.host = token_host(&evidence.region);
            signed(token(&credentials, &evidence.region, SystemTime::now()), evidence)
        })
    }
}

impl MskIamSigner {
    /// The region of the cluster whose broker is `host` (its name, else the SDK's) and the
    /// credentials, with the evidence so far.
    async fn for_broker(&self, host: &str) -> Result<(aws_credential_types::Credentials, IamSigning), IamSigning> {
        let mut evidence = IamSigning::default();
        evidence.host = host.to_string();
        let region = region_of_broker(host).map(str::to_string).or_else(|| self.sdk.region().map(|r| r.to_string()));
        let Some(region) = region else {
            evidence.outcome = IamSigningOutcome::NoRegion;
            return Err(evidence);
        };
        evidence.region = region;
        let credentials = self.credentials(&mut evidence).await?;
        Ok((credentials, evidence))
    }
}

/// The host an MSK IAM OAUTHBEARER token names: the region's Amazon MSK API endpoint.
fn token_host(region: &str) -> String {
    let suffix = if region.starts_with("cn-") { "amazonaws.com.cn" } else { "amazonaws.com" };
    format!("kafka.{region}.{suffix}")
}

/// What signing gave, with the evidence's outcome set to match (the trait's answer, whose error is
/// the evidence itself).
#[allow(clippy::result_large_err)]
fn signed<T>(result: Result<T, String>, mut evidence: IamSigning) -> Result<(T, IamSigning), IamSigning> {
    match result {
        Ok(signed) => {
            evidence.outcome = IamSigningOutcome::Signed;
            Ok((signed, evidence))
        }
        Err(why) => {
            evidence.outcome = IamSigningOutcome::Failed;
            evidence.detail = Some(why);
            Err(evidence)
        }
    }
}

fn rfc3339(t: SystemTime) -> String {
    aws_smithy_types::DateTime::from(t).fmt(aws_smithy_types::date_time::Format::DateTime).unwrap_or_default()
}

/// SigV4's parameters for `service` in `region` at `now`.
fn params<'a>(
    identity: &'a aws_smithy_runtime_api::client::identity::Identity,
    service: &'a str,
    region: &'a str,
    now: SystemTime,
    settings: aws_sigv4::http_request::SigningSettings,
) -> Result<aws_sigv4::http_request::SigningParams<'a>, String> {
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(identity)
        .region(region)
        .name(service)
        .time(now)
        .settings(settings)
        .build()
        .map_err(|e| format!("signing: {e}"))?;
    Ok(params.into())
}

/// SigV4 headers for a request (header signature, the body's hash).
fn signed_headers(
    credentials: &aws_credential_types::Credentials,
    service: &str,
    region: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<Vec<(String, kreach::Secret)>, String> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    let identity = credentials.clone().into();
    let params = params(&identity, service, region, SystemTime::now(), SigningSettings::default())?;
    let host = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("host")).map(|(_, v)| *v).unwrap_or_default();
    let url = format!("https://{host}{path}");
    let signable = SignableRequest::new(method, &url, headers.iter().copied(), SignableBody::Bytes(body.as_bytes()))
        .map_err(|e| format!("signing: {e}"))?;
    let (instructions, _) = sign(signable, &params).map_err(|e| format!("signing: {e}"))?.into_parts();
    Ok(instructions.headers().map(|(k, v)| (k.to_string(), kreach::Secret::new(v.to_string()))).collect())
}

/// The query parameters of a GET of `https://<host>/?Action=kafka-cluster%3AConnect` presigned
/// with SigV4 for `kafka-cluster` in `region` at `now` (900 s, the host header signed), as AWS's
/// MSK IAM libraries presign it: `X-Amz-…`, values unencoded.
fn presigned_connect(
    credentials: &aws_credential_types::Credentials,
    region: &str,
    host: &str,
    now: SystemTime,
) -> Result<Vec<(String, String)>, String> {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SignatureLocation, SigningSettings, sign};
    let identity = credentials.clone().into();
    let mut settings = SigningSettings::default();
    settings.signature_location = SignatureLocation::QueryParams;
    settings.expires_in = Some(EXPIRES);
    let params = params(&identity, "kafka-cluster", region, now, settings)?;
    let url = format!("https://{host}/?Action=kafka-cluster%3AConnect");
    let signable = SignableRequest::new("GET", &url, std::iter::once(("host", host)), SignableBody::Bytes(&[]))
        .map_err(|e| format!("signing: {e}"))?;
    let (instructions, _) = sign(signable, &params).map_err(|e| format!("signing: {e}"))?.into_parts();
    Ok(instructions.params().iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
}

/// The signed payload for `host` in `region` at `now`: the presigned query parameters, lower-cased,
/// in a JSON object beside `version`, `host`, `user-agent` and `action`.
pub fn payload(
    credentials: &aws_credential_types::Credentials,
    region: &str,
    host: &str,
    now: SystemTime,
) -> Result<kreach::Secret, String> {
    let mut object = serde_json::Map::new();
    object.insert("version".into(), MSK_IAM_VERSION.into());
    object.insert("host".into(), host.into());
    object.insert("user-agent".into(), format!("kreach/{}", env!("CARGO_PKG_VERSION")).into());
    object.insert("action".into(), "kafka-cluster:Connect".into());
    for (name, value) in presigned_connect(credentials, region, host, now)? {
        object.insert(name.to_ascii_lowercase(), value.into());
    }
    Ok(kreach::Secret::new(serde_json::Value::Object(object).to_string()))
}

/// The OAUTHBEARER token for a cluster in `region` at `now`, as AWS's MSK IAM SASL signer libraries
/// build it: the presigned URL of `https://kafka.<region>.amazonaws.com/`, a `User-Agent` parameter
/// added after signing, the whole URL base64url-encoded without padding.
pub fn token(
    credentials: &aws_credential_types::Credentials,
    region: &str,
    now: SystemTime,
) -> Result<kreach::Secret, String> {
    use base64::Engine as _;
    let host = token_host(region);
    let mut url = format!("https://{host}/?Action=kafka-cluster%3AConnect");
    for (name, value) in presigned_connect(credentials, region, &host, now)? {
        url.push('&');
        url.push_str(&crate::api::encode(&name));
        url.push('=');
        url.push_str(&crate::api::encode(&value));
    }
    url.push_str("&User-Agent=");
    url.push_str(&crate::api::encode(&format!("kreach/{}", env!("CARGO_PKG_VERSION"))));
    Ok(kreach::Secret::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(url)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_comes_from_an_msk_brokers_name_only() {
        for (host, region) in [
            ("b-1.orders.abc123.c2.kafka.us-east-1.amazonaws.com", Some("us-east-1")),
            ("boot-abc.c1.kafka-serverless.eu-west-1.amazonaws.com", Some("eu-west-1")),
            ("b-1.orders.abc123.c2.kafka.us-east-1.amazonaws.com.", Some("us-east-1")),
            ("kafka.example.com", None),
            ("b-1.kafka.us-east-1.example.com", None),
            ("b-1.orders.abc.c2.kafka.cn-north-1.amazonaws.com.cn", Some("cn-north-1")),
            ("127.0.0.1", None),
        ] {
            assert_eq!(region_of_broker(host), region, "{host}");
        }
    }

    /// The payload's shape as AWS's library builds it: the query parameters of a presigned
    /// kafka-cluster:Connect, lower-cased, beside version, host and user-agent; the session token
    /// signed with it; no secret key in it. (The signature itself is verified by an independent
    /// SigV4 implementation in kreach-testkit's MSK IAM front: crates/kreach-aws/tests/msk_iam.rs.)
    #[test]
    fn the_payload_has_the_libraries_keys_and_no_secret_key() {
        let credentials =
            aws_credential_types::Credentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI", Some("tok/en".into()), None, "t");
        let at = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let p = payload(&credentials, "us-east-1", "b-1.c.kafka.us-east-1.amazonaws.com", at).expect("payload");
        let v: serde_json::Value = serde_json::from_str(p.expose()).expect("json");
        assert_eq!(v["version"], "2020_10_22");
        assert_eq!(v["action"], "kafka-cluster:Connect");
        assert_eq!(v["host"], "b-1.c.kafka.us-east-1.amazonaws.com");
        assert_eq!(v["x-amz-algorithm"], "AWS4-HMAC-SHA256");
        assert_eq!(v["x-amz-credential"], "AKIDEXAMPLE/20231114/us-east-1/kafka-cluster/aws4_request");
        assert_eq!(v["x-amz-date"], "20231114T221320Z");
        assert_eq!(v["x-amz-expires"], "900");
        assert_eq!(v["x-amz-signedheaders"], "host");
        assert_eq!(v["x-amz-security-token"], "tok/en");
        assert_eq!(v["x-amz-signature"].as_str().map(str::len), Some(64));
        assert!(!p.expose().contains("wJalrXUtnFEMI"));
    }

    /// The token's shape as AWS's MSK IAM SASL signer libraries build it: unpadded base64url of a
    /// presigned URL of the region's MSK endpoint, a User-Agent after the signature; no secret key.
    #[test]
    fn the_token_is_a_presigned_url_of_the_region_s_endpoint() {
        use base64::Engine as _;
        let credentials =
            aws_credential_types::Credentials::new("AKIDEXAMPLE", "secret/key", Some("tok".into()), None, "t");
        let token = token(&credentials, "cn-north-1", SystemTime::now()).expect("signed");
        assert!(!token.expose().contains('=') && !token.expose().contains('+') && !token.expose().contains('/'));
        let url = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(token.expose()).expect("base64url");
        let url = String::from_utf8(url).expect("utf-8");
        assert!(url.starts_with("https://kafka.cn-north-1.amazonaws.com.cn/?Action=kafka-cluster%3AConnect&"), "{url}");
        for part in
            ["X-Amz-Algorithm=AWS4-HMAC-SHA256", "X-Amz-Expires=900", "X-Amz-Security-Token=tok", "X-Amz-Signature="]
        {
            assert!(url.contains(part), "{part}: {url}");
        }
        assert!(url.contains("&User-Agent=kreach%2F") && !url.contains("secret"), "{url}");
    }
}
