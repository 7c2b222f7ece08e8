//! Which image retrains: the one in production, i.e. the training image of
//! the newest Approved version in the model package group.

use aws_sdk_sagemaker::types::{ModelApprovalStatus, ModelPackageSortBy, SortOrder};
use shared::PipelineError;
use tracing::info;

use crate::RetrainConfig;

/// The image of the newest Approved model package, else the configured
/// fallback; `None` when there is neither: nothing is in production yet (a
/// team uploads its data before the first version is approved), so there is
/// nothing to retrain, which is not an error.
pub async fn current_image(
    sagemaker: &aws_sdk_sagemaker::Client,
    config: &RetrainConfig,
) -> Result<Option<String>, PipelineError> {
    let newest = sagemaker
        .list_model_packages()
        .model_package_group_name(&config.model_package_group)
        .model_approval_status(ModelApprovalStatus::Approved)
        .sort_by(ModelPackageSortBy::CreationTime)
        .sort_order(SortOrder::Descending)
        .max_results(1)
        .send()
        .await;
    let newest = match newest {
        Ok(output) => output
            .model_package_summary_list
            .unwrap_or_default()
            .into_iter()
            .next()
            .and_then(|summary| summary.model_package_arn),
        // A group that does not exist yet has no approved version either.
        Err(err) if shared::error::is_validation_error(&err, "does not exist") => None,
        Err(err) => return Err(PipelineError::from_sdk("ListModelPackages", err)),
    };

    let Some(arn) = newest else {
        if let Some(image) = &config.fallback_image {
            info!(%image, group = %config.model_package_group, "no approved model package; using RETRAIN_FALLBACK_IMAGE");
        }
        return Ok(config.fallback_image.clone());
    };

    let package = sagemaker
        .describe_model_package()
        .model_package_name(&arn)
        .send()
        .await
        .map_err(|err| PipelineError::from_sdk("DescribeModelPackage", err))?;
    // register_model_in_registry records the training image; a version
    // registered some other way is taken to train with its inference image.
    let image = package
        .customer_metadata_properties()
        .and_then(|metadata| metadata.get(shared::metadata_keys::TRAINING_IMAGE))
        .cloned()
        .or_else(|| {
            package
                .inference_specification()
                .and_then(|spec| spec.containers().first())
                .and_then(|container| container.image())
                .map(str::to_string)
        })
        .filter(|image| !image.is_empty())
        .ok_or_else(|| {
            PipelineError::ResourceFailed(format!(
                "approved model package {arn} names no training image \
                 (metadata training_image) and no inference container"
            ))
        })?;
    info!(model_package_arn = %arn, %image, "image of the newest approved model package");
    Ok(Some(image))
}
