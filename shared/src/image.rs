//! Container images pinned by digest.

/// `<account>.dkr.ecr.<region>.<domain>/<repository>@sha256:<hex>`, checked
/// piece by piece so a malformed event never becomes a malformed request.
/// Each error names the event field that is wrong.
pub fn ecr_image_by_digest(
    account: &str,
    region: &str,
    repository: &str,
    digest: &str,
) -> Result<String, String> {
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "account {account:?} is not a 12-digit AWS account id"
        ));
    }
    let region_ok = !region.is_empty()
        && region.split('-').count() >= 3
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !region_ok {
        return Err(format!("region {region:?} is not an AWS region"));
    }
    if !is_ecr_repository_name(repository) {
        return Err(format!(
            "detail.repository-name {repository:?} is not an ECR repository name"
        ));
    }
    if !is_sha256_digest(digest) {
        return Err(format!(
            "detail.image-digest {digest:?} is not a sha256:<64 hex digits> digest"
        ));
    }
    // China regions live under their own DNS suffix.
    let domain = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    Ok(format!(
        "{account}.dkr.ecr.{region}.{domain}/{repository}@{digest}"
    ))
}

/// Whether `image` is pinned by digest: `<registry>/<repository>@sha256:<64 hex>`
/// (any repository before the `@`).
pub fn is_pinned_by_digest(image: &str) -> bool {
    image
        .split_once('@')
        .is_some_and(|(repo, digest)| !repo.is_empty() && is_sha256_digest(digest))
}

pub fn is_sha256_digest(digest: &str) -> bool {
    digest.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

/// ECR's rule: 2-256 characters, path components of lower-case letters and
/// digits separated by single `.`, `_` or `-` (or `__`), joined by `/`.
pub fn is_ecr_repository_name(name: &str) -> bool {
    (2..=256).contains(&name.len())
        && name.split('/').all(|component| {
            let bytes = component.as_bytes();
            !bytes.is_empty()
                && bytes[0].is_ascii_alphanumeric()
                && bytes[bytes.len() - 1].is_ascii_alphanumeric()
                && bytes
                    .iter()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(b))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DIGEST: &str = "sha256:7f5b2640fe6fb4f46592dfd3410c4a79dac4f89e4782432e0378abcd1234abcd";

    #[test]
    fn pins_the_image_by_digest() {
        assert_eq!(
            ecr_image_by_digest("123456789012", "us-east-1", "team/mlops-training", DIGEST)
                .unwrap(),
            format!("123456789012.dkr.ecr.us-east-1.amazonaws.com/team/mlops-training@{DIGEST}")
        );
        assert!(
            ecr_image_by_digest("123456789012", "cn-north-1", "repo", DIGEST)
                .unwrap()
                .contains(".amazonaws.com.cn/")
        );
    }

    #[test]
    fn names_the_bad_part() {
        let cases = [
            ("12345", "us-east-1", "repo", DIGEST, "account"),
            ("123456789012", "Mars", "repo", DIGEST, "region"),
            (
                "123456789012",
                "us-east-1",
                "Repo",
                DIGEST,
                "repository-name",
            ),
            (
                "123456789012",
                "us-east-1",
                "a//b",
                DIGEST,
                "repository-name",
            ),
            (
                "123456789012",
                "us-east-1",
                "repo",
                "sha256:XYZ",
                "image-digest",
            ),
            (
                "123456789012",
                "us-east-1",
                "repo",
                "latest",
                "image-digest",
            ),
        ];
        for (account, region, repo, digest, field) in cases {
            let err = ecr_image_by_digest(account, region, repo, digest).unwrap_err();
            assert!(err.contains(field), "{err}");
        }
    }
}
