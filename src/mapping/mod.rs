//! Mappings: how each kind of department export maps onto the canonical record.
//!
//! `mappings/*.toml` files are read as plain [`spec`]s, validated all at once into
//! [`compile::Mapping`]s (every problem of every file reported together), matched to a sheet's
//! header by [`resolve`], and applied row by row by [`apply`].

pub mod apply;
pub mod compile;
pub mod resolve;
pub mod spec;

pub use compile::{Mapping, MappingSet};
