"""Database layer: typed models, engine/session factory, and query functions (callers commit)."""
