//! ICP scoring engine: pure feature extraction, training, calibration, grades and explanations.
//!
//! No I/O and no async: callers hand in records, get back models, scores and explanations.
//! - [`crm`]: HubSpot-shaped facts (contacts, companies, deals) → labelled datasets and a
//!   [`crm::ContactModel`] that scores one contact in microseconds.
//! - [`dataset`] / [`train`] / [`model`]: the generic tabular engine also used by `conturs eval`.
//! - [`learned`]: a model's strongest reasons for and against across a whole portal.
//! - [`evaluate`]: cross-validated AUC, lift, capture, grade monotonicity, time holdout.

pub mod calibration;
pub mod crm;
pub mod dataset;
pub mod encoder;
pub mod evaluate;
pub mod explain;
pub mod learned;
pub mod linear;
pub mod metrics;
pub mod model;
pub mod normalize;
pub mod title;
pub mod train;

pub use calibration::{Calibration, Grade, GradeThresholds};
pub use dataset::{Dataset, FieldSpec, FieldValue, Label, RowMeta};
pub use explain::{Explanation, Factor};
pub use learned::Learned;
pub use model::{ArtefactError, ModelKind, SCHEMA_VERSION, Score, TabularModel};
pub use train::{NotEnoughData, TrainConfig, TrainError, TrainOutcome, train};
