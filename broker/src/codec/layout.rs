//! Where each field of a packet sits in its bytes, for the packet inspector.
//!
//! The decoder records a [`Field`] for every field it reads when asked to ([`super::inspect`]);
//! the broker's hot path records nothing.

use std::ops::Range;

/// The three parts of a control packet (section 2 of the specification).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    FixedHeader,
    VariableHeader,
    Payload,
}

/// One decoded field: its name, its bytes and, for flag fields, the bits it occupies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field {
    pub name: String,
    pub part: Part,
    /// Byte offsets into the whole packet, fixed header included.
    pub range: Range<usize>,
    /// For bit fields: the mask of the bits within the single byte of `range`.
    pub mask: Option<u8>,
    /// The value in words, e.g. `3 (PUBLISH)` or `"PV/data"`. Passwords show only their length.
    pub value: String,
}
