//! The AWS SDK configuration every function builds once, at cold start.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode, TlsContext, TrustStore};
use aws_smithy_http_client::{Builder, ConnectorBuilder};
use aws_smithy_runtime_api::client::http::SharedHttpClient;

/// Region, credentials and endpoint come from the environment as usual
/// (`AWS_ENDPOINT_URL` points the SDK at a local emulator). Retries are the
/// SDK's standard mode (throttling, 5xx and timeouts, with backoff); the
/// operation timeout keeps a hung call well inside the Lambda timeout, so the
/// function reports a retryable error instead of being killed mid-call.
/// Every client made from it shares one HTTPS client ([`https_client`]).
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .retry_config(RetryConfig::standard().with_max_attempts(3))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(Duration::from_secs(8))
                .operation_timeout(Duration::from_secs(20))
                .build(),
        )
        .load()
        .await
}

/// The roots AWS's own service endpoints chain to: Amazon Root CA 1-4 and
/// Starfield Services Root Certificate Authority - G2 (Amazon Trust Services,
/// as in Mozilla's CA list; SHA-256 fingerprints 8ECDE688…196E, 1BA5B2AA…6DB4,
/// 18CE6CFE…B3A4, E35D2841…7092, 568D6905…DAB5).
pub const AMAZON_TRUST_SERVICES_ROOTS: &[u8] = include_bytes!("amazon_trust_services_roots.pem");

/// The SDK's default HTTPS client (hyper 1, rustls with aws-lc, proxy from
/// `HTTPS_PROXY`/`NO_PROXY`), with one difference: it trusts
/// [`AMAZON_TRUST_SERVICES_ROOTS`] rather than the system's whole store.
///
/// Why: the default client loads and parses every system root certificate
/// when a client is created, i.e. during the cold start: the bundle and each
/// file of the certificates directory (on Debian, `/etc/ssl/certs`, ~150
/// certificates read twice), and it builds a root store from them again for
/// each SDK client. That was most of the difference between a function's cold
/// start and the bare `lambda_runtime` floor (docs/performance.md). A function
/// here only talks to AWS endpoints, whose certificates chain to these roots.
///
/// When `SSL_CERT_FILE` or `SSL_CERT_DIR` is set (a TLS-inspecting proxy, an
/// endpoint with a private CA), the system store is used as the SDK would,
/// honouring them; so it is in the China regions (`AWS_REGION` `cn-…`), whose
/// endpoints are not known to chain to Amazon Trust Services.
pub fn https_client() -> SharedHttpClient {
    https_client_trusting(trust_store(|name| {
        std::env::var(name).ok().filter(|value| !value.is_empty())
    }))
}

fn trust_store(var: impl Fn(&str) -> Option<String>) -> TrustStore {
    let china = var("AWS_REGION").is_some_and(|region| region.starts_with("cn-"));
    if var("SSL_CERT_FILE").is_some() || var("SSL_CERT_DIR").is_some() || china {
        TrustStore::default()
    } else {
        amazon_trust_store()
    }
}

fn amazon_trust_store() -> TrustStore {
    TrustStore::empty()
        .with_native_roots(false)
        .with_pem_certificate(AMAZON_TRUST_SERVICES_ROOTS)
}

fn https_client_trusting(trust_store: TrustStore) -> SharedHttpClient {
    let tls_context = TlsContext::builder()
        .with_trust_store(trust_store)
        .build()
        .expect("a TLS context with a trust store always builds");
    // As aws-smithy-runtime's default_https_client does, but with our context.
    Builder::new().build_with_connector_fn(move |settings, runtime_components| {
        let mut connector = ConnectorBuilder::default()
            .tls_provider(tls::Provider::Rustls(CryptoMode::AwsLc))
            .tls_context(tls_context.clone());
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = runtime_components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_amazon_roots_are_five_pem_certificates() {
        let text = std::str::from_utf8(AMAZON_TRUST_SERVICES_ROOTS).unwrap();
        assert_eq!(text.matches("-----BEGIN CERTIFICATE-----").count(), 5);
        assert_eq!(text.matches("-----END CERTIFICATE-----").count(), 5);
    }

    // Creating a client builds its TLS connector, which parses the trust
    // store's certificates (and panics on one that does not parse).
    #[test]
    fn a_client_builds_on_the_amazon_roots() {
        let config = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(https_client_trusting(amazon_trust_store()))
            .build();
        let _sagemaker = aws_sdk_sagemaker::Client::new(&config);
    }

    // ... which the test above relies on.
    #[test]
    #[should_panic]
    fn a_client_does_not_build_on_a_broken_root() {
        let broken = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let config = SdkConfig::builder()
            .behavior_version(BehaviorVersion::latest())
            .http_client(https_client_trusting(
                TrustStore::empty()
                    .with_native_roots(false)
                    .with_pem_certificate(&broken[..]),
            ))
            .build();
        let _sagemaker = aws_sdk_sagemaker::Client::new(&config);
    }

    #[test]
    fn ssl_cert_variables_bring_back_the_system_store() {
        let store = |set: &'static [(&'static str, &'static str)]| {
            format!(
                "{:?}",
                trust_store(|name| set
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map(|(_, v)| v.to_string()))
            )
        };
        assert_eq!(store(&[]), format!("{:?}", amazon_trust_store()));
        assert_eq!(
            store(&[("AWS_REGION", "eu-west-1")]),
            format!("{:?}", amazon_trust_store())
        );
        assert_eq!(
            store(&[("AWS_REGION", "cn-north-1")]),
            format!("{:?}", TrustStore::default())
        );
        assert_eq!(
            store(&[("SSL_CERT_FILE", "/etc/pki/tls/certs/ca-bundle.crt")]),
            format!("{:?}", TrustStore::default())
        );
        assert_eq!(
            store(&[("SSL_CERT_DIR", "/etc/ssl/certs")]),
            format!("{:?}", TrustStore::default())
        );
    }
}
