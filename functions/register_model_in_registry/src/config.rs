//! The function's configuration, read once at cold start.

use aws_sdk_sagemaker::types::ModelApprovalStatus;
use shared::config::EnvReader;
use shared::sagemaker::model_package::Serving;
use shared::{PipelineError, PipelineName};

#[derive(Debug, Clone)]
pub struct RegisterConfig {
    pub pipeline: PipelineName,
    /// The model package group versions are registered in.
    pub group: String,
    pub approval_status: ModelApprovalStatus,
    /// How every version is served.
    pub serving: Serving,
    /// The `source` our evaluation events carry.
    pub event_source: String,
}

impl RegisterConfig {
    pub fn from_env() -> Result<RegisterConfig, PipelineError> {
        Self::from_reader(EnvReader::from_process())
    }

    pub fn from_reader(mut env: EnvReader) -> Result<RegisterConfig, PipelineError> {
        let pipeline = env.pipeline_name();

        let group = env.model_package_group(pipeline.as_ref());

        let approval_status = match env.optional("MODEL_APPROVAL_STATUS").as_deref() {
            None | Some("PendingManualApproval") => ModelApprovalStatus::PendingManualApproval,
            Some("Approved") => ModelApprovalStatus::Approved,
            Some(other) => {
                env.problem(
                    "MODEL_APPROVAL_STATUS",
                    format!("must be PendingManualApproval or Approved, got {other:?}"),
                );
                ModelApprovalStatus::PendingManualApproval
            }
        };

        let inference_image = env.optional("INFERENCE_IMAGE");
        let list_or = |env: &mut EnvReader, variable: &str, default: &str| {
            let list = env.list(variable);
            if list.is_empty() {
                vec![default.to_string()]
            } else {
                list
            }
        };
        let content_types = list_or(&mut env, "INFERENCE_CONTENT_TYPES", "text/csv");
        let response_types = list_or(&mut env, "INFERENCE_RESPONSE_TYPES", "text/csv");
        let instance_types = env.instance_types_or("INFERENCE_INSTANCE_TYPES", "ml.m5.large");
        let event_source = env
            .optional("EVENT_SOURCE")
            .unwrap_or_else(|| "mlops.pipeline".to_string());

        let config = (|| {
            Some(RegisterConfig {
                group: group?,
                pipeline: pipeline?,
                approval_status,
                serving: Serving {
                    image: inference_image,
                    content_types,
                    response_types,
                    instance_types,
                },
                event_source,
            })
        })();
        env.finish(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_manual_approval_in_the_pipeline_group() {
        let config =
            RegisterConfig::from_reader(EnvReader::from_vars([("PIPELINE_NAME", "mlops")]))
                .unwrap();
        assert_eq!(config.group, "mlops--models");
        assert_eq!(
            config.approval_status,
            ModelApprovalStatus::PendingManualApproval
        );
        assert_eq!(config.serving.image, None);
        assert_eq!(config.serving.content_types, ["text/csv"]);
        assert_eq!(config.serving.response_types, ["text/csv"]);
        assert_eq!(config.serving.instance_types, ["ml.m5.large"]);
        assert_eq!(config.event_source, "mlops.pipeline");
    }

    #[test]
    fn reports_every_problem_naming_the_variable() {
        let err = RegisterConfig::from_reader(EnvReader::from_vars([
            ("MODEL_PACKAGE_GROUP_NAME", "My_Group"),
            ("MODEL_APPROVAL_STATUS", "approved"),
            ("INFERENCE_INSTANCE_TYPES", "ml.m5.large,m5.xlarge"),
        ]))
        .unwrap_err()
        .to_string();
        for expected in [
            "PIPELINE_NAME: is required",
            "MODEL_PACKAGE_GROUP_NAME: \"My_Group\" must be",
            "MODEL_APPROVAL_STATUS: must be PendingManualApproval or Approved, got \"approved\"",
            "INFERENCE_INSTANCE_TYPES: must be a SageMaker instance type such as ml.m5.large, got \"m5.xlarge\"",
        ] {
            assert!(err.contains(expected), "missing {expected:?} in {err}");
        }
    }
}
