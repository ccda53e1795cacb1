"""`python -m capi_packages serve | worker | migrate | token`."""

from capi_cli.main import main

main()
