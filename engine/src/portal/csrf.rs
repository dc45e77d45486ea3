//! Cross-site request forgery: every POST form carries the session's
//! synchronizer token in a hidden `csrf` field, and every POST handler
//! checks it before it stores or changes anything. The SameSite=Strict
//! cookie is the second line: another site's page does not send it at all.
//!
//! The login form has no session yet; it uses a double-submit token instead
//! (a random value in a short-lived cookie and in the form, which must
//! match), so that another site cannot log a browser in as someone else.

use super::pages;
use super::session::PortalUser;
use axum::response::{IntoResponse, Response};

/// The form field that carries the token.
pub const FIELD: &str = "csrf";

/// Equal length and bytes, in time that does not depend on where they
/// differ.
pub fn same(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    !a.is_empty()
        && a.len() == b.len()
        && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A POST refused for its token; answered with the 403 page.
#[derive(Debug)]
pub struct Refused;

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        pages::forbidden()
    }
}

/// Checks the submitted token against the session's.
pub fn check(user: &PortalUser, submitted: Option<&str>) -> Result<(), Refused> {
    match submitted {
        Some(token) if same(token, &user.csrf) => Ok(()),
        _ => {
            tracing::warn!(user = %user.username, "portal POST refused: missing or wrong CSRF token");
            Err(Refused)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::same;

    #[test]
    fn tokens_compare_whole() {
        assert!(same("abc", "abc"));
        assert!(!same("abc", "abd"));
        assert!(!same("abc", "ab"));
        assert!(!same("", ""));
    }
}
