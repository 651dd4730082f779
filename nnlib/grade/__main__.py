import sys

from nnlib.grade.cli import main

sys.exit(main())
