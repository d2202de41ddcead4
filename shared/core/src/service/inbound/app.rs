//! The APP pipeline (2.4-2.6): records become applicants in chunks; every record gets its messages;
//! the APC goes to TIS and each live trust gets its Deanery Applicant Notification.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::Poll;

use foldhash::{HashMap, HashSet};

use super::accepted::AcceptedFile;
use futures_util::future::join;

use crate::ports::{Area, Counter, CreateOutcome, NewApplicant, StoreError};
use crate::service::context::{Context, ProcessError};
use crate::service::output::{file_made_at, map_on_two_threads, put_notifications, TrustOutput};
use crate::service::report::{FileReport, Outcome};
use dit_domain::app::{check_record, CheckedApp, RawApp};
use dit_domain::envelope::{FileType, LineReader, OutboundFile};
use dit_domain::lifecycle::{check_transfer_window, decide, ApplicantState, Command, Transition};
use dit_domain::messages::{Message, MessageType, PersonMatch};
use dit_domain::model::{
    person_key, Applicant, Cause, HistoryEntry, PlacementLink, RejectedApplication,
};
use dit_domain::notify::{ApplicantNotification, CreatedApplication, FailedApplication};
use dit_domain::pos::{Position, PositionStatus};

/// Records decided and stored together; bounds memory and store request sizes.
const CHUNK: usize = 500;
const APPLICANT_NUMBER_BASE: u64 = 5_000_000;
const ASSIGNMENT_ID_BASE: u64 = 30_000_000;
const ACTOR: &str = "interface";
/// Trusts whose notifications are written together at the end of a file.
const TRUSTS_WRITTEN_TOGETHER: usize = 8;

/// One data line as read in pass 2.
struct Line {
    record_number: u64,
    line: u64,
    raw: RawApp,
}

/// The outcome of a line's record-local checks, boxed: a checked record is a kilobyte, moved
/// from the chunk to its decision to its applicant.
type Checked = Result<Box<CheckedApp>, Vec<Message>>;

/// The outcome of one record, kept until the outputs are written.
struct RecordResult {
    record_number: u64,
    placement_id: String,
    dpn: String,
    position_id: String,
    position_number: String,
    applicant_name: String,
    /// The trust told about this record, if any.
    vpd: Option<String>,
    outcome: RecordOutcome,
}

enum RecordOutcome {
    Loaded {
        applicant_number: String,
        assignment_id: String,
        projected_hire_date: chrono::NaiveDate,
        messages: Vec<Message>,
    },
    Rejected(Vec<Message>),
}

/// A record that passed every check and waits for its applicant number.
struct Loadable {
    index: usize,
    /// Its place among the chunk's records that get an applicant (see [`decide_records`]).
    slot: u64,
    record_number: u64,
    line: u64,
    checked: Box<CheckedApp>,
    /// The trust of its position.
    vpd: String,
    person_key: Option<String>,
    messages: Vec<Message>,
    /// How its person matched (the last of `messages` says the same), once decided.
    person_match: Option<PersonMatch>,
}

pub(crate) async fn process(
    ctx: &Context<'_>,
    file: &AcceptedFile<'_>,
) -> Result<FileReport, ProcessError> {
    ctx.store.begin_bulk().await?;
    let decided = decide_file(ctx, file).await;
    // Made durable before any output tells TIS or a trust about the records, and after a
    // failure too, so what was written is kept.
    let ended = ctx.store.end_bulk().await;
    let outputs = decided?;
    ended?;
    outputs.finish(ctx, file).await
}

/// Decides and stores every record of the file, chunk by chunk, into the outputs.
///
/// While the store creates one chunk's applicants (on SQLite, on a thread of its own), this
/// thread adds the chunk before to the outputs, reads, checks and decides the next, and hands
/// its applicants over too, so the store goes from one chunk to the next without waiting: the
/// two halves of a load take about the same time, so a large file uses both cores. Deciding a
/// chunk needs nothing of the outcomes of the one before (a placement or person met earlier in
/// the file is known from the file itself), and its rejections are kept only once that chunk's
/// applicants are created, in file order.
async fn decide_file<'c>(
    ctx: &Context<'c>,
    file: &AcceptedFile<'_>,
) -> Result<Outputs<'c>, ProcessError> {
    let mut outputs = Outputs::new(ctx, file);
    let mut load = FileLoad::new(file.bytes);
    let mut in_flight = match load.decide_next(ctx, file).await? {
        Some(decided) => Some(InFlight::start(ctx, decided).await),
        None => None,
    };
    let mut results: Vec<RecordResult> = Vec::new();
    while let Some(InFlight { decided, creating }) = in_flight.take() {
        let done = std::mem::take(&mut results);
        let (outcomes, next) = join(creating, async {
            outputs.add_all(ctx, &done);
            match load.decide_next(ctx, file).await? {
                Some(next) => Ok::<_, ProcessError>(Some(InFlight::start(ctx, next).await)),
                None => Ok(None),
            }
        })
        .await;
        results = complete(ctx, file, decided, outcomes?).await?;
        in_flight = next?;
    }
    outputs.add_all(ctx, &results);
    Ok(outputs)
}

/// A chunk decided and handed to the store, whose applicants are being created.
struct InFlight<'a> {
    decided: Decided,
    creating: Creating<'a>,
}

type Creating<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<CreateOutcome>, StoreError>> + Send + 'a>>;

impl<'a> InFlight<'a> {
    /// Hands the chunk's applicants to the store: the call is polled once here, so that a store
    /// that writes on a thread of its own (SQLite) has them before this thread goes on.
    async fn start(ctx: &'a Context<'_>, decided: Decided) -> InFlight<'a> {
        let applicants = Arc::clone(&decided.new_applicants);
        let mut creating: Creating<'a> = Box::pin(async move {
            if applicants.is_empty() {
                return Ok(Vec::new());
            }
            ctx.store.create_shared_applicants(applicants).await
        });
        let first = std::future::poll_fn(|cx| Poll::Ready(creating.as_mut().poll(cx))).await;
        if let Poll::Ready(created) = first {
            creating = Box::pin(std::future::ready(created));
        }
        InFlight { decided, creating }
    }
}

/// One file's load: its chunks read so far and what they decided that later chunks must know.
struct FileLoad<'f> {
    chunks: Chunks<'f>,
    seen: SeenInFile,
    chunk_index: u64,
}

impl<'f> FileLoad<'f> {
    fn new(bytes: &'f [u8]) -> Self {
        FileLoad {
            chunks: Chunks::new(bytes),
            seen: SeenInFile::default(),
            chunk_index: 0,
        }
    }

    /// The next chunk, read, checked and decided up to its applicants (`None` at the end).
    async fn decide_next(
        &mut self,
        ctx: &Context<'_>,
        file: &AcceptedFile<'_>,
    ) -> Result<Option<Decided>, ProcessError> {
        let Some(chunk) = self.chunks.next() else {
            return Ok(None);
        };
        let decided = decide_records(ctx, file, self.chunk_index, chunk, &mut self.seen).await?;
        self.chunk_index += 1;
        Ok(Some(decided))
    }
}

/// The records of the file, a chunk at a time, each with its record-local checks done.
struct Chunks<'f> {
    reader: LineReader<'f>,
    record: csv::StringRecord,
    record_number: u64,
    header_seen: bool,
}

impl<'f> Chunks<'f> {
    fn new(bytes: &'f [u8]) -> Self {
        Chunks {
            reader: LineReader::new(bytes),
            record: csv::StringRecord::new(),
            record_number: 0,
            header_seen: false,
        }
    }

    /// The next (up to) [`CHUNK`] records, each with its checks, or `None` at the end of the file.
    fn next(&mut self) -> Option<Vec<(Line, Checked)>> {
        let mut chunk: Vec<(Line, Checked)> = Vec::with_capacity(CHUNK);
        while chunk.len() < CHUNK {
            // The envelope scan already proved the file readable; a failure here means it
            // changed underneath.
            let Some(line) = self.reader.read(&mut self.record).unwrap_or(None) else {
                break;
            };
            if !self.header_seen {
                self.header_seen = true;
                continue;
            }
            if self.record.get(0) != Some("APP") {
                continue;
            }
            self.record_number += 1;
            let raw = RawApp::from_record(&self.record);
            let checked = check_record(&raw).map(Box::new);
            let line = Line {
                record_number: self.record_number,
                line,
                raw,
            };
            chunk.push((line, checked));
        }
        (!chunk.is_empty()).then_some(chunk)
    }
}

/// What the chunks of one file decided so far that later chunks must know.
#[derive(Default)]
struct SeenInFile {
    placements: HashSet<String>,
    persons: HashSet<(String, String)>,
    positions: PositionsSeen,
}

/// A chunk decided up to its applicants, which wait to be created.
struct Decided {
    lines: Vec<Line>,
    results: Vec<RecordResult>,
    loadables: Vec<Loadable>,
    /// Shared with the call that creates them (see [`InFlight`]).
    new_applicants: Arc<Vec<NewApplicant>>,
}

/// The positions this file's records name, each read from the store once per file (a position
/// has up to 40 records, spread through the file) rather than once per chunk.
#[derive(Default)]
struct PositionsSeen {
    /// `None` for ids the store does not know.
    by_id: HashMap<String, Option<Position>>,
}

impl PositionsSeen {
    async fn load<'l>(
        &mut self,
        ctx: &Context<'_>,
        ids: impl Iterator<Item = &'l str>,
    ) -> Result<(), ProcessError> {
        let missing: Vec<String> = ids
            .filter(|id| !id.is_empty() && !self.by_id.contains_key(*id))
            .map(str::to_string)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let mut found = ctx.store.positions(&missing).await?;
        for id in missing {
            let position = found.remove(&id);
            self.by_id.insert(id, position);
        }
        Ok(())
    }

    fn get(&self, id: &str) -> Option<&Position> {
        self.by_id.get(id).and_then(Option::as_ref)
    }
}

/// The chunk's results once its applicants are created, its rejections kept.
async fn complete(
    ctx: &Context<'_>,
    file: &AcceptedFile<'_>,
    decided: Decided,
    outcomes: Vec<CreateOutcome>,
) -> Result<Vec<RecordResult>, ProcessError> {
    let Decided {
        lines,
        mut results,
        loadables,
        new_applicants,
    } = decided;
    for ((loadable, new), outcome) in loadables.iter().zip(new_applicants.iter()).zip(outcomes) {
        results[loadable.index].outcome = match outcome {
            CreateOutcome::Created => loaded_outcome(&new.applicant),
            CreateOutcome::PlacementTaken(link) if link.source_sha256 == file.sha256 => {
                // A concurrent delivery of this same file won the race: report its applicant.
                match ctx.store.applicant(&link.applicant_number).await? {
                    Some(applicant) => loaded_outcome(&applicant),
                    None => loaded_outcome(&new.applicant),
                }
            }
            CreateOutcome::PlacementTaken(link) => {
                RecordOutcome::Rejected(vec![Message::placement_already_loaded(
                    &link.placement_id,
                    &link.applicant_number,
                )])
            }
        };
    }
    // Kept before the APC says FAIL, so every rejection TIS hears of can be found.
    let rejected: Vec<RejectedApplication> = lines
        .iter()
        .zip(&results)
        .filter_map(|(line, result)| match &result.outcome {
            RecordOutcome::Rejected(messages) => {
                Some(rejected_application(file, line, result, messages))
            }
            RecordOutcome::Loaded { .. } => None,
        })
        .collect();
    ctx.store.save_rejected_applications(&rejected).await?;
    Ok(results)
}

fn rejected_application(
    file: &AcceptedFile<'_>,
    line: &Line,
    result: &RecordResult,
    messages: &[Message],
) -> RejectedApplication {
    let raw = &line.raw;
    RejectedApplication {
        placement_id: result.placement_id.clone(),
        gmc_number: Some(raw.get("GMC_NUMBER"))
            .filter(|g| !g.is_empty())
            .map(str::to_string),
        last_name: raw.get("LAST_NAME").to_string(),
        first_name: raw.get("FIRST_NAME").to_string(),
        position_id: result.position_id.clone(),
        position_number: result.position_number.clone(),
        dpn: result.dpn.clone(),
        vpd: result.vpd.clone(),
        local_office: file.name.source.clone(),
        source_file: file.name.name.clone(),
        source_sha256: file.sha256.clone(),
        business_date: file.business_date,
        record_number: line.record_number,
        line: line.line,
        messages: messages.to_vec(),
        projected_hire_date: dit_domain::app::parse_iso_date(raw.get("PROJECTED_HIRE_DATE")),
    }
}

/// Whether records of local office `lo` may act on trust `vpd`: its managing office or one of
/// its `accept_local_offices`. A trust not configured is left to the "not live" rule.
fn managed_by(ctx: &Context<'_>, vpd: &str, lo: &str) -> bool {
    ctx.organisations
        .get(vpd)
        .is_none_or(|org| org.accepts_local_office(lo))
}

/// Every record's outcome, in input order (one result per line), but for the records that get an
/// applicant: theirs waits for [`complete`].
///
/// Applicant numbers are reserved per chunk of the file, once (keyed by the file's identity and
/// the chunk), and each record that gets an applicant has its slot in that block: its place among
/// the chunk's records that pass the checks, counting those an interrupted earlier run of this
/// file already created. So a rerun gives every record the number a clean run would have.
async fn decide_records(
    ctx: &Context<'_>,
    file: &AcceptedFile<'_>,
    chunk: u64,
    lines_checked: Vec<(Line, Checked)>,
    seen: &mut SeenInFile,
) -> Result<Decided, ProcessError> {
    let (lines, checks): (Vec<Line>, Vec<Checked>) = lines_checked.into_iter().unzip();
    let SeenInFile {
        placements: seen_placements,
        persons: persons_in_file,
        positions,
    } = seen;
    let mut results: Vec<RecordResult> = Vec::with_capacity(lines.len());
    let placement_ids: Vec<String> = lines
        .iter()
        .map(|l| l.raw.placement_id().to_string())
        .filter(|p| !p.is_empty())
        .collect();
    let links = ctx.store.placements(&placement_ids).await?;
    positions
        .load(ctx, lines.iter().map(|l| l.raw.position_id()))
        .await?;

    let mut loadables: Vec<Loadable> = Vec::new();
    let mut reused: Vec<(usize, PlacementLink)> = Vec::new();
    let mut slots = 0u64;
    for (line, checked) in lines.iter().zip(checks) {
        let raw = &line.raw;
        let placement_id = raw.placement_id().to_string();
        let first_in_file = placement_id.is_empty() || seen_placements.insert(placement_id.clone());
        let position = positions.get(raw.position_id());
        let index = results.len();
        results.push(RecordResult {
            record_number: line.record_number,
            placement_id: placement_id.clone(),
            dpn: raw.get("DEANERY_POST_NUMBER").to_string(),
            position_id: raw.position_id().to_string(),
            position_number: raw.get("POSITION_NUMBER").to_string(),
            applicant_name: raw.display_name(),
            vpd: position.map(|p| p.vpd.clone()),
            outcome: RecordOutcome::Rejected(vec![]),
        });
        let mut checked = match checked {
            Ok(checked) => checked,
            Err(errors) => {
                results[index].outcome = RecordOutcome::Rejected(errors);
                continue;
            }
        };
        if !first_in_file {
            results[index].outcome =
                RecordOutcome::Rejected(vec![Message::placement_repeated(&placement_id)]);
            continue;
        }
        if let Some(link) = links.get(&placement_id) {
            if link.source_sha256 == file.sha256 {
                // This file was (partly) applied before: give the same answer again.
                reused.push((index, link.clone()));
                slots += 1;
            } else {
                results[index].outcome =
                    RecordOutcome::Rejected(vec![Message::placement_already_loaded(
                        &placement_id,
                        &link.applicant_number,
                    )]);
            }
            continue;
        }
        let Some(position) = position.filter(|p| resolves(p, file.business_date)) else {
            results[index].outcome =
                RecordOutcome::Rejected(vec![Message::position_unknown(&checked.position_id)]);
            continue;
        };
        if position.dpn != checked.dpn {
            results[index].outcome = RecordOutcome::Rejected(vec![Message::dpn_mismatch(
                &checked.dpn,
                &checked.position_id,
            )]);
            continue;
        }
        if !managed_by(ctx, &position.vpd, &file.name.source) {
            results[index].outcome =
                RecordOutcome::Rejected(vec![Message::organisation_not_managed(
                    &position.vpd,
                    &file.name.source,
                )]);
            continue;
        }
        if ctx.organisations.live(&position.vpd).is_none() {
            results[index].outcome =
                RecordOutcome::Rejected(vec![Message::organisation_not_live(&position.vpd)]);
            continue;
        }
        if let Err(error) = check_transfer_window(checked.projected_hire_date, file.business_date) {
            results[index].outcome = RecordOutcome::Rejected(vec![error]);
            continue;
        }
        let details = &checked.details;
        let key = person_key(
            details.gmc_number.as_deref(),
            details.national_insurance_number.as_deref(),
            details.date_of_birth,
        );
        loadables.push(Loadable {
            index,
            slot: slots,
            record_number: line.record_number,
            line: line.line,
            messages: std::mem::take(&mut checked.warnings),
            checked,
            vpd: position.vpd.clone(),
            person_key: key,
            person_match: None,
        });
        slots += 1;
    }

    // Failed records with no known position: find the trust by DPN, so it still hears about them.
    for result in results
        .iter_mut()
        .filter(|r| r.vpd.is_none() && !r.dpn.is_empty())
    {
        let owners = ctx.store.positions_by_dpn(&result.dpn).await?;
        let active: Vec<&Position> = owners
            .iter()
            .filter(|p| p.status == PositionStatus::Active)
            .collect();
        if let [only] = active.as_slice() {
            result.vpd = Some(only.vpd.clone());
        }
    }
    // A record acts only on trusts its local office manages (2.5, 7): no other trust is told about
    // it, and its rejection is not filed under one.
    for result in &mut results {
        if result
            .vpd
            .as_deref()
            .is_some_and(|vpd| !managed_by(ctx, vpd, &file.name.source))
        {
            result.vpd = None;
        }
    }

    for (index, link) in reused {
        results[index].outcome = match ctx.store.applicant(&link.applicant_number).await? {
            Some(applicant) => loaded_outcome(&applicant),
            None => RecordOutcome::Rejected(vec![Message::placement_already_loaded(
                &results[index].placement_id,
                &link.applicant_number,
            )]),
        };
    }
    if loadables.is_empty() {
        return Ok(Decided {
            lines,
            results,
            loadables,
            new_applicants: Arc::default(),
        });
    }

    let person_keys: Vec<(String, String)> = loadables
        .iter()
        .filter_map(|l| l.person_key.clone().map(|k| (l.vpd.clone(), k)))
        .collect();
    let known = ctx.store.persons(&person_keys).await?;
    for loadable in &mut loadables {
        let kind = match &loadable.person_key {
            None => PersonMatch::NewApplicant,
            Some(key) => {
                let id = (loadable.vpd.clone(), key.clone());
                let kind = match known.get(&id) {
                    Some(person) if person.employee => PersonMatch::ExistingEmployee,
                    Some(_) => PersonMatch::ExistingApplicant,
                    None if persons_in_file.contains(&id) => PersonMatch::ExistingApplicant,
                    None => PersonMatch::NewApplicant,
                };
                persons_in_file.insert(id);
                kind
            }
        };
        loadable.messages.push(Message::person_match(kind));
        loadable.person_match = Some(kind);
    }

    let holder = format!("APP {} chunk {chunk}", file.name.identity());
    let numbers = ctx
        .store
        .reserve_numbers(Counter::ApplicantNumbers, &holder, slots)
        .await?;
    if (numbers.end - numbers.start) < slots {
        return Err(StoreError::Corrupt(format!(
            "{holder}: {} numbers were reserved for it, but {slots} of its records now get an applicant",
            numbers.end - numbers.start
        ))
        .into());
    }
    let new_applicants: Vec<NewApplicant> = loadables
        .iter_mut()
        .map(|l| {
            let number = numbers.start + l.slot;
            new_applicant(ctx, file, l, number)
        })
        .collect();
    Ok(Decided {
        lines,
        results,
        loadables,
        new_applicants: Arc::new(new_applicants),
    })
}

/// Only active positions with a valid, non-duplicate DPN, effective on the business date, resolve records.
fn resolves(position: &Position, business_date: chrono::NaiveDate) -> bool {
    position.is_usable()
        && position.effective_from.is_none_or(|d| d <= business_date)
        && position.effective_to.is_none_or(|d| d >= business_date)
}

fn loaded_outcome(applicant: &Applicant) -> RecordOutcome {
    RecordOutcome::Loaded {
        applicant_number: applicant.applicant_number.clone(),
        assignment_id: applicant.assignment_id.clone(),
        projected_hire_date: applicant.projected_hire_date,
        messages: applicant.load_messages.clone(),
    }
}

fn new_applicant(
    ctx: &Context<'_>,
    file: &AcceptedFile<'_>,
    loadable: &mut Loadable,
    number: u64,
) -> NewApplicant {
    // What the applicant keeps moves into it: nothing reads the loadable after this but its index.
    let checked = &mut *loadable.checked;
    let details = std::mem::take(&mut checked.details);
    let applicant_number = (APPLICANT_NUMBER_BASE + number).to_string();
    let record_number = loadable.record_number;
    let cause = Cause::File {
        name: file.name.name.clone(),
        record_number,
        line: loadable.line,
    };
    let mut history = Vec::new();
    let mut state = None;
    for (seq, command) in [(1, Command::Receive), (2, Command::Load)] {
        // Receive then Load are always allowed for a new applicant; fall back to the target if not.
        let transition = decide(&applicant_number, state, &command).unwrap_or(Transition::Moved {
            from: state,
            to: command.target(),
        });
        history.push(HistoryEntry::from_transition(
            seq,
            ctx.now,
            command.name(),
            transition,
            cause.clone(),
            ACTOR,
        ));
        state = Some(command.target());
    }
    NewApplicant {
        applicant: Applicant {
            applicant_number,
            assignment_id: (ASSIGNMENT_ID_BASE + number).to_string(),
            placement_id: std::mem::take(&mut checked.placement_id),
            vpd: std::mem::take(&mut loadable.vpd),
            local_office: file.name.source.clone(),
            position_id: std::mem::take(&mut checked.position_id),
            position_number: std::mem::take(&mut checked.position_number),
            dpn: std::mem::take(&mut checked.dpn),
            state: ApplicantState::Loaded,
            version: 2,
            projected_hire_date: checked.projected_hire_date,
            projected_end_date: checked.projected_end_date,
            person_key: loadable.person_key.take(),
            details,
            source_file: file.name.name.clone(),
            source_sha256: file.sha256.clone(),
            record_number,
            load_messages: std::mem::take(&mut loadable.messages),
            created_at: ctx.now,
            updated_at: ctx.now,
            employment_checks: None,
            reminded: None,
            // The APC's decision, kept: the same person match that said EXISTING Employee.
            internal_mover: loadable.person_match == Some(PersonMatch::ExistingEmployee),
            trust_checks: None,
            late_changes: 0,
        },
        history,
    }
}

/// The APC and trust notifications of one file, filled record by record.
struct Outputs<'c> {
    organisations: &'c dit_domain::org::Organisations,
    report: FileReport,
    apc: OutboundFile,
    notifications: BTreeMap<String, PendingNotification>,
    untold: BTreeMap<String, u64>,
    business_date: chrono::NaiveDate,
    file_name: String,
}

impl<'c> Outputs<'c> {
    fn new(ctx: &Context<'c>, file: &AcceptedFile<'_>) -> Self {
        let name = file.name;
        Outputs {
            organisations: ctx.organisations,
            report: FileReport::new(&name.name, Outcome::Processed),
            apc: OutboundFile::new(
                FileType::Apc,
                &name.source,
                name.date,
                &name.seq,
                &file.generated_at,
            ),
            notifications: BTreeMap::new(),
            untold: BTreeMap::new(),
            business_date: file.business_date,
            file_name: name.name.clone(),
        }
    }

    fn add_all(&mut self, ctx: &Context<'_>, results: &[RecordResult]) {
        for result in results {
            self.add(result);
        }
        ctx.progress.advance(results.len() as u64);
    }

    fn add(&mut self, result: &RecordResult) {
        let record_number = result.record_number.to_string();
        let trust = result
            .vpd
            .as_deref()
            .and_then(|vpd| self.organisations.live(vpd));
        let (business_date, file_name) = (self.business_date, &self.file_name);
        let mut notification = trust.and_then(|org| {
            // Looked up before inserting: the trust's later records find it without a new key.
            if self.notifications.contains_key(&org.vpd) {
                return self.notifications.get_mut(&org.vpd);
            }
            Some(
                self.notifications
                    .entry(org.vpd.clone())
                    .or_insert(PendingNotification {
                        header: ApplicantNotification::new(
                            &org.vpd,
                            &org.name,
                            business_date,
                            file_name,
                        ),
                        texts: String::new(),
                        created: Vec::new(),
                        failed: Vec::new(),
                    }),
            )
        });
        match &result.outcome {
            RecordOutcome::Loaded {
                applicant_number,
                assignment_id,
                projected_hire_date,
                messages,
            } => {
                self.report.loaded += 1;
                self.report.warnings += messages
                    .iter()
                    .filter(|m| m.message_type == MessageType::Warning)
                    .count() as u64;
                for message in messages {
                    self.apc.line([
                        "APC",
                        &result.placement_id,
                        &result.dpn,
                        "SUCCESS",
                        message.message_type.code(),
                        &message.text,
                        applicant_number,
                        assignment_id,
                        &result.position_id,
                        &result.position_number,
                        &record_number,
                    ]);
                    if let Some(n) = notification.as_deref_mut() {
                        let row = n.row(result, applicant_number, message);
                        n.created.push((row, *projected_hire_date));
                    }
                }
            }
            RecordOutcome::Rejected(errors) => {
                self.report.rejected += 1;
                for message in errors {
                    self.apc.line([
                        "APC",
                        &result.placement_id,
                        &result.dpn,
                        "FAIL",
                        message.message_type.code(),
                        &message.text,
                        "",
                        "",
                        &result.position_id,
                        &result.position_number,
                        &record_number,
                    ]);
                    if let Some(n) = notification.as_deref_mut() {
                        let row = n.row(result, "", message);
                        n.failed.push((row, result.record_number));
                    }
                }
                match notification {
                    Some(n) => {
                        n.header.requires_action = true;
                    }
                    None => {
                        *self
                            .untold
                            .entry(result.vpd.clone().unwrap_or_default())
                            .or_default() += 1
                    }
                }
            }
        }
    }

    async fn finish(
        self,
        ctx: &Context<'_>,
        file: &AcceptedFile<'_>,
    ) -> Result<FileReport, ProcessError> {
        let Outputs {
            mut report,
            apc,
            notifications,
            untold,
            ..
        } = self;
        for (vpd, count) in untold {
            report.operator_warnings.push(if vpd.is_empty() {
                format!("{count} failed record(s) could not be linked to any trust (unknown position and DPN); only TIS sees them, in the APC")
            } else {
                format!("{count} failed record(s) belong to trust {vpd}, which is not live or not configured; only TIS sees them, in the APC")
            });
        }
        let name = file.name;
        let apc_name = name.confirmation_name().unwrap_or_default();
        let apc_key = format!("tis/{}/{}", name.source, apc_name);
        ctx.blobs
            .put(Area::Outbound, &apc_key, apc.finish(), "text/plain")
            .await?;
        report.outputs.push(format!("outbound/{apc_key}"));
        let stem = name.name.trim_end_matches(".DAT");
        let made_at = file_made_at(&file.generated_at, file.business_date);
        // A few trusts at a time: their objects are written together (at once where the store
        // can), and only their rendered notifications are held.
        let mut pending = notifications.into_iter();
        loop {
            let trusts: Vec<(String, PendingNotification)> =
                pending.by_ref().take(TRUSTS_WRITTEN_TOGETHER).collect();
            if trusts.is_empty() {
                break;
            }
            let outputs: Vec<TrustOutput<ApplicantNotification>> =
                map_on_two_threads(trusts, |(vpd, pending)| {
                    let value = pending.into_notification();
                    TrustOutput {
                        base: format!(
                            "trusts/{vpd}/notifications/{stem}.deanery-applicant-notification"
                        ),
                        html: value.render_html(),
                        local_office: Some(name.source.clone()),
                        vpd,
                        value,
                    }
                });
            report
                .outputs
                .extend(put_notifications(ctx, outputs, made_at).await?);
        }
        Ok(report)
    }
}

/// A trust's notification while the file is read: its rows' text kept end to end in one string
/// instead of seven strings per row, which at 60,000 records was about a quarter of the load's
/// peak memory. Built into an [`ApplicantNotification`] one trust at a time when written.
struct PendingNotification {
    /// Everything but the rows.
    header: ApplicantNotification,
    texts: String,
    created: Vec<(PendingRow, chrono::NaiveDate)>,
    failed: Vec<(PendingRow, u64)>,
}

/// Where a row's fields end in [`PendingNotification::texts`]: position number, DPN, applicant
/// name, applicant number, placement id and message, each starting where the one before ends.
struct PendingRow {
    start: usize,
    ends: [usize; 6],
    message_type: MessageType,
}

impl PendingNotification {
    fn row(
        &mut self,
        result: &RecordResult,
        applicant_number: &str,
        message: &Message,
    ) -> PendingRow {
        let start = self.texts.len();
        let mut ends = [0; 6];
        let fields = [
            result.position_number.as_str(),
            &result.dpn,
            &result.applicant_name,
            applicant_number,
            &result.placement_id,
            &message.text,
        ];
        for (end, field) in ends.iter_mut().zip(fields) {
            self.texts.push_str(field);
            *end = self.texts.len();
        }
        PendingRow {
            start,
            ends,
            message_type: message.message_type,
        }
    }

    fn into_notification(self) -> ApplicantNotification {
        let PendingNotification {
            mut header,
            texts,
            created,
            failed,
        } = self;
        let fields = |row: &PendingRow| {
            let mut start = row.start;
            row.ends.map(|end| {
                let field = texts[start..end].to_string();
                start = end;
                field
            })
        };
        header.created = created
            .iter()
            .map(|(row, projected_hire_date)| {
                let [position_number, deanery_number, applicant_name, applicant_number, placement_id, message] =
                    fields(row);
                CreatedApplication {
                    position_number,
                    deanery_number,
                    applicant_name,
                    applicant_number,
                    message_type: row.message_type.code().to_string(),
                    message,
                    placement_id,
                    projected_hire_date: *projected_hire_date,
                }
            })
            .collect();
        header.failed = failed
            .iter()
            .map(|(row, record_number)| {
                let [position_number, deanery_number, applicant_name, _, placement_id, message] =
                    fields(row);
                FailedApplication {
                    position_number,
                    deanery_number,
                    applicant_name,
                    message_type: row.message_type.code().to_string(),
                    message,
                    placement_id,
                    record_number: *record_number,
                }
            })
            .collect();
        header
    }
}
