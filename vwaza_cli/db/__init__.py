"""The store: engine factory, tables, queries and migrations. Only this package builds SQL."""
