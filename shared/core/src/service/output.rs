//! Writing outputs: structured JSON (pretty, one trailing newline) and its HTML rendering for people,
//! and for a trust's notifications, reminders and reports the e-mail alert that they are there.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use tracing::{info, warn};

use super::context::{Context, ProcessError};
use crate::ports::{Area, BlobError, BlobStore, NewObject};
use dit_domain::mail::{compose, Alerting};
use dit_domain::notify::escape_into;
use dit_domain::org::Questions;

/// Writes `value` as pretty JSON under `key`.
pub async fn put_json<T: Serialize>(
    blobs: &dyn BlobStore,
    area: Area,
    key: &str,
    value: &T,
) -> Result<(), BlobError> {
    blobs
        .put(area, key, json_bytes(value), "application/json")
        .await
}

fn json_bytes<T: Serialize>(value: &T) -> Vec<u8> {
    let mut bytes = serde_json::to_vec_pretty(value).unwrap_or_default();
    bytes.push(b'\n');
    bytes
}

/// Writes a structured output as `<base>.json` and its rendering for people as `<base>.html`,
/// and returns both keys as outputs (`outbound/...`).
pub async fn put_json_and_html<T: Serialize>(
    blobs: &dyn BlobStore,
    base: &str,
    value: &T,
    html: String,
) -> Result<[String; 2], BlobError> {
    let (objects, written) = json_and_html(base, value, html);
    for object in objects {
        blobs
            .put(object.area, &object.key, object.bytes, object.content_type)
            .await?;
    }
    Ok(written)
}

/// The objects of [`put_json_and_html`] and the outputs they are reported as.
fn json_and_html<T: Serialize>(
    base: &str,
    value: &T,
    html: String,
) -> ([NewObject; 2], [String; 2]) {
    let (json_key, html_key) = (format!("{base}.json"), format!("{base}.html"));
    let written = [
        format!("outbound/{json_key}"),
        format!("outbound/{html_key}"),
    ];
    let objects = [
        NewObject {
            area: Area::Outbound,
            key: json_key,
            bytes: json_bytes(value),
            content_type: "application/json",
        },
        NewObject {
            area: Area::Outbound,
            key: html_key,
            bytes: html.into_bytes(),
            content_type: "text/html; charset=utf-8",
        },
    ];
    (objects, written)
}

/// Writes a notification, reminder or report for trust `vpd` (as [`put_json_and_html`]), naming
/// the contacts of local office `lo` (the one that sent the data; the trust's own when `None`)
/// and of the trust where configured (section 12), then alerts the trust's `alert_emails` that
/// it is there. `made_at` is when the input that caused it
/// was made: the alert's date, so that a rerun composes the same alert.
///
/// # Errors
/// The write failed, or the alert could not be handed over for now (retrying writes the same
/// objects again and sends the alert once). An alert refused for good is logged, not an error:
/// the notification is written and the file is not held up by e-mail.
pub async fn put_notification<T: Serialize + Alerting>(
    ctx: &Context<'_>,
    vpd: &str,
    lo: Option<&str>,
    base: &str,
    value: &T,
    html: String,
    made_at: DateTime<Utc>,
) -> Result<[String; 2], ProcessError> {
    let written = match ctx.organisations.questions(vpd, lo) {
        Some(questions) => {
            let html = with_questions(html, &questions);
            let value = WithQuestions {
                value,
                questions: &questions,
            };
            put_json_and_html(ctx.blobs, base, &value, html).await?
        }
        None => put_json_and_html(ctx.blobs, base, value, html).await?,
    };
    alert(ctx, vpd, base, value, made_at)
        .await
        .map(|()| written)
}

/// Writes a notification as [`put_notification`] does, but only once per `base`: its JSON (what
/// the inbox lists) with one conditional write ([`BlobStore::put_new`]), its HTML after it. The
/// alert is asked for every time, so a call after a crash between the write and the alert still
/// sends it, and the mailer's own claim on the notification's key keeps it to one. Returns
/// whether this call wrote the notification. The caller makes `base` and `value` the same for
/// the same cause, so a repeated call finds the same object.
///
/// # Errors
/// As [`put_notification`].
pub async fn put_notification_once<T: Serialize + Alerting>(
    ctx: &Context<'_>,
    vpd: &str,
    lo: Option<&str>,
    base: &str,
    value: &T,
    html: String,
    made_at: DateTime<Utc>,
) -> Result<bool, ProcessError> {
    let ([json, html], _) = match ctx.organisations.questions(vpd, lo) {
        Some(questions) => {
            let html = with_questions(html, &questions);
            let value = WithQuestions {
                value,
                questions: &questions,
            };
            json_and_html(base, &value, html)
        }
        None => json_and_html(base, value, html),
    };
    let written = ctx
        .blobs
        .put_new(json.area, &json.key, json.bytes, json.content_type)
        .await?;
    if written || ctx.blobs.size(html.area, &html.key).await?.is_none() {
        ctx.blobs
            .put(html.area, &html.key, html.bytes, html.content_type)
            .await?;
    }
    alert(ctx, vpd, base, value, made_at).await?;
    Ok(written)
}

/// One trust's notification, reminder or report for [`put_notifications`].
pub struct TrustOutput<T> {
    pub vpd: String,
    /// The local office that sent the data (the trust's own when `None`), for its contact.
    pub local_office: Option<String>,
    /// The objects' key without `.json` or `.html`.
    pub base: String,
    pub value: T,
    pub html: String,
}

/// Writes several trusts' outputs as [`put_notification`] writes one: every object through one
/// [`BlobStore::put_all`] (so a store that can writes them at once), then each trust's alert,
/// in order. Returns the outputs (`outbound/...`), JSON then HTML for each trust in order.
///
/// # Errors
/// As [`put_notification`].
pub async fn put_notifications<T: Serialize + Alerting + Send>(
    ctx: &Context<'_>,
    outputs: Vec<TrustOutput<T>>,
    made_at: DateTime<Utc>,
) -> Result<Vec<String>, ProcessError> {
    let organisations = ctx.organisations;
    let rendered = map_on_two_threads(outputs, |output| {
        let TrustOutput {
            vpd,
            local_office,
            base,
            value,
            html,
        } = output;
        let (pair, paths) = match organisations.questions(&vpd, local_office.as_deref()) {
            Some(questions) => {
                let html = with_questions(html, &questions);
                let value = WithQuestions {
                    value: &value,
                    questions: &questions,
                };
                json_and_html(&base, &value, html)
            }
            None => json_and_html(&base, &value, html),
        };
        (pair, paths, (vpd, base, value))
    });
    let mut objects = Vec::with_capacity(rendered.len() * 2);
    let mut written = Vec::with_capacity(rendered.len() * 2);
    let mut alerts = Vec::with_capacity(rendered.len());
    for (pair, paths, alerting) in rendered {
        objects.extend(pair);
        written.extend(paths);
        alerts.push(alerting);
    }
    ctx.blobs.put_all(objects).await?;
    for (vpd, base, value) in alerts {
        alert(ctx, &vpd, &base, &value, made_at).await?;
    }
    Ok(written)
}

/// `work` done on each of `items` by this thread and one more, each taking half, the results
/// in the items' order: the JSON and HTML of a large file's notifications are most of what its
/// load does after the last record, on one core while the other had nothing to do.
pub fn map_on_two_threads<I: Send, O: Send>(
    mut items: Vec<I>,
    work: impl Fn(I) -> O + Sync,
) -> Vec<O> {
    if items.len() < 2 {
        return items.into_iter().map(work).collect();
    }
    let theirs = items.split_off(items.len() / 2);
    let work = &work;
    std::thread::scope(|scope| {
        let helper = scope.spawn(move || theirs.into_iter().map(work).collect::<Vec<O>>());
        let mut done: Vec<O> = items.into_iter().map(work).collect();
        match helper.join() {
            Ok(rest) => done.extend(rest),
            // The helper's panic is this thread's, as if it had done the work itself.
            Err(panic) => std::panic::resume_unwind(panic),
        }
        done
    })
}

/// An output with its contacts beside its own fields (flattened, so its JSON is the output's
/// object with two more keys).
#[derive(Serialize)]
struct WithQuestions<'a, T> {
    #[serde(flatten)]
    value: &'a T,
    #[serde(flatten)]
    questions: &'a Questions,
}

/// `html` with a paragraph per contact line at the end of its body.
fn with_questions(mut html: String, questions: &Questions) -> String {
    let mut block = String::new();
    for line in questions.lines() {
        block.push_str("<p class=\"contact\">");
        escape_into(&mut block, &line);
        block.push_str("</p>\n");
    }
    match html.rfind("</body>") {
        Some(at) => html.insert_str(at, &block),
        None => html.push_str(&block),
    }
    html
}

/// Alerts trust `vpd`'s `alert_emails` (if any) that the output at `base` is there.
async fn alert<T: Alerting>(
    ctx: &Context<'_>,
    vpd: &str,
    base: &str,
    value: &T,
    made_at: DateTime<Utc>,
) -> Result<(), ProcessError> {
    let Some(organisation) = ctx
        .organisations
        .get(vpd)
        .filter(|o| !o.alert_emails.is_empty())
    else {
        return Ok(());
    };
    let mail = compose(
        &value.alert_facts(),
        vpd,
        &organisation.name,
        base,
        &ctx.settings.portal_url,
        &organisation.alert_emails,
        made_at,
    );
    match ctx.mailer.send(&mail).await {
        Ok(outcome) => {
            info!(
                vpd,
                key = base,
                recipients = mail.to.len(),
                ?outcome,
                "alert"
            );
            Ok(())
        }
        Err(err) if err.is_transient() => Err(err.into()),
        Err(err) => {
            warn!(vpd, key = base, error = %err, "alert refused, not sent");
            Ok(())
        }
    }
}

/// When an input file was made: its HDR generated-at, else the start of its business date.
pub fn file_made_at(generated_at: &str, business_date: NaiveDate) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(generated_at.trim())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|_| business_date.and_time(chrono::NaiveTime::MIN).and_utc())
}

/// Lower-case hexadecimal, for digests.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::map_on_two_threads;

    #[test]
    fn work_on_two_threads_comes_back_in_the_items_order() {
        for count in [0, 1, 2, 7, 40] {
            let items: Vec<u32> = (0..count).collect();
            let threads = std::sync::Mutex::new(std::collections::HashSet::new());
            let done = map_on_two_threads(items.clone(), |item| {
                threads.lock().unwrap().insert(std::thread::current().id());
                format!("item {item}")
            });
            let expected: Vec<String> = items.iter().map(|item| format!("item {item}")).collect();
            assert_eq!(done, expected, "{count} items");
            let used = threads.lock().unwrap().len();
            assert_eq!(
                used,
                usize::from(count >= 2) + usize::from(count >= 1),
                "{count} items"
            );
        }
    }
}
