//! Writes the portal template as XLSX from `template.csv`, and the XLSX
//! fixture from `fixtures/good.csv` (with 发生时间 as real Excel date-time
//! cells, as a user's Excel would hold them):
//! `cargo run -p hemobridge-dialect --example write_template_xlsx`.
//! The outputs are committed; run again after changing the CSVs.

use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../hospital-connectors/portal-standard");
    write(&dir.join("template.csv"), &dir.join("template.xlsx"), false)?;
    write(
        &dir.join("fixtures/good.csv"),
        &dir.join("fixtures/good.xlsx"),
        true,
    )?;
    Ok(())
}

fn write(
    csv_path: &Path,
    xlsx_path: &Path,
    real_dates: bool,
) -> Result<(), Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(csv_path)?;
    let text = text.trim_start_matches('\u{feff}');
    let mut book = Workbook::new();
    let sheet = book.add_worksheet().set_name("上报数据")?;
    let bold = Format::new().set_bold();
    let when = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let mut time_column = None;
    for (r, line) in text.lines().enumerate() {
        for (c, cell) in line.split(',').enumerate() {
            let (row, col) = (r as u32, c as u16);
            if r == 0 {
                if cell == "发生时间" {
                    time_column = Some(c);
                }
                sheet.write_string_with_format(row, col, cell, &bold)?;
                sheet.set_column_width(col, 14)?;
            } else if cell.is_empty() {
                continue;
            } else if real_dates && Some(c) == time_column {
                let t = ExcelDateTime::parse_from_str(cell)?;
                sheet.write_datetime_with_format(row, col, &t, &when)?;
            } else {
                sheet.write_string(row, col, cell)?;
            }
        }
    }
    book.save(xlsx_path)?;
    Ok(())
}
