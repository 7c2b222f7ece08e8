//! trigger_model_training end to end: the real handler and the real SageMaker
//! SDK against the emulator. The job is read back with DescribeTrainingJob and
//! ListTags, and repeated deliveries of the push still leave exactly one job.

use std::sync::Arc;

use aws_sdk_sagemaker::types::{
    S3DataDistribution, S3DataType, TrainingInputMode, TrainingInstanceType,
};
use integration::{repo_root, Emulator};
use lambda_runtime::{Context, LambdaEvent};
use serde_json::Value;
use shared::config::EnvReader;
use shared::events::SkipClass;
use trigger_model_training::{handle, TriggerConfig, TriggerOutcome};

const DIGEST: &str = "sha256:9f3ada942312fb3afdeab834233daeebd2e9753f943b623b9197f378176470a6";
const IMAGE: &str = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-training@sha256:9f3ada942312fb3afdeab834233daeebd2e9753f943b623b9197f378176470a6";

fn config() -> TriggerConfig {
    TriggerConfig::from_reader(EnvReader::from_vars([
        ("PIPELINE_NAME", "mlops"),
        ("ECR_REPOSITORY_NAME", "mlops-training"),
        ("ECR_TAG_FILTER", "v*"),
        ("SAGEMAKER_ROLE_ARN", "arn:aws:iam::123456789012:role/mlops-sagemaker-execution"),
        (
            "TRAINING_CHANNELS",
            r#"[{"name":"train","s3_uri":"s3://mlops-data/data/train/","content_type":"text/csv"},
               {"name":"validation","s3_uri":"s3://mlops-data/data/validation/","input_mode":"FastFile","distribution":"ShardedByS3Key"}]"#,
        ),
        ("TRAINING_OUTPUT_S3_URI", "s3://mlops-data/models/"),
        ("TRAINING_INSTANCE_TYPE", "ml.m5.xlarge"),
        ("TRAINING_INSTANCE_COUNT", "2"),
        ("TRAINING_VOLUME_SIZE_GB", "50"),
        ("TRAINING_MAX_RUNTIME_SECONDS", "3600"),
        ("TRAINING_HYPERPARAMETERS", r#"{"epochs": 10, "learning_rate": "0.001"}"#),
        (
            "TRAINING_METRIC_DEFINITIONS",
            r#"[{"Name":"validation:rmse","Regex":"rmse=([0-9.]+)"}]"#,
        ),
        ("TRAINING_USE_SPOT", "true"),
        ("TRAINING_MAX_WAIT_SECONDS", "7200"),
        ("TRAINING_CHECKPOINT_S3_URI", "s3://mlops-data/checkpoints/"),
        ("TRAINING_VPC_SUBNET_IDS", "subnet-0a1b2c3d"),
        ("TRAINING_VPC_SECURITY_GROUP_IDS", "sg-0a1b2c3d"),
        ("TRAINING_KMS_KEY_ID", "alias/mlops"),
    ]))
    .expect("valid configuration")
}

fn push_event() -> LambdaEvent<Value> {
    let path = repo_root().join("events/ecr-push.json");
    let payload = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    LambdaEvent::new(payload, Context::default())
}

async fn job_names(sagemaker: &aws_sdk_sagemaker::Client) -> Vec<String> {
    let jobs = sagemaker
        .list_training_jobs()
        .send()
        .await
        .expect("ListTrainingJobs");
    jobs.training_job_summaries()
        .iter()
        .filter_map(|j| j.training_job_name().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_starts_one_fully_configured_training_job() {
    let emulator = Emulator::start().await;
    let sagemaker = aws_sdk_sagemaker::Client::new(&emulator.sdk_config().await);
    let config = config();

    let outcome = handle(&sagemaker, &config, push_event())
        .await
        .expect("started");
    let TriggerOutcome::Started {
        training_job_name: name,
        training_job_arn: arn,
        image,
        processing_job_name: None,
    } = outcome
    else {
        panic!("expected started, got {outcome:?}");
    };
    assert_eq!(image, IMAGE);
    assert!(name.starts_with("mlops--ecr-mlops-training-"), "{name}");
    assert!(arn.ends_with(&format!(":training-job/{name}")), "{arn}");

    let job = sagemaker
        .describe_training_job()
        .training_job_name(&name)
        .send()
        .await
        .expect("DescribeTrainingJob");
    assert_eq!(
        job.role_arn(),
        Some("arn:aws:iam::123456789012:role/mlops-sagemaker-execution")
    );

    let algorithm = job.algorithm_specification().unwrap();
    assert_eq!(algorithm.training_image(), Some(IMAGE));
    assert_eq!(algorithm.metric_definitions().len(), 1);
    assert_eq!(
        algorithm.metric_definitions()[0].name(),
        Some("validation:rmse")
    );
    assert_eq!(
        algorithm.metric_definitions()[0].regex(),
        Some("rmse=([0-9.]+)")
    );

    let channels = job.input_data_config();
    assert_eq!(channels.len(), 2);
    let train = &channels[0];
    assert_eq!(train.channel_name(), Some("train"));
    assert_eq!(train.content_type(), Some("text/csv"));
    let source = train.data_source().unwrap().s3_data_source().unwrap();
    assert_eq!(source.s3_uri(), Some("s3://mlops-data/data/train/"));
    assert_eq!(source.s3_data_type(), Some(&S3DataType::S3Prefix));
    let validation = &channels[1];
    assert_eq!(validation.input_mode(), Some(&TrainingInputMode::Fastfile));
    assert_eq!(
        validation
            .data_source()
            .unwrap()
            .s3_data_source()
            .unwrap()
            .s3_data_distribution_type(),
        Some(&S3DataDistribution::ShardedByS3Key)
    );

    let output = job.output_data_config().unwrap();
    assert_eq!(output.s3_output_path(), Some("s3://mlops-data/models/"));
    assert_eq!(output.kms_key_id(), Some("alias/mlops"));
    let resources = job.resource_config().unwrap();
    assert_eq!(
        resources.instance_type(),
        Some(&TrainingInstanceType::MlM5Xlarge)
    );
    assert_eq!(resources.instance_count(), Some(2));
    assert_eq!(resources.volume_size_in_gb(), Some(50));
    assert_eq!(resources.volume_kms_key_id(), Some("alias/mlops"));
    let stopping = job.stopping_condition().unwrap();
    assert_eq!(stopping.max_runtime_in_seconds(), Some(3600));
    assert_eq!(stopping.max_wait_time_in_seconds(), Some(7200));

    let hyperparameters = job.hyper_parameters().unwrap();
    assert_eq!(
        hyperparameters.get("epochs").map(String::as_str),
        Some("10")
    );
    assert_eq!(
        hyperparameters.get("learning_rate").map(String::as_str),
        Some("0.001")
    );
    assert_eq!(job.enable_managed_spot_training(), Some(true));
    assert_eq!(
        job.checkpoint_config().and_then(|c| c.s3_uri()),
        Some("s3://mlops-data/checkpoints/")
    );
    let vpc = job.vpc_config().unwrap();
    assert_eq!(vpc.subnets(), ["subnet-0a1b2c3d"]);
    assert_eq!(vpc.security_group_ids(), ["sg-0a1b2c3d"]);

    let tags = sagemaker
        .list_tags()
        .resource_arn(&arn)
        .send()
        .await
        .expect("ListTags");
    let tags: Vec<(&str, &str)> = tags
        .tags()
        .iter()
        .map(|t| (t.key().unwrap_or(""), t.value().unwrap_or("")))
        .collect();
    for expected in [
        ("mlops:pipeline", "mlops"),
        ("mlops:trigger", "ecr-push"),
        ("mlops:ecr-repository", "mlops-training"),
        ("mlops:image-digest", DIGEST),
        ("mlops:image-tag", "v1.2.0"),
    ] {
        assert!(tags.contains(&expected), "{expected:?} not in {tags:?}");
    }

    // At-least-once delivery: the same push again is a skip, not a second job.
    let again = handle(&sagemaker, &config, push_event())
        .await
        .expect("skipped");
    assert_eq!(
        again,
        TriggerOutcome::Skipped {
            reason: "already started".into(),
            reason_class: SkipClass::AlreadyDone,
            training_job_name: Some(name.clone()),
            image: Some(IMAGE.into()),
        }
    );
    assert_eq!(job_names(&sagemaker).await, [name]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_deliveries_of_one_push_start_one_job() {
    let emulator = Emulator::start().await;
    let sagemaker = Arc::new(aws_sdk_sagemaker::Client::new(&emulator.sdk_config().await));
    let config = Arc::new(config());

    let deliveries: Vec<_> = (0..8)
        .map(|_| {
            let (sagemaker, config) = (sagemaker.clone(), config.clone());
            tokio::spawn(async move { handle(&sagemaker, &config, push_event()).await })
        })
        .collect();
    let mut started = 0;
    for delivery in deliveries {
        match delivery.await.unwrap().expect("no delivery fails") {
            TriggerOutcome::Started { .. } => started += 1,
            TriggerOutcome::Skipped { reason, .. } => assert_eq!(reason, "already started"),
        }
    }
    assert_eq!(started, 1);
    assert_eq!(job_names(&sagemaker).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filtered_pushes_create_nothing() {
    let emulator = Emulator::start().await;
    let sagemaker = aws_sdk_sagemaker::Client::new(&emulator.sdk_config().await);
    let config = config();
    for file in [
        "ecr-push-other-repository.json",
        "ecr-delete.json",
        "ecr-push-failure.json",
        "ecr-push-untagged.json",
    ] {
        let payload = serde_json::from_str(
            &std::fs::read_to_string(repo_root().join("events").join(file)).unwrap(),
        )
        .unwrap();
        let outcome = handle(
            &sagemaker,
            &config,
            LambdaEvent::new(payload, Context::default()),
        )
        .await
        .unwrap_or_else(|e| panic!("{file}: {e}"));
        assert!(
            matches!(outcome, TriggerOutcome::Skipped { .. }),
            "{file}: {outcome:?}"
        );
    }
    assert!(job_names(&sagemaker).await.is_empty());
}
