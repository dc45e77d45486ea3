//! Stock reports: a blood bank's own count of what it holds at a moment
//! (`Stock` records of the hospital document). They are kept as reported,
//! beside the stock the events imply, so that the two can be compared.
//!
//! A report's natural key is (facility, moment): the first report of a
//! moment is kept and a later one for the same moment (a resent document, a
//! replay) writes nothing, like an event already recorded.

use super::{RowExt, Store};
use anyhow::{Context, Result};
use hemobridge_document::StockReport;
use sqlx::{Any, Transaction};

impl Store {
    /// Writes the reports not yet recorded, with their items.
    pub(crate) async fn write_stock(
        &self,
        tx: &mut Transaction<'static, Any>,
        message_id: i64,
        reports: &[StockReport],
    ) -> Result<()> {
        for report in reports {
            let created = sqlx::query(
                "INSERT INTO stock_reports (facility, at_ms, at_text, message_id) \
                 VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (facility, at_ms) DO NOTHING RETURNING id",
            )
            .bind(&report.facility)
            .bind(report.at.timestamp_millis())
            .bind(report.at.to_rfc3339())
            .bind(message_id)
            .fetch_optional(&mut **tx)
            .await?;
            // Already recorded: its items are there too.
            let Some(row) = created else { continue };
            let report_id = row.int("id").context("stock report without an id")?;
            for item in &report.items {
                sqlx::query(
                    "INSERT INTO stock_items (report_id, product, abo, rh, quantity, measure) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(report_id)
                .bind(item.product.code())
                .bind(item.abo.map(|a| a.as_str()))
                .bind(item.rh.map(|r| r.as_str()))
                .bind(item.quantity)
                .bind(item.measure.as_str())
                .execute(&mut **tx)
                .await?;
            }
        }
        Ok(())
    }
}
