"""``python -m mamori`` — the same entry point as the ``mamori`` command."""

from mamori.cli.main import main

if __name__ == "__main__":
    main()
