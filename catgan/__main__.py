import sys

from catgan.cli import main

sys.exit(main())
