//! What a function's code asks of AWS, as IAM sees it: an SDK interceptor that records, for every
//! request, the IAM action it needs (an S3 request naming a version needs the `...Version`
//! action; each item of a DynamoDB transaction its own action) and, for each DynamoDB write, the
//! partition key's kind (`APPLICANT#`, ...), which `dynamodb:LeadingKeys` bounds. The IAM audit
//! (scripts/iam_audit.py, run by scripts/test.sh) compares these with each function's role in
//! `infra/template.yaml`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::BeforeTransmitInterceptorContextRef;
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use serde_json::Value;

/// Actions and written key kinds, shared by every client given the same recorder.
#[derive(Debug, Clone, Default)]
pub struct IamRecorder {
    seen: Arc<Mutex<Seen>>,
}

#[derive(Debug, Default)]
struct Seen {
    actions: BTreeSet<String>,
    leading_keys: BTreeSet<String>,
}

impl IamRecorder {
    pub fn new() -> Self {
        Self::default()
    }

    /// The IAM actions the requests so far needed.
    pub fn actions(&self) -> BTreeSet<String> {
        self.lock().actions.clone()
    }

    /// The kinds (`PREFIX#`) of the partition keys written so far.
    pub fn leading_keys(&self) -> BTreeSet<String> {
        self.lock().leading_keys.clone()
    }

    /// Adds what was seen to `<dir>/<function>.json` (`{"actions": [...], "leading_keys":
    /// [...]}`), merged with what an earlier test of the same function wrote there.
    ///
    /// # Panics
    /// When the file cannot be read or written.
    pub fn save(&self, dir: &Path, function: &str) {
        std::fs::create_dir_all(dir).expect("create the IAM audit folder");
        let path = dir.join(format!("{function}.json"));
        let mut merged: BTreeMap<String, BTreeSet<String>> = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .unwrap_or_default();
        merged
            .entry("actions".into())
            .or_default()
            .extend(self.actions());
        merged
            .entry("leading_keys".into())
            .or_default()
            .extend(self.leading_keys());
        let text = serde_json::to_string_pretty(&merged).expect("JSON");
        // Several tests of one function may finish at once: write whole, then rename.
        let temporary = dir.join(format!(
            "{function}.{}.{:?}.tmp",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::write(&temporary, text).expect("write the IAM audit file");
        std::fs::rename(&temporary, &path).expect("rename the IAM audit file");
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Seen> {
        match self.seen.lock() {
            Ok(seen) => seen,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

impl Intercept for IamRecorder {
    fn name(&self) -> &'static str {
        "IamRecorder"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let Some(metadata) = cfg.load::<Metadata>() else {
            return Ok(());
        };
        let request = context.request();
        let uri = request.uri().to_string();
        let versioned = uri.contains("versionId=");
        let body: Option<Value> = request
            .body()
            .bytes()
            .and_then(|bytes| serde_json::from_slice(bytes).ok());
        let mut seen = self.lock();
        let service = metadata.service().to_ascii_lowercase();
        let operation = metadata.name();
        if service.contains("dynamo") {
            record_dynamodb(&mut seen, operation, body.as_ref());
        } else if service == "s3" {
            let version = if versioned { "Version" } else { "" };
            match operation {
                "HeadObject" | "GetObject" => {
                    seen.actions.insert(format!("s3:GetObject{version}"));
                }
                "DeleteObject" => {
                    seen.actions.insert(format!("s3:DeleteObject{version}"));
                }
                "CopyObject" => {
                    let source_versioned = request
                        .headers()
                        .get("x-amz-copy-source")
                        .is_some_and(|source| source.contains("versionId="));
                    let source = if source_versioned { "Version" } else { "" };
                    seen.actions.insert(format!("s3:GetObject{source}"));
                    seen.actions.insert("s3:PutObject".into());
                }
                "ListObjectsV2" | "ListObjects" => {
                    seen.actions.insert("s3:ListBucket".into());
                }
                other => {
                    seen.actions.insert(format!("s3:{other}"));
                }
            }
        } else {
            // SES v2 SendEmail is ses:SendEmail; SQS actions are their operations' names.
            let prefix = if service.contains("ses") {
                "ses"
            } else {
                service.as_str()
            };
            seen.actions.insert(format!("{prefix}:{operation}"));
        }
        Ok(())
    }
}

fn record_dynamodb(seen: &mut Seen, operation: &str, body: Option<&Value>) {
    let mut keys: Vec<&Value> = Vec::new();
    match operation {
        // Each item of a transaction is authorised by its own action.
        "TransactWriteItems" => {
            for item in body
                .and_then(|b| b["TransactItems"].as_array())
                .into_iter()
                .flatten()
            {
                for (kind, action, holder) in [
                    ("Put", "PutItem", "Item"),
                    ("Update", "UpdateItem", "Key"),
                    ("Delete", "DeleteItem", "Key"),
                    ("ConditionCheck", "ConditionCheckItem", "Key"),
                ] {
                    if let Some(part) = item.get(kind) {
                        seen.actions.insert(format!("dynamodb:{action}"));
                        keys.push(&part[holder]);
                    }
                }
            }
        }
        "BatchWriteItem" => {
            seen.actions.insert("dynamodb:BatchWriteItem".into());
            for requests in body
                .and_then(|b| b["RequestItems"].as_object())
                .into_iter()
                .flat_map(|tables| tables.values())
                .filter_map(Value::as_array)
            {
                for request in requests {
                    keys.push(&request["PutRequest"]["Item"]);
                    keys.push(&request["DeleteRequest"]["Key"]);
                }
            }
        }
        "PutItem" => {
            seen.actions.insert("dynamodb:PutItem".into());
            keys.extend(body.map(|b| &b["Item"]));
        }
        "UpdateItem" | "DeleteItem" => {
            seen.actions.insert(format!("dynamodb:{operation}"));
            keys.extend(body.map(|b| &b["Key"]));
        }
        other => {
            seen.actions.insert(format!("dynamodb:{other}"));
        }
    }
    for key in keys {
        if let Some(pk) = key["PK"]["S"].as_str() {
            let kind = pk.find('#').map_or(pk, |i| &pk[..=i]);
            seen.leading_keys.insert(kind.to_string());
        }
    }
}
