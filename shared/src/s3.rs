//! S3 locations as the pipeline uses them: `s3://bucket/key` URIs in
//! configuration, object keys as S3 notifications carry them, and reading
//! one object whole ([`get_object`]).

use std::fmt;

use aws_sdk_s3::operation::get_object::GetObjectError;

use crate::PipelineError;

/// A parsed `s3://bucket/key-or-prefix` URI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Uri {
    pub bucket: String,
    pub key: String,
}

impl S3Uri {
    pub fn parse(uri: &str) -> Result<S3Uri, String> {
        let rest = uri
            .strip_prefix("s3://")
            .ok_or_else(|| format!("must be an s3:// URI, got {uri:?}"))?;
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
            && !bucket.starts_with(['.', '-'])
            && !bucket.ends_with(['.', '-']);
        if !bucket_ok {
            return Err(format!("{uri:?} does not name a valid S3 bucket"));
        }
        Ok(S3Uri {
            bucket: bucket.to_string(),
            key: key.to_string(),
        })
    }
}

/// An object as [`get_object`] found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Object {
    Missing,
    /// Larger than the caller reads into memory.
    TooLarge,
    Bytes(Vec<u8>),
}

/// The object at `uri`, read whole when it is at most `max_bytes`. A missing
/// object is an answer, not an error; S3 failing or the body breaking off is
/// an error.
pub async fn get_object(
    s3: &aws_sdk_s3::Client,
    uri: &S3Uri,
    max_bytes: u64,
) -> Result<Object, PipelineError> {
    let response = s3
        .get_object()
        .bucket(&uri.bucket)
        .key(&uri.key)
        .send()
        .await;
    let object = match response {
        Ok(object) => object,
        Err(err) if matches!(err.as_service_error(), Some(GetObjectError::NoSuchKey(_))) => {
            return Ok(Object::Missing)
        }
        Err(err) => return Err(PipelineError::from_sdk("GetObject", err)),
    };
    if object.content_length().unwrap_or(0).max(0) as u64 > max_bytes {
        return Ok(Object::TooLarge);
    }
    let bytes = object
        .body
        .collect()
        .await
        .map_err(|err| PipelineError::AwsTransient {
            operation: "GetObject",
            code: "ResponseError".into(),
            message: format!("reading {uri}: {err}"),
        })?;
    Ok(Object::Bytes(bytes.into_bytes().to_vec()))
}

impl fmt::Display for S3Uri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

/// Decodes an object key from an S3 notification `Records` entry, where keys
/// are URL-encoded form-style: `+` is a space and `%XX` a byte.
pub fn decode_notification_key(raw: &str) -> Result<String, String> {
    let spaced = raw.replace('+', " ");
    let bytes = spaced.as_bytes();
    // Reject malformed escapes instead of passing them through: a key we
    // cannot decode is a key we would look up wrongly.
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let valid = bytes.len() >= i + 3
                && bytes[i + 1].is_ascii_hexdigit()
                && bytes[i + 2].is_ascii_hexdigit();
            if !valid {
                return Err(format!("object key {raw:?} has an invalid %-escape"));
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    percent_encoding::percent_decode_str(&spaced)
        .decode_utf8()
        .map(|key| key.into_owned())
        .map_err(|_| format!("object key {raw:?} does not decode to UTF-8"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_bucket_and_key() {
        let uri = S3Uri::parse("s3://my-bucket/data/train/").unwrap();
        assert_eq!(uri.bucket, "my-bucket");
        assert_eq!(uri.key, "data/train/");
        assert_eq!(S3Uri::parse("s3://my-bucket").unwrap().key, "");
        assert_eq!(uri.to_string(), "s3://my-bucket/data/train/");
    }

    #[test]
    fn rejects_what_is_not_an_s3_uri() {
        for bad in [
            "",
            "my-bucket/data",
            "https://my-bucket/data",
            "s3://",
            "s3://ab/x",
            "s3://My_Bucket/x",
            "s3://-bucket/x",
        ] {
            assert!(S3Uri::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn decodes_notification_keys() {
        assert_eq!(
            decode_notification_key("data/train/Happy+Face%281%29.csv").unwrap(),
            "data/train/Happy Face(1).csv"
        );
        assert_eq!(decode_notification_key("a%2Bb").unwrap(), "a+b");
        assert_eq!(decode_notification_key("caf%C3%A9").unwrap(), "café");
        assert!(decode_notification_key("bad%zz").is_err());
        assert!(decode_notification_key("bad%2").is_err());
        assert!(decode_notification_key("bad%ff").is_err());
    }
}
