"""The schema revision this code needs: a constant, so that checking a store's version loads
neither alembic nor SQLAlchemy. A test checks it equals alembic's head."""

HEAD_REVISION = "0009_store_metadata"
