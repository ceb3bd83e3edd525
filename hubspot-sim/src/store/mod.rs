//! In-memory portal store: compact records, property schemas and associations.

pub mod associations;
pub mod blob;
pub mod object_type;
pub mod objects;
pub mod portal;
pub mod schema;

pub use object_type::ObjectType;
pub use portal::Portal;
