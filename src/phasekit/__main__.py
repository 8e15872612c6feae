"""``python -m phasekit``: the command line."""

from phasekit.cli import main

raise SystemExit(main())
