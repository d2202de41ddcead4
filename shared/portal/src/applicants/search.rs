//! Applicant search: a trust's applicants (an operator's: every trust's, and any found by number,
//! GMC number or placement id) and the rejected APP records that answer the text, a page at a
//! time.

use super::*;

/// Results per page.
pub const PAGE_SIZE: usize = 50;

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    state: String,
    page: Option<usize>,
}

pub struct Row {
    pub number: String,
    pub name: String,
    pub gmc: String,
    pub placement: String,
    pub dpn: String,
    pub vpd: String,
    pub state: ApplicantState,
    pub hire_date: String,
}

impl Row {
    fn of(applicant: &ApplicantSummary) -> Row {
        Row {
            number: applicant.applicant_number.clone(),
            name: format!("{} {}", applicant.first_name, applicant.last_name)
                .trim()
                .to_string(),
            gmc: applicant.gmc_number.clone().unwrap_or_default(),
            placement: applicant.placement_id.clone(),
            dpn: applicant.dpn.clone(),
            vpd: applicant.vpd.clone(),
            state: applicant.state,
            hire_date: format::date(applicant.projected_hire_date),
        }
    }
}

/// Does `applicant` answer the search text (already trimmed and lower-cased)? Identifiers match
/// whole; a name or DPN matches on any part.
pub fn matches(applicant: &ApplicantSummary, text: &str) -> bool {
    if text.is_empty() {
        return true;
    }
    let exact = [
        applicant.applicant_number.as_str(),
        applicant.placement_id.as_str(),
        applicant.position_number.as_str(),
        applicant.gmc_number.as_deref().unwrap_or_default(),
    ];
    if exact
        .iter()
        .any(|id| !id.is_empty() && id.eq_ignore_ascii_case(text))
    {
        return true;
    }
    let (first, last) = (&applicant.first_name, &applicant.last_name);
    let names = [
        format!("{first} {last}"),
        format!("{last} {first}"),
        format!("{last}, {first}"),
    ];
    applicant.dpn.to_lowercase().contains(text)
        || names.iter().any(|n| n.to_lowercase().contains(text))
}

/// A rejected APP record found by the search: no applicant was made, so it has no page; its
/// messages say why.
pub struct RejectedRow {
    pub name: String,
    pub gmc: String,
    pub placement: String,
    pub dpn: String,
    pub vpd: String,
    pub source: String,
    pub messages: String,
}

impl RejectedRow {
    fn of(rejected: &RejectedApplication) -> RejectedRow {
        RejectedRow {
            name: format!("{} {}", rejected.first_name, rejected.last_name)
                .trim()
                .to_string(),
            gmc: rejected.gmc_number.clone().unwrap_or_default(),
            placement: rejected.placement_id.clone(),
            dpn: rejected.dpn.clone(),
            vpd: rejected.vpd.clone().unwrap_or_default(),
            source: format!(
                "{} record {} (line {}), {}",
                rejected.source_file,
                rejected.record_number,
                rejected.line,
                format::date(rejected.business_date)
            ),
            messages: rejected
                .messages
                .iter()
                .map(|m| format!("{} {}", m.message_type.code(), m.text))
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

/// Does a rejected record answer the search text (trimmed, lower-cased)?
pub fn rejected_matches(rejected: &RejectedApplication, text: &str) -> bool {
    if text.is_empty() {
        return true;
    }
    let exact = [
        rejected.placement_id.as_str(),
        rejected.position_number.as_str(),
        rejected.gmc_number.as_deref().unwrap_or_default(),
    ];
    if exact
        .iter()
        .any(|id| !id.is_empty() && id.eq_ignore_ascii_case(text))
    {
        return true;
    }
    let names = [
        format!("{} {}", rejected.first_name, rejected.last_name),
        format!("{} {}", rejected.last_name, rejected.first_name),
        format!("{}, {}", rejected.last_name, rejected.first_name),
    ];
    rejected.dpn.to_lowercase().contains(text)
        || names.iter().any(|n| n.to_lowercase().contains(text))
}

/// The rejected records the identity may search: its trust's, or every configured trust's and,
/// for an operator, those found by placement id or GMC number (records no trust could be told of);
/// a local office's data team those of its own files only.
async fn rejected_candidates(
    portal: &Portal,
    identity: &Identity,
    text: &str,
) -> Result<Vec<RejectedApplication>, PageError> {
    let mut found = every_rejected(portal, identity, text).await?;
    found.retain(|r| identity.sees_local_office(&r.local_office) || identity.vpd().is_some());
    Ok(found)
}

async fn every_rejected(
    portal: &Portal,
    identity: &Identity,
    text: &str,
) -> Result<Vec<RejectedApplication>, PageError> {
    let store = portal.ports.store.as_ref();
    if let Some(vpd) = identity.vpd() {
        return Ok(store
            .rejected_applications(RejectedLookup::Trust(vpd))
            .await?);
    }
    let mut found = Vec::new();
    for organisation in portal.ports.organisations.iter() {
        found.extend(
            store
                .rejected_applications(RejectedLookup::Trust(&organisation.vpd))
                .await?,
        );
    }
    if !text.is_empty() && text.len() <= 32 {
        found.extend(
            store
                .rejected_applications(RejectedLookup::Placement(text))
                .await?,
        );
        found.extend(
            store
                .rejected_applications(RejectedLookup::Gmc(text))
                .await?,
        );
    }
    found.sort_by(|a, b| {
        (b.business_date, &a.source_file, a.record_number).cmp(&(
            a.business_date,
            &b.source_file,
            b.record_number,
        ))
    });
    found.dedup_by(|a, b| a.source_file == b.source_file && a.record_number == b.record_number);
    Ok(found)
}

fn state_filter(text: &str) -> Option<ApplicantState> {
    ApplicantState::ALL.into_iter().find(|s| s.name() == text)
}

/// The applicants the identity may search: its trust's, or every configured trust's; for an
/// operator also those found directly by number, GMC number or placement id (a trust no longer
/// configured keeps its applicants findable); a local office's data team only those its own
/// files loaded.
async fn candidates(
    portal: &Portal,
    identity: &Identity,
    text: &str,
) -> Result<Vec<ApplicantSummary>, PageError> {
    let mut found = every_candidate(portal, identity, text).await?;
    found.retain(|a| identity.sees_applicant(&a.vpd, &a.local_office));
    Ok(found)
}

async fn every_candidate(
    portal: &Portal,
    identity: &Identity,
    text: &str,
) -> Result<Vec<ApplicantSummary>, PageError> {
    let store = portal.ports.store.as_ref();
    if let Some(vpd) = identity.vpd() {
        return Ok(store.trust_applicants(vpd).await?);
    }
    let mut found = Vec::new();
    for organisation in portal.ports.organisations.iter() {
        found.extend(store.trust_applicants(&organisation.vpd).await?);
    }
    if !text.is_empty() && text.len() <= 32 {
        let mut direct: Vec<Applicant> = Vec::new();
        direct.extend(store.applicant(text).await?);
        direct.extend(store.applicants_by_gmc(text).await?);
        let links = store.placements(&[text.to_string()]).await?;
        for link in links.values() {
            direct.extend(store.applicant(&link.applicant_number).await?);
        }
        found.extend(direct.iter().map(ApplicantSummary::from));
    }
    found.sort_by(|a, b| {
        (a.applicant_number.len(), &a.applicant_number)
            .cmp(&(b.applicant_number.len(), &b.applicant_number))
    });
    found.dedup_by(|a, b| a.applicant_number == b.applicant_number);
    Ok(found)
}

#[derive(Template)]
#[template(path = "search.html")]
struct SearchPage {
    chrome: Chrome,
    operator: bool,
    heading: String,
    q: String,
    state: String,
    states: Vec<&'static str>,
    rows: Vec<Row>,
    rejected: Vec<RejectedRow>,
    total: usize,
    page: usize,
    pages: usize,
    searched: bool,
    next_href: String,
    previous_href: String,
}

pub async fn search(
    State(portal): State<Shared>,
    identity: Identity,
    Query(query): Query<SearchQuery>,
) -> Page {
    if identity.vpd().is_some() {
        trust_of(&portal, &identity)?;
    }
    if identity.trainee_gmc().is_some() {
        return Err(PageError::NotFound);
    }
    let text = query.q.trim().to_lowercase();
    let state = state_filter(query.state.trim());
    let found: Vec<ApplicantSummary> = candidates(&portal, &identity, query.q.trim())
        .await?
        .into_iter()
        .filter(|a| state.is_none_or(|s| a.state == s) && matches(a, &text))
        .collect();
    let rejected: Vec<RejectedRow> = if state.is_none_or(|s| s == ApplicantState::Rejected) {
        rejected_candidates(&portal, &identity, query.q.trim())
            .await?
            .iter()
            .filter(|r| rejected_matches(r, &text))
            .take(PAGE_SIZE)
            .map(RejectedRow::of)
            .collect()
    } else {
        Vec::new()
    };
    let total = found.len();
    let pages = total.div_ceil(PAGE_SIZE).max(1);
    let page = query.page.unwrap_or(1).clamp(1, pages);
    let rows = found
        .iter()
        .skip((page - 1) * PAGE_SIZE)
        .take(PAGE_SIZE)
        .map(Row::of)
        .collect();
    let href = |page: usize| {
        format!(
            "/applicants?q={}&state={}&page={page}",
            percent_encoding::utf8_percent_encode(
                query.q.trim(),
                percent_encoding::NON_ALPHANUMERIC
            ),
            state.map(ApplicantState::name).unwrap_or_default()
        )
    };
    render::html(&SearchPage {
        chrome: Chrome::new(&portal.ports.organisations, &identity, "/applicants"),
        operator: identity.sees_operator_pages(),
        heading: match (identity.is_operator(), identity.local_office()) {
            (true, _) => "Applicants in every trust".to_string(),
            (false, Some(code)) => format!("Applicants from local office {code}'s files"),
            (false, None) => "Applicants".to_string(),
        },
        q: query.q.trim().to_string(),
        state: state
            .map(ApplicantState::name)
            .unwrap_or_default()
            .to_string(),
        states: ApplicantState::ALL.iter().map(|s| s.name()).collect(),
        rows,
        rejected,
        total,
        page,
        pages,
        searched: !text.is_empty() || state.is_some(),
        next_href: href(page + 1),
        previous_href: href(page.saturating_sub(1).max(1)),
    })
}
