//! The function's configuration, read once at cold start.

use shared::config::EnvReader;
use shared::sagemaker::processing::ProcessingSettings;
use shared::sagemaker::training::TrainingJobSettings;
use shared::{PipelineError, PipelineName};

#[derive(Debug, Clone)]
pub struct TriggerConfig {
    pub pipeline: PipelineName,
    /// Only pushes to this repository start training.
    pub repository: String,
    /// When not empty, only pushes whose tag matches one of these globs do.
    pub tag_filter: Vec<glob::Pattern>,
    pub training: TrainingJobSettings,
    /// Preprocessing (`PREPROCESSING_ENABLED=true`): a push trains on the
    /// newest completed processing job's outputs; `None`: on
    /// `TRAINING_CHANNELS`.
    pub processing: Option<ProcessingSettings>,
}

impl TriggerConfig {
    pub fn from_env() -> Result<TriggerConfig, PipelineError> {
        Self::from_reader(EnvReader::from_process())
    }

    pub fn from_reader(mut env: EnvReader) -> Result<TriggerConfig, PipelineError> {
        let pipeline = env.pipeline_name();
        let repository = env.required("ECR_REPOSITORY_NAME");
        if let Some(name) = &repository {
            if !shared::image::is_ecr_repository_name(name) {
                env.problem(
                    "ECR_REPOSITORY_NAME",
                    format!("{name:?} is not an ECR repository name"),
                );
            }
        }
        let mut tag_filter = Vec::new();
        for pattern in env.list("ECR_TAG_FILTER") {
            match glob::Pattern::new(&pattern) {
                Ok(glob) => tag_filter.push(glob),
                Err(err) => env.problem("ECR_TAG_FILTER", format!("{pattern:?}: {err}")),
            }
        }
        let training = TrainingJobSettings::from_env(&mut env);
        let processing = ProcessingSettings::from_env(&mut env);
        let config = (|| {
            Some(TriggerConfig {
                pipeline: pipeline?,
                repository: repository?,
                tag_filter,
                training: training?,
                processing,
            })
        })();
        env.finish(config)
    }
}

/// A minimal valid environment, for the crate's tests.
#[cfg(test)]
pub(crate) fn test_vars() -> Vec<(&'static str, &'static str)> {
    vec![
        ("PIPELINE_NAME", "mlops"),
        ("ECR_REPOSITORY_NAME", "mlops-training"),
        (
            "SAGEMAKER_ROLE_ARN",
            "arn:aws:iam::123456789012:role/SageMakerExecution",
        ),
        (
            "TRAINING_CHANNELS",
            r#"[{"name":"train","s3_uri":"s3://data-bucket/train/"}]"#,
        ),
        ("TRAINING_OUTPUT_S3_URI", "s3://data-bucket/output/"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_a_complete_environment() {
        let mut vars = test_vars();
        vars.push(("ECR_TAG_FILTER", "v*, release-?"));
        let config = TriggerConfig::from_reader(EnvReader::from_vars(vars)).unwrap();
        assert_eq!(config.pipeline.as_str(), "mlops");
        assert_eq!(config.repository, "mlops-training");
        assert_eq!(config.tag_filter.len(), 2);
    }

    #[test]
    fn reports_every_problem_naming_the_variable() {
        let err = TriggerConfig::from_reader(EnvReader::from_vars([
            ("PIPELINE_NAME", "My_Pipeline"),
            ("ECR_TAG_FILTER", "v[,ok"),
        ]))
        .unwrap_err();
        assert_eq!(err.error_type(), "NonRetryable.InvalidConfig");
        let message = err.to_string();
        for variable in [
            "PIPELINE_NAME: \"My_Pipeline\" is not a valid pipeline name",
            "ECR_REPOSITORY_NAME: is required",
            "ECR_TAG_FILTER: \"v[\"",
            "SAGEMAKER_ROLE_ARN: is required",
            "TRAINING_CHANNELS: is required",
            "TRAINING_OUTPUT_S3_URI: is required",
        ] {
            assert!(
                message.contains(variable),
                "missing {variable:?} in {message}"
            );
        }
    }

    #[test]
    fn preprocessing_is_off_unless_enabled() {
        let config = TriggerConfig::from_reader(EnvReader::from_vars(test_vars())).unwrap();
        assert_eq!(config.processing, None);
        let mut vars = test_vars();
        vars.push(("PREPROCESSING_ENABLED", "false"));
        vars.push(("PROCESSING_OUTPUT_S3_URI", "s3://data-bucket/processed/"));
        let config = TriggerConfig::from_reader(EnvReader::from_vars(vars)).unwrap();
        assert_eq!(config.processing, None);
    }

    #[test]
    fn preprocessing_loads_when_enabled() {
        let mut vars = test_vars();
        vars.push(("PREPROCESSING_ENABLED", "true"));
        vars.push(("PROCESSING_OUTPUT_S3_URI", "s3://data-bucket/processed/"));
        let config = TriggerConfig::from_reader(EnvReader::from_vars(vars)).unwrap();
        let processing = config.processing.unwrap();
        assert_eq!(processing.output_s3_uri, "s3://data-bucket/processed/");
        assert!(processing
            .outputs
            .iter()
            .any(|o| o.channel.as_deref() == Some("train")));
    }

    #[test]
    fn preprocessing_requires_its_output_location() {
        let mut vars = test_vars();
        vars.push(("PREPROCESSING_ENABLED", "true"));
        let err = TriggerConfig::from_reader(EnvReader::from_vars(vars)).unwrap_err();
        assert_eq!(err.error_type(), "NonRetryable.InvalidConfig");
        let message = err.to_string();
        assert!(
            message.contains("PROCESSING_OUTPUT_S3_URI: is required"),
            "{message}"
        );
    }
}
