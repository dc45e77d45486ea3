//! What a BPX or BTX segment says about the unit itself (group, expiry,
//! amount), as a canonical [`BloodUnit`]. Several segments of one message
//! often describe the same unit at successive steps; they merge into one
//! unit, later segments refining earlier ones.

use crate::reader::Segment;
use crate::{ErrorCode, Issue, Severity};
use hemobridge_canonical::{BloodUnit, Measure};

/// The amount fields of BPX (14, 15, 16) and BTX (8, 9, 10).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Amounts {
    /// BP quantity: how many units (bags).
    pub count: Option<f64>,
    /// BP amount, in `units`.
    pub amount: Option<f64>,
    pub units: Option<Measure>,
}

/// The units of an amount do not fit the product's measure (a plateletpheresis
/// dose sent in U): the amount is not kept rather than kept wrongly.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MeasureMismatch {
    pub sent: Measure,
    pub product: Measure,
}

impl MeasureMismatch {
    /// The warning for the units field `n` of `segment` (BPX-16, BTX-10).
    pub(crate) fn warning(&self, segment: &Segment, n: usize) -> Issue {
        segment
            .issue(
                ErrorCode::DataType,
                n,
                format!(
                    "{}-{n} unit {} does not fit the product's measure ({}); amount not kept",
                    segment.name,
                    self.sent.as_str(),
                    self.product.as_str()
                ),
            )
            .severity(Severity::Warning)
    }
}

impl Amounts {
    /// Sets the unit's volume and quantity from the amounts:
    /// - in mL: the volume, and the quantity too for mL-counted products;
    /// - in U or doses: the quantity, if the product is counted that way;
    /// - without units: the bag count as the quantity of a U- or
    ///   dose-counted product (one bag, one unit), never as millilitres.
    ///
    /// The amount is BP amount when sent, else BP quantity.
    pub(crate) fn apply(&self, unit: &mut BloodUnit) -> Result<(), MeasureMismatch> {
        let measure = unit.product.measure();
        let value = self.amount.or(self.count);
        match (self.units, value) {
            (Some(Measure::Ml), Some(ml)) => {
                // `as` saturates: an absurd volume cannot wrap around.
                unit.volume_ml = Some(ml.round() as u32);
                if measure == Measure::Ml {
                    unit.quantity = Some(ml);
                }
            }
            (Some(sent), Some(q)) => {
                if sent != measure {
                    return Err(MeasureMismatch {
                        sent,
                        product: measure,
                    });
                }
                unit.quantity = Some(q);
            }
            (None, _) => {
                if let (Some(count), false) = (self.count, measure == Measure::Ml) {
                    unit.quantity = Some(count);
                }
            }
            (Some(_), None) => {}
        }
        Ok(())
    }

    /// The volume in mL, where the amount is given in mL.
    pub(crate) fn volume_ml(&self) -> Option<u32> {
        match self.units {
            Some(Measure::Ml) => self.amount.or(self.count).map(|ml| ml.round() as u32),
            _ => None,
        }
    }
}

/// The units of one message, one per (DIN, product).
#[derive(Debug, Default)]
pub(crate) struct UnitList {
    units: Vec<BloodUnit>,
}

impl UnitList {
    /// Adds a unit, or merges it into the one with the same key: what the
    /// later segment knows wins; modifier flags accumulate.
    pub(crate) fn add(&mut self, unit: BloodUnit) {
        let Some(known) = self
            .units
            .iter_mut()
            .find(|u| u.din == unit.din && u.product == unit.product)
        else {
            self.units.push(unit);
            return;
        };
        known.modifiers.irradiated |= unit.modifiers.irradiated;
        known.modifiers.leukoreduced |= unit.modifiers.leukoreduced;
        known.modifiers.pooled |= unit.modifiers.pooled;
        known.abo = unit.abo.or(known.abo);
        known.rh = unit.rh.or(known.rh);
        known.volume_ml = unit.volume_ml.or(known.volume_ml);
        known.quantity = unit.quantity.or(known.quantity);
        known.expires = unit.expires.or(known.expires);
        if unit.station.is_some() {
            known.station = unit.station;
        }
        if unit.donor_key.is_some() {
            known.donor_key = unit.donor_key;
        }
    }

    pub(crate) fn into_vec(self) -> Vec<BloodUnit> {
        self.units
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hemobridge_canonical::{Abo, Product, Rh};

    fn unit(product: Product, amounts: Amounts) -> (BloodUnit, Result<(), MeasureMismatch>) {
        let mut u = BloodUnit::new("W000026000001", product);
        let r = amounts.apply(&mut u);
        (u, r)
    }

    #[test]
    fn amounts_follow_the_product_measure() {
        let ml = |count, amount| Amounts {
            count,
            amount,
            units: Some(Measure::Ml),
        };
        let (u, _) = unit(Product::PlsFfp, ml(Some(1.0), Some(200.0)));
        assert_eq!((u.volume_ml, u.quantity), (Some(200), Some(200.0)));
        let (u, _) = unit(Product::PlsFfp, ml(Some(150.0), None));
        assert_eq!((u.volume_ml, u.quantity), (Some(150), Some(150.0)));
        let (u, _) = unit(Product::RbcLr, ml(Some(1.0), Some(300.0)));
        assert_eq!((u.volume_ml, u.quantity), (Some(300), None));

        let counted = |count| Amounts {
            count,
            amount: None,
            units: None,
        };
        let (u, _) = unit(Product::RbcLr, counted(Some(2.0)));
        assert_eq!(u.quantity, Some(2.0));
        let (u, _) = unit(Product::PlsFfp, counted(Some(1.0)));
        assert_eq!(u.quantity, None);

        let in_u = Amounts {
            count: Some(1.5),
            amount: None,
            units: Some(Measure::U),
        };
        let (u, r) = unit(Product::RbcSusp, in_u);
        assert_eq!((u.quantity, r), (Some(1.5), Ok(())));
        let (u, r) = unit(Product::PltAph, in_u);
        assert_eq!(u.quantity, None);
        assert_eq!(
            r,
            Err(MeasureMismatch {
                sent: Measure::U,
                product: Measure::Dose
            })
        );
    }

    #[test]
    fn later_segments_refine_the_unit() {
        let mut list = UnitList::default();
        let mut first = BloodUnit::new("W000026000001", Product::RbcLr);
        first.abo = Some(Abo::O);
        first.quantity = Some(1.0);
        list.add(first);
        let mut second = BloodUnit::new("W000026000001", Product::RbcLr);
        second.rh = Some(Rh::Pos);
        second.modifiers.irradiated = true;
        list.add(second);
        list.add(BloodUnit::new("W000026000001", Product::PlsFfp));
        let units = list.into_vec();
        assert_eq!(units.len(), 2);
        assert_eq!(
            (units[0].abo, units[0].rh, units[0].quantity),
            (Some(Abo::O), Some(Rh::Pos), Some(1.0))
        );
        assert!(units[0].modifiers.irradiated);
    }
}
