"""`python -m capi_cli`: the same as the `capi-packages` console command."""

from capi_cli.main import run

run()
