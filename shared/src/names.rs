//! Deterministic SageMaker names.
//!
//! Every name a handler creates is derived from the identity of what caused
//! the work (an image digest, an object version, a job name), so a repeated
//! event yields the same name and SageMaker's uniqueness rule becomes the
//! idempotency lock. Names look like
//!
//! ```text
//! <pipeline>--<kind>-<readable part>-<16 hex digits of SHA-256(identity)>
//! ```
//!
//! Pipeline names may not contain `--`, so `<pipeline>--` is an unambiguous
//! prefix: pipeline `mlops` never matches the resources of `mlops-dev`, and
//! EventBridge rules and IAM policies can filter on it. Pipeline names are
//! lower-case because SageMaker lower-cases names in ARNs, which is what IAM
//! policies match; the readable part is lower-cased for the same reason.

use std::fmt;

use sha2::{Digest, Sha256};

/// SageMaker's limit for job, model, endpoint and config names.
pub const MAX_NAME_LEN: usize = 63;
/// Leaves room in every derived name for the kind, a readable part and the hash.
pub const MAX_PIPELINE_NAME_LEN: usize = 32;
const HASH_HEX_LEN: usize = 16;
const MAX_KIND_LEN: usize = 6;

/// Whether `name` matches SageMaker's `^[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}$`.
pub fn is_valid_sagemaker_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= MAX_NAME_LEN
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && bytes[0].is_ascii_alphanumeric()
        && bytes[bytes.len() - 1].is_ascii_alphanumeric()
}

/// The pipeline's name: the prefix of everything it creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineName(String);

impl PipelineName {
    pub fn parse(name: &str) -> Result<PipelineName, String> {
        let well_formed = !name.is_empty()
            && name.split('-').all(|part| {
                !part.is_empty()
                    && part
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
        if !well_formed {
            return Err(format!(
                "{name:?} is not a valid pipeline name: use lower-case letters, digits and single \
                 hyphens, starting and ending with a letter or digit"
            ));
        }
        if name.len() > MAX_PIPELINE_NAME_LEN {
            return Err(format!(
                "{name:?} is {} characters; a pipeline name may have at most {MAX_PIPELINE_NAME_LEN} \
                 so that the names derived from it fit SageMaker's 63",
                name.len()
            ));
        }
        Ok(PipelineName(name.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The prefix every resource name of this pipeline starts with.
    pub fn resource_prefix(&self) -> String {
        format!("{}--", self.0)
    }

    /// Whether `name` is a resource of this pipeline.
    pub fn owns(&self, name: &str) -> bool {
        name.starts_with(&self.resource_prefix())
    }

    /// The deterministic name for the work identified by `identity`.
    ///
    /// `kind` says which stage made it (`ecr`, `s3`, ...); `readable` is shown
    /// in the name as far as it fits, for people; only `identity` decides
    /// uniqueness.
    pub fn derive_name(&self, kind: &str, readable: &str, identity: &[&str]) -> ResourceName {
        assert!(
            !kind.is_empty()
                && kind.len() <= MAX_KIND_LEN
                && kind.bytes().all(|b| b.is_ascii_alphanumeric()),
            "name kind {kind:?} must be 1 to {MAX_KIND_LEN} letters or digits"
        );
        let hash = identity_hash(identity);
        let fixed = self.0.len() + 2 + kind.len() + 1 + HASH_HEX_LEN;
        // One more character is the hyphen before the readable part.
        let room = MAX_NAME_LEN.saturating_sub(fixed + 1);
        let slug = slug(readable, room);
        let name = if slug.is_empty() {
            format!("{}--{kind}-{hash}", self.0)
        } else {
            format!("{}--{kind}-{slug}-{hash}", self.0)
        };
        debug_assert!(is_valid_sagemaker_name(&name), "{name}");
        ResourceName(name)
    }
}

impl fmt::Display for PipelineName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A name that is valid for SageMaker jobs, models, configs and endpoints.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ResourceName(String);

impl ResourceName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ResourceName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<ResourceName> for String {
    fn from(name: ResourceName) -> String {
        name.0
    }
}

/// An idempotency token (`ClientToken`) for the work identified by
/// `identity`: 32 hex digits, within the 36 characters SageMaker allows.
pub fn idempotency_token(identity: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in identity {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hasher.finalize()[..16]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The first 64 bits of SHA-256 over the identity parts, length-prefixed so
/// that `["ab", "c"]` and `["a", "bc"]` differ.
fn identity_hash(identity: &[&str]) -> String {
    idempotency_token(identity)[..HASH_HEX_LEN].to_string()
}

/// Lower-case letters and digits of `text`, runs of anything else as one
/// hyphen, at most `max` characters, never starting or ending with a hyphen.
fn slug(text: &str, max: usize) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if out.len() >= max {
            break;
        }
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pipeline(name: &str) -> PipelineName {
        PipelineName::parse(name).unwrap()
    }

    /// Golden values of the derivation itself, one per kind the stages use,
    /// and of the ClientToken: a redelivery after an upgrade must ask
    /// SageMaker for the same name or token, so a change here is a breaking
    /// change (docs/architecture.md, "Names and idempotency").
    #[test]
    fn golden_names_and_tokens() {
        let p = pipeline("mlops");
        let digest = "123456789012.dkr.ecr.us-east-1.amazonaws.com/mlops-training@sha256:9f3ada942312fb3afdeab834233daeebd2e9753f943b623b9197f378176470a6";
        let package = "arn:aws:sagemaker:us-east-1:123456789012:model-package/mlops--models/3";
        let golden = [
            (
                p.derive_name("ecr", "mlops-training", &[digest]),
                "mlops--ecr-mlops-training-b26d3342fea05d4c",
            ),
            (
                p.derive_name(
                    "s3",
                    "20261123-090000",
                    &["retrain", "s3://bucket/data/train/", "2026-11-23T09:00:00Z"],
                ),
                "mlops--s3-20261123-090000-76a99a846f809041",
            ),
            (
                p.derive_name("model", "mlops--models-v3", &[package]),
                "mlops--model-mlops-models-v3-0eef6ebbee156308",
            ),
            (
                p.derive_name("epc", "mlops--endpoint-v3", &["mlops--endpoint", package]),
                "mlops--epc-mlops-endpoint-v3-a2b13ab0354abeac",
            ),
        ];
        for (derived, expected) in golden {
            assert_eq!(derived.as_str(), expected);
        }
        assert_eq!(
            idempotency_token(&["arn:aws:sagemaker:us-east-1:123456789012:training-job/mlops--ecr-mlops-training-b26d3342fea05d4c"]),
            "e5951b27e3e6dad4fa5ce0813e1208c7"
        );
    }

    #[test]
    fn sagemaker_name_rule() {
        for good in ["a", "A1", "a-b", "a--b", &"a".repeat(63)] {
            assert!(is_valid_sagemaker_name(good), "{good:?} rejected");
        }
        for bad in ["", "-a", "a-", "a_b", "a.b", "a b", "é", &"a".repeat(64)] {
            assert!(!is_valid_sagemaker_name(bad), "{bad:?} accepted");
        }
    }

    #[test]
    fn pipeline_names_are_validated() {
        for good in ["mlops", "ml-ops-2", "a", &"a".repeat(32)] {
            assert!(PipelineName::parse(good).is_ok(), "{good:?} rejected");
        }
        for bad in [
            "",
            "-mlops",
            "mlops-",
            "ml--ops",
            "ml_ops",
            "ml.ops",
            "ml ops",
            "mløps",
            "MLOps",
            &"a".repeat(33),
        ] {
            let err = PipelineName::parse(bad).unwrap_err();
            assert!(err.contains("pipeline name"), "{bad:?}: {err}");
        }
    }

    #[test]
    fn names_are_deterministic_and_readable() {
        let p = pipeline("mlops");
        let digest = "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234abcd";
        let a = p.derive_name("ecr", "mlops-training", &["mlops-training", digest]);
        let b = p.derive_name("ecr", "mlops-training", &["mlops-training", digest]);
        assert_eq!(a, b);
        assert!(a.as_str().starts_with("mlops--ecr-mlops-training-"), "{a}");
        assert_eq!(a.as_str().len(), "mlops--ecr-mlops-training-".len() + 16);
        let other = p.derive_name("ecr", "mlops-training", &["mlops-training", "sha256:00"]);
        assert_ne!(a, other);
    }

    #[test]
    fn idempotency_tokens_fit_client_token_rules() {
        let token = idempotency_token(&["arn:aws:sagemaker:us-east-1:1:training-job/x"]);
        assert_eq!(token.len(), 32);
        assert!(is_valid_sagemaker_name(&token));
        assert_eq!(
            token,
            idempotency_token(&["arn:aws:sagemaker:us-east-1:1:training-job/x"])
        );
        assert_ne!(
            token,
            idempotency_token(&["arn:aws:sagemaker:us-east-1:1:training-job/y"])
        );
    }

    #[test]
    fn identity_parts_are_not_ambiguous() {
        let p = pipeline("p");
        assert_ne!(
            p.derive_name("ecr", "", &["ab", "c"]),
            p.derive_name("ecr", "", &["a", "bc"])
        );
    }

    #[test]
    fn odd_readable_parts_still_give_valid_names() {
        let p = pipeline(&"p".repeat(32));
        let long_repo = "team/".repeat(60); // 300 characters
        for readable in [
            long_repo.as_str(),
            "my.repo_name/with/slashes",
            "ünïcödé-репозиторий-模型",
            "---",
            "",
            "a",
            "UPPER_case.Mixed",
        ] {
            let name = p.derive_name("ecr", readable, &[readable]);
            assert!(is_valid_sagemaker_name(name.as_str()), "{name}");
            assert!(p.owns(name.as_str()));
        }
    }

    #[test]
    fn prefixes_do_not_collide_between_pipelines() {
        let short = pipeline("mlops");
        let longer = pipeline("mlops-dev");
        let name = longer.derive_name("ecr", "repo", &["x"]);
        assert!(longer.owns(name.as_str()));
        assert!(!short.owns(name.as_str()));
    }

    proptest! {
        #[test]
        fn any_input_gives_a_valid_owned_name(
            pipeline_name in "[a-z0-9]{1,10}(-[a-z0-9]{1,10}){0,2}",
            readable in any::<String>(),
            identity in proptest::collection::vec(any::<String>(), 0..4),
        ) {
            let p = PipelineName::parse(&pipeline_name).unwrap();
            let parts: Vec<&str> = identity.iter().map(String::as_str).collect();
            let name = p.derive_name("s3", &readable, &parts);
            prop_assert!(is_valid_sagemaker_name(name.as_str()), "{}", name);
            prop_assert!(p.owns(name.as_str()));
            prop_assert_eq!(name.clone(), p.derive_name("s3", &readable, &parts));
        }

        #[test]
        fn different_identities_give_different_names(a in any::<String>(), b in any::<String>()) {
            prop_assume!(a != b);
            let p = PipelineName::parse("mlops").unwrap();
            prop_assert_ne!(p.derive_name("ecr", "r", &[&a]), p.derive_name("ecr", "r", &[&b]));
        }
    }
}
