//! The trust boundary for queue messages (section 7), each rule on SQLite and folders and on
//! DynamoDB and S3 emulated by moto: who sent a message decides what it may touch, never what the
//! body says.

use std::sync::Arc;

use dit_aws::dynamo::DynamoStore;
use dit_aws::s3::{S3Blobs, S3Layout};
use dit_core::ports::Area;
use dit_core::service::messages::answering::{answer_key, trac_answer_key, Answer, AnswerStatus};
use dit_domain::boundary::{MessageSender, Principal};
use dit_domain::lifecycle::ApplicantState;
use dit_test_support::applicants::{
    action, on_moto, on_sqlite, outbound, Env, HOST_505_PART, LEAD_504, SECOND_504,
};
use dit_test_support::Moto;
use serde::Deserialize;
use serde_json::json;

const TABLE: &str = "dit-state";
const INBOUND: &str = "dit-inbound";
const OUTBOUND: &str = "dit-outbound";

fn trust(vpd: &str) -> Principal {
    Principal::Trust(vpd.into())
}

async fn read<T: for<'de> Deserialize<'de>>(env: &Env, key: &str) -> Option<T> {
    env.blobs
        .get(Area::Outbound, key)
        .await
        .unwrap()
        .map(|bytes| serde_json::from_slice(&bytes).unwrap())
}

async fn state(env: &Env, number: &str) -> ApplicantState {
    env.store.applicant(number).await.unwrap().unwrap().state
}

fn trac_checks(id: &str, vpd: &str, number: &str) -> String {
    json!({"id": id, "source": "trac", "vpd": vpd, "applicant_number": number,
           "status": "outcome recruited", "checks": {"dbs": {"outcome": "clear"}}})
    .to_string()
}

/// A trust sender acts only in its own name: the body's `vpd` must be its VPD.
async fn a_trust_sender_acts_only_for_its_own_vpd(env: Env) {
    let history = env.store.history(LEAD_504).await.unwrap();
    let result = env
        .send_as(
            trust("505"),
            &action("m1", "offer", "504", LEAD_504).to_string(),
        )
        .await;
    assert_eq!(result.answer.status, AnswerStatus::Refused);
    assert_eq!(result.code, "wrong_sender");
    assert_eq!(
        result.answer.reason.as_deref(),
        Some("sender is not trust 504")
    );
    assert_eq!(state(&env, LEAD_504).await, ApplicantState::Loaded);
    assert_eq!(env.store.history(LEAD_504).await.unwrap(), history);
    // Answered to the sender, never in the trust it named; logged for operators.
    assert!(read::<Answer>(&env, &answer_key("505", "m1"))
        .await
        .is_some());
    assert!(read::<Answer>(&env, &answer_key("504", "m1"))
        .await
        .is_none());
    let entry: serde_json::Value = read(&env, "operator/messages/trust-505/m1.json")
        .await
        .unwrap();
    assert_eq!(entry["code"], "wrong_sender");
    // The same message from 504 itself is applied.
    let result = env
        .send_as(
            trust("504"),
            &action("m1", "offer", "504", LEAD_504).to_string(),
        )
        .await;
    assert_eq!(result.answer.status, AnswerStatus::Accepted);
}

#[tokio::test]
async fn a_trust_sender_acts_only_for_its_own_vpd_on_sqlite() {
    on_sqlite(a_trust_sender_acts_only_for_its_own_vpd).await;
}

#[tokio::test]
async fn a_trust_sender_acts_only_for_its_own_vpd_on_moto() {
    on_moto(a_trust_sender_acts_only_for_its_own_vpd).await;
}

/// Another trust's applicant is answered exactly like one that does not exist, and nothing is
/// written on it: the refusal goes to the operator log.
async fn another_trusts_applicant_is_answered_like_an_unknown_one(env: Env) {
    let history = env.store.history(LEAD_504).await.unwrap();
    let applicant = env.store.applicant(LEAD_504).await.unwrap();
    let other = env
        .send_as(
            trust("505"),
            &action("probe", "withdraw", "505", LEAD_504).to_string(),
        )
        .await;
    let unknown = env
        .send_as(
            trust("505"),
            &action("probe-2", "withdraw", "505", "5999999").to_string(),
        )
        .await;
    assert_eq!(
        other.answer.reason.as_deref(),
        Some("Applicant 5000001 not found for trust 505.")
    );
    assert_eq!(
        unknown.answer.reason.as_deref(),
        Some("Applicant 5999999 not found for trust 505.")
    );
    // The written answers differ only in the id and the number asked about.
    let as_written = |answer: Answer, id: &str, number: &str| {
        serde_json::to_string(&answer)
            .unwrap()
            .replace(id, "ID")
            .replace(number, "NUMBER")
    };
    let other_answer: Answer = read(&env, &answer_key("505", "probe")).await.unwrap();
    let unknown_answer: Answer = read(&env, &answer_key("505", "probe-2")).await.unwrap();
    assert_eq!(
        as_written(other_answer, "probe", LEAD_504),
        as_written(unknown_answer, "probe-2", "5999999")
    );
    assert_eq!(env.store.history(LEAD_504).await.unwrap(), history);
    assert_eq!(env.store.applicant(LEAD_504).await.unwrap(), applicant);
    let entry: serde_json::Value = read(&env, "operator/messages/trust-505/probe.json")
        .await
        .unwrap();
    assert_eq!(entry["code"], "other_trust");
    assert_eq!(entry["applicant_number"], LEAD_504);
    // Trac asking about an applicant under the wrong trust learns as little.
    let result = env
        .send_as(
            Principal::Trac,
            &trac_checks("t-probe", "504", HOST_505_PART),
        )
        .await;
    assert_eq!(
        result.answer.reason.as_deref(),
        Some("Applicant 5000003 not found for trust 504.")
    );
    assert!(env
        .store
        .applicant(HOST_505_PART)
        .await
        .unwrap()
        .unwrap()
        .employment_checks
        .is_none());
}

#[tokio::test]
async fn another_trusts_applicant_is_answered_like_an_unknown_one_on_sqlite() {
    on_sqlite(another_trusts_applicant_is_answered_like_an_unknown_one).await;
}

#[tokio::test]
async fn another_trusts_applicant_is_answered_like_an_unknown_one_on_moto() {
    on_moto(another_trusts_applicant_is_answered_like_an_unknown_one).await;
}

/// Only Trac sends employment checks, only employment checks, only for `trac = true` trusts.
async fn trac_checks_come_only_from_trac_for_trac_trusts(env: Env) {
    let from_trust = env
        .send_as(trust("504"), &trac_checks("c1", "504", LEAD_504))
        .await;
    assert_eq!(from_trust.answer.status, AnswerStatus::Refused);
    assert_eq!(
        from_trust.answer.reason.as_deref(),
        Some("sender is not trac")
    );
    let move_from_trac = env
        .send_as(
            Principal::Trac,
            &action("c2", "offer", "504", LEAD_504).to_string(),
        )
        .await;
    assert_eq!(
        move_from_trac.answer.reason.as_deref(),
        Some("sender is not trust 504")
    );
    assert!(read::<Answer>(&env, &trac_answer_key("c2")).await.is_some());
    // 505 has no `trac = true`: refused whoever sends it, the trusted operator included.
    for sender in [Principal::Trac, Principal::Operator] {
        let result = env
            .send_as(sender, &trac_checks("c3", "505", HOST_505_PART))
            .await;
        assert_eq!(
            result.answer.reason.as_deref(),
            Some("Organisation 505 does not take employment checks from Trac; refused")
        );
    }
    let applicant = env.store.applicant(LEAD_504).await.unwrap().unwrap();
    assert_eq!(applicant.state, ApplicantState::Loaded);
    assert!(applicant.employment_checks.is_none());
    // Trac itself, for a trac trust, on an offered applicant.
    env.send_as(
        trust("504"),
        &action("o1", "offer", "504", LEAD_504).to_string(),
    )
    .await;
    let result = env
        .send_as(Principal::Trac, &trac_checks("c4", "504", LEAD_504))
        .await;
    assert_eq!(result.answer.status, AnswerStatus::Accepted, "{result:?}");
    let answer: Answer = read(&env, &trac_answer_key("c4")).await.unwrap();
    assert_eq!(answer.status, AnswerStatus::Accepted);
    assert!(read::<Answer>(&env, &answer_key("504", "c4"))
        .await
        .is_none());
}

#[tokio::test]
async fn trac_checks_come_only_from_trac_for_trac_trusts_on_sqlite() {
    on_sqlite(trac_checks_come_only_from_trac_for_trac_trusts).await;
}

#[tokio::test]
async fn trac_checks_come_only_from_trac_for_trac_trusts_on_moto() {
    on_moto(trac_checks_come_only_from_trac_for_trac_trusts).await;
}

/// Duplicates are per sender and id: a trust reusing another's id learns nothing of the first.
async fn duplicates_are_per_sender_and_id(env: Env) {
    let first = env
        .send_as(
            trust("505"),
            &action("shared-id", "offer", "505", HOST_505_PART).to_string(),
        )
        .await;
    assert_eq!(first.answer.status, AnswerStatus::Accepted);
    let reused = env
        .send_as(
            trust("504"),
            &action("shared-id", "offer", "504", LEAD_504).to_string(),
        )
        .await;
    assert_eq!(reused.answer.status, AnswerStatus::Accepted);
    assert_eq!(reused.answer.applicant_number.as_deref(), Some(LEAD_504));
    // Trac's id space is its own too, on the same applicant.
    let trac = env
        .send_as(Principal::Trac, &trac_checks("shared-id", "504", LEAD_504))
        .await;
    assert_eq!(trac.answer.status, AnswerStatus::Accepted, "{trac:?}");
    // The same sender again: a duplicate, answered with its own first answer.
    let again = env
        .send_as(
            trust("504"),
            &action("shared-id", "offer", "504", SECOND_504).to_string(),
        )
        .await;
    assert_eq!(again.answer.status, AnswerStatus::Duplicate);
    assert_eq!(again.answer.applicant_number.as_deref(), Some(LEAD_504));
    assert_eq!(state(&env, SECOND_504).await, ApplicantState::Loaded);
    // Refusals of one id by two senders: each sender's operator entry stands.
    for vpd in ["504", "505"] {
        env.send_as(
            trust(vpd),
            &action("refused-id", "offer", vpd, "5999999").to_string(),
        )
        .await;
    }
    for sender in ["trust-504", "trust-505"] {
        let entry: serde_json::Value =
            read(&env, &format!("operator/messages/{sender}/refused-id.json"))
                .await
                .unwrap();
        assert_eq!(entry["sender"], sender);
    }
}

#[tokio::test]
async fn duplicates_are_per_sender_and_id_on_sqlite() {
    on_sqlite(duplicates_are_per_sender_and_id).await;
}

#[tokio::test]
async fn duplicates_are_per_sender_and_id_on_moto() {
    on_moto(duplicates_are_per_sender_and_id).await;
}

/// A sender no `[[sender]]` names is refused with an operator entry and nothing else.
async fn an_unknown_sender_is_refused_with_an_operator_entry_only(env: Env) {
    let before = outbound(env.blobs.as_ref()).await;
    let history = env.store.history(LEAD_504).await.unwrap();
    let sender = env.organisations.sender(Some("AROAUNKNOWNROLE:session"));
    assert_eq!(
        sender,
        MessageSender::Unknown("AROAUNKNOWNROLE:session".into())
    );
    let result = env
        .send_from(&sender, &action("u1", "offer", "504", LEAD_504).to_string())
        .await;
    assert_eq!(result.answer.status, AnswerStatus::Refused);
    assert_eq!(result.code, "unknown_sender");
    assert_eq!(
        result.outputs,
        vec!["outbound/operator/messages/unknown-AROAUNKNOWNROLE:session/u1.json"]
    );
    let after = outbound(env.blobs.as_ref()).await;
    assert_eq!(after.len(), before.len() + 1);
    assert_eq!(env.store.history(LEAD_504).await.unwrap(), history);
    // No SenderId at all is no better.
    let result = env
        .send_from(
            &env.organisations.sender(None),
            &action("u2", "offer", "504", LEAD_504).to_string(),
        )
        .await;
    assert_eq!(result.code, "unknown_sender");
    assert_eq!(state(&env, LEAD_504).await, ApplicantState::Loaded);
    // A configured role matches any of its sessions.
    let sender = env.organisations.sender(Some("AROATRUST504:any-session"));
    assert_eq!(sender, MessageSender::Known(trust("504")));
    let result = env
        .send_from(&sender, &action("u1", "offer", "504", LEAD_504).to_string())
        .await;
    assert_eq!(result.answer.status, AnswerStatus::Accepted);
}

#[tokio::test]
async fn an_unknown_sender_is_refused_with_an_operator_entry_only_on_sqlite() {
    on_sqlite(an_unknown_sender_is_refused_with_an_operator_entry_only).await;
}

#[tokio::test]
async fn an_unknown_sender_is_refused_with_an_operator_entry_only_on_moto() {
    on_moto(an_unknown_sender_is_refused_with_an_operator_entry_only).await;
}

/// Ids of 1 to 128 characters of `A-Z a-z 0-9 . _ : -` are used as given; others are refused.
async fn message_ids_outside_the_rule_are_refused(env: Env) {
    for id in ["a/b", "x".repeat(129).as_str(), "naïve", "a b"] {
        let result = env
            .send_as(
                trust("504"),
                &action(id, "offer", "504", LEAD_504).to_string(),
            )
            .await;
        assert_eq!(result.code, "invalid_id", "{id}");
        assert_eq!(result.answer.id, None);
        assert!(result.outputs[0].starts_with("outbound/operator/messages/trust-504/sha256-"));
    }
    assert_eq!(state(&env, LEAD_504).await, ApplicantState::Loaded);
    let long = "x".repeat(128);
    for id in ["urn:a.b_c-d", long.as_str()] {
        let result = env
            .send_as(
                trust("504"),
                &action(id, "offer", "504", LEAD_504).to_string(),
            )
            .await;
        assert_ne!(result.code, "invalid_id");
        assert!(read::<Answer>(&env, &answer_key("504", id)).await.is_some());
    }
}

#[tokio::test]
async fn message_ids_outside_the_rule_are_refused_on_sqlite() {
    on_sqlite(message_ids_outside_the_rule_are_refused).await;
}

#[tokio::test]
async fn message_ids_outside_the_rule_are_refused_on_moto() {
    on_moto(message_ids_outside_the_rule_are_refused).await;
}

/// The sender is the SenderId SQS puts on the record, not the body: a message sent to a queue on
/// moto, received with its system attributes and handed to the trust-messages handler, is judged
/// by how the configuration maps moto's SenderId (always `AIDAIT2UOQQY3AUEKVGXU`).
#[tokio::test]
async fn the_handler_judges_a_queue_message_by_its_sqs_sender_id_on_moto() {
    use aws_lambda_events::event::sqs::{SqsEvent, SqsMessage};
    use aws_sdk_sqs::types::MessageSystemAttributeName;
    use dit_core::service::context::{Ports, Settings};
    use dit_domain::org::Organisations;
    use dit_test_support::applicants::ORGANISATIONS;

    let moto = Moto::start();
    moto.create_table(TABLE).await;
    let s3 = moto.create_buckets(INBOUND, OUTBOUND).await;
    let layout = S3Layout {
        inbound_bucket: INBOUND.into(),
        inbound_prefix: "incoming/".into(),
        quarantine_prefix: "quarantine/".into(),
        outbound_bucket: OUTBOUND.into(),
    };
    let dynamo = moto.dynamo_client().await;
    Env::new(
        Arc::new(DynamoStore::new(dynamo.clone(), TABLE)),
        Arc::new(S3Blobs::new(s3.clone(), layout.clone())),
    )
    .load()
    .await;
    let sqs = aws_sdk_sqs::Client::new(&moto.sdk_config().await);
    let queue = sqs
        .create_queue()
        .queue_name("dit-trust-messages")
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();

    // Sends `body`, receives it as Lambda would get it, and runs the handler with `config`.
    let deliver = |body: String, config: String| {
        let (sqs, queue, s3, dynamo, layout) = (
            sqs.clone(),
            queue.clone(),
            s3.clone(),
            dynamo.clone(),
            layout.clone(),
        );
        async move {
            sqs.send_message()
                .queue_url(&queue)
                .message_body(body)
                .send()
                .await
                .unwrap();
            let received = sqs
                .receive_message()
                .queue_url(&queue)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .max_number_of_messages(1)
                .send()
                .await
                .unwrap();
            let message = received.messages.unwrap().pop().unwrap();
            let mut record = SqsMessage::default();
            record.message_id = message.message_id.clone();
            record.body = message.body.clone();
            record.attributes = message
                .attributes
                .unwrap_or_default()
                .into_iter()
                .map(|(name, value)| (name.as_str().to_string(), value))
                .collect();
            assert_eq!(
                record.attributes.get("SenderId").map(String::as_str),
                Some("AIDAIT2UOQQY3AUEKVGXU")
            );
            sqs.delete_message()
                .queue_url(&queue)
                .set_receipt_handle(message.receipt_handle)
                .send()
                .await
                .unwrap();
            let mut event = SqsEvent::default();
            event.records = vec![record];
            let ports = Ports {
                store: Box::new(DynamoStore::new(dynamo, TABLE)),
                blobs: Box::new(S3Blobs::new(s3, layout)),
                organisations: Organisations::from_toml(&config, "test").unwrap(),
                settings: Settings::default(),
                mailer: Box::new(dit_core::ports::NoMailer),
            };
            let response = trust_messages::handle(
                &ports,
                lambda_runtime::LambdaEvent::new(event, lambda_runtime::Context::default()),
            )
            .await
            .unwrap();
            assert!(response.batch_item_failures.is_empty());
        }
    };
    let as_trust = |vpd: &str| {
        format!("{ORGANISATIONS}\n[[sender]]\nid = \"AIDAIT2UOQQY3AUEKVGXU\"\nrole = \"trust\"\nvpd = \"{vpd}\"\n")
    };
    let blobs = S3Blobs::new(s3.clone(), layout.clone());
    let body = action("q1", "offer", "504", LEAD_504).to_string();

    // Not configured: refused, operator entry only.
    deliver(body.clone(), ORGANISATIONS.to_string()).await;
    assert!(dit_core::ports::BlobStore::get(
        &blobs,
        Area::Outbound,
        "operator/messages/unknown-AIDAIT2UOQQY3AUEKVGXU/q1.json"
    )
    .await
    .unwrap()
    .is_some());
    // Mapped to trust 505: the body's 504 is not believed.
    deliver(body.clone(), as_trust("505")).await;
    let answer: Answer = serde_json::from_slice(
        &dit_core::ports::BlobStore::get(&blobs, Area::Outbound, &answer_key("505", "q1"))
            .await
            .unwrap()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(answer.reason.as_deref(), Some("sender is not trust 504"));
    let store = DynamoStore::new(dynamo.clone(), TABLE);
    let applicant = dit_core::ports::StateStore::applicant(&store, LEAD_504)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(applicant.state, ApplicantState::Loaded);
    // Mapped to trust 504: applied.
    deliver(body, as_trust("504")).await;
    let applicant = dit_core::ports::StateStore::applicant(&store, LEAD_504)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(applicant.state, ApplicantState::Offered);
}
