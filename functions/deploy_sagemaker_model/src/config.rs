//! The function's configuration, read once at cold start.

use shared::autoscaling::Autoscaling;
use shared::config::EnvReader;
use shared::events_bus::EventBus;
use shared::s3::S3Uri;
use shared::sagemaker::endpoint::{
    Capacity, DataCapture, EndpointSettings, PackageVersion, Rollout, TrafficRouting,
};
use shared::{PipelineError, PipelineName};

#[derive(Debug, Clone)]
pub struct DeployConfig {
    pub pipeline: PipelineName,
    pub group: String,
    /// Production.
    pub endpoint: EndpointSettings,
    /// Delete an endpoint in Failed so that a retry creates it afresh.
    pub recreate_failed_endpoint: bool,
    pub autoscaling: Option<Autoscaling>,
    /// Staged promotion (`STAGING_ENABLED`): a version is smoke-tested on
    /// the staging endpoint before production gets it.
    pub staging: Option<Staging>,
    /// Where "Model Deployment Failed" is published.
    pub bus: EventBus,
}

/// The staging endpoint and the smoke test a version passes there.
#[derive(Debug, Clone)]
pub struct Staging {
    pub endpoint: EndpointSettings,
    pub smoke_test: SmokeTest,
}

/// `SMOKE_TEST_*`: the sample requests and what their answers must meet.
#[derive(Debug, Clone, PartialEq)]
pub struct SmokeTest {
    /// A JSON Lines object of sample requests.
    pub requests: S3Uri,
    /// The p99 latency budget, in milliseconds (the warm-up request aside).
    pub p99_budget_ms: f64,
    /// Relative tolerance for the numbers of a request's `expected` answer;
    /// `None`: answers are not compared.
    pub tolerance: Option<f64>,
}

impl DeployConfig {
    pub fn from_env() -> Result<DeployConfig, PipelineError> {
        Self::from_reader(EnvReader::from_process())
    }

    pub fn from_reader(mut env: EnvReader) -> Result<DeployConfig, PipelineError> {
        let pipeline = env.pipeline_name();
        let group = env.model_package_group(pipeline.as_ref());
        let endpoint = endpoint(&mut env, pipeline.as_ref());
        let autoscaling = endpoint
            .as_ref()
            .and_then(|endpoint| autoscaling(&mut env, &endpoint.capacity));
        let staging = match (env.flag_or("STAGING_ENABLED", false), &endpoint) {
            (true, Some(production)) => staging(&mut env, pipeline.as_ref(), production),
            _ => None,
        };
        let bus = env.event_bus();
        let config = (|| {
            Some(DeployConfig {
                pipeline: pipeline?,
                group: group?,
                endpoint: endpoint?,
                recreate_failed_endpoint: env.flag_or("ENDPOINT_RECREATE_FAILED", false),
                autoscaling,
                staging,
                bus,
            })
        })();
        env.finish(config)
    }

    /// A version of the configured group, as this pipeline deploys it.
    pub fn version<'a>(&'a self, arn: &'a str, number: i64) -> PackageVersion<'a> {
        PackageVersion {
            pipeline: &self.pipeline,
            group: &self.group,
            arn,
            number,
        }
    }

    /// The endpoint configuration that serves a version on the endpoint.
    pub fn endpoint_config_name(&self, arn: &str, number: i64) -> String {
        self.version(arn, number)
            .endpoint_config_name(&self.endpoint.name)
    }
}

/// The endpoint and how versions are served and rolled out on it.
fn endpoint(env: &mut EnvReader, pipeline: Option<&PipelineName>) -> Option<EndpointSettings> {
    let role_arn = env.required("SAGEMAKER_ROLE_ARN");
    let name = env.endpoint_name("ENDPOINT_NAME", pipeline);
    let capacity = capacity(env);
    let data_capture = data_capture(env);
    let vpc = env.vpc("MODEL_VPC_SUBNET_IDS", "MODEL_VPC_SECURITY_GROUP_IDS");
    let rollout = rollout(env);
    Some(EndpointSettings {
        name: name?,
        role_arn: role_arn?,
        capacity,
        data_capture,
        kms_key_id: env.optional("ENDPOINT_KMS_KEY_ID"),
        vpc,
        network_isolation: env.flag_or("MODEL_NETWORK_ISOLATION", false),
        rollout,
    })
}

/// The staging endpoint: serverless (`STAGING_SERVERLESS_MEMORY_MB`,
/// default 2048) unless `STAGING_INSTANCE_TYPE` names an instance type, as
/// it must when the models run in a VPC or network-isolated (serverless
/// endpoints support neither). The model, role, key, VPC and isolation are
/// production's; data is never captured on staging; updates replace the
/// version at once (no traffic shifting, no alarms).
fn staging(
    env: &mut EnvReader,
    pipeline: Option<&PipelineName>,
    production: &EndpointSettings,
) -> Option<Staging> {
    let name = match env.optional("STAGING_ENDPOINT_NAME") {
        Some(_) => env.endpoint_name("STAGING_ENDPOINT_NAME", pipeline),
        None => pipeline.map(|p| format!("{}staging-endpoint", p.resource_prefix())),
    };
    let capacity = match env.optional("STAGING_INSTANCE_TYPE") {
        Some(_) => Capacity::Instances {
            instance_type: env.instance_type_or("STAGING_INSTANCE_TYPE", "ml.m5.large"),
            count: 1,
        },
        None => {
            if production.vpc.is_some() || production.network_isolation {
                env.problem(
                    "STAGING_INSTANCE_TYPE",
                    "required when the models run in a VPC or network-isolated: serverless endpoints support neither",
                );
            }
            let memory_mb = env.number_or("STAGING_SERVERLESS_MEMORY_MB", 2048, 1024..=6144);
            if memory_mb % 1024 != 0 {
                env.problem(
                    "STAGING_SERVERLESS_MEMORY_MB",
                    format!("must be one of 1024, 2048, 3072, 4096, 5120, 6144, got {memory_mb}"),
                );
            }
            Capacity::Serverless {
                memory_mb,
                max_concurrency: 1,
            }
        }
    };
    let smoke_test = smoke_test(env);
    if name.as_deref() == Some(production.name.as_str()) {
        env.problem(
            "STAGING_ENDPOINT_NAME",
            "must not be the production endpoint",
        );
    }
    Some(Staging {
        endpoint: EndpointSettings {
            name: name?,
            capacity,
            data_capture: None,
            rollout: Rollout {
                traffic_routing: TrafficRouting::AllAtOnce { wait_seconds: 0 },
                termination_wait_seconds: 0,
                max_execution_seconds: None,
                rollback_alarms: Vec::new(),
            },
            ..production.clone()
        },
        smoke_test: smoke_test?,
    })
}

/// `SMOKE_TEST_REQUESTS_S3_URI` (required with staging), `SMOKE_TEST_P99_MS`
/// (default 1000) and `SMOKE_TEST_TOLERANCE` (unset: no comparison).
fn smoke_test(env: &mut EnvReader) -> Option<SmokeTest> {
    let requests = env.s3_uri("SMOKE_TEST_REQUESTS_S3_URI", true);
    let p99_budget_ms = f64::from(env.number_or("SMOKE_TEST_P99_MS", 1000, 1..=60_000));
    let tolerance = env.parsed::<f64>("SMOKE_TEST_TOLERANCE");
    if tolerance.is_some_and(|t| !(t.is_finite() && t >= 0.0)) {
        env.problem("SMOKE_TEST_TOLERANCE", "must be a number of 0 or more");
    }
    let requests = S3Uri::parse(&requests?).ok()?;
    if requests.key.is_empty() || requests.key.ends_with('/') {
        env.problem(
            "SMOKE_TEST_REQUESTS_S3_URI",
            "must name an object (s3://bucket/key), not a bucket or prefix",
        );
    }
    Some(SmokeTest {
        requests,
        p99_budget_ms,
        tolerance,
    })
}

/// The blue/green policy: traffic routing, waits and rollback alarms.
fn rollout(env: &mut EnvReader) -> Rollout {
    Rollout {
        traffic_routing: traffic_routing(env),
        termination_wait_seconds: env.number_or(
            "DEPLOYMENT_TERMINATION_WAIT_SECONDS",
            300,
            0..=3600,
        ),
        max_execution_seconds: max_execution_seconds(env),
        rollback_alarms: env.list("DEPLOYMENT_ROLLBACK_ALARMS"),
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
        let endpoint = &config.endpoint;
        assert_eq!(endpoint.name, "mlops--endpoint");
        assert_eq!(
            endpoint.capacity,
            Capacity::Instances {
                instance_type: "ml.m5.large".into(),
                count: 1
            }
        );
        assert_eq!(
            endpoint.rollout,
            Rollout {
                traffic_routing: TrafficRouting::AllAtOnce { wait_seconds: 300 },
                termination_wait_seconds: 300,
                max_execution_seconds: None,
                rollback_alarms: Vec::new(),
            }
        );
        assert_eq!(endpoint.data_capture, None);
        assert_eq!(endpoint.kms_key_id, None);
        assert_eq!(endpoint.vpc, None);
        assert!(!endpoint.network_isolation);
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
        let endpoint = config.endpoint;
        assert_eq!(
            endpoint.capacity,
            Capacity::Serverless {
                memory_mb: 2048,
                max_concurrency: 10
            }
        );
        assert_eq!(
            endpoint.rollout.traffic_routing,
            TrafficRouting::Canary {
                percent: 5,
                wait_seconds: 600
            }
        );
        let capture = endpoint.data_capture.unwrap();
        assert_eq!(
            (
                capture.capture_input,
                capture.capture_output,
                capture.sampling_percentage
            ),
            (true, false, 20)
        );
        assert_eq!(
            endpoint.rollout.rollback_alarms,
            ["latency-high", "errors-high"]
        );
    }

    #[test]
    fn linear_rollout_waits_key_vpc_and_isolation() {
        let mut vars = test_vars();
        vars.extend([
            ("DEPLOYMENT_TRAFFIC_ROUTING", "LINEAR"),
            ("DEPLOYMENT_LINEAR_STEP_PERCENT", "25"),
            ("DEPLOYMENT_TERMINATION_WAIT_SECONDS", "120"),
            ("DEPLOYMENT_MAX_EXECUTION_SECONDS", "3600"),
            ("ENDPOINT_INSTANCE_TYPE", "ml.c5.xlarge"),
            ("ENDPOINT_INSTANCE_COUNT", "2"),
            ("ENDPOINT_KMS_KEY_ID", "alias/mlops"),
            ("MODEL_VPC_SUBNET_IDS", "subnet-1"),
            ("MODEL_VPC_SECURITY_GROUP_IDS", "sg-1"),
            ("MODEL_NETWORK_ISOLATION", "true"),
        ]);
        let endpoint = DeployConfig::from_reader(EnvReader::from_vars(vars))
            .unwrap()
            .endpoint;
        assert_eq!(
            endpoint.rollout,
            Rollout {
                traffic_routing: TrafficRouting::Linear {
                    step_percent: 25,
                    wait_seconds: 300
                },
                termination_wait_seconds: 120,
                max_execution_seconds: Some(3600),
                rollback_alarms: Vec::new(),
            }
        );
        assert_eq!(
            endpoint.capacity,
            Capacity::Instances {
                instance_type: "ml.c5.xlarge".into(),
                count: 2
            }
        );
        assert_eq!(endpoint.kms_key_id.as_deref(), Some("alias/mlops"));
        assert_eq!(endpoint.vpc.unwrap().subnet_ids, ["subnet-1"]);
        assert!(endpoint.network_isolation);
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

    #[test]
    fn staging_is_off_by_default_and_serverless_when_on() {
        let config = DeployConfig::from_reader(EnvReader::from_vars(test_vars())).unwrap();
        assert!(config.staging.is_none());
        assert_eq!(config.bus.name, "default");
        assert_eq!(config.bus.source, "mlops.pipeline");

        let mut vars = test_vars();
        vars.extend([
            ("STAGING_ENABLED", "true"),
            (
                "SMOKE_TEST_REQUESTS_S3_URI",
                "s3://mlops-data/smoke/requests.jsonl",
            ),
            ("DATA_CAPTURE_S3_URI", "s3://mlops-data/capture"),
            ("DEPLOYMENT_ROLLBACK_ALARMS", "errors-high"),
        ]);
        let config = DeployConfig::from_reader(EnvReader::from_vars(vars)).unwrap();
        let staging = config.staging.unwrap();
        assert_eq!(staging.endpoint.name, "mlops--staging-endpoint");
        assert_eq!(
            staging.endpoint.capacity,
            Capacity::Serverless {
                memory_mb: 2048,
                max_concurrency: 1
            }
        );
        // Staging never captures data and has no alarms; the model's settings
        // are production's.
        assert_eq!(staging.endpoint.data_capture, None);
        assert!(staging.endpoint.rollout.rollback_alarms.is_empty());
        assert_eq!(staging.endpoint.role_arn, config.endpoint.role_arn);
        assert_eq!(
            staging.smoke_test,
            SmokeTest {
                requests: S3Uri::parse("s3://mlops-data/smoke/requests.jsonl").unwrap(),
                p99_budget_ms: 1000.0,
                tolerance: None,
            }
        );
    }

    #[test]
    fn staging_problems_are_reported_together() {
        let mut vars = test_vars();
        vars.extend([
            ("STAGING_ENABLED", "true"),
            ("SMOKE_TEST_REQUESTS_S3_URI", "s3://mlops-data/smoke/"),
            ("SMOKE_TEST_TOLERANCE", "-1"),
            ("STAGING_SERVERLESS_MEMORY_MB", "1500"),
            ("MODEL_VPC_SUBNET_IDS", "subnet-0123456789abcdef0"),
            ("MODEL_VPC_SECURITY_GROUP_IDS", "sg-0123456789abcdef0"),
            ("EVENT_SOURCE", "aws.sagemaker"),
        ]);
        let err = DeployConfig::from_reader(EnvReader::from_vars(vars))
            .unwrap_err()
            .to_string();
        for variable in [
            "SMOKE_TEST_REQUESTS_S3_URI",
            "SMOKE_TEST_TOLERANCE",
            "STAGING_SERVERLESS_MEMORY_MB",
            "STAGING_INSTANCE_TYPE",
            "EVENT_SOURCE",
        ] {
            assert!(err.contains(variable), "{variable} not in {err}");
        }

        let mut vars = test_vars();
        vars.push(("STAGING_ENABLED", "true"));
        let err = DeployConfig::from_reader(EnvReader::from_vars(vars))
            .unwrap_err()
            .to_string();
        assert!(err.contains("SMOKE_TEST_REQUESTS_S3_URI"), "{err}");

        let mut vars = test_vars();
        vars.extend([
            ("STAGING_ENABLED", "true"),
            ("SMOKE_TEST_REQUESTS_S3_URI", "s3://mlops-data/r.jsonl"),
            ("STAGING_INSTANCE_TYPE", "ml.c5.large"),
            ("STAGING_ENDPOINT_NAME", "mlops--endpoint"),
        ]);
        let err = DeployConfig::from_reader(EnvReader::from_vars(vars))
            .unwrap_err()
            .to_string();
        assert!(err.contains("must not be the production endpoint"), "{err}");
    }
}
