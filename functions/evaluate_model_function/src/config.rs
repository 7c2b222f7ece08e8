//! The function's configuration, read once at cold start.

use shared::config::EnvReader;
use shared::evaluation::{parse_thresholds, Threshold};
use shared::{PipelineError, PipelineName};

/// Where the evaluation report is looked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportLocation {
    /// `evaluation.json` inside the job's `output/output.tar.gz` (what
    /// SageMaker uploads from /opt/ml/output/data).
    InOutputArchive,
    /// An S3 URI in which `{training_job_name}` is replaced by the job's name.
    S3UriTemplate(String),
}

#[derive(Debug, Clone)]
pub struct EvaluateConfig {
    pub pipeline: PipelineName,
    pub thresholds: Vec<Threshold>,
    pub report_location: ReportLocation,
    pub event_bus: String,
    pub event_source: String,
}

impl EvaluateConfig {
    pub fn from_env() -> Result<EvaluateConfig, PipelineError> {
        Self::from_reader(EnvReader::from_process())
    }

    pub fn from_reader(mut env: EnvReader) -> Result<EvaluateConfig, PipelineError> {
        let pipeline = env.pipeline_name();

        let raw_thresholds = env.optional("EVALUATION_THRESHOLDS").unwrap_or_default();
        let thresholds = match parse_thresholds(&raw_thresholds) {
            Ok(thresholds) => Some(thresholds),
            Err(problem) => {
                env.problem("EVALUATION_THRESHOLDS", problem);
                None
            }
        };
        let register_everything = env.flag_or("EVALUATION_ALLOW_NO_THRESHOLDS", false);
        if thresholds.as_ref().is_some_and(Vec::is_empty) && !register_everything {
            env.problem(
                "EVALUATION_THRESHOLDS",
                "is required (e.g. \"validation:rmse <= 3.5, accuracy >= 0.9\"); set \
                 EVALUATION_ALLOW_NO_THRESHOLDS=true to pass every completed job",
            );
        }
        let thresholds = thresholds.unwrap_or_default();

        let report_location = match env.optional("EVALUATION_REPORT_S3_URI") {
            None => ReportLocation::InOutputArchive,
            Some(template) => {
                let example = template.replace("{training_job_name}", "job");
                if let Err(problem) = shared::s3::S3Uri::parse(&example) {
                    env.problem("EVALUATION_REPORT_S3_URI", problem);
                }
                ReportLocation::S3UriTemplate(template)
            }
        };

        let shared::events_bus::EventBus {
            name: event_bus,
            source: event_source,
        } = env.event_bus();

        let config = pipeline.map(|pipeline| EvaluateConfig {
            pipeline,
            thresholds,
            report_location,
            event_bus,
            event_source,
        });
        env.finish(config)
    }
}

/// A minimal valid environment, for the crate's tests.
#[cfg(test)]
pub(crate) fn test_vars() -> Vec<(&'static str, &'static str)> {
    vec![
        ("PIPELINE_NAME", "mlops"),
        (
            "EVALUATION_THRESHOLDS",
            "validation:rmse <= 3.5, regression_metrics.r2 >= 0.8",
        ),
        ("EVENT_BUS_NAME", "mlops-bus"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_a_complete_environment() {
        let config = EvaluateConfig::from_reader(EnvReader::from_vars(test_vars())).unwrap();
        assert_eq!(config.thresholds.len(), 2);
        assert_eq!(config.report_location, ReportLocation::InOutputArchive);
        assert_eq!(config.event_bus, "mlops-bus");
        assert_eq!(config.event_source, "mlops.pipeline");
    }

    #[test]
    fn no_thresholds_is_an_error_unless_allowed() {
        let err = EvaluateConfig::from_reader(EnvReader::from_vars([("PIPELINE_NAME", "mlops")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("EVALUATION_THRESHOLDS: is required"), "{err}");
        let config = EvaluateConfig::from_reader(EnvReader::from_vars([
            ("PIPELINE_NAME", "mlops"),
            ("EVALUATION_ALLOW_NO_THRESHOLDS", "true"),
        ]))
        .unwrap();
        assert!(config.thresholds.is_empty());
    }

    #[test]
    fn reports_every_problem_naming_the_variable() {
        let err = EvaluateConfig::from_reader(EnvReader::from_vars([
            ("EVALUATION_THRESHOLDS", "rmse = 3"),
            ("EVALUATION_REPORT_S3_URI", "http://x/{training_job_name}"),
            ("EVENT_SOURCE", "aws.sagemaker"),
        ]))
        .unwrap_err()
        .to_string();
        for expected in [
            "PIPELINE_NAME: is required",
            "EVALUATION_THRESHOLDS: \"rmse = 3\" has no comparison",
            "EVALUATION_REPORT_S3_URI: must be an s3:// URI",
            "EVENT_SOURCE: must not start with \"aws.\"",
        ] {
            assert!(err.contains(expected), "missing {expected:?} in {err}");
        }
    }
}
