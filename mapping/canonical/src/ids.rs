//! Identifier checks and masking: the resident identity number (GB 11643),
//! the ISBT 128 donation identification number, and the masks used where a
//! role may see that a value exists but not the value.

/// GB 11643 check: 18 characters, 17 digits and a check character computed
/// from the weighted digit sum modulo 11; the birth date must be a real date.
pub fn resident_id_valid(id: &str) -> bool {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [u8; 11] = *b"10X98765432";
    let bytes = id.as_bytes();
    if bytes.len() != 18 || !bytes[..17].iter().all(u8::is_ascii_digit) {
        return false;
    }
    let sum: u32 = bytes[..17]
        .iter()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    let expected = CHECK[(sum % 11) as usize];
    if bytes[17].to_ascii_uppercase() != expected {
        return false;
    }
    let birth = &id[6..14];
    chrono::NaiveDate::parse_from_str(birth, "%Y%m%d").is_ok()
}

/// ISO 7064 mod 37-2 check character of an ISBT 128 DIN's 13 data
/// characters, as printed on the eye-readable label.
pub fn isbt_check_char(din13: &str) -> Option<char> {
    const ALPHABET: &[u8; 37] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ*";
    let mut sum: u32 = 0;
    for c in din13.chars() {
        let v = match c {
            '0'..='9' => c as u32 - '0' as u32,
            'A'..='Z' => c as u32 - 'A' as u32 + 10,
            _ => return None,
        };
        sum = ((sum + v) * 2) % 37;
    }
    let check = (38 - sum % 37) % 37;
    Some(ALPHABET[check as usize] as char)
}

/// Whether a DIN has the ISBT 128 shape: a letter, 4 digits (facility),
/// 2 digits (year), 6 digits (sequence). Local numeric bag numbers are also
/// DINs; this only says whether ISBT checks apply.
pub fn looks_like_isbt_din(din: &str) -> bool {
    let b = din.as_bytes();
    b.len() >= 13 && b[0].is_ascii_uppercase() && b[1..13].iter().all(u8::is_ascii_digit)
}

/// Checks a DIN: any non-empty string of printable ASCII without spaces is
/// accepted (local bag numbers are kept as they are). Where the value is an
/// ISBT 128 DIN with flags and a check character (16 characters), the check
/// character must be right.
pub fn din_error(din: &str) -> Option<&'static str> {
    if din.is_empty() {
        return Some("donation id is empty");
    }
    if din.len() > 40 || !din.bytes().all(|b| b.is_ascii_graphic()) {
        return Some("donation id must be printable ASCII without spaces, at most 40 characters");
    }
    if looks_like_isbt_din(din) && din.len() == 16 {
        let want = isbt_check_char(&din[..13]);
        if want != din.chars().nth(15) {
            return Some("ISBT 128 check character does not match");
        }
    }
    None
}

/// The canonical form of a DIN for joining sources: ISBT 128 flag and check
/// characters are dropped (one source prints them, another does not).
pub fn canonical_din(din: &str) -> &str {
    let din = din.trim();
    if looks_like_isbt_din(din) && (din.len() == 15 || din.len() == 16) {
        &din[..13]
    } else {
        din
    }
}

/// `王小明` → `王*明`, `王明` → `王*`, `欧阳小明` → `欧**明`.
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".into(),
        2 => format!("{}*", chars[0]),
        n => {
            let mut s = String::new();
            s.push(chars[0]);
            s.extend(std::iter::repeat_n('*', n - 2));
            s.push(chars[n - 1]);
            s
        }
    }
}

/// `320102199001010019` → `3201**********0019`.
pub fn mask_id_number(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 8 {
        return "*".repeat(chars.len());
    }
    let n = chars.len();
    let mut s: String = chars[..4].iter().collect();
    s.extend(std::iter::repeat_n('*', n - 8));
    s.extend(&chars[n - 4..]);
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resident_ids() {
        assert!(resident_id_valid("11010519491231002X"));
        assert!(resident_id_valid("11010519491231002x"));
        assert!(!resident_id_valid("110105194912310021"));
        assert!(!resident_id_valid("1101051949123100"));
        // Right check digit but an impossible birth date.
        let mut id = String::from("32010219901301001");
        let weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
        let sum: u32 = id
            .bytes()
            .zip(weights)
            .map(|(b, w)| (b - b'0') as u32 * w)
            .sum();
        id.push(b"10X98765432"[(sum % 11) as usize] as char);
        assert!(!resident_id_valid(&id));
    }

    #[test]
    fn masks() {
        assert_eq!(mask_name("王小明"), "王*明");
        assert_eq!(mask_name("王明"), "王*");
        assert_eq!(mask_name("欧阳小明"), "欧**明");
        assert_eq!(mask_id_number("320102199001010019"), "3201**********0019");
    }

    #[test]
    fn dins() {
        assert!(din_error("W000026000001").is_none());
        assert!(din_error("3200123456").is_none());
        assert!(din_error("").is_some());
        assert!(din_error("a b").is_some());
        let c = isbt_check_char("W000026000001").unwrap();
        let good = format!("W00002600000100{c}");
        assert!(din_error(&good).is_none());
        let bad_c = if c == 'A' { 'B' } else { 'A' };
        assert!(din_error(&format!("W00002600000100{bad_c}")).is_some());
        assert_eq!(canonical_din(&good), "W000026000001");
        assert_eq!(canonical_din("3200123456"), "3200123456");
    }
}
