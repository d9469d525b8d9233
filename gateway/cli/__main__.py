"""`python -m gateway.cli`: the `hotline` command, for subprocesses that must use this interpreter."""

import sys

from gateway.cli.main import main

sys.exit(main())
