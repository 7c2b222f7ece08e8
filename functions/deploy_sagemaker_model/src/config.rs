//! The function's configuration, read once at cold start.

use shared::config::EnvReader;
use shared::names::is_valid_sagemaker_name;
use shared::training::TrainingVpc;
use shared::{PipelineError, PipelineName};

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

/// Target tracking on invocations per instance, for instance-backed variants.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Autoscaling {
    pub min_instances: i32,
    pub max_instances: i32,
    pub target_invocations_per_instance: f64,
}

#[derive(Debug, Clone)]
pub struct DeployConfig {
    pub pipeline: PipelineName,
    pub group: String,
    pub role_arn: String,
    pub endpoint_name: String,
    pub capacity: Capacity,
    pub data_capture: Option<DataCapture>,
    pub kms_key_id: Option<String>,
    pub vpc: Option<TrainingVpc>,
    pub network_isolation: bool,
    pub traffic_routing: TrafficRouting,
    pub termination_wait_seconds: i32,
    pub max_execution_seconds: Option<i32>,
    pub rollback_alarms: Vec<String>,
    /// Delete an endpoint in Failed so that a retry creates it afresh.
    pub recreate_failed_endpoint: bool,
    pub autoscaling: Option<Autoscaling>,
}

impl DeployConfig {
    pub fn from_env() -> Result<DeployConfig, PipelineError> {
        Self::from_reader(EnvReader::from_process())
    }

    pub fn from_reader(mut env: EnvReader) -> Result<DeployConfig, PipelineError> {
        let pipeline = env.pipeline_name();
        let group = env.model_package_group(pipeline.as_ref());
        let role_arn = env.required("SAGEMAKER_ROLE_ARN");

        let endpoint_name = endpoint_name(&mut env, pipeline.as_ref());
        let capacity = capacity(&mut env);
        let data_capture = data_capture(&mut env);
        let vpc = env.vpc("MODEL_VPC_SUBNET_IDS", "MODEL_VPC_SECURITY_GROUP_IDS");
        let traffic_routing = traffic_routing(&mut env);
        let termination_wait_seconds =
            env.number_or("DEPLOYMENT_TERMINATION_WAIT_SECONDS", 300, 0..=3600);
        let max_execution_seconds = max_execution_seconds(&mut env);
        let autoscaling = autoscaling(&mut env, &capacity);

        let config = (|| {
            Some(DeployConfig {
                pipeline: pipeline?,
                group: group?,
                role_arn: role_arn?,
                endpoint_name: endpoint_name?,
                capacity,
                data_capture,
                kms_key_id: env.optional("ENDPOINT_KMS_KEY_ID"),
                vpc,
                network_isolation: env.flag_or("MODEL_NETWORK_ISOLATION", false),
                traffic_routing,
                termination_wait_seconds,
                max_execution_seconds,
                rollback_alarms: env.list("DEPLOYMENT_ROLLBACK_ALARMS"),
                recreate_failed_endpoint: env.flag_or("ENDPOINT_RECREATE_FAILED", false),
                autoscaling,
            })
        })();
        env.finish(config)
    }
}

/// `ENDPOINT_NAME`, else `<pipeline>--endpoint`.
fn endpoint_name(env: &mut EnvReader, pipeline: Option<&PipelineName>) -> Option<String> {
    match env.optional("ENDPOINT_NAME") {
        Some(name) if is_valid_sagemaker_name(&name) => Some(name),
        Some(name) => {
            env.problem(
                "ENDPOINT_NAME",
                format!("{name:?} must be 1-63 letters, digits and hyphens, starting and ending with a letter or digit"),
            );
            None
        }
        None => pipeline.map(|p| format!("{}endpoint", p.resource_prefix())),
    }
}

/// Serverless (`ENDPOINT_SERVERLESS_MEMORY_MB` set) or instances.
fn capacity(env: &mut EnvReader) -> Capacity {
    match env.parsed::<i32>("ENDPOINT_SERVERLESS_MEMORY_MB") {
        Some(memory_mb) => {
            if ![1024, 2048, 3072, 4096, 5120, 6144].contains(&memory_mb) {
                env.problem(
                    "ENDPOINT_SERVERLESS_MEMORY_MB",
                    format!("must be one of 1024, 2048, 3072, 4096, 5120, 6144, got {memory_mb}"),
                );
            }
            Capacity::Serverless {
                memory_mb,
                max_concurrency: env.number_or("ENDPOINT_SERVERLESS_MAX_CONCURRENCY", 5, 1..=200),
            }
        }
        None => Capacity::Instances {
            instance_type: env.instance_type_or("ENDPOINT_INSTANCE_TYPE", "ml.m5.large"),
            count: env.number_or("ENDPOINT_INSTANCE_COUNT", 1, 1..=100),
        },
    }
}

/// Data capture when `DATA_CAPTURE_S3_URI` is set; `DATA_CAPTURE_OPTIONS`
/// Input, Output or both (the default).
fn data_capture(env: &mut EnvReader) -> Option<DataCapture> {
    let destination_s3_uri = env.s3_uri("DATA_CAPTURE_S3_URI", false)?;
    let options = env.list("DATA_CAPTURE_OPTIONS");
    for option in &options {
        if option != "Input" && option != "Output" {
            env.problem(
                "DATA_CAPTURE_OPTIONS",
                format!("{option:?} is not Input or Output"),
            );
        }
    }
    let captures = |kind: &str| options.is_empty() || options.iter().any(|o| o == kind);
    Some(DataCapture {
        destination_s3_uri,
        sampling_percentage: env.number_or("DATA_CAPTURE_SAMPLING_PERCENTAGE", 100, 0..=100),
        capture_input: captures("Input"),
        capture_output: captures("Output"),
    })
}

/// `DEPLOYMENT_TRAFFIC_ROUTING` and its step, with `DEPLOYMENT_WAIT_SECONDS`.
fn traffic_routing(env: &mut EnvReader) -> TrafficRouting {
    let wait_seconds = env.number_or("DEPLOYMENT_WAIT_SECONDS", 300, 0..=3600);
    match env.optional("DEPLOYMENT_TRAFFIC_ROUTING").as_deref() {
        None | Some("ALL_AT_ONCE") => TrafficRouting::AllAtOnce { wait_seconds },
        Some("CANARY") => TrafficRouting::Canary {
            percent: env.number_or("DEPLOYMENT_CANARY_PERCENT", 10, 1..=99),
            wait_seconds,
        },
        Some("LINEAR") => TrafficRouting::Linear {
            step_percent: env.number_or("DEPLOYMENT_LINEAR_STEP_PERCENT", 20, 1..=99),
            wait_seconds,
        },
        Some(other) => {
            env.problem(
                "DEPLOYMENT_TRAFFIC_ROUTING",
                format!("must be ALL_AT_ONCE, CANARY or LINEAR, got {other:?}"),
            );
            TrafficRouting::AllAtOnce { wait_seconds }
        }
    }
}

/// `DEPLOYMENT_MAX_EXECUTION_SECONDS`: SageMaker allows 600 to 28800.
fn max_execution_seconds(env: &mut EnvReader) -> Option<i32> {
    let seconds = env.parsed::<i32>("DEPLOYMENT_MAX_EXECUTION_SECONDS")?;
    if !(600..=28_800).contains(&seconds) {
        env.problem(
            "DEPLOYMENT_MAX_EXECUTION_SECONDS",
            format!("must be between 600 and 28800, got {seconds}"),
        );
    }
    Some(seconds)
}

/// `AUTOSCALING_MIN_INSTANCES`, `AUTOSCALING_MAX_INSTANCES` and
/// `AUTOSCALING_TARGET_INVOCATIONS`: all three, or none.
fn autoscaling(env: &mut EnvReader, capacity: &Capacity) -> Option<Autoscaling> {
    const MIN: &str = "AUTOSCALING_MIN_INSTANCES";
    const MAX: &str = "AUTOSCALING_MAX_INSTANCES";
    const TARGET: &str = "AUTOSCALING_TARGET_INVOCATIONS";
    let set: Vec<bool> = [MIN, MAX, TARGET]
        .iter()
        .map(|v| env.optional(v).is_some())
        .collect();
    if set.iter().all(|s| !s) {
        return None;
    }
    if !set.iter().all(|s| *s) {
        env.problem(
            MIN,
            format!("{MIN}, {MAX} and {TARGET} must be set together"),
        );
        return None;
    }
    if matches!(capacity, Capacity::Serverless { .. }) {
        env.problem(
            MIN,
            "autoscaling applies to instance-backed endpoints, not serverless ones",
        );
        return None;
    }
    let min_instances = env.number_or(MIN, 1, 1..=100);
    let max_instances = env.number_or(MAX, 1, 1..=100);
    if max_instances < min_instances {
        env.problem(
            MAX,
            format!("must be at least {MIN} ({min_instances}), got {max_instances}"),
        );
    }
    let target = env.parsed::<f64>(TARGET).unwrap_or(0.0);
    if !(target.is_finite() && target > 0.0) {
        env.problem(
            TARGET,
            "must be a number of invocations per instance per minute above 0",
        );
    }
    Some(Autoscaling {
        min_instances,
        max_instances,
        target_invocations_per_instance: target,
    })
}

/// A minimal valid environment, for the crate's tests.
#[cfg(test)]
pub(crate) fn test_vars() -> Vec<(&'static str, &'static str)> {
    vec![
        ("PIPELINE_NAME", "mlops"),
        (
            "SAGEMAKER_ROLE_ARN",
            "arn:aws:iam::123456789012:role/mlops-sagemaker-execution",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let config = DeployConfig::from_reader(EnvReader::from_vars(test_vars())).unwrap();
        assert_eq!(config.group, "mlops--models");
        assert_eq!(config.endpoint_name, "mlops--endpoint");
        assert_eq!(
            config.capacity,
            Capacity::Instances {
                instance_type: "ml.m5.large".into(),
                count: 1
            }
        );
        assert_eq!(
            config.traffic_routing,
            TrafficRouting::AllAtOnce { wait_seconds: 300 }
        );
        assert_eq!(config.data_capture, None);
        assert!(config.rollback_alarms.is_empty());
    }

    #[test]
    fn autoscaling_a_serverless_endpoint_is_refused() {
        let mut vars = test_vars();
        vars.extend([
            ("ENDPOINT_SERVERLESS_MEMORY_MB", "2048"),
            ("AUTOSCALING_MIN_INSTANCES", "1"),
            ("AUTOSCALING_MAX_INSTANCES", "4"),
            ("AUTOSCALING_TARGET_INVOCATIONS", "100"),
        ]);
        let err = DeployConfig::from_reader(EnvReader::from_vars(vars))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("AUTOSCALING_MIN_INSTANCES: autoscaling applies to instance-backed endpoints, not serverless ones"),
            "{err}"
        );
    }

    #[test]
    fn serverless_canary_and_capture() {
        let mut vars = test_vars();
        vars.extend([
            ("ENDPOINT_SERVERLESS_MEMORY_MB", "2048"),
            ("ENDPOINT_SERVERLESS_MAX_CONCURRENCY", "10"),
            ("DEPLOYMENT_TRAFFIC_ROUTING", "CANARY"),
            ("DEPLOYMENT_CANARY_PERCENT", "5"),
            ("DEPLOYMENT_WAIT_SECONDS", "600"),
            ("DATA_CAPTURE_S3_URI", "s3://capture-bucket/endpoint/"),
            ("DATA_CAPTURE_OPTIONS", "Input"),
            ("DATA_CAPTURE_SAMPLING_PERCENTAGE", "20"),
            ("DEPLOYMENT_ROLLBACK_ALARMS", "latency-high, errors-high"),
        ]);
        let config = DeployConfig::from_reader(EnvReader::from_vars(vars)).unwrap();
        assert_eq!(
            config.capacity,
            Capacity::Serverless {
                memory_mb: 2048,
                max_concurrency: 10
            }
        );
        assert_eq!(
            config.traffic_routing,
            TrafficRouting::Canary {
                percent: 5,
                wait_seconds: 600
            }
        );
        let capture = config.data_capture.unwrap();
        assert_eq!(
            (
                capture.capture_input,
                capture.capture_output,
                capture.sampling_percentage
            ),
            (true, false, 20)
        );
        assert_eq!(config.rollback_alarms, ["latency-high", "errors-high"]);
    }

    #[test]
    fn autoscaling_is_all_or_nothing() {
        let mut vars = test_vars();
        vars.extend([
            ("AUTOSCALING_MIN_INSTANCES", "1"),
            ("AUTOSCALING_MAX_INSTANCES", "4"),
            ("AUTOSCALING_TARGET_INVOCATIONS", "750"),
        ]);
        let config = DeployConfig::from_reader(EnvReader::from_vars(vars)).unwrap();
        assert_eq!(
            config.autoscaling,
            Some(Autoscaling {
                min_instances: 1,
                max_instances: 4,
                target_invocations_per_instance: 750.0
            })
        );
        let mut partial = test_vars();
        partial.push(("AUTOSCALING_MAX_INSTANCES", "4"));
        let err = DeployConfig::from_reader(EnvReader::from_vars(partial))
            .unwrap_err()
            .to_string();
        assert!(err.contains("must be set together"), "{err}");
        let mut inverted = test_vars();
        inverted.extend([
            ("AUTOSCALING_MIN_INSTANCES", "3"),
            ("AUTOSCALING_MAX_INSTANCES", "2"),
            ("AUTOSCALING_TARGET_INVOCATIONS", "0"),
        ]);
        let err = DeployConfig::from_reader(EnvReader::from_vars(inverted))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("AUTOSCALING_MAX_INSTANCES: must be at least"),
            "{err}"
        );
        assert!(
            err.contains("AUTOSCALING_TARGET_INVOCATIONS: must be"),
            "{err}"
        );
    }

    #[test]
    fn reports_every_problem_naming_the_variable() {
        let err = DeployConfig::from_reader(EnvReader::from_vars([
            ("ENDPOINT_NAME", "my_endpoint"),
            ("ENDPOINT_SERVERLESS_MEMORY_MB", "1000"),
            ("DEPLOYMENT_TRAFFIC_ROUTING", "canary"),
            ("DATA_CAPTURE_S3_URI", "s3://capture-bucket/x"),
            ("DATA_CAPTURE_OPTIONS", "Input,Both"),
            ("MODEL_VPC_SUBNET_IDS", "subnet-1"),
            ("DEPLOYMENT_MAX_EXECUTION_SECONDS", "60"),
        ]))
        .unwrap_err()
        .to_string();
        for expected in [
            "PIPELINE_NAME: is required",
            "SAGEMAKER_ROLE_ARN: is required",
            "ENDPOINT_NAME: \"my_endpoint\" must be",
            "ENDPOINT_SERVERLESS_MEMORY_MB: must be one of",
            "DEPLOYMENT_TRAFFIC_ROUTING: must be ALL_AT_ONCE, CANARY or LINEAR, got \"canary\"",
            "DATA_CAPTURE_OPTIONS: \"Both\" is not Input or Output",
            "MODEL_VPC_SECURITY_GROUP_IDS: is required when MODEL_VPC_SUBNET_IDS is set",
            "DEPLOYMENT_MAX_EXECUTION_SECONDS: must be between 600 and 28800",
        ] {
            assert!(err.contains(expected), "missing {expected:?} in {err}");
        }
    }
}
