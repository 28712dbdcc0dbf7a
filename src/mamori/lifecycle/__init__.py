"""The lifecycle slice (issue 21): a customer's and the staff's lifecycle — the departing rep's handover, retention
and disposal (R-22-1), accuracy and data quality. Last in SLICES: it may import every other slice's public face."""
