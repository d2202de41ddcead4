//! The [`Metrics`] port in AWS: CloudWatch Embedded Metric Format (EMF) lines on the function's
//! standard output.
//!
//! Lambda sends standard output to CloudWatch Logs, which turns each EMF line into a metric data
//! point. So a quarantine is counted without the CloudWatch SDK (a large crate for one call, and
//! minutes on every cold build), without `cloudwatch:PutMetricData` in any role, and without a
//! network call that could fail or hold up the file: the line is written with the log lines.
//!
//! Each line is one JSON object on one line (CloudWatch Logs reads one event per line), written
//! whole under the standard output lock so a log line of another task is never spliced into it.
//! It holds the local office (a code from the configuration or the file name's fixed list, or
//! `unknown`) and the reason code, both also plain members so Logs Insights can group by them; no
//! file name, line or reason text, which could carry a record's content.

use std::io::Write;
use std::sync::Mutex;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dit_core::ports::Metrics;
use serde_json::json;
use tracing::warn;

/// The CloudWatch namespace when the function is given none; the template gives each stack its
/// own (`DoctorsInTraining/<stack>`), so a test stack's quarantines never sound production's alarm.
pub const NAMESPACE: &str = "DoctorsInTraining";
/// The count of files quarantined; infra/template.yaml alarms on it.
pub const FILES_QUARANTINED: &str = "FilesQuarantined";
/// The dimension naming the local office of a quarantined file.
pub const LOCAL_OFFICE: &str = "LocalOffice";
/// The dimension value of a file whose name names no local office.
pub const UNKNOWN_LOCAL_OFFICE: &str = "unknown";

/// EMF lines to a writer: the process's standard output in a function, a buffer in tests.
pub struct EmfMetrics {
    namespace: String,
    out: Mutex<Box<dyn Write + Send>>,
}

impl EmfMetrics {
    /// Lines for `namespace` to standard output, where Lambda's log capture reads them.
    pub fn stdout(namespace: &str) -> EmfMetrics {
        EmfMetrics::to(namespace, Box::new(std::io::stdout()))
    }

    /// Lines for `namespace` to `out`.
    pub fn to(namespace: &str, out: Box<dyn Write + Send>) -> EmfMetrics {
        EmfMetrics {
            namespace: namespace.to_string(),
            out: Mutex::new(out),
        }
    }
}

/// The EMF line (without its newline) of one quarantined file at `at`, in `namespace`.
///
/// Two dimension sets: per local office, and none, so one alarm on the undimensioned metric
/// watches every local office, including files naming none.
pub fn quarantine_line(
    namespace: &str,
    local_office: Option<&str>,
    reason_code: &str,
    at: DateTime<Utc>,
) -> String {
    json!({
        "_aws": {
            "Timestamp": at.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": namespace,
                "Dimensions": [[LOCAL_OFFICE], []],
                "Metrics": [{"Name": FILES_QUARANTINED, "Unit": "Count"}],
            }],
        },
        LOCAL_OFFICE: local_office.unwrap_or(UNKNOWN_LOCAL_OFFICE),
        "ReasonCode": reason_code,
        FILES_QUARANTINED: 1,
    })
    .to_string()
}

#[async_trait]
impl Metrics for EmfMetrics {
    async fn file_quarantined(&self, local_office: Option<&str>, reason_code: &str) {
        let mut line = quarantine_line(&self.namespace, local_office, reason_code, Utc::now());
        line.push('\n');
        // One write_all of the whole line: the standard output lock is held for all of it.
        let written = match self.out.lock() {
            Ok(mut out) => out.write_all(line.as_bytes()).and_then(|()| out.flush()),
            Err(_) => Err(std::io::Error::other("metrics writer poisoned")),
        };
        if let Err(err) = written {
            warn!(metric = FILES_QUARANTINED, error = %err, "metric line not written");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_line_is_one_emf_document_naming_its_own_members() {
        let at = Utc.with_ymd_and_hms(2026, 11, 21, 13, 0, 0).unwrap();
        let line = quarantine_line(NAMESPACE, Some("KSS"), "trl_count", at);
        assert!(!line.contains('\n'));
        let doc: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(doc["_aws"]["Timestamp"], at.timestamp_millis());
        let directive = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], NAMESPACE);
        assert_eq!(directive["Metrics"][0]["Name"], FILES_QUARANTINED);
        assert_eq!(directive["Metrics"][0]["Unit"], "Count");
        // Every metric and dimension a directive names must be a member of the root.
        for set in directive["Dimensions"].as_array().unwrap() {
            for key in set.as_array().unwrap() {
                assert!(doc[key.as_str().unwrap()].is_string(), "{key}");
            }
        }
        assert_eq!(doc[LOCAL_OFFICE], "KSS");
        assert_eq!(doc[FILES_QUARANTINED], 1);
        let unknown: serde_json::Value =
            serde_json::from_str(&quarantine_line(NAMESPACE, None, "bad_name", at)).unwrap();
        assert_eq!(unknown[LOCAL_OFFICE], UNKNOWN_LOCAL_OFFICE);
    }
}
