"""The published notice (公表事項, R-32-1): generated from the registries and the company settings, versioned."""
