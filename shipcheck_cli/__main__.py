import sys

from shipcheck_cli.main import main

sys.exit(main())
