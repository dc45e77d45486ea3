//! Patient identity (names, ID numbers) travels in [`Sensitive`], whose
//! `Debug` and `Display` never show the value: a stray `{:?}` in a log line
//! cannot leak it. The value is reached only through [`Sensitive::expose`].

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Sensitive(String);

impl Sensitive {
    pub fn new(value: impl Into<String>) -> Self {
        Sensitive(value.into())
    }

    /// The clear value. Call sites are the places that encrypt, hash or show
    /// it to an authorised role; grep for `expose(` to review them.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Sensitive(***)")
    }
}

impl fmt::Display for Sensitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_hide_the_value() {
        let s = Sensitive::new("王小明");
        assert!(!format!("{s:?}").contains("王小明"));
        assert!(!format!("{s}").contains("王小明"));
        assert_eq!(s.expose(), "王小明");
    }
}
