//! Multi-row INSERTs for the risk tables, sized by bind parameters, with `?` placeholders on
//! SQLite (numbered ones are looked up by a linear scan there: quadratic in the row count).

use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::Query;
use sqlx::{Any, Transaction};

use crate::registry::Backend;

/// Bind parameters per statement: under SQLite's 32,766 and PostgreSQL's 65,535.
const PARAMETERS: usize = 30_000;

/// One value to bind.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    /// Text or NULL.
    Text(Option<String>),
    /// Integer.
    Int(i64),
}

impl From<String> for Cell {
    fn from(value: String) -> Cell {
        Cell::Text(Some(value))
    }
}

impl From<&str> for Cell {
    fn from(value: &str) -> Cell {
        Cell::Text(Some(value.to_string()))
    }
}

impl From<Option<String>> for Cell {
    fn from(value: Option<String>) -> Cell {
        Cell::Text(value)
    }
}

impl From<i64> for Cell {
    fn from(value: i64) -> Cell {
        Cell::Int(value)
    }
}

fn insert_sql(
    table: &str,
    columns: &[&str],
    rows: usize,
    backend: Backend,
    returning: Option<&str>,
) -> String {
    let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
    let mut n = 1;
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..columns.len() {
            if column > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => {
                    sql.push('$');
                    sql.push_str(&n.to_string());
                }
            }
            n += 1;
        }
        sql.push(')');
    }
    if let Some(returning) = returning {
        sql.push_str(" RETURNING ");
        sql.push_str(returning);
    }
    sql
}

/// Inserts `rows` into `table`; with `returning`, the rows it names come back.
pub(crate) async fn insert_rows(
    tx: &mut Transaction<'static, Any>,
    backend: Backend,
    table: &str,
    columns: &[&str],
    rows: Vec<Vec<Cell>>,
    returning: Option<&str>,
) -> Result<Vec<AnyRow>, sqlx::Error> {
    let mut out = Vec::new();
    let per_statement = (PARAMETERS / columns.len()).max(1);
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<Vec<Cell>> = rows.by_ref().take(per_statement).collect();
        // table and column names are constants of this crate, values are bound
        let sql = insert_sql(table, columns, chunk.len(), backend, returning);
        let mut query: Query<'_, Any, AnyArguments> = sqlx::query(sqlx::AssertSqlSafe(sql));
        for row in chunk {
            for cell in row {
                query = match cell {
                    Cell::Text(text) => query.bind(text),
                    Cell::Int(int) => query.bind(int),
                };
            }
        }
        if returning.is_some() {
            out.extend(query.fetch_all(&mut **tx).await?);
        } else {
            query.execute(&mut **tx).await?;
        }
    }
    Ok(out)
}
