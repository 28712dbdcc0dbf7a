"""The incidents slice (漏えい等事案, issue 22): register, scope from evidence, classification, the report clock, the
PPC report, notices to the people, containment (R-26-1 … R-26-7, G-33/G-34). docs/incidents.md."""
