//! Conformance and robustness tests that drive a real hemobridge engine from
//! outside (over TCP and HTTP). The tests live in `tests/`; the corpora they
//! use live in `corpus/` (see `corpus/README.md` for sources and licences).
