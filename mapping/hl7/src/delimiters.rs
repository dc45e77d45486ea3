//! The delimiters a message declares in MSH-1 (field separator) and MSH-2
//! (encoding characters). Every message may choose its own; the ACK must use
//! the same ones, so they travel with the [`Header`](crate::Header).

/// The five HL7 delimiters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delimiters {
    pub field: char,
    pub component: char,
    pub repetition: char,
    pub escape: char,
    pub subcomponent: char,
}

impl Default for Delimiters {
    /// `|^~\&`, which nearly every sender uses.
    fn default() -> Self {
        Delimiters {
            field: '|',
            component: '^',
            repetition: '~',
            escape: '\\',
            subcomponent: '&',
        }
    }
}

impl Delimiters {
    /// Reads MSH-1 and MSH-2. MSH-2 holds, in order, the component,
    /// repetition, escape and subcomponent characters; v2.7 adds an optional
    /// fifth (truncation) character, which we accept and ignore. The five
    /// delimiters must be distinct printable ASCII punctuation, or splitting
    /// would be ambiguous.
    pub fn parse(field: char, encoding_characters: &str) -> Result<Delimiters, &'static str> {
        let mut chars = encoding_characters.chars();
        let (Some(component), Some(repetition), Some(escape), Some(subcomponent)) =
            (chars.next(), chars.next(), chars.next(), chars.next())
        else {
            return Err("MSH-2 must hold four encoding characters");
        };
        if chars.count() > 1 {
            return Err("MSH-2 holds more than five encoding characters");
        }
        let all = [field, component, repetition, escape, subcomponent];
        if !all.iter().all(|c| c.is_ascii_punctuation()) {
            return Err("delimiters must be ASCII punctuation");
        }
        for (i, a) in all.iter().enumerate() {
            if all[i + 1..].contains(a) {
                return Err("delimiters must be distinct");
            }
        }
        Ok(Delimiters {
            field,
            component,
            repetition,
            escape,
            subcomponent,
        })
    }

    /// The same delimiters in the form `hl7-parser` takes.
    pub(crate) fn separators(&self) -> hl7_parser::message::Separators {
        hl7_parser::message::Separators {
            field: self.field,
            component: self.component,
            subcomponent: self.subcomponent,
            repetition: self.repetition,
            escape: self.escape,
            // Segment terminators are normalised to `\r` before parsing.
            lenient_newlines: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_and_truncation_forms() {
        assert_eq!(Delimiters::parse('|', "^~\\&"), Ok(Delimiters::default()));
        assert_eq!(Delimiters::parse('|', "^~\\&#"), Ok(Delimiters::default()));
        let odd = Delimiters::parse('#', "$*/!").unwrap();
        assert_eq!(
            (
                odd.field,
                odd.component,
                odd.repetition,
                odd.escape,
                odd.subcomponent
            ),
            ('#', '$', '*', '/', '!')
        );
    }

    #[test]
    fn rejects_unusable_sets() {
        assert!(Delimiters::parse('|', "^~\\").is_err());
        assert!(Delimiters::parse('|', "^~\\&#@").is_err());
        assert!(Delimiters::parse('|', "^^\\&").is_err());
        assert!(Delimiters::parse('|', "^~\\|").is_err());
        assert!(Delimiters::parse('A', "^~\\&").is_err());
        assert!(Delimiters::parse('|', "^~中&").is_err());
    }
}
