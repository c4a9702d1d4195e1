//! The registry's readers: the HTTP API `lifeline serve --listen ADDR` answers beside its
//! scheduler and inbox watchers.
//!
//! Every call but `/healthz` carries `Authorization: Bearer KEY` ([`keys`]: a scope, an
//! optional region, a rate, an expiry). What a key may see is decided on the server and fails
//! closed: a household or person outside the key's region answers 404 exactly like one that
//! does not exist; a `masked` key (charity partners) gets every view through one masking step
//! ([`views::Masking`], [`masking`]); lookups by ID number need the `full` scope. Every
//! response that carries personal data is written to the audit log first ([`audit`]); if that
//! fails the request is refused with 503. Downstream systems keep a mirror from a snapshot and
//! the change feed ([`changes`]).
//!
//! | endpoint | scope | what |
//! |---|---|---|
//! | `GET /api/v1/households` | any | households, filtered by region, level, covered, status |
//! | `GET /api/v1/households/{id}` | any | members, flag with evidence lineage, case |
//! | `GET /api/v1/persons/{id}` | any | a person and the source rows naming them |
//! | `GET /api/v1/persons?id_number=` | full | persons holding an ID number |
//! | `GET /api/v1/flags?since=` | any | flags changed since a time |
//! | `GET /api/v1/changes?after=` | any | the change feed; `/changes/head` its newest cursor |
//! | `GET /api/v1/snapshot/{entity}` | any | every row of an entity, in pages |
//! | `POST /api/v1/cases/{id}/transitions` | cases | assign, refer (转介), move a case |
//! | `GET /healthz`, `/metrics`, `/openapi.json` | none, any, any | health, Prometheus, schema |

pub mod audit;
pub mod changes;
pub mod error;
pub mod keys;
pub mod masking;
mod metrics;
mod rate;
pub mod server;
pub mod views;

pub use server::{ApiOptions, ApiState, router};
