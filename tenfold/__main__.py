"""``python -m tenfold``: same as the ``tenfold`` console script."""

import sys

from tenfold.cli import main

sys.exit(main())
