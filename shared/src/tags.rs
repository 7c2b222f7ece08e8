//! Tags: the keys the pipeline writes on what it creates, and how a value
//! taken from an event is made valid. To add a tag, add its key here and
//! write it where the resource's request is built (`crate::sagemaker`).

use aws_sdk_sagemaker::types::Tag;

/// Tag keys the pipeline puts on what it creates.
pub mod keys {
    pub const PIPELINE: &str = "mlops:pipeline";
    pub const TRIGGER: &str = "mlops:trigger";
    pub const ECR_REPOSITORY: &str = "mlops:ecr-repository";
    pub const IMAGE_DIGEST: &str = "mlops:image-digest";
    pub const IMAGE_TAG: &str = "mlops:image-tag";
    pub const MODEL_PACKAGE_ARN: &str = "mlops:model-package-arn";
    pub const MODEL_PACKAGE_VERSION: &str = "mlops:model-package-version";
    /// On an endpoint: the version its last Create/UpdateEndpoint moves it to
    /// (the two tags above name the version it serves, once in service).
    pub const DEPLOYING_MODEL_PACKAGE_ARN: &str = "mlops:deploying-model-package-arn";
    pub const DEPLOYING_MODEL_PACKAGE_VERSION: &str = "mlops:deploying-model-package-version";
    /// On an endpoint: the last version whose deployment there failed.
    pub const FAILED_MODEL_PACKAGE_VERSION: &str = "mlops:failed-model-package-version";
    pub const S3_BUCKET: &str = "mlops:s3-bucket";
    pub const S3_KEY: &str = "mlops:s3-key";
    /// The burst of new data a retraining job stands for: `<first object's
    /// event time>/<due time>`.
    pub const BURST: &str = "mlops:burst";
    /// On a training job: the processing job whose outputs it trains on.
    pub const PROCESSING_JOB: &str = "mlops:processing-job";
}

/// A SageMaker tag. Keys and values may only hold letters, digits, spaces and
/// `_.:/=+-@` (keys at most 128 characters, values 256): anything else taken
/// from an event is replaced with `_` and cut to length, so an odd S3 key or
/// repository name never makes the request invalid.
pub fn tag(key: &str, value: &str) -> Tag {
    Tag::builder()
        .key(tag_text(key, 128))
        .value(tag_text(value, 256))
        .build()
}

/// `text` with every character SageMaker refuses in tags and metadata
/// properties replaced by `_`, cut to `max_chars`.
pub fn tag_text(text: &str, max_chars: usize) -> String {
    text.chars()
        .map(|c| {
            if c.is_alphanumeric() || c.is_whitespace() || "_.:/=+-@".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(max_chars)
        .collect()
}

/// `(key, value)` pairs as tags.
pub fn tags(pairs: &[(String, String)]) -> Vec<Tag> {
    pairs.iter().map(|(k, v)| tag(k, v)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_made_valid() {
        let t = tag("mlops:key", "data/Happy Face(1)#.csv");
        assert_eq!(t.value(), Some("data/Happy Face_1__.csv"));
        let long = "x".repeat(300);
        assert_eq!(tag(&long, &long).key().unwrap().len(), 128);
        assert_eq!(tag(&long, &long).value().unwrap().len(), 256);
    }
}
