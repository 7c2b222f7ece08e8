//! Names and pure request builders for deploying one model package version,
//! and for the endpoint variant's autoscaling.

use aws_sdk_applicationautoscaling::operation::put_scaling_policy::builders::PutScalingPolicyInputBuilder;
use aws_sdk_applicationautoscaling::operation::register_scalable_target::builders::RegisterScalableTargetInputBuilder;
use aws_sdk_applicationautoscaling::types::{
    MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension, ServiceNamespace,
    TargetTrackingScalingPolicyConfiguration,
};
use aws_sdk_sagemaker::operation::create_endpoint_config::builders::CreateEndpointConfigInputBuilder;
use aws_sdk_sagemaker::operation::create_endpoint_config::CreateEndpointConfigInput;
use aws_sdk_sagemaker::operation::create_model::builders::CreateModelInputBuilder;
use aws_sdk_sagemaker::operation::create_model::CreateModelInput;
use aws_sdk_sagemaker::operation::update_endpoint::builders::UpdateEndpointInputBuilder;
use aws_sdk_sagemaker::operation::update_endpoint::UpdateEndpointInput;
use aws_sdk_sagemaker::types::{
    Alarm, AutoRollbackConfig, BlueGreenUpdatePolicy, CapacitySize, CapacitySizeType, CaptureMode,
    CaptureOption, ContainerDefinition, DataCaptureConfig, DeploymentConfig, ProductionVariant,
    ProductionVariantInstanceType, ProductionVariantServerlessConfig, Tag, TrafficRoutingConfig,
    TrafficRoutingConfigType, VpcConfig,
};
use shared::tag_keys;
use shared::training::tag;
use shared::PipelineError;

use crate::config::{Autoscaling, Capacity, DeployConfig, TrafficRouting};

/// The endpoint's single variant.
pub const VARIANT_NAME: &str = "AllTraffic";

/// The model made from one model package version.
pub fn model_name(config: &DeployConfig, package_arn: &str, version: i64) -> String {
    config
        .pipeline
        .derive_name(
            "model",
            &format!("{}-v{version}", config.group),
            &[package_arn],
        )
        .into()
}

/// The endpoint configuration serving one version on the configured endpoint.
pub fn endpoint_config_name(config: &DeployConfig, package_arn: &str, version: i64) -> String {
    config
        .pipeline
        .derive_name(
            "epc",
            &format!("{}-v{version}", config.endpoint_name),
            &[&config.endpoint_name, package_arn],
        )
        .into()
}

/// What the pipeline tags its models, configs and endpoint with.
pub fn tags(config: &DeployConfig, package_arn: &str, version: i64) -> Vec<Tag> {
    vec![
        tag(tag_keys::PIPELINE, config.pipeline.as_str()),
        tag(tag_keys::MODEL_PACKAGE_ARN, package_arn),
        tag(tag_keys::MODEL_PACKAGE_VERSION, &version.to_string()),
    ]
}

pub fn create_model_request(
    config: &DeployConfig,
    package_arn: &str,
    version: i64,
) -> CreateModelInputBuilder {
    let mut request = CreateModelInput::builder()
        .model_name(model_name(config, package_arn, version))
        .execution_role_arn(&config.role_arn)
        .containers(
            ContainerDefinition::builder()
                .model_package_name(package_arn)
                .build(),
        )
        .set_tags(Some(tags(config, package_arn, version)));
    if config.network_isolation {
        request = request.enable_network_isolation(true);
    }
    if let Some(vpc) = &config.vpc {
        request = request.vpc_config(
            VpcConfig::builder()
                .set_subnets(Some(vpc.subnet_ids.clone()))
                .set_security_group_ids(Some(vpc.security_group_ids.clone()))
                .build(),
        );
    }
    request
}

pub fn create_endpoint_config_request(
    config: &DeployConfig,
    package_arn: &str,
    version: i64,
) -> CreateEndpointConfigInputBuilder {
    let variant = ProductionVariant::builder()
        .variant_name(VARIANT_NAME)
        .model_name(model_name(config, package_arn, version));
    let variant = match &config.capacity {
        Capacity::Instances {
            instance_type,
            count,
        } => variant
            .instance_type(ProductionVariantInstanceType::from(instance_type.as_str()))
            .initial_instance_count(*count),
        Capacity::Serverless {
            memory_mb,
            max_concurrency,
        } => variant.serverless_config(
            ProductionVariantServerlessConfig::builder()
                .memory_size_in_mb(*memory_mb)
                .max_concurrency(*max_concurrency)
                .build(),
        ),
    };
    let mut request = CreateEndpointConfigInput::builder()
        .endpoint_config_name(endpoint_config_name(config, package_arn, version))
        .production_variants(variant.build())
        .set_kms_key_id(config.kms_key_id.clone())
        .set_tags(Some(tags(config, package_arn, version)));
    if let Some(capture) = &config.data_capture {
        let mut options = Vec::new();
        if capture.capture_input {
            options.push(
                CaptureOption::builder()
                    .capture_mode(CaptureMode::Input)
                    .build(),
            );
        }
        if capture.capture_output {
            options.push(
                CaptureOption::builder()
                    .capture_mode(CaptureMode::Output)
                    .build(),
            );
        }
        request = request.data_capture_config(
            DataCaptureConfig::builder()
                .enable_capture(true)
                .initial_sampling_percentage(capture.sampling_percentage)
                .destination_s3_uri(&capture.destination_s3_uri)
                .set_capture_options(Some(options))
                .set_kms_key_id(config.kms_key_id.clone())
                .build(),
        );
    }
    request
}

/// Moves the endpoint to `endpoint_config`: a blue/green deployment with the
/// configured traffic shifting and alarm rollback; serverless endpoints do not
/// support blue/green and are updated in place.
pub fn update_endpoint_request(
    config: &DeployConfig,
    endpoint_config: &str,
) -> UpdateEndpointInputBuilder {
    let request = UpdateEndpointInput::builder()
        .endpoint_name(&config.endpoint_name)
        .endpoint_config_name(endpoint_config);
    if matches!(config.capacity, Capacity::Serverless { .. }) {
        return request;
    }
    let percent = |value: i32| {
        CapacitySize::builder()
            .r#type(CapacitySizeType::CapacityPercent)
            .value(value)
            .build()
    };
    let routing = match config.traffic_routing {
        TrafficRouting::AllAtOnce { wait_seconds } => TrafficRoutingConfig::builder()
            .r#type(TrafficRoutingConfigType::AllAtOnce)
            .wait_interval_in_seconds(wait_seconds),
        TrafficRouting::Canary {
            percent: size,
            wait_seconds,
        } => TrafficRoutingConfig::builder()
            .r#type(TrafficRoutingConfigType::Canary)
            .canary_size(percent(size))
            .wait_interval_in_seconds(wait_seconds),
        TrafficRouting::Linear {
            step_percent,
            wait_seconds,
        } => TrafficRoutingConfig::builder()
            .r#type(TrafficRoutingConfigType::Linear)
            .linear_step_size(percent(step_percent))
            .wait_interval_in_seconds(wait_seconds),
    };
    let policy = BlueGreenUpdatePolicy::builder()
        .traffic_routing_configuration(routing.build())
        .termination_wait_in_seconds(config.termination_wait_seconds)
        .set_maximum_execution_timeout_in_seconds(config.max_execution_seconds)
        .build();
    let mut deployment = DeploymentConfig::builder().blue_green_update_policy(policy);
    if !config.rollback_alarms.is_empty() {
        deployment = deployment.auto_rollback_configuration(
            AutoRollbackConfig::builder()
                .set_alarms(Some(
                    config
                        .rollback_alarms
                        .iter()
                        .map(|name| Alarm::builder().alarm_name(name).build())
                        .collect(),
                ))
                .build(),
        );
    }
    request.deployment_config(deployment.build())
}

/// Application Auto Scaling's name for the endpoint's variant.
pub fn scaling_resource_id(config: &DeployConfig) -> String {
    format!("endpoint/{}/variant/{VARIANT_NAME}", config.endpoint_name)
}

/// The variant as a scalable target between the configured capacities (an
/// upsert: registering again updates them).
pub fn scalable_target_request(
    config: &DeployConfig,
    scaling: &Autoscaling,
) -> RegisterScalableTargetInputBuilder {
    RegisterScalableTargetInputBuilder::default()
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_id(scaling_resource_id(config))
        .scalable_dimension(ScalableDimension::SageMakerVariantDesiredInstanceCount)
        .min_capacity(scaling.min_instances)
        .max_capacity(scaling.max_instances)
}

/// Target tracking on invocations per instance: out quickly, in cautiously.
pub fn scaling_policy_request(
    config: &DeployConfig,
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
            config.pipeline.resource_prefix()
        ))
        .service_namespace(ServiceNamespace::Sagemaker)
        .resource_id(scaling_resource_id(config))
        .scalable_dimension(ScalableDimension::SageMakerVariantDesiredInstanceCount)
        .policy_type(PolicyType::TargetTrackingScaling)
        .target_tracking_scaling_policy_configuration(policy))
}

#[cfg(test)]
mod tests {
    use super::*;
    use shared::config::EnvReader;
    use shared::names::is_valid_sagemaker_name;

    const ARN: &str = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops--models/3";

    fn config(extra: &[(&'static str, &'static str)]) -> DeployConfig {
        let mut vars = crate::config::test_vars();
        vars.extend_from_slice(extra);
        DeployConfig::from_reader(EnvReader::from_vars(vars)).unwrap()
    }

    /// Golden values: a redelivery after an upgrade must ask SageMaker for the
    /// same names, so a change here is a breaking change (docs/names.md).
    #[test]
    fn golden_model_and_endpoint_config_names() {
        let config = config(&[]);
        assert_eq!(
            model_name(&config, ARN, 3),
            "mlops--model-mlops-models-v3-0eef6ebbee156308"
        );
        assert_eq!(
            endpoint_config_name(&config, ARN, 3),
            "mlops--epc-mlops-endpoint-v3-a2b13ab0354abeac"
        );
    }

    #[test]
    fn names_are_deterministic_valid_and_per_version() {
        let config = config(&[]);
        let model = model_name(&config, ARN, 3);
        let endpoint_config = endpoint_config_name(&config, ARN, 3);
        assert!(
            model.starts_with("mlops--model-mlops-models-v3-"),
            "{model}"
        );
        assert!(
            endpoint_config.starts_with("mlops--epc-mlops-endpoint-v3-"),
            "{endpoint_config}"
        );
        assert!(is_valid_sagemaker_name(&model) && is_valid_sagemaker_name(&endpoint_config));
        assert_eq!(model, model_name(&config, ARN, 3));
        let other = ARN.replace("/3", "/4");
        assert_ne!(endpoint_config, endpoint_config_name(&config, &other, 4));
    }

    #[test]
    fn model_request_deploys_the_package() {
        let config = config(&[
            ("MODEL_NETWORK_ISOLATION", "true"),
            ("MODEL_VPC_SUBNET_IDS", "subnet-1"),
            ("MODEL_VPC_SECURITY_GROUP_IDS", "sg-1"),
        ]);
        let request = create_model_request(&config, ARN, 3).build().unwrap();
        assert_eq!(request.containers()[0].model_package_name(), Some(ARN));
        assert_eq!(
            request.execution_role_arn(),
            Some("arn:aws:iam::123456789012:role/mlops-sagemaker-execution")
        );
        assert_eq!(request.enable_network_isolation(), Some(true));
        assert_eq!(request.vpc_config().unwrap().subnets(), ["subnet-1"]);
        let tags: Vec<_> = request
            .tags()
            .iter()
            .map(|t| (t.key().unwrap(), t.value().unwrap()))
            .collect();
        assert!(tags.contains(&("mlops:model-package-arn", ARN)));
        assert!(tags.contains(&("mlops:model-package-version", "3")));
    }

    #[test]
    fn endpoint_config_carries_capacity_capture_and_key() {
        let config = config(&[
            ("ENDPOINT_INSTANCE_TYPE", "ml.c5.xlarge"),
            ("ENDPOINT_INSTANCE_COUNT", "2"),
            ("DATA_CAPTURE_S3_URI", "s3://capture-bucket/endpoint/"),
            ("DATA_CAPTURE_SAMPLING_PERCENTAGE", "25"),
            ("ENDPOINT_KMS_KEY_ID", "alias/mlops"),
        ]);
        let request = create_endpoint_config_request(&config, ARN, 3)
            .build()
            .unwrap();
        let variant = &request.production_variants()[0];
        assert_eq!(variant.variant_name(), Some(VARIANT_NAME));
        assert_eq!(
            variant.model_name(),
            Some(model_name(&config, ARN, 3).as_str())
        );
        assert_eq!(
            variant.instance_type(),
            Some(&ProductionVariantInstanceType::MlC5Xlarge)
        );
        assert_eq!(variant.initial_instance_count(), Some(2));
        let capture = request.data_capture_config().unwrap();
        assert_eq!(capture.enable_capture(), Some(true));
        assert_eq!(capture.initial_sampling_percentage(), Some(25));
        assert_eq!(
            capture.destination_s3_uri(),
            Some("s3://capture-bucket/endpoint/")
        );
        assert_eq!(capture.capture_options().len(), 2);
        assert_eq!(request.kms_key_id(), Some("alias/mlops"));

        let serverless = config_serverless();
        let request = create_endpoint_config_request(&serverless, ARN, 3)
            .build()
            .unwrap();
        let variant = &request.production_variants()[0];
        assert_eq!(variant.instance_type(), None);
        assert_eq!(
            variant.serverless_config().unwrap().memory_size_in_mb(),
            Some(2048)
        );
        assert!(request.data_capture_config().is_none());
    }

    fn config_serverless() -> DeployConfig {
        config(&[("ENDPOINT_SERVERLESS_MEMORY_MB", "2048")])
    }

    fn routing(request: &UpdateEndpointInput) -> &TrafficRoutingConfig {
        request
            .deployment_config()
            .unwrap()
            .blue_green_update_policy()
            .unwrap()
            .traffic_routing_configuration()
            .unwrap()
    }

    #[test]
    fn update_is_blue_green_all_at_once_by_default() {
        let request = update_endpoint_request(&config(&[]), "epc")
            .build()
            .unwrap();
        assert_eq!(request.endpoint_name(), Some("mlops--endpoint"));
        assert_eq!(request.endpoint_config_name(), Some("epc"));
        let routing = routing(&request);
        assert_eq!(routing.r#type(), Some(&TrafficRoutingConfigType::AllAtOnce));
        assert_eq!(routing.wait_interval_in_seconds(), Some(300));
        assert!(routing.canary_size().is_none() && routing.linear_step_size().is_none());
        let policy = request
            .deployment_config()
            .unwrap()
            .blue_green_update_policy()
            .unwrap();
        assert_eq!(policy.termination_wait_in_seconds(), Some(300));
        assert_eq!(policy.maximum_execution_timeout_in_seconds(), None);
        assert!(request
            .deployment_config()
            .unwrap()
            .auto_rollback_configuration()
            .is_none());
    }

    #[test]
    fn update_canary_with_alarms() {
        let config = config(&[
            ("DEPLOYMENT_TRAFFIC_ROUTING", "CANARY"),
            ("DEPLOYMENT_CANARY_PERCENT", "10"),
            ("DEPLOYMENT_WAIT_SECONDS", "600"),
            ("DEPLOYMENT_TERMINATION_WAIT_SECONDS", "120"),
            ("DEPLOYMENT_MAX_EXECUTION_SECONDS", "3600"),
            ("DEPLOYMENT_ROLLBACK_ALARMS", "latency-high,errors-high"),
        ]);
        let request = update_endpoint_request(&config, "epc").build().unwrap();
        let routing = routing(&request);
        assert_eq!(routing.r#type(), Some(&TrafficRoutingConfigType::Canary));
        assert_eq!(routing.wait_interval_in_seconds(), Some(600));
        let size = routing.canary_size().unwrap();
        assert_eq!(
            (size.r#type(), size.value()),
            (Some(&CapacitySizeType::CapacityPercent), Some(10))
        );
        let deployment = request.deployment_config().unwrap();
        let policy = deployment.blue_green_update_policy().unwrap();
        assert_eq!(policy.termination_wait_in_seconds(), Some(120));
        assert_eq!(policy.maximum_execution_timeout_in_seconds(), Some(3600));
        let alarms: Vec<_> = deployment
            .auto_rollback_configuration()
            .unwrap()
            .alarms()
            .iter()
            .map(|a| a.alarm_name().unwrap())
            .collect();
        assert_eq!(alarms, ["latency-high", "errors-high"]);
    }

    #[test]
    fn update_linear() {
        let config = config(&[
            ("DEPLOYMENT_TRAFFIC_ROUTING", "LINEAR"),
            ("DEPLOYMENT_LINEAR_STEP_PERCENT", "25"),
        ]);
        let request = update_endpoint_request(&config, "epc").build().unwrap();
        let routing = routing(&request);
        assert_eq!(routing.r#type(), Some(&TrafficRoutingConfigType::Linear));
        assert_eq!(routing.linear_step_size().unwrap().value(), Some(25));
    }

    #[test]
    fn serverless_updates_in_place() {
        let request = update_endpoint_request(&config_serverless(), "epc")
            .build()
            .unwrap();
        assert!(request.deployment_config().is_none());
        assert_eq!(request.endpoint_config_name(), Some("epc"));
    }
}
