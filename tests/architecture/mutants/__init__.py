"""More rule mutants, one module per area (each defines ``MUTANTS: tuple[Mutant, ...]``).

``tests/architecture/rule_mutants.py`` collects every module here after its own list, so areas can add mutants
without touching one shared file. Import ``Mutant`` from ``tests.architecture.mutants.base``.
"""
