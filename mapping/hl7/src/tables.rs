//! The HL7 tables the blood-bank segments are coded with, and what each code
//! means in canonical events (`domain/hl7-blood-bank.md`).

use hemobridge_canonical::EventKind;

/// Table 0510, BP dispense status (BPX-2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DispenseStatus {
    /// Released into inventory for general availability.
    Cr,
    /// Received into inventory for a specified patient.
    Ri,
    /// Reserved: ordered and allocated (crossmatched) for the patient.
    Rs,
    /// Reserved and ready to dispense.
    Rd,
    /// Released: no longer allocated for the patient.
    Re,
    /// Dispensed to the patient's location.
    Ds,
    /// Presumed transfused (dispensed and not returned).
    Pt,
    /// Returned unused, no longer needed.
    Ra,
    /// Returned unused, keep linked to the patient.
    Rl,
    /// Transfused.
    Tx,
    /// Transfused with adverse reaction.
    Tr,
    /// Wasted (no longer viable).
    Wa,
}

impl DispenseStatus {
    pub(crate) fn parse(code: &str) -> Option<DispenseStatus> {
        Some(match &two_letter_code(code)? {
            b"CR" => DispenseStatus::Cr,
            b"RI" => DispenseStatus::Ri,
            b"RS" => DispenseStatus::Rs,
            b"RD" => DispenseStatus::Rd,
            b"RE" => DispenseStatus::Re,
            b"DS" => DispenseStatus::Ds,
            b"PT" => DispenseStatus::Pt,
            b"RA" => DispenseStatus::Ra,
            b"RL" => DispenseStatus::Rl,
            b"TX" => DispenseStatus::Tx,
            b"TR" => DispenseStatus::Tr,
            b"WA" => DispenseStatus::Wa,
            _ => return None,
        })
    }

    pub(crate) fn code(self) -> &'static str {
        match self {
            DispenseStatus::Cr => "CR",
            DispenseStatus::Ri => "RI",
            DispenseStatus::Rs => "RS",
            DispenseStatus::Rd => "RD",
            DispenseStatus::Re => "RE",
            DispenseStatus::Ds => "DS",
            DispenseStatus::Pt => "PT",
            DispenseStatus::Ra => "RA",
            DispenseStatus::Rl => "RL",
            DispenseStatus::Tx => "TX",
            DispenseStatus::Tr => "TR",
            DispenseStatus::Wa => "WA",
        }
    }

    /// The canonical events one status produces, in chain order. RS is a
    /// crossmatch (compatible, or the unit would not be allocated) and a
    /// reservation; TR a transfusion and a reaction.
    pub(crate) fn events(self) -> &'static [EventKind] {
        match self {
            DispenseStatus::Cr | DispenseStatus::Ri => &[EventKind::Received],
            DispenseStatus::Rs => &[EventKind::Crossmatched, EventKind::Reserved],
            DispenseStatus::Rd => &[EventKind::Reserved],
            DispenseStatus::Re => &[EventKind::Released],
            DispenseStatus::Ds => &[EventKind::Issued],
            DispenseStatus::Pt | DispenseStatus::Tx => &[EventKind::Transfused],
            DispenseStatus::Tr => &[EventKind::Transfused, EventKind::Reaction],
            DispenseStatus::Ra | DispenseStatus::Rl => &[EventKind::Returned],
            DispenseStatus::Wa => &[EventKind::Discarded],
        }
    }

    /// Whether the status concerns the patient of the message. CR puts a
    /// unit into general inventory, for no one in particular.
    pub(crate) fn is_for_patient(self) -> bool {
        self != DispenseStatus::Cr
    }
}

/// Table 0513, BP transfusion/disposition status (BTX-11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TransfusionStatus {
    /// Returned unused, no longer needed.
    Ra,
    /// Returned unused, keep linked to the patient.
    Rl,
    /// Transfused with adverse reaction.
    Tr,
    /// Transfused.
    Tx,
    /// Wasted.
    Wa,
}

impl TransfusionStatus {
    pub(crate) fn parse(code: &str) -> Option<TransfusionStatus> {
        Some(match &two_letter_code(code)? {
            b"RA" => TransfusionStatus::Ra,
            b"RL" => TransfusionStatus::Rl,
            b"TR" => TransfusionStatus::Tr,
            b"TX" => TransfusionStatus::Tx,
            b"WA" => TransfusionStatus::Wa,
            _ => return None,
        })
    }

    pub(crate) fn code(self) -> &'static str {
        match self {
            TransfusionStatus::Ra => "RA",
            TransfusionStatus::Rl => "RL",
            TransfusionStatus::Tr => "TR",
            TransfusionStatus::Tx => "TX",
            TransfusionStatus::Wa => "WA",
        }
    }

    /// The event the disposition itself produces (reactions come from
    /// BTX-18).
    pub(crate) fn event(self) -> EventKind {
        match self {
            TransfusionStatus::Ra | TransfusionStatus::Rl => EventKind::Returned,
            TransfusionStatus::Tr | TransfusionStatus::Tx => EventKind::Transfused,
            TransfusionStatus::Wa => EventKind::Discarded,
        }
    }
}

/// Table 0511, BP observation status (BPX-3, BTX-12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReportStatus {
    Final,
    Preliminary,
    Correction,
    /// Posted in error: the report is withdrawn.
    Wrong,
}

impl ReportStatus {
    /// An empty status reads as final: senders often leave it out.
    pub(crate) fn parse(code: &str) -> Option<ReportStatus> {
        Some(match code.trim().as_bytes() {
            b"" | b"F" | b"f" => ReportStatus::Final,
            b"P" | b"p" => ReportStatus::Preliminary,
            b"C" | b"c" => ReportStatus::Correction,
            b"W" | b"w" => ReportStatus::Wrong,
            _ => return None,
        })
    }
}

/// A two-letter code, upper-cased, without allocating.
fn two_letter_code(code: &str) -> Option<[u8; 2]> {
    match code.trim().as_bytes() {
        [a, b] => Some([a.to_ascii_uppercase(), b.to_ascii_uppercase()]),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_0510_code_round_trips_and_maps() {
        for code in [
            "CR", "RI", "RS", "RD", "RE", "DS", "PT", "RA", "RL", "TX", "TR", "WA",
        ] {
            let status = DispenseStatus::parse(code).unwrap();
            assert_eq!(status.code(), code);
            assert!(!status.events().is_empty());
        }
        assert_eq!(DispenseStatus::parse(" ds "), Some(DispenseStatus::Ds));
        assert_eq!(DispenseStatus::parse("XX"), None);
        assert_eq!(
            DispenseStatus::Rs.events(),
            [EventKind::Crossmatched, EventKind::Reserved]
        );
    }

    #[test]
    fn every_0513_code_round_trips() {
        for code in ["RA", "RL", "TR", "TX", "WA"] {
            assert_eq!(TransfusionStatus::parse(code).unwrap().code(), code);
        }
        assert_eq!(TransfusionStatus::parse("DS"), None);
    }

    #[test]
    fn report_status() {
        assert_eq!(ReportStatus::parse(""), Some(ReportStatus::Final));
        assert_eq!(ReportStatus::parse("w"), Some(ReportStatus::Wrong));
        assert_eq!(ReportStatus::parse("X"), None);
    }
}
