//! The file that passed the whole-file checks of 2.3, as the dispatcher hands it to the pipeline of
//! its type. A module of its own so that the pipelines depend on it and not on the dispatcher that
//! calls them (which would make a loop).

use chrono::NaiveDate;

use dit_domain::envelope::FileName;

/// A file that passed the whole-file checks, ready for its pipeline (not to be confused with an
/// applicant's `Accepted` state).
pub(crate) struct AcceptedFile<'f> {
    pub name: &'f FileName,
    pub bytes: &'f [u8],
    pub sha256: String,
    pub business_date: NaiveDate,
    pub generated_at: String,
}
