//! Application Auto Scaling for an endpoint's variant: target tracking on
//! invocations per instance.

use aws_sdk_applicationautoscaling::operation::put_scaling_policy::builders::PutScalingPolicyInputBuilder;
use aws_sdk_applicationautoscaling::operation::register_scalable_target::builders::RegisterScalableTargetInputBuilder;
use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension, ServiceNamespace,
    TargetTrackingScalingPolicyConfiguration,
};

use crate::names::PipelineName;
use crate::sagemaker::endpoint::VARIANT_NAME;
use crate::PipelineError;

/// Target tracking on invocations per instance, for instance-backed variants.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Autoscaling {
    pub min_instances: i32,
    pub max_instances: i32,
    pub target_invocations_per_instance: f64,
}

/// Application Auto Scaling's name for the endpoint's variant.
pub fn resource_id(endpoint: &str) -> String {
    format!("endpoint/{endpoint}/variant/{VARIANT_NAME}")
}

/// The variant as a scalable target between the configured capacities (an
/// upsert: registering again updates them).
pub fn scalable_target_request(
    endpoint: &str,
    scaling: &Autoscaling,
) -> RegisterScalableTargetInputBuilder {
    RegisterScalableTargetInputBuilder::default()
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_id(resource_id(endpoint))
        .scalable_dimension(ScalableDimension::SageMakerVariantDesiredInstanceCount)
        .min_capacity(scaling.min_instances)
        .max_capacity(scaling.max_instances)
}

/// Target tracking on invocations per instance: out quickly, in cautiously.
pub fn scaling_policy_request(
    pipeline: &PipelineName,
    endpoint: &str,
    scaling: &Autoscaling,
) -> Result<PutScalingPolicyInputBuilder, PipelineError> {
    let metric = PredefinedMetricSpecification::builder()
        .predefined_metric_type(MetricType::SageMakerVariantInvocationsPerInstance)
        .build()
        .map_err(|err| PipelineError::Defect(format!("scaling metric: {err}")))?;
    let policy = TargetTrackingScalingPolicyConfiguration::builder()
        .target_value(scaling.target_invocations_per_instance)
        .predefined_metric_specification(metric)
        .scale_out_cooldown(60)
        .scale_in_cooldown(300)
        .build()
        .map_err(|err| PipelineError::Defect(format!("scaling policy: {err}")))?;
    Ok(PutScalingPolicyInputBuilder::default()
        .policy_name(format!(
            "{}invocations-per-instance",
            pipeline.resource_prefix()
        ))
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_id(resource_id(endpoint))
        .scalable_dimension(ScalableDimension::SageMakerVariantDesiredInstanceCount)
        .policy_type(PolicyType::TargetTrackingScaling)
        .target_tracking_scaling_policy_configuration(policy))
}
