//! The tables and indexes of `state.db`, created on open when missing, and the columns added
//! since, added to an older database on open.

pub(super) const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS files (
    identity TEXT PRIMARY KEY, source TEXT NOT NULL, file_type TEXT NOT NULL, seq INTEGER NOT NULL,
    body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS files_by_source ON files(source, file_type, seq);
CREATE TABLE IF NOT EXISTS received_sequences (
    file_type TEXT NOT NULL, seq INTEGER NOT NULL, source TEXT NOT NULL, business_date TEXT NOT NULL,
    body TEXT NOT NULL, PRIMARY KEY (file_type, seq, source));
CREATE INDEX IF NOT EXISTS received_sequences_by_date ON received_sequences(file_type, business_date, seq);
CREATE TABLE IF NOT EXISTS positions (
    position_id TEXT PRIMARY KEY, vpd TEXT NOT NULL, dpn TEXT NOT NULL, body TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS positions_by_trust ON positions(vpd);
CREATE INDEX IF NOT EXISTS positions_by_dpn ON positions(dpn);
CREATE TABLE IF NOT EXISTS placements (
    placement_id TEXT PRIMARY KEY, applicant_number TEXT NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS applicants (
    applicant_number TEXT PRIMARY KEY, vpd TEXT NOT NULL, gmc TEXT, hire_date TEXT NOT NULL,
    version INTEGER NOT NULL, body TEXT NOT NULL, report TEXT);
CREATE INDEX IF NOT EXISTS applicants_by_hire_date ON applicants(hire_date, vpd);
CREATE INDEX IF NOT EXISTS applicants_by_gmc ON applicants(gmc, vpd);
CREATE INDEX IF NOT EXISTS applicants_by_trust_and_hire_date ON applicants(vpd, hire_date);
CREATE TABLE IF NOT EXISTS history (
    applicant_number TEXT NOT NULL, seq INTEGER NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (applicant_number, seq));
CREATE TABLE IF NOT EXISTS persons (
    vpd TEXT NOT NULL, person_key TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (vpd, person_key));
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS reservations (
    counter TEXT NOT NULL, holder TEXT NOT NULL, first INTEGER NOT NULL, count INTEGER NOT NULL,
    PRIMARY KEY (counter, holder));
CREATE TABLE IF NOT EXISTS rotation (
    vpd TEXT NOT NULL, position_key TEXT NOT NULL, body TEXT NOT NULL, PRIMARY KEY (vpd, position_key));
CREATE TABLE IF NOT EXISTS person_updates (
    applicant_number TEXT NOT NULL, message_id TEXT NOT NULL, vpd TEXT NOT NULL, received_at TEXT NOT NULL,
    body TEXT NOT NULL, PRIMARY KEY (applicant_number, message_id));
CREATE INDEX IF NOT EXISTS person_updates_by_trust ON person_updates(vpd, received_at);
CREATE TABLE IF NOT EXISTS watermarks (job TEXT PRIMARY KEY, date TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS read_marks (
    vpd TEXT NOT NULL, item TEXT NOT NULL, at TEXT NOT NULL, PRIMARY KEY (vpd, item));
CREATE TABLE IF NOT EXISTS tis_positions (
    local_office TEXT NOT NULL, position_id TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (local_office, position_id));
CREATE TABLE IF NOT EXISTS rejected_applications (
    source_file TEXT NOT NULL, record_number INTEGER NOT NULL, placement_id TEXT NOT NULL,
    gmc TEXT, vpd TEXT, business_date TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (source_file, record_number));
CREATE INDEX IF NOT EXISTS rejected_by_placement ON rejected_applications(placement_id);
CREATE INDEX IF NOT EXISTS rejected_by_gmc ON rejected_applications(gmc);
CREATE INDEX IF NOT EXISTS rejected_by_trust ON rejected_applications(vpd, business_date);
CREATE INDEX IF NOT EXISTS rejected_by_date ON rejected_applications(business_date);
";

/// Indexes of earlier releases that nothing reads any more, dropped on open. The applicants by
/// trust and number: a trust's applicants are found through `applicants_by_trust_and_hire_date`
/// (the worklist sorts them by the number's length first, which no index gives), and every new
/// applicant paid an insert into it.
pub(super) const DROPPED_INDEXES: [&str; 1] = ["applicants_by_trust"];

/// Columns added after their table was first released: `(table, column, definition)`. A
/// database made before gets each on open (`ALTER TABLE .. ADD COLUMN`, which rewrites no row);
/// its existing rows hold NULL there, and every reader of such a column says what NULL means.
pub(super) const ADDED_COLUMNS: [(&str, &str, &str); 1] = [
    // The report fields of an applicant as a short JSON array (see `portal::report_fields`),
    // so that reports over a rotation read them without parsing every applicant's document.
    ("applicants", "report", "TEXT"),
];
