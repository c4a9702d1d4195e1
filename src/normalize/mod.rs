//! Normalizers for the values department exports carry: each turns the text an officer typed
//! (or the number Excel stored) into one canonical form, keeping the raw text, and says why
//! when it cannot.

pub mod addresses;
pub mod dates;
pub mod gender;
pub mod id_number;
pub mod money;
pub mod names;
pub mod phones;
