//! `dit action FILE|-`: trust actions and Trac employment checks, one JSON message (or one per line)
//! from a file or stdin, each handled as the trust-messages Lambda handles a queue message.

use std::io::Read;
use std::path::Path;

use chrono::Utc;
use dit_core::service::messages::answering::{AnswerStatus, MessageResult};
use dit_core::service::messages::handle_message;
use dit_domain::boundary::{MessageSender, Principal};

use crate::exit::{EXIT_FAILED, EXIT_USAGE};
use crate::local::Local;

/// The messages in the text: the whole text when it is one JSON value (a message may span lines),
/// otherwise one per non-blank line (JSON Lines).
pub fn split_messages(text: &str) -> Vec<&str> {
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    if trimmed.is_empty() {
        return Vec::new();
    }
    if serde_json::from_str::<serde_json::Value>(trimmed).is_ok() {
        return vec![trimmed];
    }
    trimmed
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .collect()
}

pub fn read_input(file: &Path) -> Result<String, String> {
    if file == Path::new("-") {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .map_err(|e| format!("cannot read messages from stdin: {e}"))?;
        Ok(text)
    } else {
        std::fs::read_to_string(file).map_err(|e| format!("cannot read {}: {e}", file.display()))
    }
}

/// Handles the messages of `text`, read from `file`.
pub async fn run(local: Local, sender: Principal, file: &Path, text: &str) -> u8 {
    let data_dir = local.dir.as_path();
    let messages = split_messages(text);
    if messages.is_empty() {
        eprintln!("error: {} holds no message", file.display());
        return EXIT_USAGE;
    }
    if let Principal::Trust(vpd) = &sender {
        if local.organisations.get(vpd).is_none() {
            eprintln!("error: --as trust:{vpd}: {vpd} is not a configured organisation");
            return EXIT_USAGE;
        }
    }
    let sender = MessageSender::Known(sender);
    let mut results: Vec<MessageResult> = Vec::new();
    for (i, body) in messages.iter().enumerate() {
        let ctx = local.context(Utc::now());
        match handle_message(&ctx, &sender, body).await {
            Ok(result) => {
                print_line(&result);
                results.push(result);
            }
            Err(err) => {
                eprintln!(
                    "error: message {} of {}: {err}\n{} message(s) were handled before the failure; run the same command again: they will be answered as duplicates.",
                    i + 1,
                    messages.len(),
                    results.len()
                );
                return EXIT_FAILED;
            }
        }
    }
    print_summary(data_dir, &results);
    0
}

fn print_line(result: &MessageResult) {
    let answer = &result.answer;
    let status = match (answer.status, result.original_status) {
        (AnswerStatus::Duplicate, Some(first)) => format!("duplicate (first: {})", first.name()),
        (status, _) => status.name().to_string(),
    };
    let state = answer.state.map(|s| format!(" -> {s}")).unwrap_or_default();
    println!(
        "{:<20} {:<17} {:<27} applicant {}{state}{}",
        answer.id.as_deref().unwrap_or("(no id)"),
        answer.action.as_deref().unwrap_or("-"),
        status,
        answer.applicant_number.as_deref().unwrap_or("-"),
        answer
            .reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default()
    );
}

fn print_summary(data_dir: &Path, results: &[MessageResult]) {
    let count = |status: AnswerStatus| results.iter().filter(|r| r.answer.status == status).count();
    println!();
    println!(
        "{} message(s): {} accepted, {} unchanged, {} refused, {} duplicate",
        results.len(),
        count(AnswerStatus::Accepted),
        count(AnswerStatus::Unchanged),
        count(AnswerStatus::Refused),
        count(AnswerStatus::Duplicate)
    );
    let dir = data_dir.display();
    println!("Answers for trusts       {dir}/outbound/trusts/<VPD>/messages/<message id>.json");
    println!("Answers for Trac         {dir}/outbound/trac/messages/<message id>.json");
    println!("Refusals for operators   {dir}/outbound/operator/messages/<sender>/");
    println!("An applicant's history  dit --data-dir {dir} show <applicant number>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_json_value_is_one_message_even_across_lines() {
        let text = "{\n  \"id\": \"a\",\n  \"action\": \"offer\"\n}\n";
        assert_eq!(split_messages(text).len(), 1);
    }

    #[test]
    fn json_lines_are_split_and_blank_lines_skipped() {
        let text = "{\"id\":\"a\"}\n\n  \n{\"id\":\"b\"}\nnot json\n";
        assert_eq!(
            split_messages(text),
            vec!["{\"id\":\"a\"}", "{\"id\":\"b\"}", "not json"]
        );
        assert!(split_messages(" \n\n").is_empty());
    }
}
