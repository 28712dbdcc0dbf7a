"""The rights slice: 本人からの請求 / requests from the person."""
