"""Rules: one module per rule family; each turns evidence aggregates into findings."""
