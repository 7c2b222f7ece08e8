//! "SageMaker Training Job State Change" in, one "Model Evaluation Completed"
//! event out for each finished job of this pipeline.

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use aws_sdk_sagemaker::operation::describe_training_job::DescribeTrainingJobOutput;
use aws_sdk_sagemaker::types::TrainingJobStatus;
use lambda_runtime::LambdaEvent;
use serde::Serialize;
use serde_json::Value;
use shared::evaluation::{flatten_report, judge, JobMetrics, ModelEvaluation};
use shared::events::{
    check_kind, parse_event, EventBridgeEvent, SkipClass, Skipped, TrainingJobStateChange,
};
use shared::events_bus;
use shared::metrics::{names, Measured, Measures, Unit};
use shared::s3::S3Uri;
use shared::PipelineError;
use tracing::{info, instrument, warn};

use crate::config::{EvaluateConfig, ReportLocation};
use crate::report::{
    parse_report, read_report, report_in_archive, store_copy, ReportLookup, REPORT_FILE,
};

/// The AWS clients the function uses, built once at cold start.
pub struct Clients {
    pub sagemaker: aws_sdk_sagemaker::Client,
    pub s3: aws_sdk_s3::Client,
    pub events: aws_sdk_eventbridge::Client,
}

impl Clients {
    pub fn new(config: &SdkConfig) -> Clients {
        Clients {
            sagemaker: aws_sdk_sagemaker::Client::new(config),
            s3: aws_sdk_s3::Client::new(config),
            events: aws_sdk_eventbridge::Client::new(config),
        }
    }
}

/// What one invocation did; Lambda returns it as JSON.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum EvaluateOutcome {
    Evaluated {
        training_job_name: String,
        passed: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
        /// Each thresholded metric's value, where the job had it.
        gated_metrics: BTreeMap<String, f64>,
        event_id: String,
    },
    Skipped {
        reason: String,
        reason_class: SkipClass,
        training_job_name: String,
    },
}

impl EvaluateOutcome {
    fn skipped(skipped: Skipped, training_job_name: &str) -> Self {
        EvaluateOutcome::Skipped {
            reason: skipped.reason,
            reason_class: skipped.class,
            training_job_name: training_job_name.to_string(),
        }
    }
}

impl Measured for EvaluateOutcome {
    fn measures(&self) -> Measures {
        match self {
            EvaluateOutcome::Evaluated {
                training_job_name,
                passed,
                gated_metrics,
                ..
            } => {
                let measures = Measures::default()
                    .count(names::STARTED, 1)
                    .count("EvaluationsPassed", usize::from(*passed))
                    .count("EvaluationsFailed", usize::from(!*passed))
                    .property("training_job_name", training_job_name.as_str());
                gated_metrics.iter().fold(measures, |m, (name, value)| {
                    m.value_by("ModelQuality", *value, Unit::None, "Metric", name)
                })
            }
            EvaluateOutcome::Skipped { reason_class, .. } => {
                Measures::default().skipped(*reason_class)
            }
        }
    }
}

/// The Lambda entry point: parses the payload, then [`evaluate`].
pub async fn handle(
    clients: &Clients,
    config: &EvaluateConfig,
    event: LambdaEvent<Value>,
) -> Result<EvaluateOutcome, PipelineError> {
    let event: EventBridgeEvent<TrainingJobStateChange> = parse_event(event.payload)?;
    evaluate(clients, config, &event).await
}

#[instrument(
    skip_all,
    fields(
        training_job = %event.detail.training_job_name,
        status = %event.detail.training_job_status,
    )
)]
pub async fn evaluate(
    clients: &Clients,
    config: &EvaluateConfig,
    event: &EventBridgeEvent<TrainingJobStateChange>,
) -> Result<EvaluateOutcome, PipelineError> {
    check_kind(event, None)?;
    let detail = &event.detail;
    let name = job_name(detail);
    let skip = |reason: String| {
        Ok(EvaluateOutcome::skipped(
            Skipped::not_applicable(reason),
            name,
        ))
    };
    if !config.pipeline.owns(name) {
        return skip(format!(
            "training job {name} is not one of pipeline {}'s (prefix {})",
            config.pipeline,
            config.pipeline.resource_prefix()
        ));
    }
    let evaluation = match &detail.training_job_status {
        TrainingJobStatus::Completed => evaluate_completed(clients, config, name).await?,
        TrainingJobStatus::Failed | TrainingJobStatus::Stopped => {
            unsuccessful(config, name, detail)
        }
        other => return skip(format!("training job status {other} is not final")),
    };

    let entry = events_bus::entry(
        &config.event_bus,
        &config.event_source,
        &evaluation.training_job_arn,
        &evaluation,
    )?;
    let event_id = events_bus::publish(&clients.events, entry).await?;
    info!(passed = evaluation.passed, reason = evaluation.reason.as_deref().unwrap_or(""), %event_id, "evaluation published");
    let gated_metrics = evaluation
        .thresholds
        .iter()
        .filter_map(|t| Some((t.metric.clone(), t.actual?)))
        .collect();
    Ok(EvaluateOutcome::Evaluated {
        training_job_name: evaluation.training_job_name,
        passed: evaluation.passed,
        gated_metrics,
        reason: evaluation.reason,
        event_id,
    })
}

/// `TrainingJobName` is authoritative: it is what DescribeTrainingJob takes,
/// with its case kept, while SageMaker lower-cases names in ARNs. (AWS's own
/// documentation sample even shows a name unrelated to its ARN.) A mismatch
/// beyond case is logged, not fatal.
fn job_name(detail: &TrainingJobStateChange) -> &str {
    let arn_name = detail
        .training_job_arn
        .rsplit('/')
        .next()
        .unwrap_or_default();
    if !arn_name.eq_ignore_ascii_case(&detail.training_job_name) {
        warn!(
            arn = %detail.training_job_arn,
            "TrainingJobName does not match the name in TrainingJobArn; using TrainingJobName"
        );
    }
    &detail.training_job_name
}

async fn evaluate_completed(
    clients: &Clients,
    config: &EvaluateConfig,
    name: &str,
) -> Result<ModelEvaluation, PipelineError> {
    let job = clients
        .sagemaker
        .describe_training_job()
        .training_job_name(name)
        .send()
        .await
        .map_err(|err| PipelineError::from_sdk("DescribeTrainingJob", err))?;

    let final_metrics = job
        .final_metric_data_list()
        .iter()
        .filter_map(|m| Some((m.metric_name()?.to_string(), f64::from(m.value()?))))
        .collect();
    let model_artifacts = job
        .model_artifacts()
        .and_then(|a| a.s3_model_artifacts())
        .map(str::to_string);
    let output_dir = job_output_dir(&job, name);

    let (lookup, found_at) = find_report(clients, config, name, output_dir.as_ref()).await?;
    let mut metrics = JobMetrics {
        final_metrics,
        report: Default::default(),
    };
    let mut report_problem = None;
    let mut evaluation_report = None;
    match lookup {
        ReportLookup::Found(report) => {
            metrics.report = flatten_report(&report);
            evaluation_report =
                keep_report(clients, &report, output_dir.as_ref(), found_at).await?;
        }
        ReportLookup::Absent => {}
        ReportLookup::Unusable(reason) => report_problem = Some(reason),
    }

    let verdict = judge(&config.thresholds, &metrics, report_problem);
    let (event_metrics, metrics_omitted) = metrics.for_event(&config.thresholds);

    Ok(ModelEvaluation {
        pipeline: config.pipeline.to_string(),
        training_job_name: name.to_string(),
        training_job_arn: job.training_job_arn().unwrap_or_default().to_string(),
        training_job_status: TrainingJobStatus::Completed,
        image: job
            .algorithm_specification()
            .and_then(|a| a.training_image())
            .map(str::to_string),
        model_artifacts,
        metrics: event_metrics,
        metrics_omitted,
        thresholds: verdict.thresholds,
        passed: verdict.passed,
        reason: verdict.reason,
        evaluation_report,
    })
}

/// The job's evaluation report where the configuration says it is: a file
/// of its own (`EVALUATION_REPORT_S3_URI`, found at the returned URI), or
/// `evaluation.json` inside the job's `output.tar.gz`.
async fn find_report(
    clients: &Clients,
    config: &EvaluateConfig,
    name: &str,
    output_dir: Option<&S3Uri>,
) -> Result<(ReportLookup, Option<S3Uri>), PipelineError> {
    match &config.report_location {
        ReportLocation::S3UriTemplate(template) => {
            let uri = S3Uri::parse(&template.replace("{training_job_name}", name)).map_err(
                |problem| {
                    PipelineError::invalid_event(format!("report location for {name}: {problem}"))
                },
            )?;
            Ok((
                read_report(&clients.s3, &uri, parse_report).await?,
                Some(uri),
            ))
        }
        ReportLocation::InOutputArchive => match output_dir {
            Some(dir) => {
                let archive = S3Uri {
                    bucket: dir.bucket.clone(),
                    key: format!("{}output.tar.gz", dir.key),
                };
                Ok((
                    read_report(&clients.s3, &archive, report_in_archive).await?,
                    None,
                ))
            }
            None => Ok((ReportLookup::Absent, None)),
        },
    }
}

/// Where the registry will find the report: a stable copy beside the model
/// artifacts, or, with no artifacts location, the configured report itself.
async fn keep_report(
    clients: &Clients,
    report: &serde_json::Value,
    output_dir: Option<&S3Uri>,
    found_at: Option<S3Uri>,
) -> Result<Option<String>, PipelineError> {
    let copy = output_dir.map(|dir| S3Uri {
        bucket: dir.bucket.clone(),
        key: format!("{}{REPORT_FILE}", dir.key),
    });
    match (copy, found_at) {
        (Some(uri), _) => {
            store_copy(&clients.s3, &uri, report).await?;
            Ok(Some(uri.to_string()))
        }
        (None, Some(uri)) => Ok(Some(uri.to_string())),
        (None, None) => {
            warn!("report found but no location to keep it");
            Ok(None)
        }
    }
}

/// `<S3OutputPath>/<job>/output/`, where SageMaker writes model.tar.gz and
/// output.tar.gz. Taken from the model artifacts' location when there is one.
fn job_output_dir(job: &DescribeTrainingJobOutput, name: &str) -> Option<S3Uri> {
    if let Some(artifacts) = job.model_artifacts().and_then(|a| a.s3_model_artifacts()) {
        if let Some(dir) = artifacts.strip_suffix("model.tar.gz") {
            if let Ok(uri) = S3Uri::parse(dir) {
                return Some(uri);
            }
        }
    }
    let output_path = job.output_data_config()?.s3_output_path()?;
    S3Uri::parse(&format!(
        "{}/{name}/output/",
        output_path.trim_end_matches('/')
    ))
    .ok()
}

/// A Failed or Stopped job fails its evaluation with SageMaker's reason.
fn unsuccessful(
    config: &EvaluateConfig,
    name: &str,
    detail: &TrainingJobStateChange,
) -> ModelEvaluation {
    let status = &detail.training_job_status;
    let reason = match detail.failure_reason.as_deref() {
        Some(why) if !why.is_empty() => format!("training job {status}: {why}"),
        _ => format!("training job {status}"),
    };
    ModelEvaluation {
        pipeline: config.pipeline.to_string(),
        training_job_name: name.to_string(),
        training_job_arn: detail.training_job_arn.clone(),
        training_job_status: status.clone(),
        image: detail
            .algorithm_specification
            .as_ref()
            .and_then(|a| a.training_image.clone()),
        model_artifacts: None,
        metrics: Default::default(),
        metrics_omitted: 0,
        thresholds: Vec::new(),
        passed: false,
        reason: Some(reason),
        evaluation_report: None,
    }
}

#[cfg(test)]
mod tests;
