//! Households at risk: rules (the operator's config, `rules/risk.toml`) → evaluation over each
//! household's members and events → flags with evidence, responsibility and deadlines → cases
//! worked by the responsible unit → the weekly report.
//!
//! - [`spec`] and [`rules`]: the rules file parsed into plain structs, then validated into a
//!   versioned [`RuleSet`] (every problem reported at once as `file: key: message`);
//! - [`view`]: households, members and events loaded from the registry in a few bulk queries;
//! - [`mod@evaluate`]: the rules run in memory, giving each household a score, a level, whether
//!   the 低保/特困 roster covers it, and for each rule that fired a plain-language reason with
//!   the events proving it;
//! - [`flags`]: [`flag_households`], the entry point: one flag per household, updated or
//!   reopened rather than duplicated, written in one transaction;
//! - [`responsibility`]: the unit answering for a flag (首问负责) and its due date (限时办理);
//! - [`cases`]: `new → verifying → assisting → closed` (or `dismissed` with a reason),
//!   assignment, referral (转介), overdue cases;
//! - [`report`]: the weekly statistics (周报) rolled up village → township → county, as a
//!   workbook and an HTML page with charts.

pub mod cases;
pub mod evaluate;
pub mod flags;
pub mod report;
pub mod responsibility;
pub mod rules;
pub mod spec;
pub mod view;

pub use cases::Status;
pub use evaluate::{Assessment, Evaluator, FiredRule, evaluate};
pub use flags::{FlagSummary, flag_households};
pub use rules::{Level, RuleSet, RulesError};
pub use view::{HouseholdView, load_view};

/// Why a risk operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RiskError {
    /// The registry failed.
    #[error(transparent)]
    Registry(#[from] crate::registry::RegistryError),
    /// No flag has this id.
    #[error("no flag {0}")]
    NoSuchFlag(i64),
    /// The case is closed or dismissed.
    #[error("flag {0} is {1}: it reopens only when new evidence arrives")]
    Closed(i64, &'static str),
    /// The workflow does not allow this move.
    #[error("flag {flag_id} cannot move from {from} to {to}")]
    Transition {
        /// The flag.
        flag_id: i64,
        /// Current status.
        from: &'static str,
        /// Requested status.
        to: &'static str,
    },
    /// A request that makes no sense.
    #[error("{0}")]
    Invalid(String),
    /// Someone else moved the case between reading it and acting on it.
    #[error("flag {0} changed while this action was being made: look at it again")]
    Changed(i64),
    /// Writing a report failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: String,
        /// Why.
        source: std::io::Error,
    },
    /// Writing the workbook failed.
    #[error("cannot write the workbook: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

impl From<sqlx::Error> for RiskError {
    fn from(error: sqlx::Error) -> Self {
        RiskError::Registry(error.into())
    }
}
