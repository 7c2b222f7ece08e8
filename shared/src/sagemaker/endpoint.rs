//! Models, endpoint configurations and endpoints: what an endpoint is made
//! of ([`EndpointSettings`]), the names and pure requests that put one model
//! package version on it, and how SageMaker says an endpoint is missing,
//! exists already or is busy.

use aws_sdk_sagemaker::operation::create_endpoint_config::builders::CreateEndpointConfigInputBuilder;
use aws_sdk_sagemaker::operation::create_endpoint_config::CreateEndpointConfigInput;
use aws_sdk_sagemaker::operation::create_model::builders::CreateModelInputBuilder;
use aws_sdk_sagemaker::operation::create_model::CreateModelInput;
use aws_sdk_sagemaker::operation::update_endpoint::builders::UpdateEndpointInputBuilder;
use aws_sdk_sagemaker::operation::update_endpoint::UpdateEndpointInput;
use aws_sdk_sagemaker::types::{
    Alarm, AutoRollbackConfig, BlueGreenUpdatePolicy, CapacitySize, CapacitySizeType, CaptureMode,
    CaptureOption, ContainerDefinition, DataCaptureConfig, DeploymentConfig, EndpointStatus,
    ProductionVariant, ProductionVariantInstanceType, ProductionVariantServerlessConfig, Tag,
    TrafficRoutingConfig, TrafficRoutingConfigType,
};

use std::collections::HashMap;

use super::is_validation_error;
use crate::names::PipelineName;
use crate::tags::{keys as tag_keys, tag};
use crate::vpc::Vpc;
use crate::PipelineError;

/// The endpoint's single variant.
pub const VARIANT_NAME: &str = "AllTraffic";

/// SageMaker's answers (ValidationException messages) about endpoints.
pub mod answers {
    pub const MODEL_EXISTS: &str = "Cannot create already existing model";
    pub const ENDPOINT_CONFIG_EXISTS: &str =
        "Cannot create already existing endpoint configuration";
    pub const ENDPOINT_EXISTS: &str = "Cannot create already existing endpoint";
    pub const ENDPOINT_MISSING: &str = "Could not find endpoint";
    pub const ENDPOINT_BUSY: &str = "Cannot update in-progress endpoint";
}

/// How the endpoint's one variant is served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Capacity {
    Instances {
        instance_type: String,
        count: i32,
    },
    /// Serverless endpoints cannot take blue/green deployments: they are
    /// updated in place.
    Serverless {
        memory_mb: i32,
        max_concurrency: i32,
    },
}

/// How a blue/green update shifts traffic to the new fleet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TrafficRouting {
    AllAtOnce {
        wait_seconds: i32,
    },
    Canary {
        percent: i32,
        wait_seconds: i32,
    },
    Linear {
        step_percent: i32,
        wait_seconds: i32,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataCapture {
    pub destination_s3_uri: String,
    pub sampling_percentage: i32,
    pub capture_input: bool,
    pub capture_output: bool,
}

/// How an update rolls out: the blue/green policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rollout {
    pub traffic_routing: TrafficRouting,
    pub termination_wait_seconds: i32,
    pub max_execution_seconds: Option<i32>,
    /// CloudWatch alarms that roll the update back.
    pub rollback_alarms: Vec<String>,
}

/// One endpoint and how every version is served on it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointSettings {
    pub name: String,
    /// The role models run with.
    pub role_arn: String,
    pub capacity: Capacity,
    pub data_capture: Option<DataCapture>,
    pub kms_key_id: Option<String>,
    pub vpc: Option<Vpc>,
    pub network_isolation: bool,
    pub rollout: Rollout,
}

/// One model package version, as a pipeline deploys it.
#[derive(Debug, Clone, Copy)]
pub struct PackageVersion<'a> {
    pub pipeline: &'a PipelineName,
    pub group: &'a str,
    pub arn: &'a str,
    pub number: i64,
}

impl PackageVersion<'_> {
    /// The model made from this version.
    pub fn model_name(&self) -> String {
        self.pipeline
            .derive_name(
                "model",
                &format!("{}-v{}", self.group, self.number),
                &[self.arn],
            )
            .into()
    }

    /// The endpoint configuration serving this version on `endpoint`.
    pub fn endpoint_config_name(&self, endpoint: &str) -> String {
        self.pipeline
            .derive_name(
                "epc",
                &format!("{endpoint}-v{}", self.number),
                &[endpoint, self.arn],
            )
            .into()
    }

    /// What the pipeline tags the version's model, config and endpoint with
    /// (on an endpoint: the version it serves).
    pub fn tags(&self) -> Vec<Tag> {
        vec![
            tag(tag_keys::PIPELINE, self.pipeline.as_str()),
            tag(tag_keys::MODEL_PACKAGE_ARN, self.arn),
            tag(tag_keys::MODEL_PACKAGE_VERSION, &self.number.to_string()),
        ]
    }

    /// An endpoint's tags naming this version as the one it is moving to.
    pub fn deploying_tags(&self) -> Vec<Tag> {
        vec![
            tag(tag_keys::DEPLOYING_MODEL_PACKAGE_ARN, self.arn),
            tag(
                tag_keys::DEPLOYING_MODEL_PACKAGE_VERSION,
                &self.number.to_string(),
            ),
        ]
    }

    /// Whether an endpoint's tags name this version as the one it serves.
    pub fn is_live_per(&self, tags: &HashMap<String, String>) -> bool {
        tags.get(tag_keys::MODEL_PACKAGE_ARN).map(String::as_str) == Some(self.arn)
    }
}

pub fn create_model_request(
    endpoint: &EndpointSettings,
    version: &PackageVersion<'_>,
) -> CreateModelInputBuilder {
    let mut request = CreateModelInput::builder()
        .model_name(version.model_name())
        .execution_role_arn(&endpoint.role_arn)
        .containers(
            ContainerDefinition::builder()
                .model_package_name(version.arn)
                .build(),
        )
        .set_tags(Some(version.tags()));
    if endpoint.network_isolation {
        request = request.enable_network_isolation(true);
    }
    if let Some(vpc) = &endpoint.vpc {
        request = request.vpc_config(vpc.config());
    }
    request
}

pub fn create_endpoint_config_request(
    endpoint: &EndpointSettings,
    version: &PackageVersion<'_>,
) -> CreateEndpointConfigInputBuilder {
    let variant = ProductionVariant::builder()
        .variant_name(VARIANT_NAME)
        .model_name(version.model_name());
    let variant = match &endpoint.capacity {
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
    CreateEndpointConfigInput::builder()
        .endpoint_config_name(version.endpoint_config_name(&endpoint.name))
        .production_variants(variant.build())
        .set_kms_key_id(endpoint.kms_key_id.clone())
        .set_tags(Some(version.tags()))
        .set_data_capture_config(
            endpoint
                .data_capture
                .as_ref()
                .map(|capture| data_capture_config(capture, endpoint.kms_key_id.clone())),
        )
}

fn data_capture_config(capture: &DataCapture, kms_key_id: Option<String>) -> DataCaptureConfig {
    let option = |mode| CaptureOption::builder().capture_mode(mode).build();
    let mut options = Vec::new();
    if capture.capture_input {
        options.push(option(CaptureMode::Input));
    }
    if capture.capture_output {
        options.push(option(CaptureMode::Output));
    }
    DataCaptureConfig::builder()
        .enable_capture(true)
        .initial_sampling_percentage(capture.sampling_percentage)
        .destination_s3_uri(&capture.destination_s3_uri)
        .set_capture_options(Some(options))
        .set_kms_key_id(kms_key_id)
        .build()
}

/// Moves the endpoint to `endpoint_config`: a blue/green deployment with the
/// configured traffic shifting and alarm rollback; serverless endpoints do not
/// support blue/green and are updated in place.
pub fn update_endpoint_request(
    endpoint: &EndpointSettings,
    endpoint_config: &str,
) -> UpdateEndpointInputBuilder {
    let request = UpdateEndpointInput::builder()
        .endpoint_name(&endpoint.name)
        .endpoint_config_name(endpoint_config);
    if matches!(endpoint.capacity, Capacity::Serverless { .. }) {
        return request;
    }
    request.deployment_config(deployment_config(&endpoint.rollout))
}

fn deployment_config(rollout: &Rollout) -> DeploymentConfig {
    let percent = |value: i32| {
        CapacitySize::builder()
            .r#type(CapacitySizeType::CapacityPercent)
            .value(value)
            .build()
    };
    let routing = match rollout.traffic_routing {
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
        .termination_wait_in_seconds(rollout.termination_wait_seconds)
        .set_maximum_execution_timeout_in_seconds(rollout.max_execution_seconds)
        .build();
    let alarms = (!rollout.rollback_alarms.is_empty()).then(|| {
        AutoRollbackConfig::builder()
            .set_alarms(Some(
                rollout
                    .rollback_alarms
                    .iter()
                    .map(|name| Alarm::builder().alarm_name(name).build())
                    .collect(),
            ))
            .build()
    });
    DeploymentConfig::builder()
        .blue_green_update_policy(policy)
        .set_auto_rollback_configuration(alarms)
        .build()
}

/// The endpoint as DescribeEndpoint found it.
#[derive(Debug, Clone, PartialEq)]
pub enum EndpointState {
    Missing,
    Found {
        arn: String,
        status: EndpointStatus,
        /// The endpoint configuration it serves (or is moving to).
        config: String,
        failure_reason: Option<String>,
    },
}

pub async fn describe_endpoint(
    sagemaker: &aws_sdk_sagemaker::Client,
    name: &str,
) -> Result<EndpointState, PipelineError> {
    match sagemaker
        .describe_endpoint()
        .endpoint_name(name)
        .send()
        .await
    {
        Ok(endpoint) => Ok(EndpointState::Found {
            arn: endpoint.endpoint_arn().unwrap_or_default().to_string(),
            status: endpoint
                .endpoint_status()
                .cloned()
                .unwrap_or(EndpointStatus::Creating),
            config: endpoint
                .endpoint_config_name()
                .unwrap_or_default()
                .to_string(),
            failure_reason: endpoint.failure_reason().map(str::to_string),
        }),
        Err(err) if is_validation_error(&err, answers::ENDPOINT_MISSING) => {
            Ok(EndpointState::Missing)
        }
        Err(err) => Err(PipelineError::from_sdk("DescribeEndpoint", err)),
    }
}

/// A resource's tags, by key (one page: the pipeline's endpoints carry a
/// handful).
pub async fn list_tags(
    sagemaker: &aws_sdk_sagemaker::Client,
    arn: &str,
) -> Result<HashMap<String, String>, PipelineError> {
    let output = sagemaker
        .list_tags()
        .resource_arn(arn)
        .max_results(100)
        .send()
        .await
        .map_err(|err| PipelineError::from_sdk("ListTags", err))?;
    Ok(output
        .tags()
        .iter()
        .filter_map(|t| Some((t.key()?.to_string(), t.value()?.to_string())))
        .collect())
}

/// The endpoint's ARN in the partition, region and account of `function_arn`
/// (a Lambda function's own ARN). SageMaker lower-cases names in ARNs.
pub fn endpoint_arn(function_arn: &str, endpoint: &str) -> Option<String> {
    let mut parts = function_arn.split(':');
    let (Some("arn"), Some(partition), Some("lambda"), Some(region), Some(account)) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    Some(format!(
        "arn:{partition}:sagemaker:{region}:{account}:endpoint/{}",
        endpoint.to_ascii_lowercase()
    ))
}

/// Whether nothing but a delete can help an endpoint in this status.
pub fn is_broken(status: &EndpointStatus) -> bool {
    matches!(
        status,
        EndpointStatus::Failed
            | EndpointStatus::OutOfService
            | EndpointStatus::UpdateRollbackFailed
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::is_valid_sagemaker_name;
    use aws_sdk_sagemaker::types::CapacitySizeType;

    const ARN: &str = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops--models/3";

    fn pipeline() -> PipelineName {
        PipelineName::parse("mlops").unwrap()
    }

    fn version(pipeline: &PipelineName) -> PackageVersion<'_> {
        PackageVersion {
            pipeline,
            group: "mlops--models",
            arn: ARN,
            number: 3,
        }
    }

    /// The settings deploy_sagemaker_model reads from an environment that
    /// sets nothing optional.
    fn settings() -> EndpointSettings {
        EndpointSettings {
            name: "mlops--endpoint".into(),
            role_arn: "arn:aws:iam::123456789012:role/mlops-sagemaker-execution".into(),
            capacity: Capacity::Instances {
                instance_type: "ml.m5.large".into(),
                count: 1,
            },
            data_capture: None,
            kms_key_id: None,
            vpc: None,
            network_isolation: false,
            rollout: Rollout {
                traffic_routing: TrafficRouting::AllAtOnce { wait_seconds: 300 },
                termination_wait_seconds: 300,
                max_execution_seconds: None,
                rollback_alarms: Vec::new(),
            },
        }
    }

    fn serverless() -> EndpointSettings {
        EndpointSettings {
            capacity: Capacity::Serverless {
                memory_mb: 2048,
                max_concurrency: 5,
            },
            ..settings()
        }
    }

    #[test]
    fn the_endpoint_arn_is_in_the_functions_account_and_region() {
        assert_eq!(
            endpoint_arn(
                "arn:aws-cn:lambda:cn-north-1:123456789012:function:serve:live",
                "Churn-Endpoint"
            )
            .as_deref(),
            Some("arn:aws-cn:sagemaker:cn-north-1:123456789012:endpoint/churn-endpoint")
        );
        assert_eq!(endpoint_arn("", "mlops--endpoint"), None);
        assert_eq!(endpoint_arn("arn:aws:s3:::bucket", "e"), None);
    }

    /// Golden values: a redelivery after an upgrade must ask SageMaker for the
    /// same names, so a change here is a breaking change (docs/names.md).
    #[test]
    fn golden_model_and_endpoint_config_names() {
        let pipeline = pipeline();
        let version = version(&pipeline);
        assert_eq!(
            version.model_name(),
            "mlops--model-mlops-models-v3-0eef6ebbee156308"
        );
        assert_eq!(
            version.endpoint_config_name("mlops--endpoint"),
            "mlops--epc-mlops-endpoint-v3-a2b13ab0354abeac"
        );
    }

    #[test]
    fn names_are_deterministic_valid_and_per_version() {
        let pipeline = pipeline();
        let version = version(&pipeline);
        let model = version.model_name();
        let endpoint_config = version.endpoint_config_name("mlops--endpoint");
        assert!(
            model.starts_with("mlops--model-mlops-models-v3-"),
            "{model}"
        );
        assert!(
            endpoint_config.starts_with("mlops--epc-mlops-endpoint-v3-"),
            "{endpoint_config}"
        );
        assert!(is_valid_sagemaker_name(&model) && is_valid_sagemaker_name(&endpoint_config));
        assert_eq!(model, version.model_name());
        let other_arn = ARN.replace("/3", "/4");
        let other = PackageVersion {
            arn: &other_arn,
            number: 4,
            ..version
        };
        assert_ne!(
            endpoint_config,
            other.endpoint_config_name("mlops--endpoint")
        );
    }

    #[test]
    fn model_request_deploys_the_package() {
        let endpoint = EndpointSettings {
            network_isolation: true,
            vpc: Some(Vpc {
                subnet_ids: vec!["subnet-1".into()],
                security_group_ids: vec!["sg-1".into()],
            }),
            ..settings()
        };
        let pipeline = pipeline();
        let request = create_model_request(&endpoint, &version(&pipeline))
            .build()
            .unwrap();
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
        let endpoint = EndpointSettings {
            capacity: Capacity::Instances {
                instance_type: "ml.c5.xlarge".into(),
                count: 2,
            },
            data_capture: Some(DataCapture {
                destination_s3_uri: "s3://capture-bucket/endpoint/".into(),
                sampling_percentage: 25,
                capture_input: true,
                capture_output: true,
            }),
            kms_key_id: Some("alias/mlops".into()),
            ..settings()
        };
        let pipeline = pipeline();
        let version = version(&pipeline);
        let request = create_endpoint_config_request(&endpoint, &version)
            .build()
            .unwrap();
        let variant = &request.production_variants()[0];
        assert_eq!(variant.variant_name(), Some(VARIANT_NAME));
        assert_eq!(variant.model_name(), Some(version.model_name().as_str()));
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

        let request = create_endpoint_config_request(&serverless(), &version)
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
        let request = update_endpoint_request(&settings(), "epc").build().unwrap();
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
        let endpoint = EndpointSettings {
            rollout: Rollout {
                traffic_routing: TrafficRouting::Canary {
                    percent: 10,
                    wait_seconds: 600,
                },
                termination_wait_seconds: 120,
                max_execution_seconds: Some(3600),
                rollback_alarms: vec!["latency-high".into(), "errors-high".into()],
            },
            ..settings()
        };
        let request = update_endpoint_request(&endpoint, "epc").build().unwrap();
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
        let mut endpoint = settings();
        endpoint.rollout.traffic_routing = TrafficRouting::Linear {
            step_percent: 25,
            wait_seconds: 300,
        };
        let request = update_endpoint_request(&endpoint, "epc").build().unwrap();
        let routing = routing(&request);
        assert_eq!(routing.r#type(), Some(&TrafficRoutingConfigType::Linear));
        assert_eq!(routing.linear_step_size().unwrap().value(), Some(25));
    }

    #[test]
    fn serverless_updates_in_place() {
        let request = update_endpoint_request(&serverless(), "epc")
            .build()
            .unwrap();
        assert!(request.deployment_config().is_none());
        assert_eq!(request.endpoint_config_name(), Some("epc"));
    }
}
