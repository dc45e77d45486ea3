//! Multi-row statements. The store's hot paths (the group-commit writer and
//! the worker) write many rows of one shape per transaction; one
//! `INSERT … VALUES (…), (…)` for N rows costs one round trip to the
//! database instead of N, which is what bounds ingest (each statement
//! through sqlx's `Any` driver is a hand-off to the connection's thread).

/// Rows per statement. Keeps every statement well under the bind-parameter
/// limits (SQLite 32,766; PostgreSQL 65,535) for tables of up to 16 columns.
pub(crate) const MAX_ROWS: usize = 256;

/// `($1, $2), ($3, $4)` for `rows` rows of `cols` parameters, numbered from
/// `$first`; on SQLite anonymous `(?, ?), (?, ?)`, bound in the same order
/// (the whole statement must then use `?`). Why: sqlx binds a named SQLite
/// parameter by asking SQLite its name, a linear walk per parameter, which
/// made a 3,000-parameter statement cost more than its execution.
pub(crate) fn values(backend: Backend, rows: usize, cols: usize, first: usize) -> String {
    let mut out = String::with_capacity(rows * cols * 5);
    let mut n = first;
    for row in 0..rows {
        if row > 0 {
            out.push_str(", ");
        }
        out.push('(');
        for col in 0..cols {
            if col > 0 {
                out.push_str(", ");
            }
            out.push_str(&param(backend, n));
            n += 1;
        }
        out.push(')');
    }
    out
}

/// Parameter number `n` in the statement's style (see [`values`]).
pub(crate) fn param(backend: Backend, n: usize) -> String {
    match backend {
        Backend::Sqlite => "?".to_string(),
        Backend::Postgres => format!("${n}"),
    }
}

/// `$first, $first+1, …` for an `IN (…)` list of `count` parameters.
pub(crate) fn list(backend: Backend, count: usize, first: usize) -> String {
    (first..first + count)
        .map(|n| param(backend, n))
        .collect::<Vec<_>>()
        .join(", ")
}

use super::Backend;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_number_rows_then_columns() {
        assert_eq!(
            values(Backend::Postgres, 2, 3, 1),
            "($1, $2, $3), ($4, $5, $6)"
        );
        assert_eq!(values(Backend::Postgres, 1, 1, 4), "($4)");
        assert_eq!(values(Backend::Sqlite, 2, 2, 1), "(?, ?), (?, ?)");
    }

    #[test]
    fn list_numbers_from_first() {
        assert_eq!(list(Backend::Postgres, 3, 2), "$2, $3, $4");
        assert_eq!(list(Backend::Sqlite, 2, 2), "?, ?");
    }
}
