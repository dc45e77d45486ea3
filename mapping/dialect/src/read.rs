//! The three file formats down to one shape: rows of cells, one cell per
//! source name the profile reads, each row knowing where it came from.
//! Only this module knows about CSV, XLSX and XML.

use crate::error::{file_error, quote, ConvertError, RowError, SourceRef};
use crate::profile::{Format, Profile, AUTO, ELEMENT_NAME};
use std::borrow::Cow;

/// One row (or XML record) of the source: cells in the order of
/// `Profile::source_names`, `None` where the row has no such value.
#[derive(Debug)]
pub(crate) struct SourceRow {
    pub source: SourceRef,
    pub cells: Vec<Option<String>>,
}

pub(crate) fn rows(
    profile: &Profile,
    names: &[String],
    bytes: &[u8],
) -> Result<Vec<SourceRow>, ConvertError> {
    match profile.format {
        Format::Csv => csv_rows(profile, names, &decode(profile, bytes)?),
        Format::Xlsx => xlsx_rows(profile, names, bytes),
        Format::Xml => xml_rows(profile, names, &decode(profile, bytes)?),
    }
}

/// Text in the profile's encoding (UTF-8 if it names none). A UTF-8
/// byte-order mark wins over the profile, since Excel writes one for
/// "CSV UTF-8" whatever the site's usual encoding is.
fn decode<'a>(profile: &Profile, bytes: &'a [u8]) -> Result<Cow<'a, str>, ConvertError> {
    if let Some(rest) = bytes.strip_prefix(b"\xEF\xBB\xBF") {
        return std::str::from_utf8(rest)
            .map(Cow::Borrowed)
            .map_err(|_| not_in("UTF-8"));
    }
    let label = profile.encoding.as_deref().unwrap_or("utf-8");
    if label == AUTO {
        // What Excel writes: UTF-8 when it is valid UTF-8 (Chinese text
        // in GB 18030 practically never is), else GB 18030 (a superset of
        // GBK), the "CSV" of a Chinese Windows.
        if let Ok(text) = std::str::from_utf8(bytes) {
            return Ok(Cow::Borrowed(text));
        }
        let (text, malformed) = encoding_rs::GB18030.decode_without_bom_handling(bytes);
        return if malformed {
            Err(not_in("UTF-8 or GB18030"))
        } else {
            Ok(text)
        };
    }
    let encoding = encoding_rs::Encoding::for_label(label.as_bytes()).unwrap_or(encoding_rs::UTF_8);
    let (text, malformed) = encoding.decode_without_bom_handling(bytes);
    if malformed {
        return Err(not_in(encoding.name()));
    }
    Ok(text)
}

fn not_in(encoding: &str) -> ConvertError {
    file_error(
        format!("不是 {encoding} 编码的文本，请检查文件的字符集"),
        format!("the bytes are not {encoding} text; check the file's character set"),
    )
}

/// Maps each source name to its column in the header; every name must be
/// there.
fn header_index(
    header: &[String],
    names: &[String],
    header_row: usize,
) -> Result<Vec<usize>, ConvertError> {
    let mut missing = Vec::new();
    let index: Vec<usize> = names
        .iter()
        .map(|name| {
            header.iter().position(|h| h == name).unwrap_or_else(|| {
                missing.push(RowError {
                    row: header_row,
                    column: Some(name.clone()),
                    value: None,
                    message_zh: format!("第 {header_row} 行（表头）：缺少列「{name}」"),
                    message_en: format!("row {header_row} (header): no column {}", quote(name)),
                });
                usize::MAX
            })
        })
        .collect();
    if missing.is_empty() {
        Ok(index)
    } else {
        Err(ConvertError { rows: missing })
    }
}

fn cells_of(index: &[usize], row: &[String]) -> Vec<Option<String>> {
    index
        .iter()
        .map(|&i| {
            row.get(i)
                .map(|s| s.trim())
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
        })
        .collect()
}

fn csv_rows(
    profile: &Profile,
    names: &[String],
    text: &str,
) -> Result<Vec<SourceRow>, ConvertError> {
    let options = profile.csv.as_ref();
    let delimiter = options.map_or(b',', |c| c.delimiter.as_bytes()[0]);
    let header_row = profile.header_row();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let mut index = None;
    let mut out = Vec::new();
    let mut record = csv::StringRecord::new();
    let mut row = 0;
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                return Err(file_error(
                    format!("第 {} 行无法按 CSV 读取", row + 1),
                    format!("row {} cannot be read as CSV: {e}", row + 1),
                ))
            }
        }
        row += 1;
        let fields: Vec<String> = record.iter().map(str::to_owned).collect();
        if row < header_row {
            continue;
        }
        if row == header_row {
            let header: Vec<String> = fields.iter().map(|h| h.trim().to_owned()).collect();
            index = Some(header_index(&header, names, header_row)?);
            continue;
        }
        let Some(index) = &index else { continue };
        let cells = cells_of(index, &fields);
        if cells.iter().any(Option::is_some) {
            out.push(SourceRow {
                source: SourceRef::Row { row },
                cells,
            });
        }
    }
    if index.is_none() {
        return Err(file_error(
            format!("没有第 {header_row} 行（表头）"),
            format!("there is no header row {header_row}"),
        ));
    }
    Ok(out)
}

fn xlsx_rows(
    profile: &Profile,
    names: &[String],
    bytes: &[u8],
) -> Result<Vec<SourceRow>, ConvertError> {
    use calamine::{Data, Reader, Xlsx};
    let unreadable = |e: &dyn std::fmt::Display| {
        file_error(
            "不是可读取的 XLSX 工作簿",
            format!("not a readable XLSX workbook: {e}"),
        )
    };
    let mut book: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).map_err(|e| unreadable(&e))?;
    let sheet = profile.xlsx.as_ref().and_then(|x| x.sheet.clone());
    let range = match &sheet {
        Some(name) => book.worksheet_range(name).map_err(|_| {
            file_error(
                format!("没有名为「{name}」的工作表"),
                format!("there is no worksheet {}", quote(name)),
            )
        })?,
        None => match book.worksheet_range_at(0) {
            Some(range) => range.map_err(|e| unreadable(&e))?,
            None => return Err(file_error("工作簿没有工作表", "the workbook has no sheet")),
        },
    };
    let header_row = profile.header_row();
    // Rows and columns before the used range are empty; keep spreadsheet
    // numbering by offsetting with the range's start.
    let (first_row, first_col) = range.start().unwrap_or((0, 0));
    let text_of = |cell: &Data| -> String {
        match cell {
            Data::Empty => String::new(),
            Data::String(s) => s.clone(),
            Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
            Data::Float(f) => f.to_string(),
            Data::Int(i) => i.to_string(),
            Data::Bool(b) => b.to_string(),
            Data::DateTime(d) => d
                .as_datetime()
                .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_default(),
            Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
            Data::Error(e) => format!("#{e:?}"),
        }
    };
    let mut index = None;
    let mut out = Vec::new();
    for (i, cells) in range.rows().enumerate() {
        let row = first_row as usize + i + 1;
        let mut fields = vec![String::new(); first_col as usize];
        fields.extend(cells.iter().map(text_of));
        if row < header_row {
            continue;
        }
        if row == header_row {
            let header: Vec<String> = fields.iter().map(|h| h.trim().to_owned()).collect();
            index = Some(header_index(&header, names, header_row)?);
            continue;
        }
        let Some(index) = &index else { continue };
        let cells = cells_of(index, &fields);
        if cells.iter().any(Option::is_some) {
            out.push(SourceRow {
                source: SourceRef::Row { row },
                cells,
            });
        }
    }
    if index.is_none() {
        return Err(file_error(
            format!("没有第 {header_row} 行（表头）"),
            format!("there is no header row {header_row}"),
        ));
    }
    Ok(out)
}

/// Streams the XML: record elements are those at `[xml] records`; a
/// source name is a child element's text (`TiaoMa`, or `XueXing/ABO` for a
/// grandchild), an attribute of the record element (`@LeiXing`), or
/// `$element` for the record element's own name.
fn xml_rows(
    profile: &Profile,
    names: &[String],
    text: &str,
) -> Result<Vec<SourceRow>, ConvertError> {
    use quick_xml::events::Event;
    let pattern: Vec<&str> = profile
        .xml
        .as_ref()
        .map_or("", |x| x.records.as_str())
        .split('/')
        .collect();
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut stack: Vec<String> = Vec::new();
    let mut out = Vec::new();
    // The open record: its cells and the depth of its element.
    let mut open: Option<(SourceRow, usize)> = None;
    // Lines are counted forward only (positions only grow), so that a
    // large export is not rescanned from the start for every record.
    let counted = std::cell::Cell::new((0usize, 1usize));
    let line_at = |pos: u64| {
        let bytes = text.as_bytes();
        let mut end = (pos as usize).min(bytes.len());
        // The reader stands after the previous event; the element starts
        // after any whitespace.
        while end < bytes.len() && bytes[end].is_ascii_whitespace() {
            end += 1;
        }
        let (from, mut line) = counted.get();
        if end > from {
            line += bytes[from..end].iter().filter(|&&b| b == b'\n').count();
            counted.set((end, line));
        }
        line
    };
    let bad_xml = |pos: u64, e: &dyn std::fmt::Display| {
        let line = line_at(pos);
        file_error(
            format!("第 {line} 行附近不是格式正确的 XML"),
            format!("not well-formed XML near line {line}: {e}"),
        )
    };
    let slot = |name: &str| names.iter().position(|n| n == name);
    loop {
        let position = reader.buffer_position();
        let event = reader.read_event().map_err(|e| bad_xml(position, &e))?;
        match event {
            Event::DocType(_) => {
                return Err(file_error(
                    "不接受含 DTD 的 XML",
                    "XML with a DTD is not accepted",
                ))
            }
            Event::Start(ref e) | Event::Empty(ref e) => {
                let is_empty = matches!(event, Event::Empty(_));
                let name = String::from_utf8_lossy(e.local_name().as_ref()).into_owned();
                stack.push(name.clone());
                if open.is_none()
                    && stack.len() == pattern.len()
                    && stack.iter().zip(&pattern).all(|(s, p)| *p == "*" || s == p)
                {
                    let mut cells = vec![None; names.len()];
                    if let Some(i) = slot(ELEMENT_NAME) {
                        cells[i] = Some(name.clone());
                    }
                    for attr in e.attributes() {
                        let attr = attr.map_err(|err| bad_xml(position, &err))?;
                        let key = format!(
                            "@{}",
                            String::from_utf8_lossy(attr.key.local_name().as_ref())
                        );
                        if let Some(i) = slot(&key) {
                            let value = attr
                                .unescape_value()
                                .map_err(|err| bad_xml(position, &err))?;
                            let value = value.trim();
                            if !value.is_empty() {
                                cells[i] = Some(value.to_owned());
                            }
                        }
                    }
                    let index = out.len() + 1;
                    open = Some((
                        SourceRow {
                            source: SourceRef::Element {
                                path: stack.join("/"),
                                index,
                                line: line_at(position),
                            },
                            cells,
                        },
                        stack.len(),
                    ));
                }
                if is_empty {
                    close(&mut stack, &mut open, &mut out);
                }
            }
            Event::Text(t) => {
                if let Some((row, depth)) = &mut open {
                    if stack.len() > *depth {
                        let relative = stack[*depth..].join("/");
                        if let Some(i) = slot(&relative) {
                            let value = t.unescape().map_err(|err| bad_xml(position, &err))?;
                            let value = value.trim();
                            if !value.is_empty() {
                                row.cells[i] = Some(value.to_owned());
                            }
                        }
                    }
                }
            }
            Event::CData(t) => {
                if let Some((row, depth)) = &mut open {
                    if stack.len() > *depth {
                        let relative = stack[*depth..].join("/");
                        if let Some(i) = slot(&relative) {
                            let value = String::from_utf8_lossy(&t).trim().to_owned();
                            if !value.is_empty() {
                                row.cells[i] = Some(value);
                            }
                        }
                    }
                }
            }
            Event::End(_) => close(&mut stack, &mut open, &mut out),
            Event::Eof => break,
            _ => {}
        }
    }
    if !stack.is_empty() {
        return Err(file_error("XML 不完整", "the XML ends inside an element"));
    }
    Ok(out)
}

fn close(stack: &mut Vec<String>, open: &mut Option<(SourceRow, usize)>, out: &mut Vec<SourceRow>) {
    if open
        .as_ref()
        .is_some_and(|(_, depth)| *depth == stack.len())
    {
        if let Some((row, _)) = open.take() {
            out.push(row);
        }
    }
    stack.pop();
}
