//! Column helpers shared by the migrations, so every table spells `portal_id`, timestamps and
//! JSON the same way on both backends.

use sea_orm_migration::prelude::*;

/// `portal_id BIGINT NOT NULL REFERENCES portals(id) ON DELETE CASCADE` is added by [`portal_fk`];
/// this is the column itself.
pub fn portal_id() -> ColumnDef {
    ColumnDef::new(Alias::new("portal_id"))
        .big_integer()
        .not_null()
        .to_owned()
}

/// Deleting a portal removes everything it owns: no orphaned customer data.
pub fn portal_fk(table: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .name(format!("fk_{table}_portal"))
        .from(Alias::new(table), Alias::new("portal_id"))
        .to(Alias::new("portals"), Alias::new("id"))
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

pub fn timestamp(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

pub fn timestamp_null(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .timestamp_with_time_zone()
        .null()
        .to_owned()
}

pub fn text_null(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name)).text().null().to_owned()
}

pub fn string(name: &str, len: u32) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .string_len(len)
        .not_null()
        .to_owned()
}

pub fn string_null(name: &str, len: u32) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .string_len(len)
        .null()
        .to_owned()
}

pub fn json(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .json_binary()
        .not_null()
        .to_owned()
}

pub fn json_null(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .json_binary()
        .null()
        .to_owned()
}

pub fn big_int(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .big_integer()
        .not_null()
        .to_owned()
}

pub fn big_int_null(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .big_integer()
        .null()
        .to_owned()
}

pub fn int(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .integer()
        .not_null()
        .to_owned()
}

pub fn int_null(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name)).integer().null().to_owned()
}

pub fn small_int_null(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .small_integer()
        .null()
        .to_owned()
}

pub fn double_null(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name)).double().null().to_owned()
}

pub fn boolean(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .boolean()
        .not_null()
        .to_owned()
}

pub fn blob(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .blob()
        .not_null()
        .to_owned()
}

pub fn uuid(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name))
        .uuid()
        .not_null()
        .to_owned()
}

pub fn uuid_null(name: &str) -> ColumnDef {
    ColumnDef::new(Alias::new(name)).uuid().null().to_owned()
}

/// An auto-incrementing 64-bit primary key (`BIGSERIAL` / `INTEGER PRIMARY KEY`).
pub fn id_auto() -> ColumnDef {
    ColumnDef::new(Alias::new("id"))
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

/// An index named after its table and columns.
pub fn index(table: &str, columns: &[&str]) -> IndexCreateStatement {
    let mut stmt = Index::create();
    stmt.name(format!("idx_{table}_{}", columns.join("_")))
        .table(Alias::new(table));
    for column in columns {
        stmt.col(Alias::new(*column));
    }
    stmt.to_owned()
}

/// Creates `table` with `columns`, primary key `pk` (empty when a column declares its own) and
/// the portal foreign key.
pub fn create_table(table: &str, columns: Vec<ColumnDef>, pk: &[&str]) -> TableCreateStatement {
    let mut stmt = Table::create();
    stmt.table(Alias::new(table)).if_not_exists();
    for mut column in columns {
        stmt.col(&mut column);
    }
    if !pk.is_empty() {
        let mut key = Index::create();
        key.name(format!("pk_{table}"));
        for column in pk {
            key.col(Alias::new(*column));
        }
        stmt.primary_key(&mut key);
    }
    stmt.foreign_key(&mut portal_fk(table));
    stmt.to_owned()
}

pub fn drop_table(table: &str) -> TableDropStatement {
    Table::drop()
        .table(Alias::new(table))
        .if_exists()
        .to_owned()
}
