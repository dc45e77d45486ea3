//! Money in whole fen (1 yuan = 100 fen), never in floating point.
//!
//! A waiver is a share of a fee by volume. The share is rounded once, half
//! up, and the patient pays the rest, so that waived + paid is always the
//! fee exactly, whatever the rounding did.

/// `fee_fen × part_ml / whole_ml`, rounded half up to a whole fen: the fee
/// of `part_ml` of a product line of `whole_ml` that costs `fee_fen`.
///
/// `part_ml` is clamped to `whole_ml`, and a negative fee counts as zero,
/// so the result is always in `0..=fee_fen`. A line of 0 mL has no
/// volume to share: all of it or nothing.
pub fn share_of_fee(fee_fen: i64, part_ml: u32, whole_ml: u32) -> i64 {
    let fee = i128::from(fee_fen.max(0));
    if whole_ml == 0 {
        return if part_ml > 0 { fee_fen.max(0) } else { 0 };
    }
    let part = i128::from(part_ml.min(whole_ml));
    let whole = i128::from(whole_ml);
    // round(a / b) = floor((2a + b) / 2b) for a ≥ 0, b > 0; in i128, where
    // 2 × fee × volume < 2^96 cannot overflow.
    let rounded = (2 * fee * part + whole) / (2 * whole);
    // `part ≤ whole`, so `rounded ≤ fee`, which fits in an i64.
    i64::try_from(rounded).unwrap_or(fee_fen)
}

/// `12345` fen → `"123.45"`: yuan with two decimals, for messages and the
/// contract's `waivedYuan` / `patientPaysYuan`.
pub fn yuan(fen: i64) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    let abs = fen.unsigned_abs();
    format!("{sign}{}.{:02}", abs / 100, abs % 100)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_round_half_up() {
        assert_eq!(share_of_fee(100_000, 100, 300), 33_333); // 33 333.33
        assert_eq!(share_of_fee(100_000, 200, 300), 66_667); // 66 666.67
        assert_eq!(share_of_fee(1, 1, 2), 1); // 0.5 → 1
        assert_eq!(share_of_fee(3, 1, 2), 2); // 1.5 → 2
        assert_eq!(share_of_fee(120_000, 1200, 1200), 120_000);
        assert_eq!(share_of_fee(120_000, 0, 1200), 0);
        assert_eq!(share_of_fee(120_000, 5000, 1200), 120_000);
        assert_eq!(share_of_fee(i64::MAX, u32::MAX, u32::MAX), i64::MAX);
        assert_eq!(share_of_fee(i64::MAX, 1, 2), i64::MAX / 2 + 1);
        assert_eq!(share_of_fee(500, 0, 0), 0);
        assert_eq!(share_of_fee(500, 1, 0), 500);
    }

    #[test]
    fn yuan_has_two_decimals() {
        assert_eq!(yuan(0), "0.00");
        assert_eq!(yuan(5), "0.05");
        assert_eq!(yuan(120_000), "1200.00");
        assert_eq!(yuan(-150), "-1.50");
        assert_eq!(yuan(i64::MIN), "-92233720368547758.08");
    }
}
