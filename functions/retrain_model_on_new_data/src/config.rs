//! The function's configuration, read once at cold start.

use chrono::Duration;
use shared::config::EnvReader;
use shared::s3::S3Uri;
use shared::sagemaker::processing::ProcessingSettings;
use shared::sagemaker::training::{is_valid_channel_name, TrainingJobSettings, CHANNEL_NAME_RULE};
use shared::{PipelineError, PipelineName};

/// What the new data's training channel points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataChannel {
    /// The whole dataset prefix (`RETRAIN_DATA_S3_URI`).
    Dataset,
    /// The prefix ("folder") of the object that arrived.
    ObjectPrefix,
    /// The object that arrived, read as a SageMaker manifest file.
    Manifest,
}

impl DataChannel {
    fn parse(value: &str) -> Option<DataChannel> {
        match value {
            "dataset" => Some(DataChannel::Dataset),
            "object-prefix" => Some(DataChannel::ObjectPrefix),
            "manifest" => Some(DataChannel::Manifest),
            _ => None,
        }
    }
}

/// The EventBridge Scheduler side: one-time schedules in `group`, sending
/// their input to `target_arn` (the function's queue) as `role_arn`, and what
/// cannot be sent to `dead_letter_arn`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScheduleSettings {
    pub group: String,
    pub target_arn: String,
    pub role_arn: String,
    pub dead_letter_arn: Option<String>,
}

#[derive(Debug, Clone)]
pub struct RetrainConfig {
    pub pipeline: PipelineName,
    /// The bucket and prefix whose new objects retrain the model.
    pub data: S3Uri,
    /// When set, only keys ending with it (a `_SUCCESS` or manifest marker).
    pub key_suffix: Option<String>,
    pub data_channel: DataChannel,
    /// The training channel the new data fills (replacing the one of that
    /// name in `TRAINING_CHANNELS`, or added to them).
    pub channel_name: String,
    /// A burst's job starts once no new object has arrived for this long (by
    /// S3's event times)...
    pub quiet: Duration,
    /// ...or at the latest this long after the burst's first object.
    pub max_delay: Duration,
    /// Where the burst schedules live and what they invoke when due.
    pub schedules: ScheduleSettings,
    /// Where the image in production comes from.
    pub model_package_group: String,
    /// The image when the group has no approved version yet.
    pub fallback_image: Option<String>,
    /// Skip while any training job of this pipeline is in progress.
    pub skip_if_training: bool,
    pub training: TrainingJobSettings,
    /// Preprocessing (`PREPROCESSING_ENABLED`): a burst starts a processing
    /// job, whose completion starts the training job on its outputs.
    pub processing: Option<ProcessingSettings>,
}

pub mod vars {
    pub const DATA_S3_URI: &str = "RETRAIN_DATA_S3_URI";
    pub const KEY_SUFFIX: &str = "RETRAIN_KEY_SUFFIX";
    pub const DATA_CHANNEL: &str = "RETRAIN_DATA_CHANNEL";
    pub const CHANNEL_NAME: &str = "RETRAIN_CHANNEL_NAME";
    pub const QUIET_MINUTES: &str = "RETRAIN_QUIET_MINUTES";
    pub const MAX_DELAY_MINUTES: &str = "RETRAIN_MAX_DELAY_MINUTES";
    pub const SCHEDULE_GROUP: &str = "RETRAIN_SCHEDULE_GROUP";
    pub const SCHEDULE_TARGET_ARN: &str = "RETRAIN_SCHEDULE_TARGET_ARN";
    pub const SCHEDULE_ROLE_ARN: &str = "RETRAIN_SCHEDULE_ROLE_ARN";
    pub const SCHEDULE_DEAD_LETTER_ARN: &str = "RETRAIN_SCHEDULE_DEAD_LETTER_ARN";
    pub const FALLBACK_IMAGE: &str = "RETRAIN_FALLBACK_IMAGE";
    pub const SKIP_IF_TRAINING: &str = "RETRAIN_SKIP_IF_TRAINING";
}

impl RetrainConfig {
    pub fn from_env() -> Result<RetrainConfig, PipelineError> {
        Self::from_reader(EnvReader::from_process())
    }

    pub fn from_reader(mut env: EnvReader) -> Result<RetrainConfig, PipelineError> {
        use vars::*;

        let pipeline = env.pipeline_name();
        let model_package_group = env.model_package_group(pipeline.as_ref());
        let data = env
            .s3_uri(DATA_S3_URI, true)
            .and_then(|uri| S3Uri::parse(&uri).ok());
        let key_suffix = env.optional(KEY_SUFFIX);
        let data_channel = data_channel(&mut env, key_suffix.as_deref());
        let channel_name = channel_name(&mut env);
        let quiet_minutes = env.number_or(QUIET_MINUTES, 5, 1..=1440);
        let max_delay_minutes = env.number_or(MAX_DELAY_MINUTES, 60, 1..=10_080);
        if max_delay_minutes < quiet_minutes {
            env.problem(
                MAX_DELAY_MINUTES,
                format!(
                    "is {max_delay_minutes}, below {QUIET_MINUTES} ({quiet_minutes}): \
                     a burst could never go quiet before its deadline"
                ),
            );
        }
        let schedules = schedule_settings(&mut env);
        let fallback_image = fallback_image(&mut env);
        let skip_if_training = env.flag_or(SKIP_IF_TRAINING, false);
        let training = TrainingJobSettings::from_env(&mut env);
        let processing = ProcessingSettings::from_env(&mut env);
        if let (Some(processing), Some(data)) = (&processing, &data) {
            processing.check_outside(&mut env, &data.to_string());
        }

        let config = (|| {
            Some(RetrainConfig {
                pipeline: pipeline?,
                data: data?,
                key_suffix,
                data_channel: data_channel?,
                channel_name,
                quiet: Duration::minutes(i64::from(quiet_minutes)),
                max_delay: Duration::minutes(i64::from(max_delay_minutes)),
                schedules: schedules?,
                model_package_group: model_package_group?,
                fallback_image,
                skip_if_training,
                training: training?,
                processing,
            })
        })();
        env.finish(config)
    }
}

/// `RETRAIN_DATA_CHANNEL`; a manifest channel needs `RETRAIN_KEY_SUFFIX`.
fn data_channel(env: &mut EnvReader, key_suffix: Option<&str>) -> Option<DataChannel> {
    use vars::{DATA_CHANNEL, KEY_SUFFIX};
    let data_channel = match env.optional(DATA_CHANNEL) {
        None => Some(DataChannel::Dataset),
        Some(value) => {
            let parsed = DataChannel::parse(&value);
            if parsed.is_none() {
                env.problem(
                    DATA_CHANNEL,
                    format!("must be dataset, object-prefix or manifest, got {value:?}"),
                );
            }
            parsed
        }
    };
    if data_channel == Some(DataChannel::Manifest) && key_suffix.is_none() {
        // Otherwise every data file would be handed to SageMaker as a manifest.
        env.problem(
            KEY_SUFFIX,
            "is required with RETRAIN_DATA_CHANNEL=manifest (e.g. manifest.json), \
             so that only manifests start training",
        );
    }
    data_channel
}

/// `RETRAIN_CHANNEL_NAME`, checked as `TRAINING_CHANNELS` names are.
fn channel_name(env: &mut EnvReader) -> String {
    let name = env
        .optional(vars::CHANNEL_NAME)
        .unwrap_or_else(|| "train".to_string());
    if !is_valid_channel_name(&name) {
        env.problem(vars::CHANNEL_NAME, format!("{name:?} {CHANNEL_NAME_RULE}"));
    }
    name
}

/// `RETRAIN_SCHEDULE_*`: the group, target and role are required, the
/// dead-letter queue optional.
fn schedule_settings(env: &mut EnvReader) -> Option<ScheduleSettings> {
    use vars::{SCHEDULE_DEAD_LETTER_ARN, SCHEDULE_GROUP, SCHEDULE_ROLE_ARN, SCHEDULE_TARGET_ARN};
    let group = env.required(SCHEDULE_GROUP);
    if let Some(group) = &group {
        // EventBridge Scheduler's rule for group names.
        let valid = group.len() <= 64
            && group
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !valid {
            env.problem(
                SCHEDULE_GROUP,
                format!("{group:?} is not a schedule group name (1-64 of [0-9a-zA-Z-_.])"),
            );
        }
    }
    let mut arn = |variable: &str, required: bool| {
        let value = if required {
            env.required(variable)?
        } else {
            env.optional(variable)?
        };
        if !value.starts_with("arn:") {
            env.problem(variable, format!("must be an ARN, got {value:?}"));
        }
        Some(value)
    };
    let target_arn = arn(SCHEDULE_TARGET_ARN, true);
    let role_arn = arn(SCHEDULE_ROLE_ARN, true);
    let dead_letter_arn = arn(SCHEDULE_DEAD_LETTER_ARN, false);
    Some(ScheduleSettings {
        group: group?,
        target_arn: target_arn?,
        role_arn: role_arn?,
        dead_letter_arn,
    })
}

/// `RETRAIN_FALLBACK_IMAGE`, which must be pinned by digest.
fn fallback_image(env: &mut EnvReader) -> Option<String> {
    let image = env.optional(vars::FALLBACK_IMAGE)?;
    if !shared::image::is_pinned_by_digest(&image) {
        env.problem(
            vars::FALLBACK_IMAGE,
            format!(
                "must be an image pinned by digest (<registry>/<repository>@sha256:<64 hex>), \
                 got {image:?}"
            ),
        );
    }
    Some(image)
}

/// A minimal valid environment, for the crate's tests.
#[cfg(test)]
pub(crate) fn test_vars() -> Vec<(&'static str, &'static str)> {
    vec![
        ("PIPELINE_NAME", "mlops"),
        (
            "SAGEMAKER_ROLE_ARN",
            "arn:aws:iam::123456789012:role/SageMakerExecution",
        ),
        (
            "TRAINING_CHANNELS",
            r#"[{"name":"train","s3_uri":"s3://mlops-data-123456789012-us-east-1/data/train/","content_type":"text/csv"},
                {"name":"validation","s3_uri":"s3://mlops-data-123456789012-us-east-1/data/validation/"}]"#,
        ),
        ("TRAINING_OUTPUT_S3_URI", "s3://mlops-artifacts/output/"),
        (
            "RETRAIN_DATA_S3_URI",
            "s3://mlops-data-123456789012-us-east-1/data/train/",
        ),
        ("RETRAIN_SCHEDULE_GROUP", "mlops-retraining"),
        (
            "RETRAIN_SCHEDULE_TARGET_ARN",
            "arn:aws:sqs:us-east-1:123456789012:mlops-retrain",
        ),
        (
            "RETRAIN_SCHEDULE_ROLE_ARN",
            "arn:aws:iam::123456789012:role/mlops-retrain-scheduler",
        ),
        (
            "RETRAIN_SCHEDULE_DEAD_LETTER_ARN",
            "arn:aws:sqs:us-east-1:123456789012:mlops-retrain-dead-letters",
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_defaults() {
        let config = RetrainConfig::from_reader(EnvReader::from_vars(test_vars())).unwrap();
        assert_eq!(config.data.bucket, "mlops-data-123456789012-us-east-1");
        assert_eq!(config.data.key, "data/train/");
        assert_eq!(config.data_channel, DataChannel::Dataset);
        assert_eq!(config.channel_name, "train");
        assert_eq!(config.quiet, Duration::minutes(5));
        assert_eq!(config.max_delay, Duration::minutes(60));
        assert_eq!(config.schedules.group, "mlops-retraining");
        assert_eq!(config.model_package_group, "mlops--models");
        assert_eq!(config.key_suffix, None);
        assert!(!config.skip_if_training);
        assert_eq!(config.processing, None);
    }

    #[test]
    fn preprocessing_writes_outside_the_watched_data() {
        let mut vars = test_vars();
        vars.extend([
            ("PREPROCESSING_ENABLED", "true"),
            (
                "PROCESSING_OUTPUT_S3_URI",
                "s3://mlops-data-123456789012-us-east-1/processed/",
            ),
        ]);
        let config = RetrainConfig::from_reader(EnvReader::from_vars(vars.clone())).unwrap();
        let processing = config.processing.unwrap();
        assert_eq!(processing.entrypoint, ["preprocess"]);

        for inside in [
            "s3://mlops-data-123456789012-us-east-1/data/train/processed/",
            "s3://mlops-data-123456789012-us-east-1/data/train/",
        ] {
            let mut vars = vars.clone();
            vars.push(("PROCESSING_OUTPUT_S3_URI", inside));
            let message = RetrainConfig::from_reader(EnvReader::from_vars(vars))
                .unwrap_err()
                .to_string();
            assert!(
                message.contains("PROCESSING_OUTPUT_S3_URI:")
                    && message.contains("overlaps the watched data"),
                "{message}"
            );
        }
    }

    #[test]
    fn reads_every_setting() {
        let mut vars = test_vars();
        vars.extend([
            ("RETRAIN_KEY_SUFFIX", "manifest.json"),
            ("RETRAIN_DATA_CHANNEL", "manifest"),
            ("RETRAIN_CHANNEL_NAME", "training"),
            ("RETRAIN_QUIET_MINUTES", "15"),
            ("RETRAIN_MAX_DELAY_MINUTES", "120"),
            ("RETRAIN_SKIP_IF_TRAINING", "true"),
            ("MODEL_PACKAGE_GROUP_NAME", "churn-models"),
            (
                "RETRAIN_FALLBACK_IMAGE",
                "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-training@sha256:9f3ada942312fb3afdeab834233daeebd2e9753f943b623b9197f378176470a6",
            ),
        ]);
        let config = RetrainConfig::from_reader(EnvReader::from_vars(vars)).unwrap();
        assert_eq!(config.key_suffix.as_deref(), Some("manifest.json"));
        assert_eq!(config.data_channel, DataChannel::Manifest);
        assert_eq!(config.channel_name, "training");
        assert_eq!(config.quiet, Duration::minutes(15));
        assert_eq!(config.max_delay, Duration::minutes(120));
        assert!(config.skip_if_training);
        assert_eq!(config.model_package_group, "churn-models");
        assert!(config.fallback_image.is_some());
    }

    #[test]
    fn reports_every_problem_naming_the_variable() {
        let err = RetrainConfig::from_reader(EnvReader::from_vars([
            ("PIPELINE_NAME", "mlops"),
            ("RETRAIN_DATA_S3_URI", "mlops-data/data/"),
            ("RETRAIN_DATA_CHANNEL", "everything"),
            ("RETRAIN_QUIET_MINUTES", "0"),
            ("RETRAIN_SCHEDULE_GROUP", "my group"),
            ("RETRAIN_SCHEDULE_TARGET_ARN", "mlops-retrain"),
            ("RETRAIN_FALLBACK_IMAGE", "mlops-training:latest"),
            ("RETRAIN_CHANNEL_NAME", "train data"),
            ("RETRAIN_SKIP_IF_TRAINING", "maybe"),
        ]))
        .unwrap_err();
        assert_eq!(err.error_type(), "NonRetryable.InvalidConfig");
        let message = err.to_string();
        for expected in [
            "RETRAIN_DATA_S3_URI: must be an s3:// URI",
            "RETRAIN_DATA_CHANNEL: must be dataset, object-prefix or manifest",
            "RETRAIN_QUIET_MINUTES: must be between 1 and 1440, got 0",
            "RETRAIN_SCHEDULE_GROUP: \"my group\" is not a schedule group name",
            "RETRAIN_SCHEDULE_TARGET_ARN: must be an ARN",
            "RETRAIN_SCHEDULE_ROLE_ARN: is required",
            "RETRAIN_FALLBACK_IMAGE: must be an image pinned by digest",
            "RETRAIN_CHANNEL_NAME: \"train data\"",
            "RETRAIN_SKIP_IF_TRAINING:",
            "SAGEMAKER_ROLE_ARN: is required",
        ] {
            assert!(
                message.contains(expected),
                "missing {expected:?} in {message}"
            );
        }
    }

    #[test]
    fn the_deadline_is_not_before_the_quiet_period() {
        let mut vars = test_vars();
        vars.extend([
            ("RETRAIN_QUIET_MINUTES", "30"),
            ("RETRAIN_MAX_DELAY_MINUTES", "10"),
        ]);
        let message = RetrainConfig::from_reader(EnvReader::from_vars(vars))
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("RETRAIN_MAX_DELAY_MINUTES: is 10, below RETRAIN_QUIET_MINUTES (30)"),
            "{message}"
        );
    }

    #[test]
    fn a_manifest_channel_needs_a_marker_suffix() {
        let mut vars = test_vars();
        vars.push(("RETRAIN_DATA_CHANNEL", "manifest"));
        let message = RetrainConfig::from_reader(EnvReader::from_vars(vars))
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("RETRAIN_KEY_SUFFIX: is required with RETRAIN_DATA_CHANNEL=manifest"),
            "{message}"
        );
    }
}
