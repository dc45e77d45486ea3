//! Text folding shared by the normalizers: feeds mix full-width and ASCII
//! forms, cases and spacing for the same value.

/// Upper-cases ASCII, turns full-width forms (`Ｏ`, `（`, `＋`) into ASCII,
/// unifies dashes and drops whitespace, underscores and middle dots, so that
/// `Ｏ 型 ＲｈＤ 阳性` and `O型RHD阳性` compare equal.
pub fn fold(input: &str) -> String {
    input
        .chars()
        .filter_map(|c| {
            let c = match c {
                '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
                '—' | '–' | '−' => '-',
                _ => c,
            };
            if c.is_whitespace() || c == '_' || c == '·' {
                None
            } else {
                Some(c.to_ascii_uppercase())
            }
        })
        .collect()
}
