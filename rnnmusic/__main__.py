"""`python -m rnnmusic …` (and `torchrun -m rnnmusic train …`)."""

import sys

from rnnmusic.cli import main

sys.exit(main())
