//! The AWS SDK configuration every function builds once, at cold start.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, SdkConfig};

/// Region, credentials and endpoint come from the environment as usual
/// (`AWS_ENDPOINT_URL` points the SDK at a local emulator). Retries are the
/// SDK's standard mode (throttling, 5xx and timeouts, with backoff); the
/// operation timeout keeps a hung call well inside the Lambda timeout, so the
/// function reports a retryable error instead of being killed mid-call.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
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
