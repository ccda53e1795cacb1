"""The capi-packages command line."""

import sys

# httpx imports its own command line (and with it rich, pygments and click) wherever those are
# installed; none of our commands uses it. A None entry, set before anything imports httpx, makes
# httpx put its stub in its place. (trio is left out later, in main.run: see there.)
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
