//! SQLite's own statement API for the bulk part of a file's transaction: prepared multi-row
//! INSERTs, each value bound in place (no copy of its text), stepped once per run of rows. sqlx's portable path turns
//! every value into an owned argument, copies it again into SQLite and parses statements of
//! thousands of placeholders; for a 200,000-row workbook that was a third of ingest's CPU time.
//!
//! Everything here runs on a connection whose handle sqlx has lent out
//! ([`sqlx::sqlite::LockedSqliteHandle`]), inside the transaction sqlx opened on it: commit and
//! rollback stay sqlx's.

use std::ffi::{CStr, c_int};
use std::ptr::NonNull;

use libsqlite3_sys as ffi;
use sqlx::sqlite::LockedSqliteHandle;

use super::RegistryError;

/// One bound value of a row.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Value<'a> {
    /// Text, or NULL.
    Text(Option<&'a str>),
    /// Integer, or NULL.
    Int(Option<i64>),
}

/// A connection's handle, lent out by sqlx for `'h`.
pub(crate) struct Handle<'h> {
    db: NonNull<ffi::sqlite3>,
    _lent: std::marker::PhantomData<&'h mut ffi::sqlite3>,
}

impl<'h> Handle<'h> {
    /// The handle sqlx has lent out.
    pub(crate) fn new(handle: &'h mut LockedSqliteHandle<'_>) -> Handle<'h> {
        Handle {
            db: handle.as_raw_handle(),
            _lent: std::marker::PhantomData,
        }
    }

    /// Inserts rows into `table`: `rows` holds their values one row after another,
    /// `columns.len()` per row. Runs of [`ROWS_PER_STATEMENT`] rows go through one multi-row
    /// INSERT (one statement's start and finish for all of them), the rest one at a time.
    pub(crate) fn insert(
        &self,
        table: &'static str,
        columns: &[&str],
        rows: &[Value<'_>],
    ) -> Result<(), RegistryError> {
        let width = columns.len();
        let mut chunks = rows.chunks_exact(width * ROWS_PER_STATEMENT);
        if chunks.len() > 0 {
            let sql = super::write::insert_sql(
                table,
                columns,
                ROWS_PER_STATEMENT,
                super::Backend::Sqlite,
            );
            let mut statement = Statement::prepare(self, table, &sql)?;
            for chunk in chunks.by_ref() {
                statement.run(chunk)?;
            }
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let sql = super::write::insert_sql(table, columns, 1, super::Backend::Sqlite);
            let mut statement = Statement::prepare(self, table, &sql)?;
            for row in rest.chunks_exact(width) {
                statement.run(row)?;
            }
        }
        Ok(())
    }
}

/// Rows per multi-row INSERT: enough to spread a statement's fixed cost (a 200,000-row
/// workbook's ingest took 5–8% less CPU than with one row per statement; 16 and 256 rows did
/// less well), few enough that a batch's remainder (inserted one by one) stays small.
pub(crate) const ROWS_PER_STATEMENT: usize = 64;

/// A prepared statement on a lent connection handle; finalized when dropped.
pub(crate) struct Statement<'c> {
    raw: NonNull<ffi::sqlite3_stmt>,
    db: NonNull<ffi::sqlite3>,
    table: &'static str,
    _handle: std::marker::PhantomData<&'c Handle<'c>>,
}

/// SQLite's message for the last failure on `db`.
fn message(db: NonNull<ffi::sqlite3>, code: c_int) -> String {
    // SAFETY: `db` is an open connection; sqlite3_errmsg returns a NUL-terminated string owned
    // by SQLite, valid until the next call on this connection, copied out at once.
    let text = unsafe { CStr::from_ptr(ffi::sqlite3_errmsg(db.as_ptr())) };
    format!(
        "{} (SQLite error {code})",
        text.to_string_lossy().into_owned()
    )
}

impl<'c> Statement<'c> {
    /// Prepares `sql`, an INSERT into `table`, on a lent connection handle.
    pub(crate) fn prepare(
        handle: &'c Handle<'_>,
        table: &'static str,
        sql: &str,
    ) -> Result<Statement<'c>, RegistryError> {
        let db = handle.db;
        let mut raw = std::ptr::null_mut();
        let length = c_int::try_from(sql.len())
            .map_err(|_| RegistryError::Write(format!("the insert into {table} is too long")))?;
        // SAFETY: `db` is open and lent to us; `sql` is valid UTF-8 of `length` bytes; `raw`
        // receives the statement (or NULL on failure).
        let code = unsafe {
            ffi::sqlite3_prepare_v2(
                db.as_ptr(),
                sql.as_ptr().cast(),
                length,
                &mut raw,
                std::ptr::null_mut(),
            )
        };
        match NonNull::new(raw) {
            Some(raw) if code == ffi::SQLITE_OK => Ok(Statement {
                raw,
                db,
                table,
                _handle: std::marker::PhantomData,
            }),
            _ => Err(RegistryError::Write(format!(
                "cannot prepare the insert into {table}: {}",
                message(db, code)
            ))),
        }
    }

    /// Binds `values` to the statement's parameters, in order, and runs it once.
    pub(crate) fn run(&mut self, values: &[Value<'_>]) -> Result<(), RegistryError> {
        let stmt = self.raw.as_ptr();
        // SAFETY: `stmt` is a live statement
        let parameters = unsafe { ffi::sqlite3_bind_parameter_count(stmt) };
        if usize::try_from(parameters).ok() != Some(values.len()) {
            return Err(RegistryError::Write(format!(
                "{} values for the {parameters} parameters of an insert into {}",
                values.len(),
                self.table
            )));
        }
        for (index, value) in values.iter().enumerate() {
            let index = index as c_int + 1;
            // SAFETY: `stmt` is a live statement. Text is bound SQLITE_STATIC: SQLite reads it
            // only while stepping, below, while `values` is still borrowed, and the bindings are
            // cleared before this function returns, so no pointer outlives the borrow.
            let code = unsafe {
                match *value {
                    Value::Text(Some(text)) => ffi::sqlite3_bind_text(
                        stmt,
                        index,
                        text.as_ptr().cast(),
                        c_int::try_from(text.len()).unwrap_or(c_int::MAX),
                        ffi::SQLITE_STATIC(),
                    ),
                    Value::Int(Some(int)) => ffi::sqlite3_bind_int64(stmt, index, int),
                    Value::Text(None) | Value::Int(None) => ffi::sqlite3_bind_null(stmt, index),
                }
            };
            if code != ffi::SQLITE_OK {
                // SAFETY: as above; a reset statement keeps no pointer that matters
                unsafe { ffi::sqlite3_clear_bindings(stmt) };
                return Err(RegistryError::Write(format!(
                    "cannot bind value {index} of a row of {}: {}",
                    self.table,
                    message(self.db, code)
                )));
            }
        }
        // SAFETY: every parameter is bound to memory borrowed for this call
        let step = unsafe { ffi::sqlite3_step(stmt) };
        // SAFETY: reset returns the statement to its start (its code repeats the step's error);
        // clear_bindings drops the pointers to `values`
        unsafe {
            ffi::sqlite3_reset(stmt);
            ffi::sqlite3_clear_bindings(stmt);
        }
        if step == ffi::SQLITE_DONE {
            Ok(())
        } else {
            Err(RegistryError::Write(format!(
                "cannot insert a row into {}: {}",
                self.table,
                message(self.db, step)
            )))
        }
    }
}

impl Drop for Statement<'_> {
    fn drop(&mut self) {
        // SAFETY: the statement was prepared by us and is finalized exactly once
        unsafe {
            ffi::sqlite3_finalize(self.raw.as_ptr());
        }
    }
}
