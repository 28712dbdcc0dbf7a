"""inventory: where personal data is stored and in which countries (R-23-7, R-28-4), the data dictionary with its
要配慮 and GDPR Art. 9/10 tags (R-2.3-1, G-6), and the record of processing activities generated from the other
slices' registries (G-30). Placed last in DESIGN order: it reads every earlier slice's public face."""
