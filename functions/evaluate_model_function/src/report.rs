//! Finding a training job's evaluation report in S3 and keeping a copy of it
//! next to the model artifacts, where the registry can point at it.

use std::io::Read;

use aws_sdk_s3::primitives::ByteStream;
use shared::s3::{get_object, Object, S3Uri};
use shared::PipelineError;

/// The report file a job writes to /opt/ml/output/data.
pub const REPORT_FILE: &str = "evaluation.json";
/// Largest output archive or report read into memory. Lambda's memory is
/// small; a job that writes more should point EVALUATION_REPORT_S3_URI at a
/// separate report.
pub const MAX_OBJECT_BYTES: u64 = 64 * 1024 * 1024;
const MAX_REPORT_BYTES: u64 = 4 * 1024 * 1024;

/// What was found where a report may be.
#[derive(Debug)]
pub enum ReportLookup {
    /// No object there: the job wrote no report.
    Absent,
    /// A report, parsed.
    Found(serde_json::Value),
    /// Something is there but is not a usable report: the evaluation fails
    /// with this reason rather than passing on partial information.
    Unusable(String),
}

fn too_large(uri: &S3Uri) -> ReportLookup {
    ReportLookup::Unusable(format!(
        "{uri} is larger than the {} MiB the evaluator reads; write the report to \
         EVALUATION_REPORT_S3_URI instead",
        MAX_OBJECT_BYTES / 1024 / 1024
    ))
}

/// The report at `uri`, read from what is there by `read`: [`parse_report`]
/// for a JSON file, [`report_in_archive`] for the job's `output.tar.gz`.
pub async fn read_report(
    s3: &aws_sdk_s3::Client,
    uri: &S3Uri,
    read: fn(&[u8], &str) -> ReportLookup,
) -> Result<ReportLookup, PipelineError> {
    Ok(match get_object(s3, uri, MAX_OBJECT_BYTES).await? {
        Object::Missing => ReportLookup::Absent,
        Object::TooLarge => too_large(uri),
        Object::Bytes(bytes) => read(&bytes, &uri.to_string()),
    })
}

/// Finds `evaluation.json` (at any depth) in a gzip'd tar archive.
pub fn report_in_archive(archive: &[u8], name: &str) -> ReportLookup {
    let mut entries = tar::Archive::new(flate2::read::GzDecoder::new(archive));
    let entries = match entries.entries() {
        Ok(entries) => entries,
        Err(err) => {
            return ReportLookup::Unusable(format!("{name} is not a tar.gz archive: {err}"))
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(err) => {
                return ReportLookup::Unusable(format!(
                    "{name} is not a readable tar.gz archive: {err}"
                ))
            }
        };
        let is_report = entry
            .path()
            .ok()
            .is_some_and(|path| path.file_name().is_some_and(|file| file == REPORT_FILE));
        if is_report {
            let mut bytes = Vec::new();
            if let Err(err) = entry.take(MAX_REPORT_BYTES + 1).read_to_end(&mut bytes) {
                return ReportLookup::Unusable(format!(
                    "{REPORT_FILE} in {name} cannot be read: {err}"
                ));
            }
            if bytes.len() as u64 > MAX_REPORT_BYTES {
                return ReportLookup::Unusable(format!(
                    "{REPORT_FILE} in {name} is larger than 4 MiB"
                ));
            }
            return parse_report(&bytes, &format!("{REPORT_FILE} in {name}"));
        }
    }
    ReportLookup::Absent
}

pub fn parse_report(bytes: &[u8], name: &str) -> ReportLookup {
    match serde_json::from_slice::<serde_json::Value>(bytes) {
        Ok(report) if report.is_object() => ReportLookup::Found(report),
        Ok(_) => ReportLookup::Unusable(format!("{name} is not a JSON object")),
        Err(err) => ReportLookup::Unusable(format!("{name} is not valid JSON: {err}")),
    }
}

/// Stores the report at `uri` (JSON, as found).
pub async fn store_copy(
    s3: &aws_sdk_s3::Client,
    uri: &S3Uri,
    report: &serde_json::Value,
) -> Result<(), PipelineError> {
    s3.put_object()
        .bucket(&uri.bucket)
        .key(&uri.key)
        .content_type("application/json")
        .body(ByteStream::from(report.to_string().into_bytes()))
        .send()
        .await
        .map_err(|err| PipelineError::from_sdk("PutObject", err))?;
    Ok(())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A gzip'd tar archive of `files`, as a job's output.tar.gz.
    pub(crate) fn archive(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::fast(),
        ));
        for (path, data) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_cksum();
            builder.append_data(&mut header, path, *data).unwrap();
        }
        builder.into_inner().unwrap().finish().unwrap()
    }

    #[test]
    fn finds_the_report_at_any_depth() {
        let bytes = archive(&[
            ("data/predictions.csv", b"1,2\n"),
            (
                "data/evaluation.json",
                br#"{"regression_metrics":{"rmse":{"value":2.9}}}"#,
            ),
        ]);
        let ReportLookup::Found(report) = report_in_archive(&bytes, "output.tar.gz") else {
            panic!("not found");
        };
        assert_eq!(report["regression_metrics"]["rmse"]["value"], 2.9);
    }

    #[test]
    fn an_archive_without_a_report_has_none() {
        let bytes = archive(&[("predictions.csv", b"1,2\n")]);
        assert!(matches!(
            report_in_archive(&bytes, "x"),
            ReportLookup::Absent
        ));
    }

    #[test]
    fn broken_reports_and_archives_are_unusable_with_a_reason() {
        let bytes = archive(&[("evaluation.json", b"{not json")]);
        let ReportLookup::Unusable(reason) = report_in_archive(&bytes, "output.tar.gz") else {
            panic!("accepted");
        };
        assert!(
            reason.contains("evaluation.json in output.tar.gz is not valid JSON"),
            "{reason}"
        );
        let bytes = archive(&[("evaluation.json", b"[1,2]")]);
        assert!(matches!(
            report_in_archive(&bytes, "x"),
            ReportLookup::Unusable(_)
        ));
        assert!(matches!(
            report_in_archive(b"plain text", "x"),
            ReportLookup::Unusable(_)
        ));
    }
}
