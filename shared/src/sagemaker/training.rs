//! Training jobs: the settings every training trigger shares (read from the
//! environment), the pure builder that turns settings plus one trigger's
//! specifics into a `CreateTrainingJob` request, sending it under a
//! deterministic name, and whether a job exists.
//!
//! Both triggers (an ECR push, new data in S3) start jobs through
//! [`create_training_job_request`]; they differ only in the
//! [`TrainingJobSpec`] they pass: name, image, channels and tags.

use std::collections::{BTreeMap, HashMap};

use aws_sdk_sagemaker::operation::create_training_job::builders::CreateTrainingJobInputBuilder;
use aws_sdk_sagemaker::types::{
    AlgorithmSpecification, Channel, CheckpointConfig, DataSource, MetricDefinition,
    OutputDataConfig, ResourceConfig, S3DataDistribution, S3DataSource, S3DataType,
    StoppingCondition, TrainingInputMode, TrainingInstanceType,
};
use serde::Deserialize;

use crate::config::EnvReader;
use crate::names::ResourceName;
use crate::tags::tags;
use crate::vpc::Vpc;

/// Environment variables read by [`TrainingJobSettings::from_env`].
pub mod vars {
    pub const ROLE_ARN: &str = "SAGEMAKER_ROLE_ARN";
    pub const CHANNELS: &str = "TRAINING_CHANNELS";
    pub const OUTPUT_S3_URI: &str = "TRAINING_OUTPUT_S3_URI";
    pub const INSTANCE_TYPE: &str = "TRAINING_INSTANCE_TYPE";
    pub const INSTANCE_COUNT: &str = "TRAINING_INSTANCE_COUNT";
    pub const VOLUME_SIZE_GB: &str = "TRAINING_VOLUME_SIZE_GB";
    pub const MAX_RUNTIME_SECONDS: &str = "TRAINING_MAX_RUNTIME_SECONDS";
    pub const HYPERPARAMETERS: &str = "TRAINING_HYPERPARAMETERS";
    pub const METRIC_DEFINITIONS: &str = "TRAINING_METRIC_DEFINITIONS";
    pub const USE_SPOT: &str = "TRAINING_USE_SPOT";
    pub const MAX_WAIT_SECONDS: &str = "TRAINING_MAX_WAIT_SECONDS";
    pub const CHECKPOINT_S3_URI: &str = "TRAINING_CHECKPOINT_S3_URI";
    pub const SUBNET_IDS: &str = "TRAINING_VPC_SUBNET_IDS";
    pub const SECURITY_GROUP_IDS: &str = "TRAINING_VPC_SECURITY_GROUP_IDS";
    pub const KMS_KEY_ID: &str = "TRAINING_KMS_KEY_ID";
}

const DEFAULT_INSTANCE_TYPE: &str = "ml.m5.large";
/// SageMaker's own ceiling for MaxRuntimeInSeconds and MaxWaitTimeInSeconds (28 days).
const MAX_RUNTIME_LIMIT: i32 = 2_419_200;

/// What every training job of the pipeline shares.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingJobSettings {
    pub role_arn: String,
    pub channels: Vec<InputChannel>,
    pub output_s3_uri: String,
    pub instance_type: String,
    pub instance_count: i32,
    pub volume_size_gb: i32,
    pub max_runtime_seconds: i32,
    pub hyperparameters: BTreeMap<String, String>,
    pub metric_definitions: Vec<MetricRegex>,
    pub spot: Option<SpotTraining>,
    pub vpc: Option<Vpc>,
    pub kms_key_id: Option<String>,
}

/// One input channel, as written in `TRAINING_CHANNELS`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InputChannel {
    pub name: String,
    pub s3_uri: String,
    #[serde(default)]
    pub content_type: Option<String>,
    #[serde(default)]
    pub input_mode: InputMode,
    #[serde(default)]
    pub s3_data_type: ChannelDataType,
    #[serde(default)]
    pub distribution: ChannelDistribution,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum InputMode {
    #[default]
    File,
    FastFile,
    Pipe,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum ChannelDataType {
    #[default]
    S3Prefix,
    ManifestFile,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum ChannelDistribution {
    #[default]
    FullyReplicated,
    ShardedByS3Key,
}

/// A metric SageMaker scrapes from the training logs.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricRegex {
    #[serde(alias = "name", rename = "Name")]
    pub name: String,
    #[serde(alias = "regex", rename = "Regex")]
    pub regex: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpotTraining {
    pub max_wait_seconds: i32,
    pub checkpoint_s3_uri: Option<String>,
}

impl TrainingJobSettings {
    /// Reads the shared training settings; problems are recorded in `env`.
    pub fn from_env(env: &mut EnvReader) -> Option<TrainingJobSettings> {
        use vars::*;

        let role_arn = role_arn(env);
        let channels = channels(env);

        let output_s3_uri = env.s3_uri(OUTPUT_S3_URI, true);

        let instance_type = env.instance_type_or(INSTANCE_TYPE, DEFAULT_INSTANCE_TYPE);
        let instance_count = env.number_or(INSTANCE_COUNT, 1, 1..=100);
        let volume_size_gb = env.number_or(VOLUME_SIZE_GB, 30, 1..=16_384);
        let max_runtime_seconds = env.number_or(MAX_RUNTIME_SECONDS, 86_400, 1..=MAX_RUNTIME_LIMIT);

        let raw_hyperparameters =
            env.json_or::<BTreeMap<String, serde_json::Value>>(HYPERPARAMETERS, BTreeMap::new());
        let hyperparameters = hyperparameters_as_strings(env, raw_hyperparameters);
        let metric_definitions = env.json_or::<Vec<MetricRegex>>(METRIC_DEFINITIONS, Vec::new());

        let spot = spot_training(env, max_runtime_seconds);

        let vpc = env.vpc(SUBNET_IDS, SECURITY_GROUP_IDS);
        let kms_key_id = env.optional(KMS_KEY_ID);

        Some(TrainingJobSettings {
            role_arn: role_arn?,
            channels,
            output_s3_uri: output_s3_uri?,
            instance_type,
            instance_count,
            volume_size_gb,
            max_runtime_seconds,
            hyperparameters,
            metric_definitions,
            spot,
            vpc,
            kms_key_id,
        })
    }
}

/// `SAGEMAKER_ROLE_ARN`: an IAM role's ARN.
fn role_arn(env: &mut EnvReader) -> Option<String> {
    let role_arn = env.required(vars::ROLE_ARN);
    if let Some(arn) = &role_arn {
        if !(arn.starts_with("arn:") && arn.contains(":iam::") && arn.contains(":role/")) {
            env.problem(
                vars::ROLE_ARN,
                format!("must be an IAM role ARN, got {arn:?}"),
            );
        }
    }
    role_arn
}

/// `TRAINING_CHANNELS`: at least one, each valid, names unique.
fn channels(env: &mut EnvReader) -> Vec<InputChannel> {
    use vars::CHANNELS;
    let channels = match env.required(CHANNELS) {
        Some(_) => match env.json_or::<Option<Vec<InputChannel>>>(CHANNELS, None) {
            Some(channels) if channels.is_empty() => {
                env.problem(CHANNELS, "must list at least one channel");
                channels
            }
            parsed => parsed.unwrap_or_default(),
        },
        None => Vec::new(),
    };
    check_channels(env, &channels);
    channels
}

/// Managed spot training with `TRAINING_USE_SPOT=true`: its maximum wait
/// (at least the maximum runtime) and an optional checkpoint location; the
/// two are refused without it.
fn spot_training(env: &mut EnvReader, max_runtime_seconds: i32) -> Option<SpotTraining> {
    use vars::*;
    if !env.flag_or(USE_SPOT, false) {
        for unused in [MAX_WAIT_SECONDS, CHECKPOINT_S3_URI] {
            if env.optional(unused).is_some() {
                env.problem(unused, "is only used with TRAINING_USE_SPOT=true");
            }
        }
        return None;
    }
    let max_wait = env.parsed::<i32>(MAX_WAIT_SECONDS);
    match max_wait {
        None if env.optional(MAX_WAIT_SECONDS).is_none() => {
            env.problem(
                MAX_WAIT_SECONDS,
                "is required when TRAINING_USE_SPOT is true",
            );
        }
        Some(wait) if wait < max_runtime_seconds || wait > MAX_RUNTIME_LIMIT => {
            env.problem(
                MAX_WAIT_SECONDS,
                format!(
                    "must be at least TRAINING_MAX_RUNTIME_SECONDS ({max_runtime_seconds}) \
                     and at most {MAX_RUNTIME_LIMIT}, got {wait}"
                ),
            );
        }
        _ => {}
    }
    let checkpoint_s3_uri = env.s3_uri(CHECKPOINT_S3_URI, false);
    max_wait.map(|max_wait_seconds| SpotTraining {
        max_wait_seconds,
        checkpoint_s3_uri,
    })
}

/// SageMaker's rule for channel names, as said in configuration problems.
pub const CHANNEL_NAME_RULE: &str = "must be 1-64 of letters, digits, '.', '_', '-'";

/// Whether `name` is a valid channel name: [`CHANNEL_NAME_RULE`].
pub fn is_valid_channel_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

fn check_channels(env: &mut EnvReader, channels: &[InputChannel]) {
    let mut seen = Vec::new();
    for (i, channel) in channels.iter().enumerate() {
        if !is_valid_channel_name(&channel.name) {
            env.problem(
                vars::CHANNELS,
                format!("[{i}].name {:?} {CHANNEL_NAME_RULE}", channel.name),
            );
        }
        if seen.contains(&&channel.name) {
            env.problem(
                vars::CHANNELS,
                format!("[{i}].name {:?} is repeated", channel.name),
            );
        }
        seen.push(&channel.name);
        if let Err(problem) = crate::s3::S3Uri::parse(&channel.s3_uri) {
            env.problem(vars::CHANNELS, format!("[{i}].s3_uri {problem}"));
        }
    }
}

/// SageMaker hyperparameters are strings; JSON numbers and booleans are
/// accepted and written as JSON writes them, anything else is a problem.
fn hyperparameters_as_strings(
    env: &mut EnvReader,
    raw: BTreeMap<String, serde_json::Value>,
) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for (key, value) in raw {
        let text = match value {
            serde_json::Value::String(s) => s,
            serde_json::Value::Number(n) => n.to_string(),
            serde_json::Value::Bool(b) => b.to_string(),
            other => {
                env.problem(
                    vars::HYPERPARAMETERS,
                    format!("{key:?} must be a string, number or boolean, got {other}"),
                );
                continue;
            }
        };
        out.insert(key, text);
    }
    out
}

/// What one trigger decides about a job; everything else comes from the
/// shared settings.
#[derive(Debug, Clone)]
pub struct TrainingJobSpec<'a> {
    pub name: &'a ResourceName,
    /// The training image, pinned by digest.
    pub image: &'a str,
    pub channels: &'a [InputChannel],
    pub tags: &'a [(String, String)],
}

/// The `CreateTrainingJob` request for `spec` under `settings`. Pure: send it
/// with `.send_with(&client)`.
pub fn create_training_job_request(
    settings: &TrainingJobSettings,
    spec: &TrainingJobSpec<'_>,
) -> CreateTrainingJobInputBuilder {
    let hyperparameters: HashMap<String, String> = settings
        .hyperparameters
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut stopping =
        StoppingCondition::builder().max_runtime_in_seconds(settings.max_runtime_seconds);
    if let Some(spot) = &settings.spot {
        stopping = stopping.max_wait_time_in_seconds(spot.max_wait_seconds);
    }

    let mut request =
        aws_sdk_sagemaker::operation::create_training_job::CreateTrainingJobInput::builder()
            .training_job_name(spec.name.as_str())
            .role_arn(&settings.role_arn)
            .algorithm_specification(algorithm(settings, spec.image))
            .set_input_data_config(Some(spec.channels.iter().map(channel).collect()))
            .output_data_config(output(settings))
            .resource_config(resources(settings))
            .stopping_condition(stopping.build())
            .set_hyper_parameters((!hyperparameters.is_empty()).then_some(hyperparameters))
            .set_tags(Some(tags(spec.tags)))
            .set_vpc_config(settings.vpc.as_ref().map(Vpc::config));
    if let Some(spot) = &settings.spot {
        request = request.enable_managed_spot_training(true);
        if let Some(uri) = &spot.checkpoint_s3_uri {
            request = request.checkpoint_config(CheckpointConfig::builder().s3_uri(uri).build());
        }
    }
    request
}

/// The image, and the metrics SageMaker scrapes from its logs.
fn algorithm(settings: &TrainingJobSettings, image: &str) -> AlgorithmSpecification {
    AlgorithmSpecification::builder()
        .training_image(image)
        // Channels set their own mode; this is the default for any without one.
        .training_input_mode(TrainingInputMode::File)
        .set_metric_definitions((!settings.metric_definitions.is_empty()).then(|| {
            settings
                .metric_definitions
                .iter()
                .map(|m| {
                    MetricDefinition::builder()
                        .name(&m.name)
                        .regex(&m.regex)
                        .build()
                })
                .collect()
        }))
        .build()
}

/// Where the model goes, encrypted with the key when one is set.
fn output(settings: &TrainingJobSettings) -> OutputDataConfig {
    OutputDataConfig::builder()
        .s3_output_path(&settings.output_s3_uri)
        .set_kms_key_id(settings.kms_key_id.clone())
        .build()
}

/// The instances, their volume encrypted with the key when one is set.
fn resources(settings: &TrainingJobSettings) -> ResourceConfig {
    ResourceConfig::builder()
        .instance_type(TrainingInstanceType::from(settings.instance_type.as_str()))
        .instance_count(settings.instance_count)
        .volume_size_in_gb(settings.volume_size_gb)
        .set_volume_kms_key_id(settings.kms_key_id.clone())
        .build()
}

fn channel(input: &InputChannel) -> Channel {
    let data_type = match input.s3_data_type {
        ChannelDataType::S3Prefix => S3DataType::S3Prefix,
        ChannelDataType::ManifestFile => S3DataType::ManifestFile,
    };
    let distribution = match input.distribution {
        ChannelDistribution::FullyReplicated => S3DataDistribution::FullyReplicated,
        ChannelDistribution::ShardedByS3Key => S3DataDistribution::ShardedByS3Key,
    };
    let mode = match input.input_mode {
        InputMode::File => TrainingInputMode::File,
        InputMode::FastFile => TrainingInputMode::Fastfile,
        InputMode::Pipe => TrainingInputMode::Pipe,
    };
    let source = S3DataSource::builder()
        .s3_data_type(data_type)
        .s3_uri(&input.s3_uri)
        .s3_data_distribution_type(distribution)
        .build();
    Channel::builder()
        .channel_name(&input.name)
        .data_source(DataSource::builder().s3_data_source(source).build())
        .set_content_type(input.content_type.clone())
        .input_mode(mode)
        .build()
}

pub use super::JobStart;

/// Sends `request`; `ResourceInUse` is [`JobStart::AlreadyStarted`], any other
/// failure a classified [`crate::PipelineError`].
pub async fn start_training_job(
    sagemaker: &aws_sdk_sagemaker::Client,
    request: CreateTrainingJobInputBuilder,
) -> Result<JobStart, crate::PipelineError> {
    use aws_sdk_sagemaker::operation::create_training_job::CreateTrainingJobError;
    super::job_start(
        "CreateTrainingJob",
        request.send_with(sagemaker).await,
        |output| output.training_job_arn(),
        |err| matches!(err, CreateTrainingJobError::ResourceInUse(_)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::PipelineName;

    fn base_env() -> Vec<(&'static str, &'static str)> {
        vec![
            (
                "SAGEMAKER_ROLE_ARN",
                "arn:aws:iam::123456789012:role/SageMakerExecution",
            ),
            (
                "TRAINING_CHANNELS",
                r#"[{"name":"train","s3_uri":"s3://data-bucket/train/","content_type":"text/csv"},
                   {"name":"validation","s3_uri":"s3://data-bucket/validation/","input_mode":"FastFile","distribution":"ShardedByS3Key"}]"#,
            ),
            ("TRAINING_OUTPUT_S3_URI", "s3://model-bucket/output/"),
        ]
    }

    fn load(
        extra: &[(&'static str, &'static str)],
    ) -> Result<TrainingJobSettings, crate::PipelineError> {
        let mut vars = base_env();
        vars.extend_from_slice(extra);
        let mut env = EnvReader::from_vars(vars);
        let settings = TrainingJobSettings::from_env(&mut env);
        env.finish(settings)
    }

    #[test]
    fn defaults_fill_what_is_not_set() {
        let settings = load(&[]).unwrap();
        assert_eq!(settings.instance_type, "ml.m5.large");
        assert_eq!(settings.instance_count, 1);
        assert_eq!(settings.volume_size_gb, 30);
        assert_eq!(settings.max_runtime_seconds, 86_400);
        assert!(settings.hyperparameters.is_empty());
        assert!(settings.spot.is_none() && settings.vpc.is_none() && settings.kms_key_id.is_none());
        assert_eq!(settings.channels[0].input_mode, InputMode::File);
        assert_eq!(settings.channels[1].input_mode, InputMode::FastFile);
    }

    #[test]
    fn every_problem_is_reported_at_once() {
        let mut env = EnvReader::from_vars([
            ("SAGEMAKER_ROLE_ARN", "not-an-arn"),
            (
                "TRAINING_CHANNELS",
                r#"[{"name":"train","s3_uri":"http://x","input_mode":"Stream"}]"#,
            ),
            ("TRAINING_INSTANCE_TYPE", "m5.large"),
            ("TRAINING_INSTANCE_COUNT", "0"),
            ("TRAINING_HYPERPARAMETERS", r#"{"epochs": [1]}"#),
            ("TRAINING_USE_SPOT", "true"),
            ("TRAINING_VPC_SUBNET_IDS", "subnet-1"),
        ]);
        let settings = TrainingJobSettings::from_env(&mut env);
        let message = env.finish(settings).unwrap_err().to_string();
        for expected in [
            "SAGEMAKER_ROLE_ARN: must be an IAM role ARN",
            "TRAINING_CHANNELS: invalid JSON at [0].input_mode",
            "TRAINING_OUTPUT_S3_URI: is required",
            "TRAINING_INSTANCE_TYPE: must be a SageMaker instance type",
            "TRAINING_INSTANCE_COUNT: must be between 1 and 100",
            "TRAINING_HYPERPARAMETERS: \"epochs\" must be a string, number or boolean",
            "TRAINING_MAX_WAIT_SECONDS: is required when TRAINING_USE_SPOT is true",
            "TRAINING_VPC_SECURITY_GROUP_IDS: is required when TRAINING_VPC_SUBNET_IDS is set",
        ] {
            assert!(
                message.contains(expected),
                "missing {expected:?} in {message}"
            );
        }
    }

    #[test]
    fn channel_problems_name_the_channel() {
        let err = load(&[(
            "TRAINING_CHANNELS",
            r#"[{"name":"train","s3_uri":"s3://b-1/x"},{"name":"train","s3_uri":"s3:/b"},{"name":"a b","s3_uri":"s3://b-1/y","typo":1}]"#,
        )])
        .unwrap_err()
        .to_string();
        assert!(err.contains("unknown field `typo`"), "{err}");
        let err = load(&[(
            "TRAINING_CHANNELS",
            r#"[{"name":"train","s3_uri":"s3://b-1/x"},{"name":"train","s3_uri":"s3:/b"},{"name":"a b","s3_uri":"s3://b-1/y"}]"#,
        )])
        .unwrap_err()
        .to_string();
        assert!(err.contains("[1].name \"train\" is repeated"), "{err}");
        assert!(err.contains("[1].s3_uri must be an s3:// URI"), "{err}");
        assert!(err.contains("[2].name \"a b\""), "{err}");
        let err = load(&[("TRAINING_CHANNELS", "[]")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("TRAINING_CHANNELS: must list at least one channel"),
            "{err}"
        );
    }

    #[test]
    fn spot_wait_must_cover_the_runtime() {
        let err = load(&[
            ("TRAINING_USE_SPOT", "true"),
            ("TRAINING_MAX_RUNTIME_SECONDS", "3600"),
            ("TRAINING_MAX_WAIT_SECONDS", "600"),
        ])
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("TRAINING_MAX_WAIT_SECONDS: must be at least"),
            "{err}"
        );
        let err = load(&[("TRAINING_CHECKPOINT_S3_URI", "s3://ckpt-bucket/x")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("only used with TRAINING_USE_SPOT=true"),
            "{err}"
        );
    }

    #[test]
    fn request_carries_every_setting() {
        let settings = load(&[
            ("TRAINING_INSTANCE_TYPE", "ml.g5.xlarge"),
            ("TRAINING_INSTANCE_COUNT", "2"),
            ("TRAINING_VOLUME_SIZE_GB", "50"),
            ("TRAINING_MAX_RUNTIME_SECONDS", "3600"),
            (
                "TRAINING_HYPERPARAMETERS",
                r#"{"epochs": 10, "lr": "0.1", "early_stop": true}"#,
            ),
            (
                "TRAINING_METRIC_DEFINITIONS",
                r#"[{"Name":"validation:rmse","Regex":"rmse=([0-9.]+)"}]"#,
            ),
            ("TRAINING_USE_SPOT", "true"),
            ("TRAINING_MAX_WAIT_SECONDS", "7200"),
            (
                "TRAINING_CHECKPOINT_S3_URI",
                "s3://ckpt-bucket/checkpoints/",
            ),
            ("TRAINING_VPC_SUBNET_IDS", "subnet-1, subnet-2"),
            ("TRAINING_VPC_SECURITY_GROUP_IDS", "sg-1"),
            ("TRAINING_KMS_KEY_ID", "alias/mlops"),
        ])
        .unwrap();
        let name = PipelineName::parse("mlops")
            .unwrap()
            .derive_name("ecr", "repo", &["x"]);
        let tags = vec![("mlops:pipeline".to_string(), "mlops".to_string())];
        let image = "123456789012.dkr.ecr.us-east-1.amazonaws.com/repo@sha256:abc";
        let request = create_training_job_request(
            &settings,
            &TrainingJobSpec {
                name: &name,
                image,
                channels: &settings.channels,
                tags: &tags,
            },
        )
        .build()
        .unwrap();

        assert_eq!(request.training_job_name(), Some(name.as_str()));
        assert_eq!(
            request.role_arn(),
            Some("arn:aws:iam::123456789012:role/SageMakerExecution")
        );
        let algorithm = request.algorithm_specification().unwrap();
        assert_eq!(algorithm.training_image(), Some(image));
        assert_eq!(
            algorithm.metric_definitions()[0].name(),
            Some("validation:rmse")
        );
        assert_eq!(
            algorithm.metric_definitions()[0].regex(),
            Some("rmse=([0-9.]+)")
        );

        let channels = request.input_data_config();
        assert_eq!(channels.len(), 2);
        assert_eq!(channels[0].channel_name(), Some("train"));
        assert_eq!(channels[0].content_type(), Some("text/csv"));
        assert_eq!(channels[0].input_mode(), Some(&TrainingInputMode::File));
        let source = channels[1].data_source().unwrap().s3_data_source().unwrap();
        assert_eq!(source.s3_uri(), Some("s3://data-bucket/validation/"));
        assert_eq!(source.s3_data_type(), Some(&S3DataType::S3Prefix));
        assert_eq!(
            source.s3_data_distribution_type(),
            Some(&S3DataDistribution::ShardedByS3Key)
        );
        assert_eq!(channels[1].input_mode(), Some(&TrainingInputMode::Fastfile));

        let output = request.output_data_config().unwrap();
        assert_eq!(output.s3_output_path(), Some("s3://model-bucket/output/"));
        assert_eq!(output.kms_key_id(), Some("alias/mlops"));
        let resources = request.resource_config().unwrap();
        assert_eq!(
            resources.instance_type(),
            Some(&TrainingInstanceType::MlG5Xlarge)
        );
        assert_eq!(resources.instance_count(), Some(2));
        assert_eq!(resources.volume_size_in_gb(), Some(50));
        assert_eq!(resources.volume_kms_key_id(), Some("alias/mlops"));
        let stopping = request.stopping_condition().unwrap();
        assert_eq!(stopping.max_runtime_in_seconds(), Some(3600));
        assert_eq!(stopping.max_wait_time_in_seconds(), Some(7200));

        let hyperparameters = request.hyper_parameters().unwrap();
        assert_eq!(hyperparameters["epochs"], "10");
        assert_eq!(hyperparameters["lr"], "0.1");
        assert_eq!(hyperparameters["early_stop"], "true");
        assert_eq!(request.enable_managed_spot_training(), Some(true));
        assert_eq!(
            request.checkpoint_config().unwrap().s3_uri(),
            Some("s3://ckpt-bucket/checkpoints/")
        );
        let vpc = request.vpc_config().unwrap();
        assert_eq!(vpc.subnets(), ["subnet-1", "subnet-2"]);
        assert_eq!(vpc.security_group_ids(), ["sg-1"]);
        assert_eq!(request.tags()[0].key(), Some("mlops:pipeline"));
    }

    #[test]
    fn minimal_request_leaves_optional_parts_out() {
        let settings = load(&[]).unwrap();
        let name = PipelineName::parse("mlops")
            .unwrap()
            .derive_name("ecr", "repo", &["x"]);
        let request = create_training_job_request(
            &settings,
            &TrainingJobSpec {
                name: &name,
                image: "img",
                channels: &settings.channels,
                tags: &[],
            },
        )
        .build()
        .unwrap();
        assert!(request.hyper_parameters().is_none());
        assert!(request.enable_managed_spot_training().is_none());
        assert!(request.checkpoint_config().is_none());
        assert!(request.vpc_config().is_none());
        assert!(request.output_data_config().unwrap().kms_key_id().is_none());
        assert!(request
            .stopping_condition()
            .unwrap()
            .max_wait_time_in_seconds()
            .is_none());
    }
}
