//! Processing jobs: preprocessing before training (issue 18). The settings
//! (read from the environment), the pure builder of the `CreateProcessingJob`
//! request, where each output lands, and the training channels a completed
//! job's outputs become.
//!
//! A processing job reads the raw data (one input, `raw`, at
//! [`RAW_LOCAL_PATH`]) and writes one folder per output under
//! `/opt/ml/processing/output/<output>`, which SageMaker uploads to
//! `<PROCESSING_OUTPUT_S3_URI>/<job name>/<output>/`: a per-job prefix, so a
//! job's outputs never mix with another's. It must lie outside the raw data
//! the pipeline watches, or the outputs would start the next retraining: the
//! caller checks it against its data prefix
//! ([`ProcessingSettings::check_outside`]). The role,
//! the network (VPC) and the KMS key are the training job's, so a pipeline
//! configures them once.

use aws_sdk_sagemaker::operation::create_processing_job::builders::CreateProcessingJobInputBuilder;
use aws_sdk_sagemaker::types::{
    AppSpecification, NetworkConfig, ProcessingClusterConfig, ProcessingInput,
    ProcessingInstanceType, ProcessingOutput, ProcessingOutputConfig, ProcessingResources,
    ProcessingS3DataDistributionType, ProcessingS3DataType, ProcessingS3Input,
    ProcessingS3InputMode, ProcessingS3Output, ProcessingS3UploadMode, ProcessingStoppingCondition,
};

use super::training::{
    is_valid_channel_name, ChannelDataType, InputChannel, TrainingJobSettings, CHANNEL_NAME_RULE,
};
use crate::config::EnvReader;
use crate::names::ResourceName;
use crate::tags::tags;
use crate::vpc::Vpc;

/// Environment variables read by [`ProcessingSettings::from_env`].
pub mod vars {
    pub const ENABLED: &str = "PREPROCESSING_ENABLED";
    pub const IMAGE: &str = "PROCESSING_IMAGE";
    pub const ENTRYPOINT: &str = "PROCESSING_ENTRYPOINT";
    pub const ARGUMENTS: &str = "PROCESSING_ARGUMENTS";
    pub const INSTANCE_TYPE: &str = "PROCESSING_INSTANCE_TYPE";
    pub const INSTANCE_COUNT: &str = "PROCESSING_INSTANCE_COUNT";
    pub const VOLUME_SIZE_GB: &str = "PROCESSING_VOLUME_SIZE_GB";
    pub const MAX_RUNTIME_SECONDS: &str = "PROCESSING_MAX_RUNTIME_SECONDS";
    pub const OUTPUT_S3_URI: &str = "PROCESSING_OUTPUT_S3_URI";
    pub const OUTPUTS: &str = "PROCESSING_OUTPUTS";
}

/// The `kind` of a preprocessing job's name (`<pipeline>--proc-…`).
pub const JOB_KIND: &str = "proc";

/// Whether `name` is one of `pipeline`'s preprocessing jobs: what the
/// pipeline trains on (another processing job of the account, even one named
/// `<pipeline>--…` by hand, is not).
pub fn is_preprocessing_job(pipeline: &crate::PipelineName, name: &str) -> bool {
    name.starts_with(&preprocessing_prefix(pipeline))
}

/// `<pipeline>--proc-`: the names of `pipeline`'s preprocessing jobs begin so.
pub fn preprocessing_prefix(pipeline: &crate::PipelineName) -> String {
    format!("{}{JOB_KIND}-", pipeline.resource_prefix())
}

/// The one input: the raw data, where the container finds it.
pub const RAW_INPUT_NAME: &str = "raw";
pub const RAW_LOCAL_PATH: &str = "/opt/ml/processing/input/raw";
const OUTPUT_LOCAL_ROOT: &str = "/opt/ml/processing/output";
const DEFAULT_ENTRYPOINT: &str = "preprocess";
const DEFAULT_OUTPUTS: &str = "train=train,validation=validation,test";
const DEFAULT_INSTANCE_TYPE: &str = "ml.m5.large";
/// `ProcessingStoppingCondition.MaxRuntimeInSeconds`' ceiling (9 days).
const MAX_RUNTIME_LIMIT: i32 = 777_600;
/// `AppSpecification`: at most 100 entry point words and 256 arguments.
const MAX_ENTRYPOINT_WORDS: usize = 100;
const MAX_ARGUMENTS: usize = 256;
/// `ProcessingOutputConfig.Outputs`: at most 10.
const MAX_OUTPUTS: usize = 10;

/// What every processing job of the pipeline shares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessingSettings {
    /// The processing image; `None`: the image the training job will run.
    pub image: Option<String>,
    pub entrypoint: Vec<String>,
    pub arguments: Vec<String>,
    pub instance_type: String,
    pub instance_count: i32,
    pub volume_size_gb: i32,
    pub max_runtime_seconds: i32,
    pub output_s3_uri: String,
    pub outputs: Vec<OutputSpec>,
}

/// One output of the job, and the training channel it becomes, if any
/// (`PROCESSING_OUTPUTS`: `train=train,validation=validation,test`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputSpec {
    pub name: String,
    pub channel: Option<String>,
}

impl ProcessingSettings {
    /// The settings when `PREPROCESSING_ENABLED` is true, else `None`;
    /// problems are recorded in `env`.
    pub fn from_env(env: &mut EnvReader) -> Option<ProcessingSettings> {
        use vars::*;
        if !env.flag_or(ENABLED, false) {
            return None;
        }
        let image = env.optional(IMAGE);
        if let Some(image) = &image {
            if !crate::image::is_pinned_by_digest(image) {
                env.problem(
                    IMAGE,
                    format!("must name an image by digest (…@sha256:<64 hex>), got {image:?}"),
                );
            }
        }
        let entrypoint = words(env, ENTRYPOINT, DEFAULT_ENTRYPOINT, MAX_ENTRYPOINT_WORDS);
        let arguments = words(env, ARGUMENTS, "", MAX_ARGUMENTS);
        let instance_type = env.instance_type_or(INSTANCE_TYPE, DEFAULT_INSTANCE_TYPE);
        let instance_count = env.number_or(INSTANCE_COUNT, 1, 1..=100);
        let volume_size_gb = env.number_or(VOLUME_SIZE_GB, 30, 1..=16_384);
        let max_runtime_seconds = env.number_or(MAX_RUNTIME_SECONDS, 3_600, 1..=MAX_RUNTIME_LIMIT);
        let output_s3_uri = env.s3_uri(OUTPUT_S3_URI, true);
        let outputs = outputs(env);
        Some(ProcessingSettings {
            image,
            entrypoint,
            arguments,
            instance_type,
            instance_count,
            volume_size_gb,
            max_runtime_seconds,
            output_s3_uri: output_s3_uri?,
            outputs,
        })
    }

    /// Records a problem when the outputs would land under `watched`
    /// (`s3://bucket/prefix/`, the raw data whose new objects retrain). The
    /// watched data may lie under the outputs' prefix: each job writes under
    /// `<prefix><job name>/`, and job names start with the pipeline's name.
    pub fn check_outside(&self, env: &mut EnvReader, watched: &str) {
        let outputs = self.output_s3_uri.trim_end_matches('/').to_string() + "/";
        if outputs.starts_with(watched) {
            env.problem(
                vars::OUTPUT_S3_URI,
                format!(
                    "{} overlaps the watched data {watched}: the outputs would start the next \
                     retraining; write them outside it",
                    self.output_s3_uri
                ),
            );
        }
    }

    /// Where SageMaker uploads `output` of the job `job`.
    pub fn output_uri(&self, job: &str, output: &str) -> String {
        format!(
            "{}/{job}/{output}/",
            self.output_s3_uri.trim_end_matches('/')
        )
    }

    /// The training channels a completed job `job` gives: each output mapped
    /// to a channel, with the content type, input mode and distribution of
    /// `TRAINING_CHANNELS`' entry of that name (File, fully replicated,
    /// none, when it has none), then the `TRAINING_CHANNELS` entries no
    /// output replaces, as they are.
    pub fn training_channels(
        &self,
        training: &TrainingJobSettings,
        job: &str,
    ) -> Vec<InputChannel> {
        let mut channels: Vec<InputChannel> = self
            .outputs
            .iter()
            .filter_map(|output| {
                let channel = output.channel.as_ref()?;
                let configured = training.channels.iter().find(|c| &c.name == channel);
                Some(InputChannel {
                    name: channel.clone(),
                    s3_uri: self.output_uri(job, &output.name),
                    content_type: configured.and_then(|c| c.content_type.clone()),
                    input_mode: configured.map(|c| c.input_mode).unwrap_or_default(),
                    s3_data_type: ChannelDataType::S3Prefix,
                    distribution: configured.map(|c| c.distribution).unwrap_or_default(),
                })
            })
            .collect();
        let replaced: Vec<String> = channels.iter().map(|c| c.name.clone()).collect();
        channels.extend(
            training
                .channels
                .iter()
                .filter(|c| !replaced.contains(&c.name))
                .cloned(),
        );
        channels
    }
}

/// Words separated by spaces (no quoting), the default when unset.
fn words(env: &mut EnvReader, variable: &str, default: &str, max: usize) -> Vec<String> {
    let text = env
        .optional(variable)
        .unwrap_or_else(|| default.to_string());
    let words: Vec<String> = text.split_whitespace().map(str::to_string).collect();
    if words.len() > max {
        env.problem(
            variable,
            format!("has {} words; at most {max}", words.len()),
        );
    }
    if let Some(long) = words.iter().find(|w| w.chars().count() > 256) {
        let start: String = long.chars().take(40).collect();
        env.problem(
            variable,
            format!("{start:?}… is longer than 256 characters"),
        );
    }
    words
}

/// `PROCESSING_OUTPUTS`: `output[=channel]`, comma-separated; names unique,
/// valid as SageMaker's channel names, at least one output a channel.
fn outputs(env: &mut EnvReader) -> Vec<OutputSpec> {
    use vars::OUTPUTS;
    let text = env
        .optional(OUTPUTS)
        .unwrap_or_else(|| DEFAULT_OUTPUTS.to_string());
    let mut outputs: Vec<OutputSpec> = Vec::new();
    for item in text
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
    {
        let (name, channel) = match item.split_once('=') {
            Some((name, channel)) => (name.trim(), Some(channel.trim().to_string())),
            None => (item, None),
        };
        for part in std::iter::once(name).chain(channel.as_deref()) {
            // "." and ".." would be folders of their own in the paths below.
            if !is_valid_channel_name(part) || part.bytes().all(|b| b == b'.') {
                env.problem(OUTPUTS, format!("{part:?} {CHANNEL_NAME_RULE}"));
            }
        }
        if outputs.iter().any(|o| o.name == name) {
            env.problem(OUTPUTS, format!("output {name:?} is repeated"));
        }
        if channel.is_some() && outputs.iter().any(|o| o.channel == channel) {
            env.problem(
                OUTPUTS,
                format!(
                    "channel {:?} is repeated",
                    channel.as_deref().unwrap_or_default()
                ),
            );
        }
        outputs.push(OutputSpec {
            name: name.to_string(),
            channel,
        });
    }
    if outputs.len() > MAX_OUTPUTS {
        env.problem(
            OUTPUTS,
            format!(
                "has {} outputs; a processing job has at most {MAX_OUTPUTS}",
                outputs.len()
            ),
        );
    }
    if !outputs.iter().any(|o| o.channel.is_some()) {
        env.problem(
            OUTPUTS,
            "must map at least one output to a training channel (output=channel)",
        );
    }
    outputs
}

/// What one burst decides about a job; everything else comes from the
/// shared settings.
#[derive(Debug, Clone)]
pub struct ProcessingJobSpec<'a> {
    pub name: &'a ResourceName,
    /// The processing image, pinned by digest.
    pub image: &'a str,
    /// The raw data: a prefix (S3Prefix) or a manifest file (ManifestFile).
    pub raw: &'a InputChannel,
    pub tags: &'a [(String, String)],
}

/// The `CreateProcessingJob` request for `spec`. Pure: send it with
/// `.send_with(&client)`.
pub fn create_processing_job_request(
    settings: &ProcessingSettings,
    training: &TrainingJobSettings,
    spec: &ProcessingJobSpec<'_>,
) -> CreateProcessingJobInputBuilder {
    let app = AppSpecification::builder()
        .image_uri(spec.image)
        .set_container_entrypoint(Some(settings.entrypoint.clone()))
        .set_container_arguments(
            (!settings.arguments.is_empty()).then(|| settings.arguments.clone()),
        )
        .build();
    let data_type = match spec.raw.s3_data_type {
        ChannelDataType::S3Prefix => ProcessingS3DataType::S3Prefix,
        ChannelDataType::ManifestFile => ProcessingS3DataType::ManifestFile,
    };
    let raw = ProcessingInput::builder()
        .input_name(RAW_INPUT_NAME)
        .s3_input(
            ProcessingS3Input::builder()
                .s3_uri(&spec.raw.s3_uri)
                .local_path(RAW_LOCAL_PATH)
                .s3_data_type(data_type)
                .s3_input_mode(ProcessingS3InputMode::File)
                .s3_data_distribution_type(ProcessingS3DataDistributionType::Fullyreplicated)
                .build(),
        )
        .build();
    let outputs = settings
        .outputs
        .iter()
        .map(|output| {
            ProcessingOutput::builder()
                .output_name(&output.name)
                .s3_output(
                    ProcessingS3Output::builder()
                        .s3_uri(settings.output_uri(spec.name.as_str(), &output.name))
                        .local_path(format!("{OUTPUT_LOCAL_ROOT}/{}", output.name))
                        .s3_upload_mode(ProcessingS3UploadMode::EndOfJob)
                        .build(),
                )
                .build()
        })
        .collect();
    let cluster = ProcessingClusterConfig::builder()
        .instance_type(ProcessingInstanceType::from(
            settings.instance_type.as_str(),
        ))
        .instance_count(settings.instance_count)
        .volume_size_in_gb(settings.volume_size_gb)
        .set_volume_kms_key_id(training.kms_key_id.clone())
        .build();
    aws_sdk_sagemaker::operation::create_processing_job::CreateProcessingJobInput::builder()
        .processing_job_name(spec.name.as_str())
        .role_arn(&training.role_arn)
        .app_specification(app)
        .processing_inputs(raw)
        .processing_output_config(
            ProcessingOutputConfig::builder()
                .set_outputs(Some(outputs))
                .set_kms_key_id(training.kms_key_id.clone())
                .build(),
        )
        .processing_resources(
            ProcessingResources::builder()
                .cluster_config(cluster)
                .build(),
        )
        .stopping_condition(
            ProcessingStoppingCondition::builder()
                .max_runtime_in_seconds(settings.max_runtime_seconds)
                .build(),
        )
        .set_network_config(training.vpc.as_ref().map(|vpc| {
            NetworkConfig::builder()
                .vpc_config(Vpc::config(vpc))
                .build()
        }))
        .set_tags(Some(tags(spec.tags)))
}

/// Sends `request`; `ResourceInUse` is [`JobStart::AlreadyStarted`], any
/// other failure a classified [`crate::PipelineError`].
pub async fn start_processing_job(
    sagemaker: &aws_sdk_sagemaker::Client,
    request: CreateProcessingJobInputBuilder,
) -> Result<super::JobStart, crate::PipelineError> {
    use aws_sdk_sagemaker::operation::create_processing_job::CreateProcessingJobError;
    super::job_start(
        "CreateProcessingJob",
        request.send_with(sagemaker).await,
        |output| output.processing_job_arn(),
        |err| matches!(err, CreateProcessingJobError::ResourceInUse(_)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::PipelineName;

    const DIGEST_IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-training@sha256:9f3ada942312fb3afdeab834233daeebd2e9753f943b623b9197f378176470a6";

    fn env(extra: &[(&'static str, &'static str)]) -> EnvReader {
        let mut vars = vec![
            (
                "SAGEMAKER_ROLE_ARN",
                "arn:aws:iam::123456789012:role/SageMakerExecution",
            ),
            (
                "TRAINING_CHANNELS",
                r#"[{"name":"train","s3_uri":"s3://data/raw/","content_type":"text/csv","input_mode":"FastFile"},
                   {"name":"config","s3_uri":"s3://data/config/"}]"#,
            ),
            ("TRAINING_OUTPUT_S3_URI", "s3://models/output/"),
            ("TRAINING_KMS_KEY_ID", "alias/training"),
            ("TRAINING_VPC_SUBNET_IDS", "subnet-1"),
            ("TRAINING_VPC_SECURITY_GROUP_IDS", "sg-1"),
            ("PREPROCESSING_ENABLED", "true"),
            ("PROCESSING_OUTPUT_S3_URI", "s3://data/processed/"),
        ];
        vars.extend_from_slice(extra);
        EnvReader::from_vars(vars)
    }

    fn load(
        extra: &[(&'static str, &'static str)],
    ) -> Result<(Option<ProcessingSettings>, TrainingJobSettings), crate::PipelineError> {
        let mut env = env(extra);
        let processing = ProcessingSettings::from_env(&mut env);
        let training = TrainingJobSettings::from_env(&mut env);
        env.finish(training.map(|t| (processing, t)))
    }

    #[test]
    fn off_unless_enabled() {
        let (processing, _) = load(&[("PREPROCESSING_ENABLED", "false")]).unwrap();
        assert_eq!(processing, None);
    }

    #[test]
    fn defaults() {
        let (processing, _) = load(&[]).unwrap();
        let settings = processing.unwrap();
        assert_eq!(settings.image, None);
        assert_eq!(settings.entrypoint, ["preprocess"]);
        assert!(settings.arguments.is_empty());
        assert_eq!(
            (settings.instance_type.as_str(), settings.instance_count),
            ("ml.m5.large", 1)
        );
        assert_eq!(
            (settings.volume_size_gb, settings.max_runtime_seconds),
            (30, 3_600)
        );
        let outputs: Vec<(&str, Option<&str>)> = settings
            .outputs
            .iter()
            .map(|o| (o.name.as_str(), o.channel.as_deref()))
            .collect();
        assert_eq!(
            outputs,
            [
                ("train", Some("train")),
                ("validation", Some("validation")),
                ("test", None)
            ]
        );
    }

    #[test]
    fn every_problem_is_named() {
        let err = load(&[
            ("PROCESSING_IMAGE", "mlops-training:latest"),
            (
                "PROCESSING_OUTPUTS",
                "train=train,train=validation,bad name,test",
            ),
            ("PROCESSING_MAX_RUNTIME_SECONDS", "999999"),
            ("PROCESSING_OUTPUT_S3_URI", "data/processed/"),
        ])
        .unwrap_err()
        .to_string();
        for expected in [
            "PROCESSING_IMAGE: must name an image by digest",
            "PROCESSING_OUTPUTS: output \"train\" is repeated",
            "PROCESSING_OUTPUTS: \"bad name\" must be 1-64",
            "PROCESSING_MAX_RUNTIME_SECONDS",
            "PROCESSING_OUTPUT_S3_URI",
        ] {
            assert!(err.contains(expected), "{expected:?} not in {err}");
        }
        let err = load(&[("PROCESSING_OUTPUTS", "train,test")])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("must map at least one output to a training channel"),
            "{err}"
        );
        let err = load(&[("PROCESSING_OUTPUTS", "train=train,..,a,b,c,d,e,f,g,h,i")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"..\" must be 1-64"), "{err}");
        assert!(
            err.contains("has 11 outputs; a processing job has at most 10"),
            "{err}"
        );
        // A long word of multi-byte characters is a problem, not a panic.
        let long: &'static str = Box::leak("é".repeat(300).into_boxed_str());
        let err = load(&[("PROCESSING_ARGUMENTS", long)])
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("PROCESSING_ARGUMENTS") && err.contains("longer than 256"),
            "{err}"
        );
    }

    #[test]
    fn the_outputs_must_lie_outside_the_watched_data() {
        let (processing, _) = load(&[]).unwrap();
        let settings = processing.unwrap();
        for (watched, overlaps) in [
            ("s3://data/raw/", false),
            ("s3://data/processed/", true),
            // Jobs write under processed/<pipeline>--…/, never processed/2026/.
            ("s3://data/processed/2026/", false),
            ("s3://data/", true),
            ("s3://data/processed-old/", false),
        ] {
            let mut env = EnvReader::from_vars(Vec::<(String, String)>::new());
            settings.check_outside(&mut env, watched);
            assert_eq!(env.finish(Some(())).is_err(), overlaps, "{watched}");
        }
    }

    #[test]
    fn the_request_reads_the_raw_data_and_writes_each_output_under_the_job() {
        let (processing, training) =
            load(&[("PROCESSING_ARGUMENTS", "--test-fraction 0.2")]).unwrap();
        let settings = processing.unwrap();
        let name = PipelineName::parse("mlops")
            .unwrap()
            .derive_name("proc", "burst", &["x"]);
        let raw = InputChannel {
            name: "raw".into(),
            s3_uri: "s3://data/raw/".into(),
            content_type: None,
            input_mode: Default::default(),
            s3_data_type: ChannelDataType::S3Prefix,
            distribution: Default::default(),
        };
        let tags = [("mlops:pipeline".to_string(), "mlops".to_string())];
        let spec = ProcessingJobSpec {
            name: &name,
            image: DIGEST_IMAGE,
            raw: &raw,
            tags: &tags,
        };
        let request = create_processing_job_request(&settings, &training, &spec)
            .build()
            .unwrap();
        assert_eq!(request.processing_job_name(), Some(name.as_str()));
        assert_eq!(
            request.role_arn(),
            Some("arn:aws:iam::123456789012:role/SageMakerExecution")
        );
        let app = request.app_specification().unwrap();
        assert_eq!(app.image_uri(), Some(DIGEST_IMAGE));
        assert_eq!(app.container_entrypoint(), ["preprocess"]);
        assert_eq!(app.container_arguments(), ["--test-fraction", "0.2"]);
        let input = &request.processing_inputs()[0];
        let s3 = input.s3_input().unwrap();
        assert_eq!(
            (input.input_name(), s3.s3_uri(), s3.local_path()),
            (Some("raw"), Some("s3://data/raw/"), Some(RAW_LOCAL_PATH))
        );
        assert_eq!(s3.s3_data_type(), Some(&ProcessingS3DataType::S3Prefix));
        let config = request.processing_output_config().unwrap();
        assert_eq!(config.kms_key_id(), Some("alias/training"));
        let outputs: Vec<(&str, &str, &str)> = config
            .outputs()
            .iter()
            .map(|o| {
                let s3 = o.s3_output().unwrap();
                (
                    o.output_name().unwrap(),
                    s3.s3_uri().unwrap(),
                    s3.local_path().unwrap(),
                )
            })
            .collect();
        let base = format!("s3://data/processed/{name}");
        assert_eq!(
            outputs,
            [
                (
                    "train",
                    format!("{base}/train/").as_str(),
                    "/opt/ml/processing/output/train"
                ),
                (
                    "validation",
                    format!("{base}/validation/").as_str(),
                    "/opt/ml/processing/output/validation"
                ),
                (
                    "test",
                    format!("{base}/test/").as_str(),
                    "/opt/ml/processing/output/test"
                ),
            ]
        );
        let cluster = request
            .processing_resources()
            .unwrap()
            .cluster_config()
            .unwrap();
        assert_eq!(
            cluster.instance_type(),
            Some(&ProcessingInstanceType::MlM5Large)
        );
        assert_eq!(cluster.volume_kms_key_id(), Some("alias/training"));
        assert_eq!(
            request
                .stopping_condition()
                .unwrap()
                .max_runtime_in_seconds(),
            Some(3_600)
        );
        let vpc = request.network_config().unwrap().vpc_config().unwrap();
        assert_eq!(
            (vpc.subnets(), vpc.security_group_ids()),
            (&["subnet-1".to_string()][..], &["sg-1".to_string()][..])
        );
        assert_eq!(request.tags().len(), 1);
    }

    #[test]
    fn the_outputs_become_the_training_channels() {
        let (processing, training) = load(&[]).unwrap();
        let channels = processing
            .unwrap()
            .training_channels(&training, "mlops--proc-b-1");
        let summary: Vec<(&str, &str, Option<&str>)> = channels
            .iter()
            .map(|c| {
                (
                    c.name.as_str(),
                    c.s3_uri.as_str(),
                    c.content_type.as_deref(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            [
                (
                    "train",
                    "s3://data/processed/mlops--proc-b-1/train/",
                    Some("text/csv")
                ),
                (
                    "validation",
                    "s3://data/processed/mlops--proc-b-1/validation/",
                    None
                ),
                ("config", "s3://data/config/", None),
            ]
        );
        // train keeps TRAINING_CHANNELS' input mode; test is no channel.
        assert_eq!(
            channels[0].input_mode,
            crate::sagemaker::training::InputMode::FastFile
        );
    }
}
