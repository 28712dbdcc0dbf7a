"""Pure analytics on Polars / NumPy data: no Context, no database, no audit."""
