//! The function's configuration, read once at cold start.

use std::time::Duration;

use shared::config::EnvReader;
use shared::{PipelineError, PipelineName};

/// Environment variables read by [`ServeConfig::from_reader`].
pub mod vars {
    pub const ENDPOINT_NAME: &str = "ENDPOINT_NAME";
    pub const ENDPOINT_ARN: &str = "ENDPOINT_ARN";
    pub const CONTENT_TYPES: &str = "PREDICTION_CONTENT_TYPES";
    pub const MAX_BODY_BYTES: &str = "PREDICTION_MAX_BODY_BYTES";
    pub const TIMEOUT_SECONDS: &str = "PREDICTION_TIMEOUT_SECONDS";
    pub const MODEL_INFO_CACHE_SECONDS: &str = "MODEL_INFO_CACHE_SECONDS";
}

/// A synchronous Lambda request is at most 6 MB, and API Gateway sends a
/// binary body base64-encoded (4 bytes for every 3): 4.5 MiB leaves room.
pub const MAX_BODY_LIMIT: i32 = 4_718_592;

#[derive(Debug, Clone)]
pub struct ServeConfig {
    pub pipeline: PipelineName,
    pub endpoint_name: String,
    /// The endpoint's ARN, for its tags; `None`: made from the function's own
    /// ARN (Lambda always gives it; a local runtime may not).
    pub endpoint_arn: Option<String>,
    /// Media types a prediction request may have (`text/csv`, ...), lower-case.
    pub content_types: Vec<String>,
    /// A larger body is refused with 413 before any AWS call.
    pub max_body_bytes: usize,
    /// How long InvokeEndpoint may take, retries included, before a 504:
    /// below API Gateway's 30 s so that the caller gets our answer.
    pub timeout: Duration,
    /// How long `GET /model` answers from what it read last.
    pub model_info_ttl: Duration,
}

impl ServeConfig {
    pub fn from_env() -> Result<ServeConfig, PipelineError> {
        Self::from_reader(EnvReader::from_process())
    }

    pub fn from_reader(mut env: EnvReader) -> Result<ServeConfig, PipelineError> {
        use vars::*;
        let pipeline = env.pipeline_name();
        let endpoint_name = env.endpoint_name(ENDPOINT_NAME, pipeline.as_ref());
        let endpoint_arn = env.optional(ENDPOINT_ARN);
        if let Some(arn) = &endpoint_arn {
            let name = endpoint_name.as_deref().unwrap_or_default();
            if !arn.starts_with("arn:")
                || !arn.ends_with(&format!(":endpoint/{}", name.to_ascii_lowercase()))
            {
                env.problem(
                    ENDPOINT_ARN,
                    format!("{arn:?} must be the ARN of endpoint {name} (arn:<partition>:sagemaker:<region>:<account>:endpoint/<name in lower case>)"),
                );
            }
        }
        let mut content_types: Vec<String> = env
            .list(CONTENT_TYPES)
            .iter()
            .map(|t| t.to_ascii_lowercase())
            .collect();
        if content_types.is_empty() {
            content_types = vec!["text/csv".into(), "application/json".into()];
        }
        let max_body_bytes = env.number_or(MAX_BODY_BYTES, 4_194_304, 1..=MAX_BODY_LIMIT);
        let timeout = env.number_or(TIMEOUT_SECONDS, 25, 1..=29);
        let ttl = env.number_or(MODEL_INFO_CACHE_SECONDS, 60, 0..=3600);
        let config = (|| {
            Some(ServeConfig {
                pipeline: pipeline?,
                endpoint_name: endpoint_name?,
                endpoint_arn,
                content_types,
                max_body_bytes: usize::try_from(max_body_bytes).ok()?,
                timeout: Duration::from_secs(u64::try_from(timeout).ok()?),
                model_info_ttl: Duration::from_secs(u64::try_from(ttl).ok()?),
            })
        })();
        env.finish(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let config =
            ServeConfig::from_reader(EnvReader::from_vars([("PIPELINE_NAME", "mlops")])).unwrap();
        assert_eq!(config.endpoint_name, "mlops--endpoint");
        assert_eq!(config.endpoint_arn, None);
        assert_eq!(config.content_types, ["text/csv", "application/json"]);
        assert_eq!(config.max_body_bytes, 4_194_304);
        assert_eq!(config.timeout, Duration::from_secs(25));
        assert_eq!(config.model_info_ttl, Duration::from_secs(60));
    }

    #[test]
    fn reads_every_setting() {
        let config = ServeConfig::from_reader(EnvReader::from_vars([
            ("PIPELINE_NAME", "mlops"),
            ("ENDPOINT_NAME", "churn-endpoint"),
            (
                "ENDPOINT_ARN",
                "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/churn-endpoint",
            ),
            (
                "PREDICTION_CONTENT_TYPES",
                "Application/JSON, application/x-npy",
            ),
            ("PREDICTION_MAX_BODY_BYTES", "1024"),
            ("PREDICTION_TIMEOUT_SECONDS", "10"),
            ("MODEL_INFO_CACHE_SECONDS", "0"),
        ]))
        .unwrap();
        assert_eq!(config.endpoint_name, "churn-endpoint");
        assert_eq!(
            config.endpoint_arn.as_deref(),
            Some("arn:aws:sagemaker:eu-west-1:123456789012:endpoint/churn-endpoint")
        );
        assert_eq!(
            config.content_types,
            ["application/json", "application/x-npy"]
        );
        assert_eq!(config.max_body_bytes, 1024);
        assert_eq!(config.timeout, Duration::from_secs(10));
        assert_eq!(config.model_info_ttl, Duration::ZERO);
    }

    #[test]
    fn reports_every_problem_naming_the_variable() {
        let err = ServeConfig::from_reader(EnvReader::from_vars([
            ("ENDPOINT_NAME", "my_endpoint"),
            ("PREDICTION_MAX_BODY_BYTES", "6000000"),
            ("PREDICTION_TIMEOUT_SECONDS", "30"),
            (
                "ENDPOINT_ARN",
                "arn:aws:sagemaker:eu-west-1:123456789012:endpoint/other",
            ),
        ]))
        .unwrap_err()
        .to_string();
        for expected in [
            "PIPELINE_NAME: is required",
            "ENDPOINT_NAME: \"my_endpoint\" must be",
            "PREDICTION_MAX_BODY_BYTES: must be between 1 and 4718592",
            "PREDICTION_TIMEOUT_SECONDS: must be between 1 and 29",
            "ENDPOINT_ARN: \"arn:aws:sagemaker:eu-west-1:123456789012:endpoint/other\" must be the ARN of endpoint",
        ] {
            assert!(err.contains(expected), "missing {expected:?} in {err}");
        }
    }
}
