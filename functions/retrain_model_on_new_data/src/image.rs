//! Which image retrains: the one in production, i.e. the training image of
//! the version deploy_sagemaker_model keeps live: the newest Approved version
//! of the model package group whose deployment has not failed.

use shared::sagemaker::model_package::{metadata_keys, newest_deployable, training_image};
use shared::PipelineError;
use tracing::info;

use crate::RetrainConfig;

/// The image of the newest Approved model package whose deployment has not
/// failed (a version stopped by the smoke test or rolled back is not the one
/// in production), else the configured
/// fallback; `None` when there is neither: nothing is in production yet (a
/// team uploads its data before the first version is approved), so there is
/// nothing to retrain, which is not an error.
pub async fn current_image(
    sagemaker: &aws_sdk_sagemaker::Client,
    config: &RetrainConfig,
) -> Result<Option<String>, PipelineError> {
    let Some(newest) = newest_deployable(sagemaker, &config.model_package_group).await? else {
        if let Some(image) = &config.fallback_image {
            info!(%image, group = %config.model_package_group, "no approved model package; using RETRAIN_FALLBACK_IMAGE");
        }
        return Ok(config.fallback_image.clone());
    };
    let arn = newest.arn;
    let package = sagemaker
        .describe_model_package()
        .model_package_name(&arn)
        .send()
        .await
        .map_err(|err| PipelineError::from_sdk("DescribeModelPackage", err))?;
    let image = training_image(&package).ok_or_else(|| {
        PipelineError::ResourceFailed(format!(
            "approved model package {arn} names no training image \
             (metadata {}) and no inference container",
            metadata_keys::TRAINING_IMAGE
        ))
    })?;
    info!(model_package_arn = %arn, %image, "image of the newest approved model package");
    Ok(Some(image))
}
