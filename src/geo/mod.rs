//! The city's geodata rules: how an address is written and read (the words
//! of a street, a house number with its building and structure parts), so
//! that a person's typing finds the registry's address whatever the order,
//! the abbreviations, ё or е, and a slip of one letter; and how a row of a
//! city's address register is read, whatever its columns are called; and
//! the registry in memory, searched as a person types and for the house
//! nearest a point. Pure.

pub mod address;
pub mod files;
pub mod index;
pub mod registry;
