"""Everything that touches SQL: engine/session factories, ORM tables, repositories, migrations."""
