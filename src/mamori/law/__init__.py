"""The law as data: rule ids with their effective dates, deadlines, and the Japanese business calendar."""
