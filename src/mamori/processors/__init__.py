"""The processors slice: 委託先の管理 / outsourcees, contracts, audits, scoped access."""
