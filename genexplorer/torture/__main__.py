import sys

from genexplorer.devtools.torture.__main__ import main

sys.exit(main())
