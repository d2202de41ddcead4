//! Injected faults: a [`StateStore`], a [`BlobStore`] and a [`Mailer`] that pass everything to
//! the real ones but fail (a transient error), panic, or lose the acknowledgement at chosen writes.
//!
//! Writes are numbered from 1 across the store, the blob store and the mailer that share one
//! [`Faults`] (an e-mail alert handed over is a write).
//! A write of many records (applicants, positions, rotation rows, TIS positions) is passed on one
//! record at a time, each a write of its own: so a fault can fall between any two records, as a
//! process can die between two DynamoDB requests. Reads are never faulted.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use dit_core::ports::{
    Area, BlobError, BlobStore, Counter, CreateOutcome, MailOutcome, Mailer, MoveOutcome,
    NewApplicant, StateStore, StoreError,
};
use dit_domain::dnc::RotationEntry;
use dit_domain::mail::{Mail, MailError};
use dit_domain::model::{
    Applicant, FileClaim, HistoryEntry, Person, PersonUpdate, PlacementLink, ProcessedFile,
    ReceivedSequence, RejectedApplication, RejectedLookup,
};
use dit_domain::pos::Position;

/// What happens at a faulted write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The write is not made and a transient error is returned (the store was unreachable).
    Fail,
    /// The process dies before the write (a panic unwinds through the service).
    Panic,
    /// The write is made, then a transient error is returned (the answer was lost: a timeout
    /// after DynamoDB or S3 had done it).
    FailAfter,
}

#[derive(Debug, Clone, Copy)]
enum Plan {
    Never,
    /// The `n`th write only.
    At(u64, Fault),
    /// Every `k`th write, at most `limit` times.
    Every {
        k: u64,
        fault: Fault,
        limit: u64,
    },
}

/// The write counter and the plan of faults shared by a [`FaultyStore`] and a [`FaultyBlobs`].
#[derive(Debug)]
pub struct Faults {
    writes: AtomicU64,
    injected: AtomicU64,
    plan: Mutex<Plan>,
    /// What each write was, in order (`put`, `mail`, `create_applicant`, ...).
    kinds: Mutex<Vec<String>>,
}

impl Faults {
    /// No faults (yet): writes are only counted.
    pub fn none() -> Arc<Faults> {
        Arc::new(Faults {
            writes: AtomicU64::new(0),
            injected: AtomicU64::new(0),
            plan: Mutex::new(Plan::Never),
            kinds: Mutex::new(Vec::new()),
        })
    }

    /// A fault at the `n`th write (from 1) only.
    pub fn at(n: u64, fault: Fault) -> Arc<Faults> {
        let faults = Faults::none();
        faults.set(Plan::At(n, fault));
        faults
    }

    /// A fault at every `k`th write, `limit` times at most.
    pub fn every(k: u64, fault: Fault, limit: u64) -> Arc<Faults> {
        let faults = Faults::none();
        faults.set(Plan::Every { k, fault, limit });
        faults
    }

    fn set(&self, plan: Plan) {
        *self.plan.lock().unwrap_or_else(|p| p.into_inner()) = plan;
    }

    /// Stops injecting; writes are still counted.
    pub fn stop(&self) {
        self.set(Plan::Never);
    }

    /// Writes seen so far (faulted ones included).
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::SeqCst)
    }

    /// The numbers (from 1) of the writes of this kind seen so far, e.g. `"mail"`.
    pub fn writes_of(&self, kind: &str) -> Vec<u64> {
        let kinds = self.kinds.lock().unwrap_or_else(|p| p.into_inner());
        (1..)
            .zip(kinds.iter())
            .filter(|(_, k)| k.as_str() == kind)
            .map(|(n, _)| n)
            .collect()
    }

    /// Faults injected so far.
    pub fn injected(&self) -> u64 {
        self.injected.load(Ordering::SeqCst)
    }

    /// Numbers this write and says which fault, if any, it meets.
    fn next(&self) -> (u64, Option<Fault>) {
        let n = self.writes.fetch_add(1, Ordering::SeqCst) + 1;
        let plan = *self.plan.lock().unwrap_or_else(|p| p.into_inner());
        let fault = match plan {
            Plan::Never => None,
            Plan::At(at, fault) => (at == n).then_some(fault),
            Plan::Every { k, fault, limit } => {
                (n % k == 0 && self.injected() < limit).then_some(fault)
            }
        };
        if fault.is_some() {
            self.injected.fetch_add(1, Ordering::SeqCst);
        }
        (n, fault)
    }

    /// Runs one write under the plan.
    async fn write<T, E>(
        &self,
        what: &str,
        error: impl Fn(String) -> E,
        write: impl std::future::Future<Output = Result<T, E>>,
    ) -> Result<T, E> {
        let (n, fault) = {
            // Numbered and logged under one lock, so the log's order is the numbers' order.
            let mut kinds = self.kinds.lock().unwrap_or_else(|p| p.into_inner());
            kinds.push(what.to_string());
            self.next()
        };
        match fault {
            None => write.await,
            Some(Fault::Fail) => Err(error(format!("injected fault at write {n} ({what})"))),
            Some(Fault::Panic) => panic!("injected panic at write {n} ({what})"),
            Some(Fault::FailAfter) => {
                write.await?;
                Err(error(format!(
                    "injected fault after write {n} ({what}): the write was made"
                )))
            }
        }
    }
}

fn store_error(message: String) -> StoreError {
    StoreError::Unavailable(message)
}

fn blob_error(message: String) -> BlobError {
    BlobError::Unavailable(message)
}

/// A [`StateStore`] whose writes meet the [`Faults`] plan.
pub struct FaultyStore {
    inner: Arc<dyn StateStore>,
    faults: Arc<Faults>,
}

impl FaultyStore {
    pub fn new(inner: Arc<dyn StateStore>, faults: Arc<Faults>) -> FaultyStore {
        FaultyStore { inner, faults }
    }
}

#[async_trait]
impl StateStore for FaultyStore {
    async fn claim_file(&self, file: &ProcessedFile) -> Result<FileClaim, StoreError> {
        let write = self.inner.claim_file(file);
        self.faults.write("claim_file", store_error, write).await
    }

    async fn complete_file(
        &self,
        identity: &str,
        summary: &serde_json::Value,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let write = self.inner.complete_file(identity, summary, at);
        self.faults.write("complete_file", store_error, write).await
    }

    async fn note_received_sequence(&self, received: &ReceivedSequence) -> Result<(), StoreError> {
        let write = self.inner.note_received_sequence(received);
        self.faults
            .write("note_received_sequence", store_error, write)
            .await
    }

    async fn received_sequences_between_dates(
        &self,
        file_type: &str,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<ReceivedSequence>, StoreError> {
        self.inner
            .received_sequences_between_dates(file_type, from, to)
            .await
    }

    async fn received_sequences_between_numbers(
        &self,
        file_type: &str,
        lowest: u64,
        highest: u64,
    ) -> Result<Vec<ReceivedSequence>, StoreError> {
        self.inner
            .received_sequences_between_numbers(file_type, lowest, highest)
            .await
    }

    async fn positions(&self, ids: &[String]) -> Result<HashMap<String, Position>, StoreError> {
        self.inner.positions(ids).await
    }

    async fn trust_positions(&self, vpd: &str) -> Result<Vec<Position>, StoreError> {
        self.inner.trust_positions(vpd).await
    }

    async fn positions_by_dpn(&self, dpn: &str) -> Result<Vec<Position>, StoreError> {
        self.inner.positions_by_dpn(dpn).await
    }

    async fn save_positions(&self, positions: &[Position]) -> Result<(), StoreError> {
        for position in positions {
            let write = self.inner.save_positions(std::slice::from_ref(position));
            self.faults
                .write("save_positions", store_error, write)
                .await?;
        }
        Ok(())
    }

    async fn placements(
        &self,
        ids: &[String],
    ) -> Result<HashMap<String, PlacementLink>, StoreError> {
        self.inner.placements(ids).await
    }

    async fn persons(
        &self,
        keys: &[(String, String)],
    ) -> Result<HashMap<(String, String), Person>, StoreError> {
        self.inner.persons(keys).await
    }

    async fn allocate_numbers(&self, count: u64) -> Result<u64, StoreError> {
        let write = self.inner.allocate_numbers(count);
        self.faults
            .write("allocate_numbers", store_error, write)
            .await
    }

    async fn reserve_numbers(
        &self,
        counter: Counter<'_>,
        holder: &str,
        count: u64,
    ) -> Result<std::ops::Range<u64>, StoreError> {
        let write = self.inner.reserve_numbers(counter, holder, count);
        self.faults
            .write("reserve_numbers", store_error, write)
            .await
    }

    async fn create_applicants(
        &self,
        applicants: &[NewApplicant],
    ) -> Result<Vec<CreateOutcome>, StoreError> {
        let mut outcomes = Vec::with_capacity(applicants.len());
        for applicant in applicants {
            let write = self
                .inner
                .create_applicants(std::slice::from_ref(applicant));
            outcomes.extend(
                self.faults
                    .write("create_applicants", store_error, write)
                    .await?,
            );
        }
        Ok(outcomes)
    }

    async fn begin_bulk(&self) -> Result<(), StoreError> {
        self.inner.begin_bulk().await
    }

    async fn end_bulk(&self) -> Result<(), StoreError> {
        self.inner.end_bulk().await
    }

    async fn applicant(&self, applicant_number: &str) -> Result<Option<Applicant>, StoreError> {
        self.inner.applicant(applicant_number).await
    }

    async fn applicants_by_gmc(&self, gmc: &str) -> Result<Vec<Applicant>, StoreError> {
        self.inner.applicants_by_gmc(gmc).await
    }

    async fn history(&self, applicant_number: &str) -> Result<Vec<HistoryEntry>, StoreError> {
        self.inner.history(applicant_number).await
    }

    async fn record_move(
        &self,
        expected_version: u32,
        applicant: &Applicant,
        entry: &HistoryEntry,
    ) -> Result<MoveOutcome, StoreError> {
        let write = self.inner.record_move(expected_version, applicant, entry);
        self.faults.write("record_move", store_error, write).await
    }

    async fn mark_employee(&self, vpd: &str, person_key: &str) -> Result<(), StoreError> {
        let write = self.inner.mark_employee(vpd, person_key);
        self.faults.write("mark_employee", store_error, write).await
    }

    async fn save_rotation(&self, entries: &[RotationEntry]) -> Result<(), StoreError> {
        for entry in entries {
            let write = self.inner.save_rotation(std::slice::from_ref(entry));
            self.faults
                .write("save_rotation", store_error, write)
                .await?;
        }
        Ok(())
    }

    async fn rotation_grid(&self, vpd: &str) -> Result<Vec<RotationEntry>, StoreError> {
        self.inner.rotation_grid(vpd).await
    }

    async fn remove_rotation(&self, vpd: &str, position_keys: &[String]) -> Result<(), StoreError> {
        for key in position_keys {
            let write = self.inner.remove_rotation(vpd, std::slice::from_ref(key));
            self.faults
                .write("remove_rotation", store_error, write)
                .await?;
        }
        Ok(())
    }

    async fn save_person_update(&self, update: &PersonUpdate) -> Result<(), StoreError> {
        let write = self.inner.save_person_update(update);
        self.faults
            .write("save_person_update", store_error, write)
            .await
    }

    async fn person_updates(&self, vpd: &str) -> Result<Vec<PersonUpdate>, StoreError> {
        self.inner.person_updates(vpd).await
    }

    async fn applicants_starting_on(&self, date: NaiveDate) -> Result<Vec<Applicant>, StoreError> {
        self.inner.applicants_starting_on(date).await
    }

    async fn watermark(&self, job: &str) -> Result<Option<NaiveDate>, StoreError> {
        self.inner.watermark(job).await
    }

    async fn advance_watermark(&self, job: &str, date: NaiveDate) -> Result<bool, StoreError> {
        let write = self.inner.advance_watermark(job, date);
        self.faults
            .write("advance_watermark", store_error, write)
            .await
    }

    async fn next_in_sequence(&self, name: &str) -> Result<u64, StoreError> {
        let write = self.inner.next_in_sequence(name);
        self.faults
            .write("next_in_sequence", store_error, write)
            .await
    }

    async fn tis_positions(
        &self,
        local_office: &str,
    ) -> Result<HashMap<String, Vec<String>>, StoreError> {
        self.inner.tis_positions(local_office).await
    }

    async fn save_tis_positions(
        &self,
        local_office: &str,
        sent: &[(String, Option<Vec<String>>)],
    ) -> Result<(), StoreError> {
        for one in sent {
            let write = self
                .inner
                .save_tis_positions(local_office, std::slice::from_ref(one));
            self.faults
                .write("save_tis_positions", store_error, write)
                .await?;
        }
        Ok(())
    }

    async fn save_rejected_applications(
        &self,
        rejected: &[RejectedApplication],
    ) -> Result<(), StoreError> {
        for one in rejected {
            let write = self
                .inner
                .save_rejected_applications(std::slice::from_ref(one));
            self.faults
                .write("save_rejected_applications", store_error, write)
                .await?;
        }
        Ok(())
    }

    async fn rejected_applications(
        &self,
        lookup: RejectedLookup<'_>,
    ) -> Result<Vec<RejectedApplication>, StoreError> {
        self.inner.rejected_applications(lookup).await
    }

    async fn trust_applicants(
        &self,
        vpd: &str,
    ) -> Result<Vec<dit_domain::model::ApplicantSummary>, StoreError> {
        self.inner.trust_applicants(vpd).await
    }

    async fn mark_read(&self, vpd: &str, item: &str, at: DateTime<Utc>) -> Result<(), StoreError> {
        let write = self.inner.mark_read(vpd, item, at);
        self.faults.write("mark_read", store_error, write).await
    }

    async fn read_items(&self, vpd: &str) -> Result<std::collections::HashSet<String>, StoreError> {
        self.inner.read_items(vpd).await
    }
}

/// A [`BlobStore`] whose writes (put, copy, delete) meet the [`Faults`] plan.
pub struct FaultyBlobs {
    inner: Arc<dyn BlobStore>,
    faults: Arc<Faults>,
}

impl FaultyBlobs {
    pub fn new(inner: Arc<dyn BlobStore>, faults: Arc<Faults>) -> FaultyBlobs {
        FaultyBlobs { inner, faults }
    }
}

#[async_trait]
impl BlobStore for FaultyBlobs {
    async fn get(&self, area: Area, key: &str) -> Result<Option<Vec<u8>>, BlobError> {
        self.inner.get(area, key).await
    }

    async fn size(&self, area: Area, key: &str) -> Result<Option<u64>, BlobError> {
        self.inner.size(area, key).await
    }

    async fn put(
        &self,
        area: Area,
        key: &str,
        bytes: Vec<u8>,
        content_type: &str,
    ) -> Result<(), BlobError> {
        let write = self.inner.put(area, key, bytes, content_type);
        self.faults.write("put", blob_error, write).await
    }

    async fn delete(&self, area: Area, key: &str) -> Result<(), BlobError> {
        let write = self.inner.delete(area, key);
        self.faults.write("delete", blob_error, write).await
    }

    async fn copy(
        &self,
        from: Area,
        from_key: &str,
        to: Area,
        to_key: &str,
    ) -> Result<(), BlobError> {
        let write = self.inner.copy(from, from_key, to, to_key);
        self.faults.write("copy", blob_error, write).await
    }

    async fn link(
        &self,
        area: Area,
        key: &str,
        expires_in: std::time::Duration,
    ) -> Result<String, BlobError> {
        self.inner.link(area, key, expires_in).await
    }

    async fn list(&self, area: Area, prefix: &str) -> Result<Vec<String>, BlobError> {
        self.inner.list(area, prefix).await
    }
}

fn mail_error(message: String) -> MailError {
    MailError::Unavailable(message)
}

/// A [`Mailer`] whose sends meet the [`Faults`] plan: a fault before the hand-over (the mail
/// service unreachable, or the process dying) or after it (the acknowledgement lost).
pub struct FaultyMailer {
    inner: Arc<dyn Mailer>,
    faults: Arc<Faults>,
}

impl FaultyMailer {
    pub fn new(inner: Arc<dyn Mailer>, faults: Arc<Faults>) -> FaultyMailer {
        FaultyMailer { inner, faults }
    }
}

#[async_trait]
impl Mailer for FaultyMailer {
    async fn send(&self, mail: &Mail) -> Result<MailOutcome, MailError> {
        let write = self.inner.send(mail);
        self.faults.write("mail", mail_error, write).await
    }
}
